package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
)

var ctx = context.Background()

func TestBook(t *testing.T) {
	t.Parallel()

	t.Run("HoldThenOverlappingHoldConflictsWithAlternatives", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		first, err := b.svc.Book(ctx, b.req("anna", b.at(2, 10, 0), "k1"))
		require.NoError(t, err)
		require.Equal(t, core.StatusHeld, first.Status)
		require.Equal(t, b.clock.T.Add(10*time.Minute), first.HoldExpiresAt)
		require.Equal(t, b.at(2, 10, 0), first.Start)
		require.Equal(t, b.at(2, 11, 0), first.Occupied.End, "buffer after widens the occupied range")

		// 10:30 overlaps the appointment; 10:45 overlaps its clean-up buffer.
		for _, start := range []time.Time{b.at(2, 10, 30), b.at(2, 10, 45)} {
			_, err = b.svc.Book(ctx, b.req("anna", start, "k-"+start.Format("1504")))
			require.Equal(t, core.EConflict, core.ErrorCode(err))
			conflict, ok := errors.AsType[*booking.ConflictError](err)
			require.True(t, ok, "a taken time answers with alternatives: %v", err)
			require.Equal(t, "booking.slot_taken", core.ErrorKey(err))
			require.NotEmpty(t, conflict.Alternatives)
			for _, alt := range conflict.Alternatives {
				require.False(t, alt.Start.Before(b.at(2, 11, 0)) && alt.Start.After(b.at(2, 9, 0)), "alternative %v overlaps the hold", alt.Start)
			}
		}
		// 11:00 is free again: the buffer ends there.
		_, err = b.svc.Book(ctx, b.req("anna", b.at(2, 11, 0), "k3"))
		require.NoError(t, err)
	})

	t.Run("SameKeyReturnsFirstBooking", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		first, err := b.svc.Book(ctx, b.req("anna", b.at(2, 10, 0), "same"))
		require.NoError(t, err)
		again, err := b.svc.Book(ctx, b.req("anna", b.at(2, 10, 0), "same"))
		require.NoError(t, err)
		require.Equal(t, first.ID, again.ID)
		for name, other := range map[string]booking.BookRequest{
			"AnotherTime":   b.req("anna", b.at(2, 15, 0), "same"),
			"AnotherMaster": b.req("boris", b.at(2, 10, 0), "same"),
			"AnotherClient": func() booking.BookRequest {
				r := b.req("anna", b.at(2, 10, 0), "same")
				r.Client.Phone = "+49 151 99999999"
				return r
			}(),
		} {
			_, err := b.svc.Book(ctx, other)
			require.Equal(t, core.EConflict, core.ErrorCode(err), name)
			require.Equal(t, "booking.key_reused", core.ErrorKey(err), "%s: a key reused for another request is refused, never answered with someone's booking", name)
		}
		b.clock.T = b.clock.T.Add(30 * 24 * time.Hour)
		late, err := b.svc.Book(ctx, b.req("anna", b.at(2, 10, 0), "same"))
		require.NoError(t, err, "a replay after the time has passed still answers the first result")
		require.Equal(t, first.ID, late.ID)
	})

	t.Run("AnyMasterReplayAfterTheSalonFilledUp", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		r := b.req(booking.AnyMaster, b.at(2, 10, 0), "any-key")
		r.Confirm = true
		first, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		for _, m := range []string{"anna", "boris", "chloe"} {
			if m != first.MasterID {
				_, err := b.svc.Book(ctx, b.req(m, b.at(2, 10, 0), "fill-"+m))
				require.NoError(t, err)
			}
		}
		again, err := b.svc.Book(ctx, r)
		require.NoError(t, err, "the replay is answered with its booking even though no master is free any more")
		require.Equal(t, first.ID, again.ID)
	})

	t.Run("RescheduleIntoOwnOtherAppointment", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		r := b.req("anna", b.at(3, 10, 0), "own1")
		r.Confirm = true
		a, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		r2 := b.req("boris", b.at(3, 14, 0), "own1") // same client (same phone)
		r2.IdempotencyKey = "own2"
		_, err = b.svc.Book(ctx, r2)
		require.NoError(t, err)
		_, err = b.svc.Reschedule(ctx, b.salonID, a.ID, b.at(3, 14, 0))
		require.Equal(t, "booking.client_overlap", core.ErrorKey(err))
	})

	t.Run("ControlCharactersAreInvalid", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		r := b.req("anna", b.at(2, 10, 0), "ctl\x00key")
		_, err := b.svc.Book(ctx, r)
		require.Equal(t, core.EInvalid, core.ErrorCode(err))
		r = b.req("anna", b.at(2, 10, 0), "ctl")
		r.Client.Name = "Ann\x00a"
		_, err = b.svc.Book(ctx, r)
		require.Equal(t, core.EInvalid, core.ErrorCode(err))
	})

	t.Run("ConfirmAtTheExpiryInstantIsRefused", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		held, err := b.svc.Book(ctx, b.req("anna", b.at(2, 10, 0), "edge"))
		require.NoError(t, err)
		b.clock.T = held.HoldExpiresAt.Add(-time.Second)
		ok, err := b.svc.Confirm(ctx, b.salonID, held.ID)
		require.NoError(t, err, "one second before expiry the hold is live")
		require.Equal(t, core.StatusConfirmed, ok.Status)

		late, err := b.svc.Book(ctx, b.req("anna", b.at(2, 15, 0), "edge2"))
		require.NoError(t, err)
		b.clock.T = late.HoldExpiresAt // half-open: at the instant it is gone
		_, err = b.svc.Confirm(ctx, b.salonID, late.ID)
		require.Equal(t, "booking.hold_expired", core.ErrorKey(err))
	})

	t.Run("RescheduleAHold", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		held, err := b.svc.Book(ctx, b.req("anna", b.at(3, 10, 0), "rh"))
		require.NoError(t, err)
		moved, err := b.svc.Reschedule(ctx, b.salonID, held.ID, b.at(3, 12, 0))
		require.NoError(t, err)
		require.Equal(t, core.StatusHeld, moved.Status)
		require.Equal(t, b.at(3, 12, 0), moved.Start)
		b.clock.T = held.HoldExpiresAt
		_, err = b.svc.Reschedule(ctx, b.salonID, held.ID, b.at(3, 14, 0))
		require.Equal(t, "booking.not_active", core.ErrorKey(err), "an expired hold cannot be moved")
	})

	t.Run("ManyRaceForAnExpiredHold", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		_, err := b.svc.Book(ctx, b.req("anna", b.at(2, 10, 0), "stale"))
		require.NoError(t, err)
		b.clock.T = b.clock.T.Add(11 * time.Minute)
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 20 {
			wg.Go(func() {
				_, err := b.svc.Book(ctx, b.req("anna", b.at(2, 10, 0), fmt.Sprintf("stale-%d", i)))
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					won++
				} else if c, ok := errors.AsType[*booking.ConflictError](err); ok {
					for _, a := range c.Alternatives {
						require.False(t, a.Start.Equal(b.at(2, 10, 0)), "the taken time is not offered as its own alternative")
					}
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, won, "exactly one takes the time the stale hold had")
		requireNoOverlap(t, b)
	})

	t.Run("ExpiredHoldStopsBlocking", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		held, err := b.svc.Book(ctx, b.req("anna", b.at(2, 10, 0), "h1"))
		require.NoError(t, err)
		b.clock.T = b.clock.T.Add(10 * time.Minute)
		slots, _, err := b.svc.Slots(ctx, booking.SlotsRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna", From: core.Date{Year: 2027, Month: 3, Day: 2}, Days: 1})
		require.NoError(t, err)
		require.True(t, hasStart(slots, b.at(2, 10, 0)), "an expired hold is offered again")
		taken, err := b.svc.Book(ctx, b.req("anna", b.at(2, 10, 0), "h2"))
		require.NoError(t, err)
		require.NotEqual(t, held.ID, taken.ID)
		_, err = b.svc.Confirm(ctx, b.salonID, held.ID)
		require.Equal(t, core.EConflict, core.ErrorCode(err))
		require.Equal(t, "booking.hold_expired", core.ErrorKey(err))
		got, err := b.svc.Get(ctx, b.salonID, held.ID)
		require.NoError(t, err)
		require.Equal(t, core.StatusExpired, got.Status)
	})

	t.Run("ConfirmedBooking", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		r := b.req("anna", b.at(2, 10, 0), "c1")
		r.Confirm = true
		got, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		require.Equal(t, core.StatusConfirmed, got.Status)
		require.True(t, got.HoldExpiresAt.IsZero())
		require.Equal(t, core.Money{Minor: 3500, Currency: "EUR"}, got.Price)
	})

	t.Run("ClientCannotBeInTwoPlaces", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		r := b.req("anna", b.at(2, 10, 0), "p1")
		_, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		r2 := r
		r2.MasterID, r2.IdempotencyKey, r2.Start = "boris", "p2", b.at(2, 10, 15)
		_, err = b.svc.Book(ctx, r2)
		require.Equal(t, core.EConflict, core.ErrorCode(err))
		require.Equal(t, "booking.client_overlap", core.ErrorKey(err))
	})

	t.Run("AnyMasterPicksTheLeastBusyThenByName", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		// Anna has one booking that day, so Boris (fewest, then name) is next.
		_, err := b.svc.Book(ctx, b.req("anna", b.at(2, 15, 0), "a0"))
		require.NoError(t, err)
		got, err := b.svc.Book(ctx, b.req(booking.AnyMaster, b.at(2, 10, 0), "a1"))
		require.NoError(t, err)
		require.Equal(t, "boris", got.MasterID)
		got, err = b.svc.Book(ctx, b.req(booking.AnyMaster, b.at(2, 10, 0), "a2"))
		require.NoError(t, err)
		require.Equal(t, "chloe", got.MasterID)
		got, err = b.svc.Book(ctx, b.req(booking.AnyMaster, b.at(2, 10, 0), "a3"))
		require.NoError(t, err)
		require.Equal(t, "anna", got.MasterID)
		_, err = b.svc.Book(ctx, b.req(booking.AnyMaster, b.at(2, 10, 0), "a4"))
		require.Equal(t, core.EConflict, core.ErrorCode(err))
	})

	t.Run("BadRequestsChangeNothing", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		cases := []struct {
			name string
			edit func(*booking.BookRequest)
			code core.Code
			key  string
		}{
			{"UnknownService", func(r *booking.BookRequest) { r.ServiceID = "tattoo" }, core.ENotFound, "service.not_found"},
			{"UnknownMaster", func(r *booking.BookRequest) { r.MasterID = "zed" }, core.ENotFound, "master.not_found"},
			{"MasterWithoutService", func(r *booking.BookRequest) { r.ServiceID, r.MasterID = "manicure", "boris" }, core.EInvalid, "master.no_service"},
			{"OffGrid", func(r *booking.BookRequest) { r.Start = b.at(2, 10, 7) }, core.EInvalid, "booking.not_offered"},
			{"OutsideHours", func(r *booking.BookRequest) { r.Start = b.at(2, 18, 30) }, core.EInvalid, "booking.not_offered"},
			{"InThePast", func(r *booking.BookRequest) { r.Start = b.at(1, 7, 0) }, core.EInvalid, "booking.in_past"},
			{"TooSoon", func(r *booking.BookRequest) { r.Start = b.at(1, 9, 0) }, core.EInvalid, "booking.too_soon"},
			{"TooFar", func(r *booking.BookRequest) { r.Start = b.at(1, 10, 0).Add(61 * 24 * time.Hour) }, core.EInvalid, "booking.too_far"},
			{"BadPhone", func(r *booking.BookRequest) { r.Client.Phone = "call me" }, core.EInvalid, "client.invalid_phone"},
			{"NoName", func(r *booking.BookRequest) { r.Client.Name = " " }, core.EInvalid, "client.invalid_name"},
			{"NoKey", func(r *booking.BookRequest) { r.IdempotencyKey = "" }, core.EInvalid, "request.invalid"},
		}
		for _, c := range cases {
			r := b.req("anna", b.at(2, 10, 0), "bad-"+c.name)
			c.edit(&r)
			_, err := b.svc.Book(ctx, r)
			require.Equal(t, c.code, core.ErrorCode(err), "%s: %v", c.name, err)
			require.Equal(t, c.key, core.ErrorKey(err), c.name)
		}
		var n int
		require.NoError(t, pgtest.Pool(t).QueryRow(ctx, "SELECT count(*) FROM bookings WHERE salon_id = $1", b.salonID).Scan(&n))
		require.Zero(t, n)
	})
}

func TestCancel(t *testing.T) {
	t.Parallel()

	t.Run("OutsideCutoffCancelsOnceInsideIsForbidden", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		r := b.req("anna", b.at(3, 10, 0), "x1")
		r.Confirm = true
		bk, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		got, err := b.svc.Cancel(ctx, b.salonID, bk.ID)
		require.NoError(t, err)
		require.Equal(t, core.StatusCancelled, got.Status)
		again, err := b.svc.Cancel(ctx, b.salonID, bk.ID)
		require.NoError(t, err, "cancelling twice is fine")
		require.Equal(t, core.StatusCancelled, again.Status)

		r = b.req("anna", b.at(1, 19, 0).Add(-time.Hour), "x2") // 18:00 today, 10 h ahead
		r.Confirm = true
		late, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		_, err = b.svc.Cancel(ctx, b.salonID, late.ID)
		require.Equal(t, core.EForbidden, core.ErrorCode(err))
		require.Equal(t, "booking.cancel_too_late", core.ErrorKey(err))
	})

	t.Run("HoldCanBeReleasedInsideCutoff", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		held, err := b.svc.Book(ctx, b.req("anna", b.at(1, 18, 0), "y1"))
		require.NoError(t, err)
		_, err = b.svc.Cancel(ctx, b.salonID, held.ID)
		require.NoError(t, err)
		_, err = b.svc.Book(ctx, b.req("anna", b.at(1, 18, 0), "y2"))
		require.NoError(t, err, "a released hold frees the time")
	})

	t.Run("ReleaseEndsOnlyAHold", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		held, err := b.svc.Book(ctx, b.req("anna", b.at(3, 10, 0), "rel1"))
		require.NoError(t, err)
		released, err := b.svc.Release(ctx, b.salonID, held.ID)
		require.NoError(t, err)
		require.True(t, released)
		got, err := b.svc.Get(ctx, b.salonID, held.ID)
		require.NoError(t, err)
		require.Equal(t, core.StatusCancelled, got.Status)
		released, err = b.svc.Release(ctx, b.salonID, held.ID)
		require.NoError(t, err)
		require.False(t, released, "releasing twice releases nothing more")

		held, err = b.svc.Book(ctx, b.req("anna", b.at(3, 12, 0), "rel2"))
		require.NoError(t, err)
		_, err = b.svc.Confirm(ctx, b.salonID, held.ID) // confirmed elsewhere
		require.NoError(t, err)
		released, err = b.svc.Release(ctx, b.salonID, held.ID)
		require.NoError(t, err)
		require.False(t, released)
		got, err = b.svc.Get(ctx, b.salonID, held.ID)
		require.NoError(t, err)
		require.Equal(t, core.StatusConfirmed, got.Status, "a confirmed booking is never released")

		for _, id := range []string{"not-a-uuid", "00000000-0000-0000-0000-000000000000"} {
			released, err = b.svc.Release(ctx, b.salonID, id)
			require.NoError(t, err)
			require.False(t, released)
		}
	})

	t.Run("UnknownBooking", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		for _, id := range []string{"not-a-uuid", "00000000-0000-0000-0000-000000000000"} {
			_, err := b.svc.Cancel(ctx, b.salonID, id)
			require.Equal(t, core.ENotFound, core.ErrorCode(err))
		}
	})
}

func TestReschedule(t *testing.T) {
	t.Parallel()

	t.Run("MovesInPlaceAndFreesTheOldTime", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		r := b.req("anna", b.at(3, 10, 0), "r1")
		r.Confirm = true
		bk, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		moved, err := b.svc.Reschedule(ctx, b.salonID, bk.ID, b.at(3, 10, 15))
		require.NoError(t, err, "a move that overlaps the booking's own old time is allowed")
		require.Equal(t, bk.ID, moved.ID)
		require.Equal(t, b.at(3, 10, 15), moved.Start)
		require.Equal(t, core.StatusConfirmed, moved.Status)
		_, err = b.svc.Book(ctx, b.req("anna", b.at(3, 9, 0), "r2"))
		require.NoError(t, err)
	})

	t.Run("TakenTargetKeepsTheOldTime", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		r := b.req("anna", b.at(3, 10, 0), "t1")
		r.Confirm = true
		bk, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		_, err = b.svc.Book(ctx, b.req("anna", b.at(3, 14, 0), "t2"))
		require.NoError(t, err)
		_, err = b.svc.Reschedule(ctx, b.salonID, bk.ID, b.at(3, 14, 0))
		require.Equal(t, core.EConflict, core.ErrorCode(err))
		_, ok := errors.AsType[*booking.ConflictError](err)
		require.True(t, ok)
		got, err := b.svc.Get(ctx, b.salonID, bk.ID)
		require.NoError(t, err)
		require.Equal(t, b.at(3, 10, 0), got.Start, "the old time is kept when the new one is taken")
		_, err = b.svc.Book(ctx, b.req("anna", b.at(3, 10, 0), "t3"))
		require.Equal(t, core.EConflict, core.ErrorCode(err), "and still blocks others")
	})

	t.Run("NearItsOwnOldTimeIntoAnotherClientIsTaken", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		r := b.req("anna", b.at(3, 10, 0), "n1")
		r.Confirm = true
		bk, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		other := b.req("anna", b.at(3, 11, 0), "n2") // another client
		other.Confirm = true
		_, err = b.svc.Book(ctx, other)
		require.NoError(t, err)
		// 10:30 overlaps both the booking's own old time and the other client's 11:00:
		// the booking being moved is not the client's "other appointment".
		_, err = b.svc.Reschedule(ctx, b.salonID, bk.ID, b.at(3, 10, 30))
		require.Equal(t, "booking.slot_taken", core.ErrorKey(err))
		conflict, ok := errors.AsType[*booking.ConflictError](err)
		require.True(t, ok, "a taken time answers with alternatives: %v", err)
		require.NotEmpty(t, conflict.Alternatives)
	})

	t.Run("InsideCutoffIsForbidden", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		r := b.req("anna", b.at(1, 18, 0), "u1")
		r.Confirm = true
		bk, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		_, err = b.svc.Reschedule(ctx, b.salonID, bk.ID, b.at(3, 10, 0))
		require.Equal(t, core.EForbidden, core.ErrorCode(err))
	})
}

// TestComing: "I'll come" is recorded once on a confirmed booking that has not
// started, with one Coming change in its transaction; a repeat changes nothing;
// a hold, a cancelled booking and a started one are refused; a move clears it
// (it was said of the old time), and saying it again is a new change.
func TestComing(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	var mu sync.Mutex
	var kinds []booking.ChangeKind
	b.store.FollowChanges(func(_ context.Context, _ pgx.Tx, c booking.Change) error {
		mu.Lock()
		defer mu.Unlock()
		kinds = append(kinds, c.Kind)
		return nil
	})
	changes := func() []booking.ChangeKind {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(kinds)
	}
	r := b.req("anna", b.at(3, 10, 0), "c1")
	r.Confirm = true
	bk, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	require.True(t, bk.ComingAt.IsZero())

	came, err := b.svc.Coming(ctx, b.salonID, bk.ID)
	require.NoError(t, err)
	require.Equal(t, b.clock.T, came.ComingAt)
	b.clock.T = b.clock.T.Add(time.Hour)
	again, err := b.svc.Coming(ctx, b.salonID, bk.ID)
	require.NoError(t, err, "a second press answers the same")
	require.Equal(t, came.ComingAt, again.ComingAt, "and changes nothing")
	got, err := b.svc.Get(ctx, b.salonID, bk.ID)
	require.NoError(t, err)
	require.Equal(t, came.ComingAt, got.ComingAt, "stored")
	require.Equal(t, []booking.ChangeKind{booking.Coming}, changes(), "one change (the booking itself is recorded only for a master with a calendar or notices)")

	moved, err := b.svc.Reschedule(ctx, b.salonID, bk.ID, b.at(3, 11, 0))
	require.NoError(t, err)
	require.True(t, moved.ComingAt.IsZero(), "a move clears it: it was said of the old time")
	_, err = b.svc.Coming(ctx, b.salonID, bk.ID)
	require.NoError(t, err)
	require.Equal(t, []booking.ChangeKind{booking.Coming, booking.Moved, booking.Coming}, changes())

	hold, err := b.svc.Book(ctx, b.req("boris", b.at(3, 12, 0), "c2"))
	require.NoError(t, err)
	_, err = b.svc.Coming(ctx, b.salonID, hold.ID)
	require.Equal(t, "booking.not_active", core.ErrorKey(err), "a hold is no appointment yet")
	_, err = b.svc.Cancel(ctx, b.salonID, hold.ID)
	require.NoError(t, err)
	_, err = b.svc.Coming(ctx, b.salonID, hold.ID)
	require.Equal(t, "booking.not_active", core.ErrorKey(err))
	_, err = b.svc.Coming(ctx, b.salonID, "00000000-0000-0000-0000-000000000000")
	require.Equal(t, core.ENotFound, core.ErrorCode(err))

	r = b.req("anna", b.at(4, 10, 0), "c3")
	r.Confirm = true
	late, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	b.clock.T = b.at(4, 10, 0)
	_, err = b.svc.Coming(ctx, b.salonID, late.ID)
	require.Equal(t, "booking.started", core.ErrorKey(err), "once it has started there is nothing to say")
	got, err = b.svc.Get(ctx, b.salonID, late.ID)
	require.NoError(t, err)
	require.True(t, got.ComingAt.IsZero())
	require.Len(t, changes(), 3, "refusals record nothing")
}

func TestUpcoming(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	var ids []string
	for i, day := range []int{5, 3, 4} {
		r := b.req("anna", b.at(day, 10, 0), "same-client")
		r.IdempotencyKey = fmt.Sprintf("up%d", i)
		r.Confirm, r.Source = true, "web:olga"
		bk, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		ids = append(ids, bk.ID)
	}
	other := b.req("boris", b.at(6, 10, 0), "same-client") // the same phone, typed in another chat
	other.IdempotencyKey, other.Source = "up-other", "web:mallory"
	_, err := b.svc.Book(ctx, other)
	require.NoError(t, err)
	_, err = b.svc.Cancel(ctx, b.salonID, ids[2])
	require.NoError(t, err)
	list, err := b.svc.Upcoming(ctx, b.salonID, "web:olga")
	require.NoError(t, err)
	require.Len(t, list, 2, "only this chat's live bookings, by start")
	require.Equal(t, ids[1], list[0].ID)
	require.Equal(t, ids[0], list[1].ID)
	require.Equal(t, "web:olga", list[0].Source)
	_, err = b.svc.Upcoming(ctx, b.salonID, "")
	require.Equal(t, core.EInvalid, core.ErrorCode(err))
}

// TestConcurrentBookingsNeverOverlap races many clients for overlapping times: the
// database lets exactly one win per master and never holds an overlap.
func TestConcurrentBookingsNeverOverlap(t *testing.T) {
	t.Parallel()

	race := func(t *testing.T, b *bundle, master string) (won int, conflicts int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := range 100 {
			wg.Go(func() {
				// Starts 10:00..10:30 all overlap each other's 45+15 minutes.
				start := b.at(2, 10, 15*(i%3))
				_, err := b.svc.Book(ctx, b.req(master, start, fmt.Sprintf("race-%s-%d", master, i)))
				mu.Lock()
				defer mu.Unlock()
				switch core.ErrorCode(err) {
				case "":
					won++
				case core.EConflict:
					conflicts++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			})
		}
		wg.Wait()
		return won, conflicts
	}

	t.Run("OneMaster", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		won, conflicts := race(t, b, "anna")
		require.Equal(t, 1, won)
		require.Equal(t, 99, conflicts)
		requireNoOverlap(t, b)
	})

	t.Run("AnyMasterOfThree", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		won, conflicts := race(t, b, booking.AnyMaster)
		require.Equal(t, 3, won, "three free masters, three bookings")
		require.Equal(t, 97, conflicts)
		requireNoOverlap(t, b)
	})
}

func requireNoOverlap(t *testing.T, b *bundle) {
	t.Helper()
	var n int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `
		SELECT count(*) FROM bookings x JOIN bookings y
		  ON x.salon_id = y.salon_id AND x.master_id = y.master_id AND x.booking_id < y.booking_id
		 AND x.occupied && y.occupied
		WHERE x.salon_id = $1 AND x.status IN ('held','confirmed') AND y.status IN ('held','confirmed')`,
		b.salonID).Scan(&n))
	require.Zero(t, n)
}

func hasStart(slots []availability.Slot, start time.Time) bool {
	for _, s := range slots {
		if s.Start.Equal(start) {
			return true
		}
	}
	return false
}
