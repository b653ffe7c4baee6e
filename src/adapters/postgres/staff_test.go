package postgres_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
)

// The staff's use cases (the owner's desk) on the real store: blocks,
// attendance marks, the cutoff override, and the record of every change.

// kinds records the changes followers are told of.
func (b *bundle) kinds() func() []booking.ChangeKind {
	var mu sync.Mutex
	var kinds []booking.ChangeKind
	b.store.FollowChanges(func(_ context.Context, _ pgx.Tx, c booking.Change) error {
		mu.Lock()
		defer mu.Unlock()
		kinds = append(kinds, c.Kind)
		return nil
	})
	return func() []booking.ChangeKind {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(kinds)
	}
}

func (b *bundle) blockReq(master string, start, end time.Time, key string) booking.BlockRequest {
	return booking.BlockRequest{SalonID: b.salonID, MasterID: master, Start: start, End: end, Note: "Lunch",
		IdempotencyKey: "desk:" + key, Source: booking.DeskActor("olga")}
}

// overlapsHour reports whether a slot of the haircut (45 min + 15 min clean-up)
// would overlap [from, to).
func overlaps(slots []availability.Slot, master string, from, to time.Time) []time.Time {
	var out []time.Time
	for _, s := range slots {
		if s.MasterID == master && s.Start.Before(to) && s.Start.Add(time.Hour).After(from) {
			out = append(out, s.Start)
		}
	}
	return out
}

// TestBlockTakesTheTimeFromEveryone: a block leaves the slot search, the
// exclusion constraint refuses a chat's hold and a move into it (23P01 →
// EConflict, with the nearest free times), "any master" goes to another master,
// and lifting it gives the time back. The calendar and the wait-list follow
// (Blocked, Unblocked).
func TestBlockTakesTheTimeFromEveryone(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	changes := b.kinds()
	b.store.FollowChanges(postgres.NewWaitlist(pgtest.Pool(t)).Record) // as serve wires it
	ctx := booking.WithActor(context.Background(), booking.DeskActor("olga"))
	from, to := b.at(2, 12, 0), b.at(2, 13, 0)
	day := core.Date{Year: 2027, Month: 3, Day: 2}
	slots := func() []availability.Slot {
		s, _, err := b.svc.Slots(ctx, booking.SlotsRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna", From: day, Days: 1})
		require.NoError(t, err)
		return s
	}
	require.NotEmpty(t, overlaps(slots(), "anna", from, to), "free before")

	blk, err := b.svc.Block(ctx, b.blockReq("anna", from, to, "b1"))
	require.NoError(t, err)
	require.True(t, blk.Block)
	require.Equal(t, core.StatusConfirmed, blk.Status)
	require.Zero(t, blk.ClientID)
	require.Empty(t, blk.ServiceID)
	require.Equal(t, "Lunch", blk.Note)
	require.Empty(t, overlaps(slots(), "anna", from, to), "the slot search leaves the blocked hour out")

	// A chat's hold on it: the insert is refused by the constraint.
	chat := b.req("anna", from, "chat1")
	chat.Source = "web:s1"
	_, err = b.svc.Book(context.Background(), chat)
	require.Equal(t, core.EConflict, core.ErrorCode(err))
	c, ok := errors.AsType[*booking.ConflictError](err)
	require.True(t, ok, "%v", err)
	require.NotEmpty(t, c.Alternatives)
	for _, a := range c.Alternatives {
		require.False(t, a.Start.Before(to) && a.Start.Add(time.Hour).After(from), "alternative %v in the block", a.Start)
	}
	// A move into it: UPDATE → 23P01 → EConflict with alternatives.
	r := b.req("anna", b.at(2, 15, 0), "m1")
	r.Confirm = true
	bk, err := b.svc.Book(context.Background(), r)
	require.NoError(t, err)
	_, err = b.svc.Reschedule(context.Background(), b.salonID, bk.ID, b.at(2, 12, 30))
	require.Equal(t, core.EConflict, core.ErrorCode(err))
	c, ok = errors.AsType[*booking.ConflictError](err)
	require.True(t, ok, "%v", err)
	require.NotEmpty(t, c.Alternatives)
	// In SQL, without the use case: the exclusion constraint itself (23P01).
	_, err = pgtest.Pool(t).Exec(ctx, `UPDATE bookings SET starts_at = $2, ends_at = $3, occupied = tstzrange($2, $3) WHERE booking_id = $1`,
		bk.ID, b.at(2, 12, 30), b.at(2, 13, 15))
	require.Equal(t, core.EConflict, core.ErrorCode(postgres.MapErr(err, "move")), "23P01: %v", err)

	// "Any master" at 12:00 goes to someone else; the block is no booking in
	// the day's load.
	anyReq := b.req(booking.AnyMaster, from, "any1")
	got, err := b.svc.Book(context.Background(), anyReq)
	require.NoError(t, err)
	require.NotEqual(t, "anna", got.MasterID)

	// A block cannot go over a live booking (the 15:00 one), nor over another block.
	_, err = b.svc.Block(ctx, b.blockReq("anna", b.at(2, 15, 30), b.at(2, 16, 30), "b2"))
	require.Equal(t, "booking.block_overlap", core.ErrorKey(err))
	_, err = b.svc.Block(ctx, b.blockReq("anna", b.at(2, 12, 30), b.at(2, 13, 30), "b3"))
	require.Equal(t, "booking.block_overlap", core.ErrorKey(err))
	// The same form twice: the first block; the key for another block: refused.
	again, err := b.svc.Block(ctx, b.blockReq("anna", from, to, "b1"))
	require.NoError(t, err)
	require.Equal(t, blk.ID, again.ID)
	_, err = b.svc.Block(ctx, b.blockReq("anna", b.at(2, 17, 0), b.at(2, 18, 0), "b1"))
	require.Equal(t, "booking.key_reused", core.ErrorKey(err))
	// A lapsed hold in the way is no obstacle.
	hold, err := b.svc.Book(context.Background(), b.req("boris", b.at(2, 10, 0), "h1"))
	require.NoError(t, err)
	b.clock.T = b.clock.T.Add(11 * time.Minute)
	_, err = b.svc.Block(ctx, b.blockReq("boris", b.at(2, 10, 0), b.at(2, 11, 0), "b4"))
	require.NoError(t, err)
	lapsed, err := b.svc.Get(ctx, b.salonID, hold.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusExpired, lapsed.Status)

	// Bad requests.
	for name, req := range map[string]booking.BlockRequest{
		"backwards": b.blockReq("anna", to, from, "x1"),
		"too long":  b.blockReq("anna", from, from.Add(25*time.Hour), "x2"),
		"seconds":   b.blockReq("anna", from.Add(time.Second), to, "x3"),
		"past":      b.blockReq("anna", b.at(1, 6, 0), b.at(1, 7, 0), "x4"),
		"no master": b.blockReq("nobody", b.at(5, 10, 0), b.at(5, 11, 0), "x5"),
		"long note": func() booking.BlockRequest {
			r := b.blockReq("anna", b.at(5, 10, 0), b.at(5, 11, 0), "x6")
			r.Note = string(make([]byte, 201))
			return r
		}(),
		"no key": func() booking.BlockRequest {
			r := b.blockReq("anna", b.at(5, 10, 0), b.at(5, 11, 0), "x7")
			r.IdempotencyKey = ""
			return r
		}(),
	} {
		_, err := b.svc.Block(ctx, req)
		require.Error(t, err, name)
		require.Contains(t, []core.Code{core.EInvalid, core.ENotFound}, core.ErrorCode(err), name)
	}

	// The booking use cases do not take a block for a booking, nor the other way round.
	_, err = b.svc.Cancel(context.Background(), b.salonID, blk.ID)
	require.Equal(t, core.ENotFound, core.ErrorCode(err))
	_, err = b.svc.Reschedule(context.Background(), b.salonID, blk.ID, b.at(2, 17, 0))
	require.Equal(t, core.ENotFound, core.ErrorCode(err))
	_, err = b.svc.Mark(context.Background(), b.salonID, blk.ID, core.NoShow)
	require.Equal(t, core.ENotFound, core.ErrorCode(err))
	_, err = b.svc.Unblock(ctx, b.salonID, bk.ID, "")
	require.Equal(t, core.ENotFound, core.ErrorCode(err))

	wakes := func() int {
		var n int
		require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, b.salonID).Scan(&n))
		return n
	}
	before := wakes() // the lapsed hold's expiry wrote one already
	lifted, err := b.svc.Unblock(ctx, b.salonID, blk.ID, "back early")
	require.NoError(t, err)
	require.Equal(t, core.StatusCancelled, lifted.Status)
	require.NotEmpty(t, overlaps(slots(), "anna", from, to), "free again")
	_, err = b.svc.Unblock(ctx, b.salonID, blk.ID, "")
	require.NoError(t, err, "lifting a lifted block changes nothing")
	require.Equal(t, []booking.ChangeKind{booking.Blocked, booking.Blocked, booking.Unblocked}, changes(),
		"the two blocks made and the one lifted (the bookings of masters without calendar or notices are not followed)")
	require.Equal(t, before+1, wakes(), "lifting the block woke the wait-list once (the repeat changed nothing)")
}

// TestBlockShowsInTheCalendarAndNowhereElse: the calendar's target of a block
// is "Blocked" (its note), while the readers that assume an appointment skip it.
func TestBlockShowsInTheCalendarAndNowhereElse(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	ctx := context.Background()
	blk, err := b.svc.Block(ctx, b.blockReq("anna", b.at(2, 12, 0), b.at(2, 13, 0), "cal1"))
	require.NoError(t, err)
	cals := postgres.NewCalendars(pgtest.Pool(t))
	target, err := cals.Target(ctx, b.salonID, blk.ID)
	require.NoError(t, err, "a block has no service nor client: the target still reads")
	require.True(t, target.Block)
	require.True(t, target.Confirmed)
	require.Equal(t, "Lunch", target.Note)
	require.Equal(t, b.at(2, 12, 0), target.Start)

	// Schedule (the desk's grid) lists it, with no client.
	desk := postgres.NewDesk(pgtest.Pool(t))
	entries, err := desk.Schedule(ctx, b.salonID, []string{"anna"}, core.TimeRange{Start: b.at(2, 0, 0), End: b.at(3, 0, 0)})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.True(t, entries[0].Booking.Block)
	require.Empty(t, entries[0].ClientName)
	require.Equal(t, "blocked", entries[0].Status(b.clock.T))
	// A chat's "My bookings" never lists it, even under the block's own source.
	up, err := b.svc.Upcoming(ctx, b.salonID, booking.DeskActor("olga"))
	require.NoError(t, err)
	require.Empty(t, up)
}

// TestAttendanceMarks: arrived or no-show only at or after the start (the
// service's clock), on a confirmed booking, once; the owner's undo; a marked
// booking is neither moved nor cancelled; the no-shows of a year are counted.
func TestAttendanceMarks(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	ctx := booking.WithActor(context.Background(), booking.DeskActor("anna"))
	r := b.req("anna", b.at(2, 10, 0), "a1")
	r.Confirm = true
	bk, err := b.svc.Book(ctx, r)
	require.NoError(t, err)

	_, err = b.svc.Mark(ctx, b.salonID, bk.ID, core.NoShow)
	require.Equal(t, "booking.not_started", core.ErrorKey(err), "before the start")
	b.clock.T = b.at(2, 9, 59)
	_, err = b.svc.Mark(ctx, b.salonID, bk.ID, core.Arrived)
	require.Equal(t, "booking.not_started", core.ErrorKey(err), "a minute before")
	_, err = b.svc.Mark(ctx, b.salonID, bk.ID, "late")
	require.Equal(t, core.EInvalid, core.ErrorCode(err))
	b.clock.T = b.at(2, 10, 0)
	marked, err := b.svc.Mark(ctx, b.salonID, bk.ID, core.NoShow)
	require.NoError(t, err, "at the start")
	require.Equal(t, core.NoShow, marked.Attendance)
	require.Equal(t, b.clock.T, marked.AttendanceAt)
	again, err := b.svc.Mark(ctx, b.salonID, bk.ID, core.NoShow)
	require.NoError(t, err)
	require.Equal(t, marked.AttendanceAt, again.AttendanceAt, "the same mark again changes nothing")
	_, err = b.svc.Mark(ctx, b.salonID, bk.ID, core.Arrived)
	require.Equal(t, "booking.marked", core.ErrorKey(err))
	_, err = b.svc.CancelBy(ctx, b.salonID, bk.ID, booking.StaffChange{Reason: "x", OverrideCutoff: true})
	require.Equal(t, "booking.started", core.ErrorKey(err), "a marked booking has begun: it is not cancelled")
	_, err = b.svc.RescheduleBy(ctx, b.salonID, bk.ID, b.at(3, 10, 0), booking.StaffChange{Reason: "x", OverrideCutoff: true})
	require.Equal(t, "booking.started", core.ErrorKey(err), "nor moved")

	desk := postgres.NewDesk(pgtest.Pool(t))
	n, err := desk.NoShows(ctx, b.salonID, bk.ClientID, b.clock.T.AddDate(-1, 0, 0))
	require.NoError(t, err)
	require.Equal(t, 1, n)

	owner := booking.WithActor(context.Background(), booking.DeskActor("olga"))
	undone, err := b.svc.Unmark(owner, b.salonID, bk.ID, "she came late")
	require.NoError(t, err)
	require.Empty(t, undone.Attendance)
	require.True(t, undone.AttendanceAt.IsZero())
	n, err = desk.NoShows(ctx, b.salonID, bk.ClientID, b.clock.T.AddDate(-1, 0, 0))
	require.NoError(t, err)
	require.Zero(t, n)
	arrived, err := b.svc.Mark(ctx, b.salonID, bk.ID, core.Arrived)
	require.NoError(t, err)
	require.Equal(t, core.Arrived, arrived.Attendance)

	// Only a confirmed booking: a hold, a cancelled one.
	hold, err := b.svc.Book(context.Background(), b.req("boris", b.at(3, 10, 30), "a2"))
	require.NoError(t, err)
	_, err = b.svc.Mark(ctx, b.salonID, hold.ID, core.Arrived)
	require.Equal(t, "booking.not_active", core.ErrorKey(err))

	hist, err := desk.History(ctx, b.salonID, bk.ID)
	require.NoError(t, err)
	var got [][3]string
	for _, c := range hist {
		got = append(got, [3]string{c.Actor, c.Action, c.Reason})
	}
	require.Equal(t, [][3]string{
		{"desk:anna", "booked", ""}, {"desk:anna", "no_show", ""}, {"desk:olga", "unmarked", "she came late"}, {"desk:anna", "arrived", ""},
	}, got, "every change, with who made it; refusals and repeats record nothing")
}

// TestNoShowsCountThePersonAcrossIdentities: one person is several clients
// since identities (a chat's, a verified number's, the salon's own by phone);
// a no-show under any of them counts for each, by the shared phone; another
// number, an erased client (no phone) and an older no-show do not.
func TestNoShowsCountThePersonAcrossIdentities(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	ctx := booking.WithActor(context.Background(), booking.DeskActor("olga"))
	const phone = "+49 151 4440001"
	mk := func(key, master string, start time.Time, source string, c core.Client) *core.Booking {
		r := b.req(master, start, key)
		r.Client, r.Source, r.Confirm = c, source, true
		bk, err := b.svc.Book(ctx, r)
		require.NoError(t, err, key)
		return bk
	}
	desk := mk("n1", "anna", b.at(1, 10, 0), booking.DeskActor("olga"), core.Client{Name: "Vera Desk", Phone: phone})
	chat := mk("n2", "boris", b.at(1, 10, 0), "telegram:71", core.Client{Name: "Vera Chat", Phone: phone})
	verified := mk("n3", "anna", b.at(1, 11, 0), "whatsapp:72", core.Client{Name: "Vera WA", Phone: phone, Verified: true})
	other := mk("n4", "boris", b.at(1, 11, 0), "telegram:73", core.Client{Name: "Someone Else", Phone: "+49 151 4440002"})
	erased := mk("n5", "anna", b.at(1, 12, 0), "telegram:74", core.Client{Name: "Gone Away", Phone: "+49 151 4440003"})
	gone := mk("n6", "boris", b.at(1, 12, 0), "telegram:75", core.Client{Name: "Gone Too", Phone: "+49 151 4440004"})
	ids := map[int64]bool{}
	for _, bk := range []*core.Booking{desk, chat, verified, other, erased, gone} {
		ids[bk.ClientID] = true
	}
	require.Len(t, ids, 6, "six clients: one person under three identities, three others")

	b.clock.T = b.at(1, 13, 0)
	for _, bk := range []*core.Booking{desk, chat, other, erased, gone} {
		_, err := b.svc.Mark(ctx, b.salonID, bk.ID, core.NoShow)
		require.NoError(t, err)
	}
	pool := pgtest.Pool(t)
	// Two erased clients: their phones are both '' and must not meet.
	_, err := pool.Exec(context.Background(), `UPDATE clients SET name = '', phone = '', identity = 'erased:' || client_id
		WHERE client_id = ANY($1)`, []int64{erased.ClientID, gone.ClientID})
	require.NoError(t, err)

	d := postgres.NewDesk(pool)
	count := func(clientID int64, since time.Time) int {
		n, err := d.NoShows(context.Background(), b.salonID, clientID, since)
		require.NoError(t, err)
		return n
	}
	year := b.clock.T.AddDate(-1, 0, 0)
	for name, id := range map[string]int64{"desk": desk.ClientID, "chat": chat.ClientID, "verified": verified.ClientID} {
		require.Equal(t, 2, count(id, year), "%s: the desk's and the chat's no-shows of one phone", name)
	}
	require.Equal(t, 1, count(other.ClientID, year), "another number: its own")
	require.Equal(t, 1, count(erased.ClientID, year), "an erased client: its own only")
	require.Equal(t, 0, count(desk.ClientID, b.at(1, 10, 1)), "since: no-shows that started before are not counted")
	require.Equal(t, 0, count(0, year), "no such client")
}

// TestOwnerOverridesTheCutoff: inside the cancellation cutoff a cancel or a
// move is refused, unless staff override it with a reason, which the record
// keeps.
func TestOwnerOverridesTheCutoff(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	ctx := booking.WithActor(context.Background(), booking.DeskActor("olga"))
	mk := func(key string, start time.Time) *core.Booking {
		r := b.req("anna", start, key)
		r.Confirm = true
		bk, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		return bk
	}
	soon := mk("o1", b.at(1, 11, 0)) // 3 hours away; the cutoff is 12
	other := mk("o2", b.at(1, 14, 0))

	_, err := b.svc.Cancel(ctx, b.salonID, soon.ID)
	require.Equal(t, "booking.cancel_too_late", core.ErrorKey(err))
	_, err = b.svc.CancelBy(ctx, b.salonID, soon.ID, booking.StaffChange{OverrideCutoff: true})
	require.Equal(t, "booking.reason_needed", core.ErrorKey(err))
	_, err = b.svc.CancelBy(ctx, b.salonID, soon.ID, booking.StaffChange{Reason: "line\nbreak", OverrideCutoff: true})
	require.Equal(t, "booking.bad_reason", core.ErrorKey(err))
	_, err = b.svc.CancelBy(ctx, b.salonID, soon.ID, booking.StaffChange{Reason: "without the override"})
	require.Equal(t, "booking.cancel_too_late", core.ErrorKey(err))
	gone, err := b.svc.CancelBy(ctx, b.salonID, soon.ID, booking.StaffChange{Reason: "the client is ill", OverrideCutoff: true})
	require.NoError(t, err)
	require.Equal(t, core.StatusCancelled, gone.Status)

	_, err = b.svc.Reschedule(ctx, b.salonID, other.ID, b.at(1, 16, 0))
	require.Equal(t, "booking.cancel_too_late", core.ErrorKey(err))
	moved, err := b.svc.RescheduleBy(ctx, b.salonID, other.ID, b.at(1, 16, 0), booking.StaffChange{Reason: "master late", OverrideCutoff: true})
	require.NoError(t, err)
	require.Equal(t, b.at(1, 16, 0), moved.Start)

	desk := postgres.NewDesk(pgtest.Pool(t))
	for id, want := range map[string][]string{soon.ID: {"booked", "cancelled"}, other.ID: {"booked", "moved"}} {
		hist, err := desk.History(ctx, b.salonID, id)
		require.NoError(t, err)
		require.Len(t, hist, 2)
		require.Equal(t, want, []string{hist[0].Action, hist[1].Action})
		require.False(t, hist[0].Override)
		require.True(t, hist[1].Override, "the record says the cutoff was overridden")
		require.Equal(t, "desk:olga", hist[1].Actor)
		require.NotEmpty(t, hist[1].Reason)
	}
	hist, err := desk.History(ctx, b.salonID, other.ID)
	require.NoError(t, err)
	require.Equal(t, b.at(1, 14, 0), hist[1].From)
	require.Equal(t, b.at(1, 16, 0), hist[1].Start)
}

// TestOverrideEndsAtTheStart: the owner's override of the cutoff reaches up
// to the booking's start and no further: at and after it (the service's
// clock) a cancel or a move is refused (booking.started), changes nothing and
// records nothing; a client is still told it is too late.
func TestOverrideEndsAtTheStart(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	ctx := booking.WithActor(context.Background(), booking.DeskActor("olga"))
	mk := func(key string, start time.Time) *core.Booking {
		r := b.req("anna", start, key)
		r.Confirm = true
		bk, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		return bk
	}
	past := mk("p1", b.at(1, 11, 0))
	edge := mk("p2", b.at(1, 12, 0))
	override := booking.StaffChange{Reason: "the client phoned", OverrideCutoff: true}

	for _, now := range []time.Time{b.at(1, 11, 0), b.at(1, 11, 30), b.at(2, 9, 0)} {
		b.clock.T = now.UTC()
		_, err := b.svc.CancelBy(ctx, b.salonID, past.ID, override)
		require.Equal(t, "booking.started", core.ErrorKey(err), "cancel at %v", now)
		require.Equal(t, core.EConflict, core.ErrorCode(err))
		_, err = b.svc.RescheduleBy(ctx, b.salonID, past.ID, b.at(3, 10, 0), override)
		require.Equal(t, "booking.started", core.ErrorKey(err), "move at %v", now)
		_, err = b.svc.Cancel(context.Background(), b.salonID, past.ID)
		require.Equal(t, "booking.cancel_too_late", core.ErrorKey(err), "a client is told it is too late")
	}
	got, err := b.svc.Get(ctx, b.salonID, past.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusConfirmed, got.Status)
	require.Equal(t, b.at(1, 11, 0), got.Start)
	hist, err := postgres.NewDesk(pgtest.Pool(t)).History(ctx, b.salonID, past.ID)
	require.NoError(t, err)
	require.Len(t, hist, 1, "only the booking: refusals record nothing")
	marked, err := b.svc.Mark(ctx, b.salonID, past.ID, core.NoShow)
	require.NoError(t, err, "a past booking can be marked")
	require.Equal(t, core.NoShow, marked.Attendance)

	// A minute before its start the override still works.
	b.clock.T = b.at(1, 11, 59).UTC()
	gone, err := b.svc.CancelBy(ctx, b.salonID, edge.ID, override)
	require.NoError(t, err)
	require.Equal(t, core.StatusCancelled, gone.Status)
}

// TestEveryChangeIsRecordedWithItsActor: a chat's hold, its release by a new
// hold, a confirm, an API move and cancel, the system's expiry: each is one
// row, in the change's own statement.
func TestEveryChangeIsRecordedWithItsActor(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	chatCtx := booking.WithActor(context.Background(), booking.ActorChat)
	apiCtx := booking.WithActor(context.Background(), booking.ActorAPI)
	first := b.req("anna", b.at(2, 10, 0), "r1")
	first.Source = "telegram:7"
	h1, err := b.svc.Book(chatCtx, first)
	require.NoError(t, err)
	second := b.req("anna", b.at(2, 11, 0), "r2")
	second.Client = first.Client
	second.Source = "telegram:7"
	h2, err := b.svc.Book(chatCtx, second)
	require.NoError(t, err, "the chat's new hold releases its first")
	_, err = b.svc.Confirm(chatCtx, b.salonID, h2.ID)
	require.NoError(t, err)
	_, err = b.svc.Reschedule(apiCtx, b.salonID, h2.ID, b.at(2, 15, 0))
	require.NoError(t, err)
	_, err = b.svc.Cancel(apiCtx, b.salonID, h2.ID)
	require.NoError(t, err)
	lapse, err := b.svc.Book(chatCtx, b.req("boris", b.at(2, 10, 0), "r3"))
	require.NoError(t, err)
	b.clock.T = b.clock.T.Add(time.Hour)
	n, err := postgres.NewWaitlist(pgtest.Pool(t)).ExpireDue(context.Background(), b.salonID, b.clock.T)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	rows, err := pgtest.Pool(t).Query(context.Background(), `SELECT booking_id::text, actor, action FROM booking_changes
		WHERE salon_id = $1 ORDER BY id`, b.salonID)
	require.NoError(t, err)
	type rec struct{ id, actor, action string }
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rec, error) {
		var x rec
		return x, r.Scan(&x.id, &x.actor, &x.action)
	})
	require.NoError(t, err)
	require.Equal(t, []rec{
		{h1.ID, "chat", "held"}, {h1.ID, "chat", "released"}, {h2.ID, "chat", "held"}, {h2.ID, "chat", "confirmed"},
		{h2.ID, "api", "moved"}, {h2.ID, "api", "cancelled"}, {lapse.ID, "chat", "held"}, {lapse.ID, "system", "expired"},
	}, got)
}

// TestDeskBookingsAreTheSalons: bookings made on the desk are not capped by
// max_upcoming, take no chat's turn, and do not count against the client's
// own cap in a chat.
func TestDeskBookingsAreTheSalons(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	b.setup.Salon.Policy.MaxUpcoming = 1
	_, err := b.store.Apply(context.Background(), b.setup)
	require.NoError(t, err)
	ctx := booking.WithActor(context.Background(), booking.DeskActor("olga"))
	for i, h := range []int{10, 12, 14} {
		r := b.req("anna", b.at(3, h, 0), "same-client")
		r.IdempotencyKey = "desk:k" + string(rune('a'+i))
		r.Confirm, r.Source = true, booking.DeskActor("olga")
		_, err := b.svc.Book(ctx, r)
		require.NoError(t, err, "desk booking %d", i)
	}
	chat := b.req("boris", b.at(4, 10, 0), "same-client")
	chat.IdempotencyKey, chat.Source, chat.Confirm = "tg:1", "telegram:1", true
	_, err = b.svc.Book(context.Background(), chat)
	require.NoError(t, err, "the client's own first booking in a chat is still allowed")
	chat.IdempotencyKey, chat.Start = "tg:2", b.at(5, 10, 0)
	_, err = b.svc.Book(context.Background(), chat)
	require.Equal(t, "booking.too_many", core.ErrorKey(err), "and the cap still applies to the chat: %v", err)
}
