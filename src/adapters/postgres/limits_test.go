package postgres_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// capped is a bundle whose salon caps self-made upcoming bookings at max.
func capped(t *testing.T, max int) *bundle {
	t.Helper()
	b := newBundle(t)
	b.setup.Salon.Policy.MaxUpcoming = max
	_, err := b.store.Apply(ctx, b.setup)
	require.NoError(t, err)
	return b
}

// chatReq is a request from the chat source for the client with phone,
// verified (a Telegram contact of the sender's own, WhatsApp's own number):
// one client across the chats that share it.
func (b *bundle) chatReq(master string, start time.Time, key, source, phone string) booking.BookRequest {
	r := b.req(master, start, key)
	r.Source, r.Client.Phone, r.Client.Verified = source, phone, true
	return r
}

func (b *bundle) status(t *testing.T, id string) core.BookingStatus {
	t.Helper()
	got, err := b.svc.Get(ctx, b.salonID, id)
	require.NoError(t, err)
	return got.Status
}

func (b *bundle) clients(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, "SELECT count(*) FROM clients WHERE salon_id = $1", b.salonID).Scan(&n))
	return n
}

func TestMaxUpcoming(t *testing.T) {
	t.Parallel()

	t.Run("OnePhoneAcrossChats", func(t *testing.T) {
		t.Parallel()
		b := capped(t, 3)
		const phone = "+49 151 11111111"
		var first *core.Booking
		for i, src := range []string{"web:a", "web:b", "telegram:1"} {
			r := b.chatReq("anna", b.at(2+i, 10, 0), fmt.Sprintf("p%d", i), src, phone)
			r.Confirm = i > 0 // a live hold counts as much as a booking
			got, err := b.svc.Book(ctx, r)
			require.NoError(t, err, i)
			if first == nil {
				first = got
			}
		}
		r := b.chatReq("anna", b.at(6, 10, 0), "p3", "web:c", "+49 (151) 1111-1111")
		_, err := b.svc.Book(ctx, r)
		require.Equal(t, core.EConflict, core.ErrorCode(err), "a fourth from yet another chat: %v", err)
		require.Equal(t, "booking.too_many", core.ErrorKey(err))

		again, err := b.svc.Book(ctx, b.chatReq("anna", b.at(2, 10, 0), "p0", "web:a", phone))
		require.NoError(t, err, "a replay at the cap answers its first booking")
		require.Equal(t, first.ID, again.ID)

		owner := b.req("anna", b.at(7, 10, 0), "owner")
		owner.Source, owner.Client.Phone = "api", phone
		_, err = b.svc.Book(ctx, owner)
		require.NoError(t, err, "the owner's API is not capped")

		b.clock.T = first.HoldExpiresAt // the hold lapses: a place frees up
		_, err = b.svc.Book(ctx, r)
		require.NoError(t, err)
		_, err = b.svc.Book(ctx, b.chatReq("anna", b.at(8, 10, 0), "p4", "web:d", phone))
		require.Equal(t, "booking.too_many", core.ErrorKey(err), "the owner's booking did not count, the new one did")
	})

	t.Run("OneChatAcrossPhones", func(t *testing.T) {
		t.Parallel()
		b := capped(t, 2)
		for i := range 2 {
			r := b.chatReq("anna", b.at(2+i, 10, 0), fmt.Sprintf("c%d", i), "web:many", fmt.Sprintf("+49 151 2222000%d", i))
			r.Confirm = true
			_, err := b.svc.Book(ctx, r)
			require.NoError(t, err)
		}
		before := b.clients(t)
		r := b.chatReq("anna", b.at(5, 10, 0), "c9", "web:many", "+49 151 22220009")
		_, err := b.svc.Book(ctx, r)
		require.Equal(t, "booking.too_many", core.ErrorKey(err), "typing another number does not buy more: %v", err)
		require.Equal(t, before, b.clients(t), "the refused booking left no client")
	})

	t.Run("EachCountsOnItsOwn", func(t *testing.T) {
		t.Parallel()
		b := capped(t, 3)
		const phone = "+49 151 99990000"
		for i := range 2 {
			r := b.chatReq("anna", b.at(2+i, 10, 0), fmt.Sprintf("e%d", i), "web:first", phone)
			r.Confirm = true
			_, err := b.svc.Book(ctx, r)
			require.NoError(t, err)
		}
		other := b.chatReq("anna", b.at(4, 10, 0), "e2", "web:second", "+49 151 99990001")
		other.Confirm = true
		_, err := b.svc.Book(ctx, other)
		require.NoError(t, err)
		_, err = b.svc.Book(ctx, b.chatReq("anna", b.at(5, 10, 0), "e3", "web:second", phone))
		require.NoError(t, err, "the client's third, the chat's second: neither is over three")
	})

	t.Run("AConfirmAtTheHoldsExpiryDoesNotExceedTheCap", func(t *testing.T) {
		t.Parallel()
		// A Confirm that read its now just before the hold lapsed, but waits for
		// the hold's row, races a booking from another chat made just after:
		// one of them may win, never both.
		b := capped(t, 1)
		const phone = "+49 151 55555555"
		hold, err := b.svc.Book(ctx, b.chatReq("anna", b.at(2, 10, 0), "x0", "web:a", phone))
		require.NoError(t, err)
		confirmer := booking.New(b.store, &core.FixedClock{T: hold.HoldExpiresAt.Add(-time.Second)})
		b.clock.T = hold.HoldExpiresAt.Add(time.Second)

		// Something (the Confirm's own transaction, slow) holds the row: both
		// requests queue up behind it.
		pool := pgtest.Pool(t)
		blocker, err := pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = blocker.Rollback(ctx) }()
		var blockerPID int
		require.NoError(t, blocker.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&blockerPID))
		_, err = blocker.Exec(ctx, `SELECT 1 FROM bookings WHERE booking_id = $1 FOR UPDATE`, hold.ID)
		require.NoError(t, err)
		waiting := func(blockers ...int) int { // a backend waiting behind one of blockers, or 0
			var pid int
			err := pool.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE pg_blocking_pids(pid) && $1::int[] AND NOT pid = ANY($1) LIMIT 1`,
				blockers).Scan(&pid)
			if err != nil {
				return 0
			}
			return pid
		}

		var confirmErr, bookErr error
		confirmed, booked := make(chan struct{}), make(chan struct{})
		go func() { defer close(confirmed); _, confirmErr = confirmer.Confirm(ctx, b.salonID, hold.ID) }()
		var confirmPID int
		for confirmPID == 0 {
			select {
			case <-confirmed:
				t.Fatalf("the confirm did not wait for the row: %v", confirmErr)
			default:
			}
			confirmPID = waiting(blockerPID)
			time.Sleep(5 * time.Millisecond)
		}
		late := b.chatReq("anna", b.at(3, 10, 0), "x1", "web:b", phone)
		late.Confirm = true
		go func() { defer close(booked); _, bookErr = b.svc.Book(ctx, late) }()
	wait:
		for { // until the booking is done or waits too
			select {
			case <-booked:
				break wait
			default:
			}
			if waiting(blockerPID, confirmPID) != 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		require.NoError(t, blocker.Rollback(ctx))
		<-confirmed
		<-booked
		require.True(t, (confirmErr == nil) != (bookErr == nil), "exactly one wins: confirm %v, book %v", confirmErr, bookErr)
		var live int
		require.NoError(t, pool.QueryRow(ctx, `
			SELECT count(*) FROM bookings b JOIN clients c USING (client_id)
			WHERE b.salon_id = $1 AND c.phone = '+4915155555555' AND b.status IN ('held', 'confirmed')`,
			b.salonID).Scan(&live))
		require.Equal(t, 1, live, "one upcoming booking, as the cap says")
	})

	t.Run("RacingRequestsNeverExceedTheCap", func(t *testing.T) {
		t.Parallel()
		b := capped(t, 3)
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[string]int{}
		for i := range 24 {
			wg.Go(func() {
				// Half the same phone from many chats, half one chat with many phones.
				r := b.chatReq("anna", b.at(2+i, 10, 0), fmt.Sprintf("race%d", i),
					fmt.Sprintf("web:s%d", i), "+49 151 33333333")
				if i%2 == 1 {
					r.Source, r.Client.Phone = "web:one", fmt.Sprintf("+49 151 444444%02d", i)
				}
				r.Confirm = true
				_, err := b.svc.Book(ctx, r)
				mu.Lock()
				codes[core.ErrorKey(err)+fmt.Sprint(i%2)]++
				mu.Unlock()
			})
		}
		wg.Wait()
		require.Equal(t, map[string]int{"error.internal0": 3, "booking.too_many0": 9, "error.internal1": 3, "booking.too_many1": 9}, codes,
			"error.internal is ErrorKey(nil): three of each kind got through")
		var samePhone, oneChat int
		require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `
			SELECT count(*) FILTER (WHERE c.phone = '+4915133333333'), count(*) FILTER (WHERE b.source = 'web:one')
			FROM bookings b JOIN clients c USING (client_id) WHERE b.salon_id = $1 AND b.status = 'confirmed'`,
			b.salonID).Scan(&samePhone, &oneChat))
		require.Equal(t, 3, samePhone)
		require.Equal(t, 3, oneChat)
		require.Equal(t, 1+3, b.clients(t), "refused requests left no client rows")
	})
}

func TestOneLiveHoldPerChat(t *testing.T) {
	t.Parallel()

	t.Run("ANewHoldReleasesThePrevious", func(t *testing.T) {
		t.Parallel()
		b := capped(t, 3)
		const phone = "+49 151 55555555"
		booked := b.chatReq("boris", b.at(4, 10, 0), "h0", "web:h", phone)
		booked.Confirm = true
		kept, err := b.svc.Book(ctx, booked)
		require.NoError(t, err)
		first, err := b.svc.Book(ctx, b.chatReq("anna", b.at(2, 10, 0), "h1", "web:h", phone))
		require.NoError(t, err)
		// Half an hour later, overlapping the first: its own hold is no obstacle.
		second, err := b.svc.Book(ctx, b.chatReq("anna", b.at(2, 10, 30), "h2", "web:h", phone))
		require.NoError(t, err)
		require.Equal(t, core.StatusCancelled, b.status(t, first.ID), "the chat's earlier hold is released")
		require.Equal(t, core.StatusHeld, b.status(t, second.ID))
		require.Equal(t, core.StatusConfirmed, b.status(t, kept.ID), "a confirmed booking is no hold")

		other, err := b.svc.Book(ctx, b.chatReq("chloe", b.at(3, 10, 0), "h3", "web:other", "+49 151 66666666"))
		require.NoError(t, err)
		require.Equal(t, core.StatusHeld, b.status(t, second.ID), "another chat's hold leaves this one alone")

		again, err := b.svc.Book(ctx, b.chatReq("anna", b.at(2, 10, 30), "h2", "web:h", phone))
		require.NoError(t, err)
		require.Equal(t, second.ID, again.ID)
		require.Equal(t, core.StatusHeld, b.status(t, second.ID), "a replay does not release its own hold")

		_, err = b.svc.Book(ctx, b.chatReq("anna", b.at(3, 10, 0), "h4", "web:h", phone)) // chloe holds 10:00 on the 3rd; anna is free
		require.NoError(t, err)
		_, err = b.svc.Book(ctx, b.chatReq("chloe", b.at(3, 10, 0), "h5", "web:h", phone))
		require.Equal(t, "booking.slot_taken", core.ErrorKey(err))
		require.Equal(t, core.StatusHeld, b.status(t, other.ID))
		require.Len(t, liveHolds(t, b, "web:h"), 1, "a refused hold keeps the one before")
	})

	t.Run("RacingHoldsLeaveOne", func(t *testing.T) {
		t.Parallel()
		b := capped(t, 3)
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				r := b.chatReq("anna", b.at(2+i, 10, 0), fmt.Sprintf("rh%d", i), "web:racer", "+49 151 77777777")
				_, err := b.svc.Book(ctx, r)
				if err != nil {
					t.Errorf("hold %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		require.Len(t, liveHolds(t, b, "web:racer"), 1)
	})
}

func liveHolds(t *testing.T, b *bundle, source string) []string {
	t.Helper()
	rows, err := pgtest.Pool(t).Query(ctx, `SELECT booking_id::text FROM bookings
		WHERE salon_id = $1 AND source = $2 AND status = 'held' AND hold_expires_at > $3`, b.salonID, source, b.clock.T)
	require.NoError(t, err)
	var ids []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

// TestRefusedBookingsLeaveNoClient races 100 new clients for one time: the 99
// refused leave no client row behind, nor does an invalid or capped request.
func TestRefusedBookingsLeaveNoClient(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			r := b.req("anna", b.at(2, 10, 15*(i%3)), fmt.Sprintf("loser-%d", i))
			r.Client.Phone = fmt.Sprintf("+49 151 8800%04d", i)
			_, err := b.svc.Book(ctx, r)
			if err != nil && core.ErrorCode(err) != core.EConflict {
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, b.clients(t), "one winner, one client")
}

func TestSwappingLapsedHoldsDoesNotDeadlock(t *testing.T) {
	t.Parallel()
	// Clients X and Y each have a hold that has lapsed, and each books the
	// other's time at once. Marking one's own lapsed holds expired must not
	// leave them changed but uncommitted while the booking's insert waits on
	// the other's: that was a deadlock (40P01, EUnavailable) in some rounds.
	b := capped(t, 100)
	for i := range 25 {
		x, y := fmt.Sprintf("+49 151 7000%04d", i), fmt.Sprintf("+49 151 8000%04d", i)
		g, h := b.at(2+i, 10, 0), b.at(2+i, 14, 0)
		held, err := b.svc.Book(ctx, b.chatReq("anna", g, fmt.Sprintf("g%d", i), fmt.Sprintf("web:gx%d", i), x))
		require.NoError(t, err)
		_, err = b.svc.Book(ctx, b.chatReq("anna", h, fmt.Sprintf("h%d", i), fmt.Sprintf("web:hy%d", i), y))
		require.NoError(t, err)
		b.clock.T = held.HoldExpiresAt.Add(time.Minute)

		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, r := range []booking.BookRequest{
			b.chatReq("anna", h, fmt.Sprintf("sx%d", i), fmt.Sprintf("web:sx%d", i), x),
			b.chatReq("anna", g, fmt.Sprintf("sy%d", i), fmt.Sprintf("web:sy%d", i), y),
		} {
			r.Confirm = true
			wg.Go(func() { _, errs[j] = b.svc.Book(ctx, r) })
		}
		wg.Wait()
		for j, err := range errs {
			require.NoError(t, err, "round %d, booking %d", i, j)
		}
	}
}
