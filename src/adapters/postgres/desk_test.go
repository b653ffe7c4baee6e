package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/staff"
)

var deskLimits = staff.SessionLimits{Idle: time.Hour, Max: 8 * time.Hour}

// deskBundle is a test salon with an owner "olga" and a master account "anna".
func deskBundle(t *testing.T) (*bundle, *postgres.Desk) {
	t.Helper()
	b := newBundle(t)
	b.setup.Staff = []staff.Account{{Login: "olga", Role: staff.Owner}, {Login: "anna", Role: staff.Master, MasterID: "anna"}}
	_, err := b.store.Apply(ctx, b.setup)
	require.NoError(t, err)
	return b, postgres.NewDesk(pgtest.Pool(t))
}

func TestApplyStaff(t *testing.T) {
	t.Parallel()
	b, d := deskBundle(t)
	a, hash, err := d.Account(ctx, b.salonID, "anna")
	require.NoError(t, err)
	require.Equal(t, staff.Account{Login: "anna", Role: staff.Master, MasterID: "anna"}, a)
	require.Empty(t, hash, "no password until salonbook passwd")

	n, err := b.store.Apply(ctx, b.setup)
	require.NoError(t, err)
	require.Zero(t, n, "the same staff twice changes nothing")

	require.NoError(t, d.SetPassword(ctx, b.salonID, "anna", "h1", b.clock.T))
	require.NoError(t, d.StartSession(ctx, b.salonID, "anna", []byte("s-anna"), b.clock.T, deskLimits))

	// Anna becomes an owner: the password stays, the live session sees the new role.
	b.setup.Staff[1] = staff.Account{Login: "anna", Role: staff.Owner}
	n, err = b.store.Apply(ctx, b.setup)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	_, hash, err = d.Account(ctx, b.salonID, "anna")
	require.NoError(t, err)
	require.Equal(t, "h1", hash)
	got, err := d.Session(ctx, b.salonID, []byte("s-anna"), b.clock.T, deskLimits)
	require.NoError(t, err)
	require.Equal(t, staff.Owner, got.Role)

	// Dropped from the file: the account and its sessions go.
	b.setup.Staff = b.setup.Staff[:1]
	_, err = b.store.Apply(ctx, b.setup)
	require.NoError(t, err)
	_, _, err = d.Account(ctx, b.salonID, "anna")
	require.Equal(t, core.ENotFound, core.ErrorCode(err))
	_, err = d.Session(ctx, b.salonID, []byte("s-anna"), b.clock.T, deskLimits)
	require.Equal(t, core.ENotFound, core.ErrorCode(err))
}

func TestDeskSessions(t *testing.T) {
	t.Parallel()
	b, d := deskBundle(t)
	now := b.clock.T
	require.NoError(t, d.StartSession(ctx, b.salonID, "olga", []byte("s1"), now, deskLimits))

	a, err := d.Session(ctx, b.salonID, []byte("s1"), now.Add(59*time.Minute), deskLimits)
	require.NoError(t, err)
	require.Equal(t, staff.Account{Login: "olga", Role: staff.Owner}, a)
	_, err = d.Session(ctx, "other-salon", []byte("s1"), now.Add(59*time.Minute), deskLimits)
	require.Equal(t, core.ENotFound, core.ErrorCode(err), "a session is its salon's only")

	// Seen at 0:59, so still live at 1:58 (idle timeout counts from the last request) …
	_, err = d.Session(ctx, b.salonID, []byte("s1"), now.Add(118*time.Minute), deskLimits)
	require.NoError(t, err)
	// … but idle for an hour after that, it is gone, for good.
	_, err = d.Session(ctx, b.salonID, []byte("s1"), now.Add(178*time.Minute), deskLimits)
	require.Equal(t, core.ENotFound, core.ErrorCode(err))
	_, err = d.Session(ctx, b.salonID, []byte("s1"), now.Add(119*time.Minute), deskLimits)
	require.Equal(t, core.ENotFound, core.ErrorCode(err), "a timed-out session is deleted")

	// Absolute timeout: used every 30 minutes, it still ends at 8 h.
	require.NoError(t, d.StartSession(ctx, b.salonID, "olga", []byte("s2"), now, deskLimits))
	at := now
	for at.Before(now.Add(8*time.Hour - 30*time.Minute)) {
		at = at.Add(30 * time.Minute)
		_, err = d.Session(ctx, b.salonID, []byte("s2"), at, deskLimits)
		require.NoError(t, err, "at %v", at.Sub(now))
	}
	_, err = d.Session(ctx, b.salonID, []byte("s2"), now.Add(8*time.Hour), deskLimits)
	require.Equal(t, core.ENotFound, core.ErrorCode(err))

	// Logout and a new password end sessions.
	require.NoError(t, d.StartSession(ctx, b.salonID, "olga", []byte("s3"), now, deskLimits))
	require.NoError(t, d.StartSession(ctx, b.salonID, "olga", []byte("s4"), now, deskLimits))
	require.NoError(t, d.EndSession(ctx, []byte("s3")))
	_, err = d.Session(ctx, b.salonID, []byte("s3"), now, deskLimits)
	require.Equal(t, core.ENotFound, core.ErrorCode(err))
	_, err = d.Session(ctx, b.salonID, []byte("s4"), now, deskLimits)
	require.NoError(t, err)
	require.NoError(t, d.SetPassword(ctx, b.salonID, "olga", "h2", now))
	_, err = d.Session(ctx, b.salonID, []byte("s4"), now, deskLimits)
	require.Equal(t, core.ENotFound, core.ErrorCode(err))
	require.Equal(t, core.ENotFound, core.ErrorCode(d.SetPassword(ctx, b.salonID, "nobody", "h", now)))
}

func TestDeskLoginAttempts(t *testing.T) {
	t.Parallel()
	b, d := deskBundle(t)
	now := b.clock.T
	const window = 15 * time.Minute
	keys := []string{"login:olga", "addr:10.0.0.1"}
	for i := range 3 {
		got, err := d.Attempt(ctx, b.salonID, keys, now.Add(time.Duration(i)*time.Minute), window)
		require.NoError(t, err)
		require.Equal(t, map[string]int{"login:olga": i + 1, "addr:10.0.0.1": i + 1}, got, "each attempt gets its own count")
	}
	got, err := d.Attempt(ctx, b.salonID, []string{"login:nobody", "addr:10.0.0.1"}, now.Add(3*time.Minute), window)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"login:nobody": 1, "addr:10.0.0.1": 4}, got)

	// A login that succeeds forgets its account's count and takes its own
	// attempt back from the address.
	require.NoError(t, d.Succeeded(ctx, b.salonID, "login:olga", "addr:10.0.0.1"))
	got, err = d.Attempt(ctx, b.salonID, keys, now.Add(4*time.Minute), window)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"login:olga": 1, "addr:10.0.0.1": 4}, got)
	require.NoError(t, d.Succeeded(ctx, b.salonID, "login:never-tried", "addr:10.9.9.9"), "unknown keys are no error")

	// A window ends 15 minutes after it began (olga's began at +4 min): the
	// count starts again, and another key's ended window is dropped.
	later := now.Add(4*time.Minute + window)
	got, err = d.Attempt(ctx, b.salonID, keys, later, window)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"login:olga": 1, "addr:10.0.0.1": 1}, got)
	var left int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM staff_login_failures WHERE salon_id = $1 AND key = 'login:nobody'`,
		b.salonID).Scan(&left))
	require.Zero(t, left)
}

func TestDeskSchedule(t *testing.T) {
	t.Parallel()
	b, d := deskBundle(t)
	book := func(master string, start time.Time, key string) string {
		r := b.req(master, start, key)
		r.Confirm = true
		bk, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		return bk.ID
	}
	a1 := book("anna", b.at(3, 9, 0), "a1")
	a2 := book("anna", b.at(3, 18, 0), "a2")
	book("anna", b.at(4, 9, 0), "a3") // the next day
	bo := book("boris", b.at(3, 10, 0), "b1")
	_, err := b.svc.Cancel(ctx, b.salonID, a2)
	require.NoError(t, err)
	held, err := b.svc.Book(ctx, b.req("chloe", b.at(3, 11, 0), "c1")) // a hold that lapses
	require.NoError(t, err)

	day := core.TimeRange{Start: b.at(3, 0, 0), End: b.at(4, 0, 0)}
	got, err := d.Schedule(ctx, b.salonID, []string{"anna", "boris", "chloe"}, day)
	require.NoError(t, err)
	var ids []string
	for _, e := range got {
		ids = append(ids, e.Booking.ID)
	}
	require.Equal(t, []string{a1, bo, held.ID, a2}, ids, "the day's bookings by start, cancelled ones too")
	require.Equal(t, "Client a1", got[0].ClientName)
	require.Equal(t, "+49151"+phoneDigits("a1"), got[0].ClientPhone)
	require.Equal(t, "cancelled", got[3].Status(b.clock.T))

	// A booking belongs to the window its start falls in: one that began
	// before the window is not read (the desk draws it on its own day).
	got, err = d.Schedule(ctx, b.salonID, []string{"anna"}, core.TimeRange{Start: b.at(3, 9, 30), End: b.at(3, 10, 0)})
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = d.Schedule(ctx, b.salonID, []string{"anna"}, core.TimeRange{Start: b.at(3, 9, 0), End: b.at(3, 9, 1)})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, a1, got[0].Booking.ID)

	// Once expired (Book marks lapsed holds so), a hold is left out.
	_, err = pgtest.Pool(t).Exec(ctx, `UPDATE bookings SET status = 'expired' WHERE booking_id = $1`, held.ID)
	require.NoError(t, err)
	got, err = d.Schedule(ctx, b.salonID, []string{"chloe"}, day)
	require.NoError(t, err)
	require.Empty(t, got)
}

// TestDeskFailsInParallel: two accounts' failures from two addresses, counted
// at once over and over while the other's old windows are being dropped,
// never deadlock (the cleanup once ran in the upsert's transaction and
// deadlocked with itself in 83 rounds of 200).
func TestDeskAttemptsInParallel(t *testing.T) {
	t.Parallel()
	b, d := deskBundle(t)
	const window = 15 * time.Minute
	now := b.clock.T
	for i := range 200 {
		// Every round is a new window: each key's previous row has ended, so
		// each Fail also drops the other's.
		at := now.Add(time.Duration(i) * window)
		errs := make(chan error, 2)
		for _, keys := range [][]string{{"login:olga", "addr:10.0.0.1"}, {"login:anna", "addr:10.0.0.2"}} {
			go func() {
				_, err := d.Attempt(ctx, b.salonID, keys, at, window)
				errs <- err
			}()
		}
		require.NoError(t, <-errs, "round %d", i)
		require.NoError(t, <-errs, "round %d", i)
	}
}
