package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/waitlist"
)

// wlWorld is a salon whose Anna is fully booked with manicures on Tuesday 2
// March (09:00–18:00, one an hour), with the wait-list wired as serve wires it.
type wlWorld struct {
	*bundle
	wl      *postgres.Waitlist
	pool    *pgxpool.Pool // one pool for the test's own statements (a pool per statement ran out of connections)
	matcher *waitlist.Matcher
	fills   map[int]string // hour → booking id
}

func newWLWorld(t *testing.T) *wlWorld {
	t.Helper()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	w := &wlWorld{bundle: b, wl: postgres.NewWaitlist(pool), pool: pool, fills: map[int]string{}}
	t.Cleanup(w.wl.Close)
	cat, err := i18n.Load()
	require.NoError(t, err)
	b.store.FollowChanges(w.wl.Record)
	b.store.FollowOffers(pipeline.NewOffers(func(s *core.Salon, o dialog.Offer) dialog.Reply { return dialog.OfferReply(cat, s, o) },
		b.clock, slog.New(slog.NewTextHandler(io.Discard, nil))).Record)
	w.matcher = &waitlist.Matcher{SalonID: b.salonID, Store: w.wl, Bookings: b.svc, Clock: b.clock, Channels: []string{"telegram"}}
	for h := 9; h < 19; h++ {
		bk, err := b.svc.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "manicure", MasterID: "anna",
			Start: b.at(2, h, 0), Client: core.Client{Name: "Filler", Phone: fmt.Sprintf("+4915100001%02d", h)},
			IdempotencyKey: fmt.Sprintf("fill-%d", h), Confirm: true, Source: booking.OwnerSource})
		require.NoError(t, err)
		w.fills[h] = bk.ID
	}
	return w
}

// join puts chat n on the wait-list for Anna's manicures on 2 March.
func (w *wlWorld) join(t *testing.T, n int) {
	t.Helper()
	require.NoError(t, w.wl.Join(ctx, dialog.WaitlistEntry{
		Key:       dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: fmt.Sprint(n)},
		ServiceID: "manicure", MasterID: "anna", Day: core.Date{Year: 2027, Month: 3, Day: 2},
		Client: core.Client{Name: fmt.Sprint("Waiting ", n), Phone: fmt.Sprintf("+4915200000%02d", n)}, Lang: "en",
	}))
}

func (w *wlWorld) pass(t *testing.T) int {
	t.Helper()
	n, err := w.matcher.Pass(ctx)
	require.NoError(t, err)
	return n
}

// offers returns the live offer holds, by chat.
func (w *wlWorld) offers(t *testing.T) map[string]core.Booking {
	t.Helper()
	rows, err := w.pool.Query(ctx, `SELECT b.booking_id::text FROM waitlist_offers o JOIN bookings b USING (booking_id)
		WHERE o.salon_id = $1 AND b.status = 'held' AND b.hold_expires_at > $2`, w.salonID, w.clock.Now())
	require.NoError(t, err)
	var ids []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	out := map[string]core.Booking{}
	for _, id := range ids {
		bk, err := w.svc.Get(ctx, w.salonID, id)
		require.NoError(t, err)
		out[bk.Source] = *bk
	}
	return out
}

func (w *wlWorld) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, w.pool.QueryRow(ctx, q, args...).Scan(&n))
	return n
}

func TestWaitlistOffers(t *testing.T) {
	t.Parallel()

	t.Run("FiveWaitingACancelThenTheOfferLapses", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		for n := 1; n <= 5; n++ {
			w.join(t, n)
		}
		require.Equal(t, 0, w.pass(t), "nothing is free")
		_, err := w.svc.Cancel(ctx, w.salonID, w.fills[10])
		require.NoError(t, err)
		require.Equal(t, 1, w.count(t, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, w.salonID), "the cancel woke the matcher")

		require.Equal(t, 1, w.pass(t))
		offers := w.offers(t)
		require.Len(t, offers, 1)
		first, ok := offers["telegram:1"]
		require.True(t, ok, "the oldest entry gets it: %v", offers)
		require.Equal(t, w.at(2, 10, 0), first.Start)
		require.Equal(t, w.clock.Now().Add(core.DefaultWaitlistOffer), first.HoldExpiresAt)
		require.Equal(t, 1, w.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND channel = 'telegram' AND chat_id = '1'
			AND body::text LIKE '%wy:' || $2 || '%' AND body::text LIKE '%Tuesday, 2 March at 10:00%'`, w.salonID, first.ID), "the client is told, in the same transaction")

		// Nobody else can take the held time.
		_, err = w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: "manicure", MasterID: "anna", Start: w.at(2, 10, 0),
			Client: core.Client{Name: "Eve", Phone: "+491519999999"}, IdempotencyKey: "eve", Source: "telegram:eve"})
		require.Equal(t, "booking.slot_taken", core.ErrorKey(err))
		require.Equal(t, 0, w.pass(t), "a second pass offers nothing: the offer stands")

		// The offer lapses: the expiry job frees it and the second entry gets it.
		w.clock.T = w.clock.T.Add(core.DefaultWaitlistOffer)
		n, err := w.wl.ExpireDue(ctx, w.salonID, w.clock.Now())
		require.NoError(t, err)
		require.Equal(t, int64(1), n)
		require.Equal(t, 1, w.pass(t))
		offers = w.offers(t)
		second, ok := offers["telegram:2"]
		require.True(t, ok, "passed on to the second: %v", offers)
		require.Equal(t, w.at(2, 10, 0), second.Start)
	})

	t.Run("BookItBooksAndEndsTheEntry", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		w.join(t, 2)
		_, err := w.svc.Cancel(ctx, w.salonID, w.fills[12])
		require.NoError(t, err)
		require.Equal(t, 1, w.pass(t))
		b, err := w.svc.Confirm(ctx, w.salonID, w.offers(t)["telegram:1"].ID)
		require.NoError(t, err)
		require.Equal(t, core.StatusConfirmed, b.Status)
		require.Equal(t, 1, w.count(t, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, w.salonID), "the entry that booked is gone")
		require.Equal(t, 0, w.pass(t), "the time is booked: nothing to pass on")
	})

	t.Run("NoPassesItOn", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		w.join(t, 2)
		_, err := w.svc.Cancel(ctx, w.salonID, w.fills[12])
		require.NoError(t, err)
		require.Equal(t, 1, w.pass(t))
		released, err := w.svc.Release(ctx, w.salonID, w.offers(t)["telegram:1"].ID)
		require.NoError(t, err)
		require.True(t, released)
		require.Equal(t, 1, w.pass(t))
		offers := w.offers(t)
		require.Contains(t, offers, "telegram:2")
		require.NotContains(t, offers, "telegram:1", "the entry that declined 12:00 is not offered it again")
		require.Equal(t, 2, w.count(t, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, w.salonID), "declining keeps the entry")
	})

	t.Run("TwoFreedTimesGoToTwoClients", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		for n := 1; n <= 3; n++ {
			w.join(t, n)
		}
		for _, h := range []int{10, 15} {
			_, err := w.svc.Cancel(ctx, w.salonID, w.fills[h])
			require.NoError(t, err)
		}
		require.Equal(t, 2, w.pass(t))
		offers := w.offers(t)
		require.Len(t, offers, 2)
		require.Equal(t, w.at(2, 10, 0), offers["telegram:1"].Start)
		require.Equal(t, w.at(2, 15, 0), offers["telegram:2"].Start)
	})

	t.Run("AnOfferKeepsTheChatsHoldAndAHoldKeepsTheOffer", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		flow, err := w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: "haircut", MasterID: "boris", Start: w.at(3, 10, 0),
			Client: core.Client{Name: "Waiting 1", Phone: "+491520000001"}, IdempotencyKey: "flow-1", Source: "telegram:1"})
		require.NoError(t, err)
		_, err = w.svc.Cancel(ctx, w.salonID, w.fills[10])
		require.NoError(t, err)
		require.Equal(t, 1, w.pass(t))
		got, err := w.svc.Get(ctx, w.salonID, flow.ID)
		require.NoError(t, err)
		require.Equal(t, core.StatusHeld, got.Status, "the offer did not release the chat's own hold")
		// The chat's next hold releases its flow's hold, not the offer.
		_, err = w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: "haircut", MasterID: "boris", Start: w.at(3, 12, 0),
			Client: core.Client{Name: "Waiting 1", Phone: "+491520000001"}, IdempotencyKey: "flow-2", Source: "telegram:1"})
		require.NoError(t, err)
		require.Contains(t, w.offers(t), "telegram:1")
	})

	t.Run("AReplayedOfferHoldsNothingTwice", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		_, err := w.svc.Cancel(ctx, w.salonID, w.fills[10])
		require.NoError(t, err)
		require.Equal(t, 1, w.pass(t))
		offer := w.offers(t)["telegram:1"]
		var entry int64
		require.NoError(t, w.pool.QueryRow(ctx, `SELECT entry_id FROM waitlist_offers WHERE booking_id = $1::uuid`, offer.ID).Scan(&entry))
		again, err := w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: "manicure", MasterID: "anna", Start: offer.Start,
			Client: core.Client{Name: "Waiting 1", Phone: "+491520000001"}, IdempotencyKey: waitlist.Key(entry, offer.Start, 0),
			Source: "telegram:1", Offer: entry})
		require.NoError(t, err)
		require.Equal(t, offer.ID, again.ID)
		require.Equal(t, 1, w.count(t, `SELECT count(*) FROM waitlist_offers WHERE salon_id = $1`, w.salonID))
		require.Equal(t, 1, w.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1`, w.salonID), "one message")
	})

	t.Run("ATimeFreedDuringAPassGoesToTheOldestEntry", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1) // Anna's manicures on 2 March: full
		require.NoError(t, w.wl.Join(ctx, dialog.WaitlistEntry{
			Key:       dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "2"},
			ServiceID: "haircut", MasterID: "boris", Day: core.Date{Year: 2027, Month: 3, Day: 2},
			Client: core.Client{Name: "Waiting 2", Phone: "+491520000002"}, Lang: "en",
		}))
		w.join(t, 3) // Anna's manicures again, younger than 1
		// Anna's 10:00 frees while the pass offers Boris's time to chat 2:
		// after chat 1 was looked at, before chat 3 is.
		w.matcher.Bookings = freeing{Service: w.svc, after: func(req booking.BookRequest) {
			if req.Source == "telegram:2" {
				_, err := w.svc.Cancel(ctx, w.salonID, w.fills[10])
				require.NoError(t, err)
			}
		}}
		require.Equal(t, 1, w.pass(t), "Boris's time only")
		offers := w.offers(t)
		require.NotContains(t, offers, "telegram:3", "the younger entry does not get the time the older one fits")
		require.Equal(t, 1, w.pass(t), "the next pass (the cancel woke it) offers 10:00")
		offers = w.offers(t)
		require.Contains(t, offers, "telegram:1", "the oldest entry that fits gets it: %v", offers)
		require.Equal(t, w.at(2, 10, 0), offers["telegram:1"].Start)
		require.NotContains(t, offers, "telegram:3")
	})

	t.Run("AnAnyMasterEntryOlderThanAMastersOwnGetsTheTime", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		require.NoError(t, w.wl.Join(ctx, dialog.WaitlistEntry{
			Key:       dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "1"},
			ServiceID: "manicure", MasterID: booking.AnyMaster, Day: core.Date{Year: 2027, Month: 3, Day: 2},
			Client: core.Client{Name: "Waiting 1", Phone: "+491520000001"}, Lang: "en",
		}))
		w.join(t, 2) // Anna's own, younger
		w.join(t, 3)
		_, err := w.svc.Cancel(ctx, w.salonID, w.fills[11])
		require.NoError(t, err)
		require.Equal(t, 1, w.pass(t))
		offers := w.offers(t)
		require.Contains(t, offers, "telegram:1", "any master, oldest: %v", offers)
		require.Equal(t, w.at(2, 11, 0), offers["telegram:1"].Start)
	})

	t.Run("AnOfferTakesItsMastersOverlappingStartsOnly", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1) // manicure
		require.NoError(t, w.wl.Join(ctx, dialog.WaitlistEntry{
			Key:       dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "2"},
			ServiceID: "haircut", MasterID: "anna", Day: core.Date{Year: 2027, Month: 3, Day: 2},
			Client: core.Client{Name: "Waiting 2", Phone: "+491520000002"}, Lang: "en",
		}))
		w.join(t, 3) // manicure
		for _, h := range []int{10, 11} {
			_, err := w.svc.Cancel(ctx, w.salonID, w.fills[h])
			require.NoError(t, err)
		}
		var books int
		w.matcher.Bookings = freeing{Service: w.svc, calls: &books, after: func(booking.BookRequest) {}}
		// 10:00-12:00 is free: chat 1's manicure takes 10:00, which leaves
		// Anna's haircuts from 11:00 (45 min + 15 after) and nothing for chat 3.
		require.Equal(t, 2, w.pass(t))
		offers := w.offers(t)
		require.Equal(t, w.at(2, 10, 0), offers["telegram:1"].Start)
		require.Equal(t, w.at(2, 11, 0), offers["telegram:2"].Start)
		require.Equal(t, "haircut", offers["telegram:2"].ServiceID)
		require.NotContains(t, offers, "telegram:3")
		require.Equal(t, 2, books, "no start the first offer made busy was tried")
	})

	t.Run("PastDaysAreDropped", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		w.clock.T = w.clock.T.Add(48 * time.Hour) // Wednesday
		require.Equal(t, 0, w.pass(t))
		require.Equal(t, 0, w.count(t, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, w.salonID))
	})

	t.Run("ExpiringWhileBookItIsPressedEndsInOneState", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		outcomes := map[bool]int{}
		defer func() { t.Logf("confirmed first: %d, expired first: %d", outcomes[true], outcomes[false]) }()
		for round := 0; round < 20; round++ {
			n := 10 + round
			w.join(t, n)
			h := 9 + round%10
			_, err := w.svc.Cancel(ctx, w.salonID, w.fills[h])
			require.NoError(t, err)
			require.Equal(t, 1, w.pass(t), "round %d", round)
			offer := w.offers(t)[fmt.Sprint("telegram:", n)]
			require.NotEmpty(t, offer.ID, "round %d", round)
			// The client presses a second before the expiry; the job runs at it.
			pressed := booking.New(w.store, &core.FixedClock{T: offer.HoldExpiresAt.Add(-time.Second)})
			var wg sync.WaitGroup
			var confirmErr, expireErr error
			var expired int64
			wg.Add(2)
			go func() { defer wg.Done(); _, confirmErr = pressed.Confirm(ctx, w.salonID, offer.ID) }()
			go func() { defer wg.Done(); expired, expireErr = w.wl.ExpireDue(ctx, w.salonID, offer.HoldExpiresAt) }()
			wg.Wait()
			require.NoError(t, expireErr)
			got, err := w.svc.Get(ctx, w.salonID, offer.ID)
			require.NoError(t, err)
			entries := w.count(t, `SELECT count(*) FROM waitlist WHERE salon_id = $1 AND chat_id = $2`, w.salonID, fmt.Sprint(n))
			outcomes[confirmErr == nil]++
			if confirmErr == nil {
				require.Equal(t, core.StatusConfirmed, got.Status, "round %d", round)
				require.Equal(t, 0, entries, "booked: the entry is gone")
				w.fills[h] = offer.ID
			} else {
				require.Equal(t, "booking.hold_expired", core.ErrorKey(confirmErr), "round %d", round)
				require.Equal(t, core.StatusExpired, got.Status)
				require.Equal(t, 1, entries, "not booked: the entry waits")
				require.Positive(t, expired)
				// Leave the entry's day full again for the next round.
				_, err := w.pool.Exec(ctx, `DELETE FROM waitlist WHERE salon_id = $1 AND chat_id = $2`, w.salonID, fmt.Sprint(n))
				require.NoError(t, err)
				bk, err := w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: "manicure", MasterID: "anna", Start: offer.Start,
					Client: core.Client{Name: "Filler", Phone: "+491510000200"}, IdempotencyKey: fmt.Sprint("refill-", round),
					Confirm: true, Source: booking.OwnerSource})
				require.NoError(t, err)
				w.fills[h] = bk.ID
			}
			require.Equal(t, 1, w.count(t, `SELECT count(*) FROM bookings WHERE salon_id = $1 AND master_id = 'anna'
				AND starts_at = $2 AND status IN ('held', 'confirmed')`, w.salonID, offer.Start), "round %d: one live booking", round)
		}
	})
}

func TestExpiryJob(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	wl := postgres.NewWaitlist(pgtest.Pool(t))
	hold, err := b.svc.Book(ctx, b.req("anna", b.at(2, 10, 0), "exp-1"))
	require.NoError(t, err)
	next, ok, err := wl.NextExpiry(ctx, b.salonID)
	require.NoError(t, err)
	require.True(t, ok)
	require.False(t, next.After(hold.HoldExpiresAt), "the job wakes by the hold's expiry")

	n, err := wl.ExpireDue(ctx, b.salonID, hold.HoldExpiresAt.Add(-time.Second))
	require.NoError(t, err)
	got, err := b.svc.Get(ctx, b.salonID, hold.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusHeld, got.Status, "not before its time (%d others expired)", n)

	_, err = wl.ExpireDue(ctx, b.salonID, hold.HoldExpiresAt)
	require.NoError(t, err)
	got, err = b.svc.Get(ctx, b.salonID, hold.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusExpired, got.Status, "expired when it lapses, not when someone books over it")
	var wakes int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, b.salonID).Scan(&wakes))
	require.Equal(t, 1, wakes, "the expiry wakes the wait-list")
}

// freeing is the booking use cases with something happening right after each
// successful Book (another client's change in the middle of a matcher pass),
// and the Book calls counted.
type freeing struct {
	*booking.Service
	after func(booking.BookRequest)
	calls *int // when set, counts the Book calls
}

func (f freeing) Book(ctx context.Context, req booking.BookRequest) (*core.Booking, error) {
	if f.calls != nil {
		*f.calls++
	}
	b, err := f.Service.Book(ctx, req)
	if err == nil {
		f.after(req)
	}
	return b, err
}

// TestWaitingReadsTheLiveOffersOnce: under a generic plan, Waiting reads the
// salon's bookings once, not once per waiting entry (inlined, its "live"
// offers were read per entry: 1 s a pass for 2,743 entries in loadtest
// waitlist).
func TestWaitingReadsTheLiveOffersOnce(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	for n := 1; n <= 6; n++ {
		w.join(t, n)
	}
	conn, err := pgtest.Pool(t).Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`)
	require.NoError(t, err)
	name := fmt.Sprintf("waiting_%d", time.Now().UnixNano())
	_, err = tx.Exec(ctx, `PREPARE `+name+` AS `+postgres.WaitingSQL)
	require.NoError(t, err)
	var raw []byte
	require.Regexp(t, `^[a-z0-9_]+$`, w.salonID) // safe as a literal: EXPLAIN EXECUTE takes no parameters
	require.NoError(t, tx.QueryRow(ctx, fmt.Sprintf(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE %s('%s', '2027-03-01', '%s', '{telegram}')`,
		name, w.salonID, w.clock.Now().Format(time.RFC3339))).Scan(&raw))
	var plan []struct{ Plan map[string]any }
	require.NoError(t, json.Unmarshal(raw, &plan))
	var walk func(n map[string]any)
	scans := 0
	walk = func(n map[string]any) {
		if n["Relation Name"] == "bookings" {
			scans++
			require.LessOrEqual(t, n["Actual Loops"], float64(1), "bookings read per entry: %s", raw)
		}
		if kids, ok := n["Plans"].([]any); ok {
			for _, k := range kids {
				walk(k.(map[string]any))
			}
		}
	}
	walk(plan[0].Plan)
	require.Positive(t, scans)
}
