package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/gcal"
	"salonbook/src/adapters/gcal/gcaltest"
	"salonbook/src/adapters/jobs"
	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/calsync"
	"salonbook/src/core/dialog"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const annaCal = "anna@example.com"

type bundle struct {
	salonID string
	pool    interface {
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
	store *postgres.Store
	svc   *booking.Service
	fake  *gcaltest.Server
	sync  *calsync.Syncer
	clock *core.FixedClock
}

func setup(t *testing.T) *bundle {
	t.Helper()
	pool := pgtest.Pool(t)
	b := &bundle{salonID: "j" + pgtest.RandomID(), pool: pool, store: postgres.NewStore(pool), fake: gcaltest.New(annaCal)}
	t.Cleanup(b.fake.Close)
	s := pgtest.Setup(b.salonID)
	s.Masters[0].Calendar = annaCal
	_, err := b.store.Apply(context.Background(), s)
	require.NoError(t, err)
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	b.svc, b.clock = booking.New(b.store, clock), clock
	cal, err := gcal.New(context.Background(), gcal.Options{Endpoint: b.fake.URL(), HTTPClient: b.fake.Client(),
		BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})
	require.NoError(t, err)
	b.sync = &calsync.Syncer{Store: postgres.NewCalendars(pool), Calendar: cal, Clock: clock, Log: slog.New(slog.DiscardHandler)}
	return b
}

func (b *bundle) req(key string, start time.Time) booking.BookRequest {
	return booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna", Start: start,
		Client: core.Client{Name: "Maria", Phone: "+49 151 3000" + key}, IdempotencyKey: key, Confirm: true}
}

func berlin(d, h, m int) time.Time { return time.Date(2027, 3, d, h, m, 0, 0, pgtest.Berlin).UTC() }

// jobsFor counts the calendar jobs of a booking.
func (b *bundle) jobsFor(t *testing.T, bookingID string) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = 'calendar_push' AND args->>'booking_id' = $1`, bookingID).Scan(&n))
	return n
}

func TestBookingReachesTheCalendarThroughRiver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	client, err := jobs.New(pgtest.Pool(t), jobs.Config{Sync: b.sync, SalonIDs: []string{b.salonID}, Poll: 20 * time.Millisecond,
		Log: slog.New(slog.DiscardHandler), Queue: "q" + b.salonID})
	require.NoError(t, err)
	b.store.FollowChanges(client.Record)
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(stop)
	})

	bk, err := b.svc.Book(ctx, b.req("1", berlin(3, 10, 0)))
	require.NoError(t, err)
	require.Equal(t, 1, b.jobsFor(t, bk.ID), "the job was written with the booking")
	ok := assertEventually(func() bool { return len(b.fake.Events(annaCal)) == 1 })
	if !ok {
		var state, errs string
		_ = b.pool.QueryRow(ctx, `SELECT state::text, coalesce(errors::text,'') FROM river_job WHERE args->>'booking_id' = $1`, bk.ID).Scan(&state, &errs)
		t.Fatalf("job state %s errors %s", state, errs)
	}

	_, err = b.svc.Reschedule(ctx, b.salonID, bk.ID, berlin(3, 15, 0))
	require.NoError(t, err)
	if !assertEventually(func() bool {
		evs := b.fake.Events(annaCal)
		return len(evs) == 1 && evs[0].Start.DateTime == "2027-03-03T15:00:00+01:00"
	}) {
		rows, _ := pgtest.Pool(t).Query(ctx, `SELECT state::text || ' ' || coalesce(errors::text,'') FROM river_job WHERE args->>'booking_id' = $1 ORDER BY id`, bk.ID)
		states, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		t.Fatalf("events %+v jobs %v", b.fake.Events(annaCal), states)
	}

	_, err = b.svc.Cancel(ctx, b.salonID, bk.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(b.fake.Events(annaCal)) == 0 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, 3, b.jobsFor(t, bk.ID))

	// The periodic refresh read Anna's calendar at start.
	var reads int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM calendar_reads WHERE salon_id = $1 AND read_at IS NOT NULL`, b.salonID).Scan(&reads))
	require.Equal(t, 1, reads)
}

func TestNoJobWithoutTheChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	client, err := jobs.New(pgtest.Pool(t), jobs.Config{Sync: b.sync, Log: slog.New(slog.DiscardHandler), Queue: "q" + b.salonID})
	require.NoError(t, err)
	b.store.FollowChanges(client.Record) // inserts only: the client is not started

	first, err := b.svc.Book(ctx, b.req("1", berlin(3, 10, 0)))
	require.NoError(t, err)
	require.Equal(t, 1, b.jobsFor(t, first.ID))

	// A hold is not on the calendar: no job until it is confirmed.
	held := b.req("2", berlin(3, 12, 0))
	held.Confirm = false
	hold, err := b.svc.Book(ctx, held)
	require.NoError(t, err)
	require.Equal(t, 0, b.jobsFor(t, hold.ID))
	_, err = b.svc.Confirm(ctx, b.salonID, hold.ID)
	require.NoError(t, err)
	require.Equal(t, 1, b.jobsFor(t, hold.ID))

	// A replay books nothing and queues nothing.
	again, err := b.svc.Book(ctx, b.req("1", berlin(3, 10, 0)))
	require.NoError(t, err)
	require.Equal(t, first.ID, again.ID)
	require.Equal(t, 1, b.jobsFor(t, first.ID))

	// "I'll come" changes neither the time nor the status: no calendar job.
	came, err := b.svc.Coming(ctx, b.salonID, first.ID)
	require.NoError(t, err)
	require.False(t, came.ComingAt.IsZero())
	require.Equal(t, 1, b.jobsFor(t, first.ID))

	// A block made and lifted: a job each (its event "Blocked", then none);
	// an attendance mark changes nothing on the calendar.
	blk, err := b.svc.Block(ctx, booking.BlockRequest{SalonID: b.salonID, MasterID: "anna", Start: berlin(3, 17, 0),
		End: berlin(3, 18, 0), IdempotencyKey: "blk", Source: "desk:olga"})
	require.NoError(t, err)
	require.Equal(t, 1, b.jobsFor(t, blk.ID))
	_, err = b.svc.Unblock(ctx, b.salonID, blk.ID, "")
	require.NoError(t, err)
	require.Equal(t, 2, b.jobsFor(t, blk.ID))
	b.clock.T = berlin(3, 12, 0)
	_, err = b.svc.Mark(ctx, b.salonID, hold.ID, core.Arrived)
	require.NoError(t, err)
	require.Equal(t, 1, b.jobsFor(t, hold.ID))

	// A change whose job cannot be written does not happen at all.
	b.store.FollowChanges(func(context.Context, pgx.Tx, booking.Change) error { return errors.New("queue is down") })
	_, err = b.svc.Book(ctx, b.req("3", berlin(3, 15, 0)))
	require.Error(t, err)
	var n int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE salon_id = $1 AND idempotency_key = '3'`, b.salonID).Scan(&n))
	require.Zero(t, n, "the booking rolled back with its job")
	_, err = b.svc.Cancel(ctx, b.salonID, first.ID)
	require.Error(t, err)
	got, err := b.svc.Get(ctx, b.salonID, first.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusConfirmed, got.Status)
}

func TestRetryIsCappedWithJitter(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt <= 40; attempt++ {
		full := min(30*time.Minute, 5*time.Second<<(attempt-1))
		if attempt > 20 {
			full = 30 * time.Minute
		}
		for range 20 {
			d := jobs.Retry(attempt, now).Sub(now)
			require.GreaterOrEqual(t, d, full/2, "attempt %d", attempt)
			require.LessOrEqual(t, d, full, "attempt %d", attempt)
			seen[d] = true
		}
	}
	require.Greater(t, len(seen), 100, "waits are spread, not all the same")
}

func assertEventually(f func() bool) bool {
	for range 200 {
		if f() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// TestEraseRewritesTheCalendarEvent: the master's calendar event of a booking
// says "Haircut · Maria". When Maria erases her data ("delete my data") after
// the visit, the erase's transaction inserts a push job (postgres.Privacy
// follows changes as the store does) and the event is written again as
// "Haircut": her name is not left in the salon's calendar.
func TestEraseRewritesTheCalendarEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	client, err := jobs.New(pgtest.Pool(t), jobs.Config{Sync: b.sync, SalonIDs: []string{b.salonID}, Poll: 20 * time.Millisecond,
		Log: slog.New(slog.DiscardHandler), Queue: "q" + b.salonID})
	require.NoError(t, err)
	b.store.FollowChanges(client.Record)
	privacy := postgres.NewPrivacy(pgtest.Pool(t))
	privacy.FollowChanges(client.Record)
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(stop)
	})

	r := b.req("7", berlin(3, 10, 0))
	r.Source = "telegram:700"
	bk, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	summary := func() string {
		evs := b.fake.Events(annaCal)
		if len(evs) != 1 {
			return ""
		}
		return evs[0].Summary
	}
	require.Eventually(t, func() bool { return summary() == "Haircut · Maria" }, 10*time.Second, 20*time.Millisecond)

	done, err := privacy.Erase(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "700"}, 0, berlin(3, 12, 0))
	require.NoError(t, err)
	require.Equal(t, 1, done.Clients)
	require.Equal(t, 2, b.jobsFor(t, bk.ID), "a push job with the erase")
	require.Eventually(t, func() bool { return summary() == "Haircut" }, 10*time.Second, 20*time.Millisecond,
		"the event is written again without the name")
}
