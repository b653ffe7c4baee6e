package calsync_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/gcal"
	"salonbook/src/adapters/gcal/gcaltest"
	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
	"salonbook/src/core/calsync"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	annaCal  = "anna@example.com"
	borisCal = "boris@example.com"
)

// bundle is one test's world: a Berlin salon of its own whose Anna and Boris
// have calendars on a fake Google, the booking service, and the syncer between.
type bundle struct {
	salonID string
	clock   *core.FixedClock
	svc     *booking.Service
	fake    *gcaltest.Server
	sync    *calsync.Syncer
	cals    *postgres.Calendars
}

func setup(t *testing.T, now time.Time) *bundle {
	t.Helper()
	pool := pgtest.Pool(t)
	store := postgres.NewStore(pool)
	b := &bundle{salonID: "c" + pgtest.RandomID(), clock: &core.FixedClock{T: now}, fake: gcaltest.New(annaCal, borisCal)}
	t.Cleanup(b.fake.Close)
	s := pgtest.Setup(b.salonID)
	s.Masters[0].Calendar, s.Masters[1].Calendar = annaCal, borisCal
	_, err := store.Apply(context.Background(), s)
	require.NoError(t, err)
	b.svc = booking.New(store, b.clock)
	cal, err := gcal.New(context.Background(), gcal.Options{Endpoint: b.fake.URL(), HTTPClient: b.fake.Client(),
		BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, CallTimeout: 2 * time.Second})
	require.NoError(t, err)
	b.cals = postgres.NewCalendars(pool)
	b.sync = &calsync.Syncer{Store: b.cals, Calendar: cal, Clock: b.clock, Log: slog.New(slog.DiscardHandler)}
	return b
}

func berlin(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, pgtest.Berlin).UTC()
}

var march1 = time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC) // a Monday, 08:00 in Berlin

func (b *bundle) book(t *testing.T, master string, start time.Time, key string) *core.Booking {
	t.Helper()
	bk, err := b.svc.Book(context.Background(), booking.BookRequest{
		SalonID: b.salonID, ServiceID: "haircut", MasterID: master, Start: start,
		Client: core.Client{Name: "Maria Schmidt", Phone: "+49 151 1000" + key}, IdempotencyKey: key, Confirm: true,
	})
	require.NoError(t, err)
	return bk
}

func instant(t *testing.T, dt string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, dt)
	require.NoError(t, err)
	return v.UTC()
}

func TestPush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("OneEventHoweverOftenTheJobRuns", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		bk := b.book(t, "anna", berlin(2027, 3, 3, 10, 0), "1")
		for range 3 {
			require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
		}
		evs := b.fake.Events(annaCal)
		require.Len(t, evs, 1)
		ev := evs[0]
		require.Equal(t, calsync.EventID(b.salonID, bk.ID), ev.Id)
		require.Equal(t, 1, b.fake.Inserted(annaCal, ev.Id))
		require.Equal(t, "2027-03-03T10:00:00+01:00", ev.Start.DateTime)
		require.Equal(t, "2027-03-03T10:45:00+01:00", ev.End.DateTime)
		require.Equal(t, "Europe/Berlin", ev.Start.TimeZone)
		require.Equal(t, "Haircut · Maria", ev.Summary, "the client's first name only")
		// The phone's subscriber digits, not "151": the salon's random id may hold that.
		for _, form := range []string{"15110001", "151 1000", "Schmidt"} {
			require.NotContains(t, ev.Description, form, "no client phone or surname in the event")
		}
		require.Equal(t, bk.ID, ev.ExtendedProperties.Private["salonbook_booking"])
		require.Empty(t, b.fake.Events(borisCal))
	})

	t.Run("ABlockIsBlockedTime", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		blk, err := b.svc.Block(ctx, booking.BlockRequest{SalonID: b.salonID, MasterID: "anna",
			Start: berlin(2027, 3, 3, 12, 0), End: berlin(2027, 3, 3, 13, 0), Note: "Sick", IdempotencyKey: "b1", Source: "desk:olga"})
		require.NoError(t, err)
		require.NoError(t, b.sync.Push(ctx, b.salonID, blk.ID))
		evs := b.fake.Events(annaCal)
		require.Len(t, evs, 1)
		require.Equal(t, "Blocked · Sick", evs[0].Summary)
		require.Equal(t, "2027-03-03T12:00:00+01:00", evs[0].Start.DateTime)
		require.Equal(t, "2027-03-03T13:00:00+01:00", evs[0].End.DateTime)
		// Read back, the block's own event is not busy time of the calendar's:
		// the block alone keeps the hour.
		require.NoError(t, b.sync.Refresh(ctx, b.salonID, "anna"))
		var busy int
		require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM calendar_busy WHERE salon_id = $1`, b.salonID).Scan(&busy))
		require.Zero(t, busy)

		_, err = b.svc.Unblock(ctx, b.salonID, blk.ID, "")
		require.NoError(t, err)
		require.NoError(t, b.sync.Push(ctx, b.salonID, blk.ID))
		require.Empty(t, b.fake.Events(annaCal), "lifted: the event goes")
	})

	t.Run("MoveThenCancelThenCancelAgain", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		bk := b.book(t, "anna", berlin(2027, 3, 3, 10, 0), "1")
		require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))

		_, err := b.svc.Reschedule(ctx, b.salonID, bk.ID, berlin(2027, 3, 4, 15, 30))
		require.NoError(t, err)
		require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
		evs := b.fake.Events(annaCal)
		require.Len(t, evs, 1)
		require.Equal(t, berlin(2027, 3, 4, 15, 30), instant(t, evs[0].Start.DateTime))
		require.Equal(t, berlin(2027, 3, 4, 16, 15), instant(t, evs[0].End.DateTime))
		require.Equal(t, 1, b.fake.Inserted(annaCal, evs[0].Id), "a move patches, never inserts again")

		_, err = b.svc.Cancel(ctx, b.salonID, bk.ID)
		require.NoError(t, err)
		require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
		require.Empty(t, b.fake.Events(annaCal))
		_, err = b.svc.Cancel(ctx, b.salonID, bk.ID)
		require.NoError(t, err)
		require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID), "cancelling twice is fine")
		require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
		require.Empty(t, b.fake.Events(annaCal))
	})

	t.Run("LostRecordStillOneEvent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		bk := b.book(t, "anna", berlin(2027, 3, 3, 10, 0), "1")
		require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
		// A crash after Google answered but before the record was written: the
		// next run inserts again, gets 409 and patches the same event.
		_, err := pgtest.Pool(t).Exec(ctx, `DELETE FROM calendar_events WHERE salon_id = $1`, b.salonID)
		require.NoError(t, err)
		_, err = b.svc.Reschedule(ctx, b.salonID, bk.ID, berlin(2027, 3, 3, 11, 0))
		require.NoError(t, err)
		require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
		evs := b.fake.Events(annaCal)
		require.Len(t, evs, 1)
		require.Equal(t, berlin(2027, 3, 3, 11, 0), instant(t, evs[0].Start.DateTime))
		require.Equal(t, 1, b.fake.Inserted(annaCal, evs[0].Id))
		require.Equal(t, 2, b.fake.Calls("insert"), "the second insert met 409")
	})

	t.Run("CancelWithoutRecordDeletesAnyway", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		bk := b.book(t, "anna", berlin(2027, 3, 3, 10, 0), "1")
		require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
		_, err := pgtest.Pool(t).Exec(ctx, `DELETE FROM calendar_events WHERE salon_id = $1`, b.salonID)
		require.NoError(t, err)
		_, err = b.svc.Cancel(ctx, b.salonID, bk.ID)
		require.NoError(t, err)
		require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
		require.Empty(t, b.fake.Events(annaCal))
	})

	t.Run("FailuresThenOK", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		bk := b.book(t, "anna", berlin(2027, 3, 3, 10, 0), "1")
		b.fake.Fail(gcaltest.Failure{Status: 429, Reason: "rateLimitExceeded", Only: "insert"},
			gcaltest.Failure{Status: 500, Reason: "backendError", Only: "insert"})
		require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
		evs := b.fake.Events(annaCal)
		require.Len(t, evs, 1)
		require.Equal(t, berlin(2027, 3, 3, 10, 0), instant(t, evs[0].Start.DateTime))
		require.Equal(t, 3, b.fake.Calls("insert"))
		require.Equal(t, 1, b.fake.Inserted(annaCal, evs[0].Id))
	})

	t.Run("GoogleDownBookingsGoOn", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		first := b.book(t, "anna", berlin(2027, 3, 3, 10, 0), "1")
		down := make([]gcaltest.Failure, 5) // every try of one call
		for i := range down {
			down[i] = gcaltest.Failure{Status: 503, Reason: "backendError"}
		}
		b.fake.Fail(down...)
		err := b.sync.Push(ctx, b.salonID, first.ID)
		require.Error(t, err)
		require.False(t, calsync.Permanent(err), "Google down is retried later, by the job")
		// Meanwhile the salon goes on booking and showing slots, the same master included.
		second := b.book(t, "anna", berlin(2027, 3, 3, 14, 0), "2")
		require.NotEmpty(t, b.slots(t, "anna", core.Date{Year: 2027, Month: 3, Day: 3}))
		// Google is back: the retried job and the next one each make their event, once.
		require.NoError(t, b.sync.Push(ctx, b.salonID, first.ID))
		require.NoError(t, b.sync.Push(ctx, b.salonID, second.ID))
		require.Len(t, b.fake.Events(annaCal), 2)
		require.Equal(t, 1, b.fake.Inserted(annaCal, calsync.EventID(b.salonID, first.ID)))
	})

	t.Run("BrokenCalendarIsReported", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		bk := b.book(t, "boris", berlin(2027, 3, 3, 10, 0), "1")
		b.fake.Fail(gcaltest.Failure{Status: 403, Reason: "forbidden", Only: "insert"})
		err := b.sync.Push(ctx, b.salonID, bk.ID)
		require.Error(t, err)
		require.True(t, calsync.Permanent(err))
		require.Equal(t, 1, b.fake.Calls("insert"), "403 without a rate-limit reason is not retried")
		problems, err := b.cals.Problems(ctx)
		require.NoError(t, err)
		var mine []calsync.Problem
		for _, p := range problems {
			if p.SalonID == b.salonID {
				mine = append(mine, p)
			}
		}
		require.Len(t, mine, 1)
		require.Equal(t, "boris", mine[0].MasterID)
		require.Contains(t, mine[0].Problem, "403")

		// Access comes back: the periodic reconciliation makes the event the
		// cancelled job never made, and the problem is cleared.
		require.NoError(t, b.sync.Reconcile(ctx, b.salonID))
		require.Len(t, b.fake.Events(borisCal), 1)
		require.NoError(t, b.sync.Reconcile(ctx, b.salonID))
		require.Equal(t, 1, b.fake.Inserted(borisCal, calsync.EventID(b.salonID, bk.ID)), "nothing left to mend")

		// A cancel whose delete is refused for good is mended the same way.
		_, err = b.svc.Cancel(ctx, b.salonID, bk.ID)
		require.NoError(t, err)
		b.fake.Fail(gcaltest.Failure{Status: 403, Reason: "forbidden", Only: "delete"})
		require.True(t, calsync.Permanent(b.sync.Push(ctx, b.salonID, bk.ID)))
		require.Len(t, b.fake.Events(borisCal), 1)
		require.NoError(t, b.sync.Reconcile(ctx, b.salonID))
		require.Empty(t, b.fake.Events(borisCal))
		problems, err = b.cals.Problems(ctx)
		require.NoError(t, err)
		for _, p := range problems {
			require.NotEqual(t, b.salonID, p.SalonID)
		}
	})

	t.Run("EventTimesAcrossDST", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			now        time.Time
			start      time.Time
			wantStart  string
			wantUTCHrs int
		}{
			// 2027-03-28: clocks go 02:00 → 03:00 in Berlin (UTC+1 → UTC+2).
			{march1, berlin(2027, 3, 28, 10, 0), "2027-03-28T10:00:00+02:00", 8},
			// 2027-10-31: clocks go 03:00 → 02:00 (UTC+2 → UTC+1).
			{time.Date(2027, 10, 1, 7, 0, 0, 0, time.UTC), berlin(2027, 10, 31, 10, 0), "2027-10-31T10:00:00+01:00", 9},
		} {
			b := setup(t, c.now)
			bk := b.book(t, "anna", c.start, "1")
			require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
			evs := b.fake.Events(annaCal)
			require.Len(t, evs, 1)
			require.Equal(t, c.wantStart, evs[0].Start.DateTime)
			got := instant(t, evs[0].Start.DateTime)
			require.Equal(t, bk.Start, got)
			require.Equal(t, c.wantUTCHrs, got.Hour())
			require.Equal(t, 45*time.Minute, instant(t, evs[0].End.DateTime).Sub(got))
		}
	})
}

// starts lists the starts of slots.
func starts(ss []availability.Slot) []time.Time {
	out := make([]time.Time, len(ss))
	for i, s := range ss {
		out[i] = s.Start
	}
	return out
}

func (b *bundle) slots(t *testing.T, master string, day core.Date) []time.Time {
	t.Helper()
	ss, _, err := b.svc.Slots(context.Background(), booking.SlotsRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: master, From: day, Days: 1})
	require.NoError(t, err)
	return starts(ss)
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	day := core.Date{Year: 2027, Month: 3, Day: 3}

	t.Run("BusyBlockRemovesOnlyItsSlotsAndComesBackWhenGone", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		before := b.slots(t, "anna", day)
		boris := b.slots(t, "boris", day)
		block := b.fake.AddBusy(annaCal, berlin(2027, 3, 3, 12, 0), berlin(2027, 3, 3, 13, 0))
		require.Equal(t, before, b.slots(t, "anna", day), "nothing changes before a refresh")
		require.NoError(t, b.sync.Refresh(ctx, b.salonID, ""))

		// A haircut occupies [s, s+60 min) (45 min and a 15 min clean-up).
		var want []time.Time
		for _, s := range before {
			if !(s.Before(berlin(2027, 3, 3, 13, 0)) && s.Add(time.Hour).After(berlin(2027, 3, 3, 12, 0))) {
				want = append(want, s)
			}
		}
		require.Less(t, len(want), len(before))
		require.Equal(t, want, b.slots(t, "anna", day))
		require.Equal(t, boris, b.slots(t, "boris", day), "another master is untouched")

		// Booking inside the block is refused, with free times nearby.
		_, err := b.svc.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
			Start: berlin(2027, 3, 3, 12, 15), Client: core.Client{Name: "Eva", Phone: "+49 151 2000001"}, IdempotencyKey: "k", Confirm: true})
		var conflict *booking.ConflictError
		require.ErrorAs(t, err, &conflict)
		require.NotEmpty(t, conflict.Alternatives)
		// "Any master" goes to someone free.
		bk, err := b.svc.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: booking.AnyMaster,
			Start: berlin(2027, 3, 3, 12, 15), Client: core.Client{Name: "Eva", Phone: "+49 151 2000001"}, IdempotencyKey: "k2", Confirm: true})
		require.NoError(t, err)
		require.NotEqual(t, "anna", bk.MasterID)

		// The master frees the time: the next refresh replaces, never merges.
		b.fake.RemoveBusy(annaCal, block)
		require.NoError(t, b.sync.Refresh(ctx, b.salonID, ""))
		require.Equal(t, before, b.slots(t, "anna", day))
	})

	t.Run("OwnBookingsAreNotOutsideBusyTime", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		bk := b.book(t, "anna", berlin(2027, 3, 3, 10, 0), "1")
		require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID)) // its event is busy in Google now
		require.NoError(t, b.sync.Refresh(ctx, b.salonID, ""))
		// A move by 15 minutes overlaps the booking's own event: allowed.
		moved, err := b.svc.Reschedule(ctx, b.salonID, bk.ID, berlin(2027, 3, 3, 10, 15))
		require.NoError(t, err)
		require.NoError(t, b.sync.Push(ctx, b.salonID, moved.ID))
		_, err = b.svc.Cancel(ctx, b.salonID, bk.ID)
		require.NoError(t, err)
		require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID)) // refreshes after the delete
		require.Contains(t, b.slots(t, "anna", day), berlin(2027, 3, 3, 10, 15))
	})

	t.Run("MoveIntoBlockIsRefused", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		bk := b.book(t, "anna", berlin(2027, 3, 3, 10, 0), "1")
		b.fake.AddBusy(annaCal, berlin(2027, 3, 3, 15, 0), berlin(2027, 3, 3, 16, 0))
		require.NoError(t, b.sync.Refresh(ctx, b.salonID, "anna"))
		_, err := b.svc.Reschedule(ctx, b.salonID, bk.ID, berlin(2027, 3, 3, 15, 30))
		var conflict *booking.ConflictError
		require.ErrorAs(t, err, &conflict)
		got, err := b.svc.Get(ctx, b.salonID, bk.ID)
		require.NoError(t, err)
		require.Equal(t, berlin(2027, 3, 3, 10, 0), got.Start, "the old time stays")
	})

	t.Run("HeldTimeBlockedByTheMaster", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		req := booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna", Start: berlin(2027, 3, 3, 12, 0),
			Client: core.Client{Name: "Eva", Phone: "+49 151 2000002"}, IdempotencyKey: "h1"}
		hold, err := b.svc.Book(ctx, req)
		require.NoError(t, err)
		// While it is held, Anna blocks 12:00-13:00 in her calendar.
		b.fake.AddBusy(annaCal, berlin(2027, 3, 3, 12, 0), berlin(2027, 3, 3, 13, 0))
		require.NoError(t, b.sync.Refresh(ctx, b.salonID, "anna"))
		_, err = b.svc.Confirm(ctx, b.salonID, hold.ID)
		var conflict *booking.ConflictError
		require.ErrorAs(t, err, &conflict, "her calendar wins over a hold")
		// Released, the time under the hold stays blocked: the hold had no event
		// and must not hide the block.
		_, err = b.svc.Cancel(ctx, b.salonID, hold.ID)
		require.NoError(t, err)
		req.IdempotencyKey, req.Start = "h2", berlin(2027, 3, 3, 11, 45)
		_, err = b.svc.Book(ctx, req)
		require.ErrorAs(t, err, &conflict)
		require.NotContains(t, b.slots(t, "anna", day), berlin(2027, 3, 3, 12, 0))
	})

	t.Run("TransientCalendarErrorIsRetried", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		b.fake.AddBusy(annaCal, berlin(2027, 3, 3, 12, 0), berlin(2027, 3, 3, 13, 0))
		b.fake.Fail(gcaltest.Failure{Calendar: "backendError", Only: "freebusy"})
		require.NoError(t, b.sync.Refresh(ctx, b.salonID, "anna"))
		require.Equal(t, 3, b.fake.Calls("freebusy"), "61 days: two pieces, the first tried twice")
		require.NotContains(t, b.slots(t, "anna", day), berlin(2027, 3, 3, 12, 0))
	})

	t.Run("LongHorizonIsReadInPieces", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		s := pgtest.Setup(b.salonID)
		s.Salon.Policy.Horizon = 200 * 24 * time.Hour
		s.Masters[0].Calendar, s.Masters[1].Calendar = annaCal, borisCal
		_, err := postgres.NewStore(pgtest.Pool(t)).Apply(ctx, s)
		require.NoError(t, err)
		late := core.Date{Year: 2027, Month: 8, Day: 4}
		b.fake.AddBusy(annaCal, berlin(2027, 8, 4, 12, 0), berlin(2027, 8, 4, 13, 0))
		require.NoError(t, b.sync.Refresh(ctx, b.salonID, "anna"))
		require.Equal(t, 4, b.fake.Calls("freebusy"), "201 days in pieces of at most 60")
		require.NotContains(t, b.slots(t, "anna", late), berlin(2027, 8, 4, 12, 0))
		require.Contains(t, b.slots(t, "anna", late), berlin(2027, 8, 4, 13, 0))
	})

	t.Run("FailedReadKeepsWhatWasStored", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		b.fake.AddBusy(annaCal, berlin(2027, 3, 3, 12, 0), berlin(2027, 3, 3, 13, 0))
		require.NoError(t, b.sync.Refresh(ctx, b.salonID, "anna"))
		blocked := b.slots(t, "anna", day)
		fails := make([]gcaltest.Failure, 5)
		for i := range fails {
			fails[i] = gcaltest.Failure{Status: 500, Reason: "backendError", Only: "freebusy"}
		}
		b.fake.Fail(fails...)
		err := b.sync.Refresh(ctx, b.salonID, "anna")
		require.Error(t, err)
		require.False(t, calsync.Permanent(err), "Google down is retried later")
		require.Equal(t, blocked, b.slots(t, "anna", day))
	})

	t.Run("RefreshesNeverMerge", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		window := calsync.Window(march1, 60*24*time.Hour)
		// Many refreshes of one master at once, each with its own one block: what
		// is stored is one refresh's answer, never a mix.
		errs := make(chan error, 20)
		for i := range 20 {
			go func() {
				busy := []core.TimeRange{{Start: berlin(2027, 3, 3, 9+i%8, 0), End: berlin(2027, 3, 3, 9+i%8, 30)}}
				_, err := b.cals.ReplaceBusy(ctx, b.salonID, "anna", annaCal, window, busy, march1)
				errs <- err
			}()
		}
		for range 20 {
			require.NoError(t, <-errs)
		}
		var n int
		require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM calendar_busy WHERE salon_id = $1`, b.salonID).Scan(&n))
		require.Equal(t, 1, n)

		// A read older than the one stored is dropped.
		newer := []core.TimeRange{{Start: berlin(2027, 3, 4, 9, 0), End: berlin(2027, 3, 4, 10, 0)}}
		ok, err := b.cals.ReplaceBusy(ctx, b.salonID, "anna", annaCal, window, newer, march1.Add(time.Minute))
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = b.cals.ReplaceBusy(ctx, b.salonID, "anna", annaCal, window, nil, march1)
		require.NoError(t, err)
		require.False(t, ok)
		require.NotContains(t, b.slots(t, "anna", core.Date{Year: 2027, Month: 3, Day: 4}), berlin(2027, 3, 4, 9, 0))
	})

	t.Run("UnknownCalendarIsReported", func(t *testing.T) {
		t.Parallel()
		b := setup(t, march1)
		s := pgtest.Setup(b.salonID)
		s.Masters[0].Calendar, s.Masters[1].Calendar = "ghost@example.com", borisCal
		_, err := postgres.NewStore(pgtest.Pool(t)).Apply(ctx, s)
		require.NoError(t, err)
		err = b.sync.Refresh(ctx, b.salonID, "")
		require.True(t, calsync.Permanent(err))
		problems, err := b.cals.Problems(ctx)
		require.NoError(t, err)
		found := false
		for _, p := range problems {
			if p.SalonID == b.salonID {
				require.Equal(t, "anna", p.MasterID)
				require.Equal(t, "ghost@example.com", p.Calendar)
				found = true
			}
		}
		require.True(t, found)
	})
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	require.True(t, calsync.Permanent(&calsync.Failure{Status: 404, Permanent: true}))
	require.False(t, calsync.Permanent(&calsync.Failure{Status: 503}))
	require.False(t, calsync.Permanent(errors.New("plain")))
	require.True(t, calsync.Permanent(errors.Join(errors.New("x"), &calsync.Failure{Status: 400, Permanent: true})))
}
