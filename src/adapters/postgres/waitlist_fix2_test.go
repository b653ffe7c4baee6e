package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
	"salonbook/src/core/waitlist"
)

// offerMessage is the state of the outbox row of chat's offer: failed ("" while
// unsent or sent) and the body's not_after.
func (w *wlWorld) offerMessage(t *testing.T, chat string) (failed string, notAfter time.Time) {
	t.Helper()
	var body []byte
	require.NoError(t, w.pool.QueryRow(ctx, `SELECT coalesce(failed, ''), body FROM outbox
		WHERE salon_id = $1 AND channel = 'telegram' AND chat_id = $2 ORDER BY id DESC LIMIT 1`, w.salonID, chat).Scan(&failed, &body))
	var out messaging.Outgoing
	require.NoError(t, json.Unmarshal(body, &out))
	return failed, out.NotAfter
}

// Review 2, A: an offer's message is never sent once the offer ended.
func TestWaitlistOfferMessageEndsWithTheOffer(t *testing.T) {
	t.Parallel()

	t.Run("NotAfterIsTheHoldsExpiry", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		w.free(t, 10)
		require.Equal(t, 1, w.pass(t))
		failed, notAfter := w.offerMessage(t, "1")
		require.Empty(t, failed)
		require.Equal(t, w.offers(t)["telegram:1"].HoldExpiresAt, notAfter)
	})

	t.Run("Leave", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		e := w.joinAs(t, 1, "anna")
		w.free(t, 10)
		require.Equal(t, 1, w.pass(t))
		left, err := w.wl.Leave(ctx, dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "1"}, e)
		require.NoError(t, err)
		require.True(t, left)
		failed, _ := w.offerMessage(t, "1")
		require.Equal(t, "offer ended", failed)
	})

	t.Run("NoThanks", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		w.free(t, 10)
		require.Equal(t, 1, w.pass(t))
		released, err := w.svc.Release(ctx, w.salonID, w.offers(t)["telegram:1"].ID)
		require.NoError(t, err)
		require.True(t, released)
		failed, _ := w.offerMessage(t, "1")
		require.Equal(t, "offer ended", failed)
	})

	t.Run("Lapsed", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		w.free(t, 10)
		require.Equal(t, 1, w.pass(t))
		w.lapse(t)
		failed, _ := w.offerMessage(t, "1")
		require.Equal(t, "offer ended", failed)
	})

	t.Run("LeasedIsStampedThenGivenUp", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		e := w.joinAs(t, 1, "anna")
		w.free(t, 10)
		require.Equal(t, 1, w.pass(t))
		expiry := w.offers(t)["telegram:1"].HoldExpiresAt
		out := pipeline.NewOutbox(w.pool, w.salonID)
		leased, err := out.Due(ctx, "telegram", 0, 10)
		require.NoError(t, err)
		require.Len(t, leased, 1)
		_, err = w.wl.Leave(ctx, dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "1"}, e)
		require.NoError(t, err)
		failed, notAfter := w.offerMessage(t, "1")
		require.Empty(t, failed, "a send under way cannot be stopped")
		require.True(t, notAfter.Before(expiry), "but a send handed back is not retried")
		require.NoError(t, out.Later(ctx, leased[0], time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), false))
		require.Empty(t, w.drain(t, w.clock.Now()))
		failed, _ = w.offerMessage(t, "1")
		require.Equal(t, tooLate, failed)
	})

	t.Run("SenderPastTheExpiry", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		w.free(t, 10)
		require.Equal(t, 1, w.pass(t))
		expiry := w.offers(t)["telegram:1"].HoldExpiresAt
		require.Empty(t, w.drain(t, expiry), "the offer ended: not sent")
		failed, _ := w.offerMessage(t, "1")
		require.Equal(t, tooLate, failed)
	})
}

const tooLate = "too late: past its not-after time"

// sendRecorder is a transport that sends everything at once and records it.
type sendRecorder struct {
	mu   sync.Mutex
	sent []messaging.Outgoing
}

func (s *sendRecorder) Send(_ context.Context, o messaging.Outgoing) messaging.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, o)
	return messaging.Result{}
}

// fixedNow tells the time of a fixed clock and waits on the real one.
type fixedNow struct{ *core.FixedClock }

func (fixedNow) After(d time.Duration) <-chan time.Time { return time.After(d) }

// drain runs the real telegram sender at now until nothing of the salon's
// outbox is left to send, and returns what it sent.
func (w *wlWorld) drain(t *testing.T, now time.Time) []messaging.Outgoing {
	t.Helper()
	pool := pgtest.Pool(t)
	rec := &sendRecorder{}
	sender := &messaging.Sender{Channel: "telegram", Outbox: pipeline.NewOutbox(pool, w.salonID), Transport: rec,
		Clock: fixedNow{&core.FixedClock{T: now}}, Log: slog.New(slog.DiscardHandler)}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { sender.Run(sctx); close(done) }()
	require.Eventually(t, func() bool {
		return w.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL`, w.salonID) == 0
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.sent
}

// Review 2, F: a hold lapsed and expired by a booking (not the expiry job)
// wakes the matcher and gives up its offer's message.
func TestWaitlistLazyExpiryWakes(t *testing.T) {
	t.Parallel()

	t.Run("ExpireLapsed", func(t *testing.T) { // the client books something else, with a cap
		t.Parallel()
		w := newWLWorld(t)
		setup := pgtest.Setup(w.salonID)
		setup.Salon.Policy.MaxUpcoming = 3
		_, err := w.store.Apply(ctx, setup)
		require.NoError(t, err)
		w.join(t, 1)
		w.free(t, 10, 12)
		require.Equal(t, 1, w.pass(t))
		offer := w.offers(t)["telegram:1"]
		w.clock.T = offer.HoldExpiresAt
		_, err = w.pool.Exec(ctx, `DELETE FROM waitlist_wakes WHERE salon_id = $1`, w.salonID)
		require.NoError(t, err)
		_, err = w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: "manicure", MasterID: "anna",
			Start: w.at(2, 12, 0), Client: core.Client{Name: "Waiting 1", Phone: "+491520000001"},
			IdempotencyKey: "own-12", Source: "telegram:1"})
		require.NoError(t, err)
		got, err := w.svc.Get(ctx, w.salonID, offer.ID)
		require.NoError(t, err)
		require.Equal(t, core.StatusExpired, got.Status)
		require.Equal(t, 1, w.count(t, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, w.salonID))
		failed, _ := w.offerMessage(t, "1")
		require.Equal(t, "offer ended", failed)
	})

	t.Run("ExpireHolds", func(t *testing.T) { // another client books the lapsed time
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		w.free(t, 10)
		require.Equal(t, 1, w.pass(t))
		offer := w.offers(t)["telegram:1"]
		w.clock.T = offer.HoldExpiresAt
		_, err := w.pool.Exec(ctx, `DELETE FROM waitlist_wakes WHERE salon_id = $1`, w.salonID)
		require.NoError(t, err)
		_, err = w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: "manicure", MasterID: "anna",
			Start: w.at(2, 10, 0), Client: core.Client{Name: "Other", Phone: "+491530000099"},
			IdempotencyKey: "other-10", Source: booking.OwnerSource, Confirm: true})
		require.NoError(t, err)
		got, err := w.svc.Get(ctx, w.salonID, offer.ID)
		require.NoError(t, err)
		require.Equal(t, core.StatusExpired, got.Status)
		require.Equal(t, 1, w.count(t, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, w.salonID))
		failed, _ := w.offerMessage(t, "1")
		require.Equal(t, "offer ended", failed)
	})
}

// Review 2, B: a client who moves their own booking into a day they wait for
// is no longer waiting.
func TestWaitlistMovingIntoTheDayEndsTheEntry(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	w.join(t, 1)
	mine, err := w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: "manicure", MasterID: "anna",
		Start: w.at(3, 10, 0), Client: core.Client{Name: "Waiting 1", Phone: "+491520000001"},
		IdempotencyKey: "mine", Source: "telegram:1", Confirm: true})
	require.NoError(t, err)
	w.free(t, 10, 12)
	_, err = w.svc.Reschedule(ctx, w.salonID, mine.ID, w.at(2, 10, 0))
	require.NoError(t, err)
	require.Equal(t, 0, w.count(t, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, w.salonID), "the entry is answered")
	require.Equal(t, 0, w.pass(t), "no second time for chat 1")
}

// Review 2, C: an entry that declined an offer goes to the back of the line
// as it was then, not behind everyone who joins later.
func TestWaitlistDeclinedEntryIsNotStarved(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	w.join(t, 1)
	w.free(t, 10)
	require.Equal(t, 1, w.pass(t))
	released, err := w.svc.Release(ctx, w.salonID, w.offers(t)["telegram:1"].ID) // "No, thanks"
	require.NoError(t, err)
	require.True(t, released)
	for n := 2; n <= 9; n++ {
		w.join(t, n)
	}
	w.free(t, 12)
	require.Equal(t, 2, w.pass(t))
	require.Equal(t, map[string]time.Time{"telegram:1": w.at(2, 12, 0), "telegram:2": w.at(2, 10, 0)}, w.starts(t),
		"entry 1 (not 10:00 again) before those who joined after its decline")
}

// Review 2, D: a time an entry let lapse is offered to it again after the
// cooldown, when no entry never offered it wants it; a declined one never.
func TestWaitlistLapsedTimesComeBack(t *testing.T) {
	t.Parallel()
	cooldown := waitlist.LapsedCooldown * core.DefaultWaitlistOffer

	t.Run("LapsedAfterTheCooldown", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		w.free(t, 10)
		require.Equal(t, 1, w.pass(t))
		first := w.offers(t)["telegram:1"]
		w.lapse(t)
		require.Equal(t, 0, w.pass(t), "within the cooldown")
		w.clock.T = first.HoldExpiresAt.Add(cooldown)
		require.Equal(t, 1, w.pass(t), "the only candidate gets it again")
		again := w.offers(t)["telegram:1"]
		require.NotEqual(t, first.ID, again.ID, "a new hold, not the expired one by its key")
		require.Equal(t, w.at(2, 10, 0), again.Start)
	})

	t.Run("AfterThoseNeverOfferedIt", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		w.free(t, 10)
		require.Equal(t, 1, w.pass(t))
		first := w.offers(t)["telegram:1"]
		w.lapse(t)
		w.clock.T = first.HoldExpiresAt.Add(cooldown)
		w.join(t, 2)
		require.Equal(t, 1, w.pass(t))
		require.Equal(t, map[string]time.Time{"telegram:2": w.at(2, 10, 0)}, w.starts(t))
	})

	t.Run("DeclinedNever", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		w.free(t, 10)
		require.Equal(t, 1, w.pass(t))
		released, err := w.svc.Release(ctx, w.salonID, w.offers(t)["telegram:1"].ID)
		require.NoError(t, err)
		require.True(t, released)
		w.clock.T = w.clock.T.Add(10 * cooldown)
		require.Equal(t, 0, w.pass(t))
	})
}

// Review 2, E: the offer says how long its hold really stands (capped at the
// start), and a start too near for an answer is not offered.
func TestWaitlistOfferSaysTheRealHold(t *testing.T) {
	t.Parallel()

	t.Run("CappedAtTheStart", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		setup := pgtest.Setup(w.salonID)
		setup.Salon.Policy.MinNotice = 0
		_, err := w.store.Apply(ctx, setup)
		require.NoError(t, err)
		w.join(t, 1)
		w.free(t, 10)
		w.clock.T = w.at(2, 9, 50)
		require.Equal(t, 1, w.pass(t))
		require.Equal(t, 1, w.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND body::text LIKE '%for 10 minutes%'`, w.salonID),
			"10 minutes to the start, not 15")
	})

	t.Run("TooNear", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		setup := pgtest.Setup(w.salonID)
		setup.Salon.Policy.MinNotice = 0
		_, err := w.store.Apply(ctx, setup)
		require.NoError(t, err)
		w.join(t, 1)
		w.free(t, 10)
		w.clock.T = w.at(2, 9, 58).Add(30 * time.Second)
		require.Equal(t, 0, w.pass(t), "90 seconds to answer is none")
	})
}

// Review 2, H: the matcher's lock connection has keepalives, so a dead
// matcher's lock goes within about half a minute.
func TestWaitlistMatcherLockKeepalives(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	ran, err := w.wl.Matching(ctx, w.salonID, func(bool) error { return nil })
	require.NoError(t, err)
	require.True(t, ran)
	require.Equal(t, "10", w.wl.LockSetting("tcp_keepalives_idle"))
	require.Equal(t, "25000", w.wl.LockSetting("tcp_user_timeout"))
}

// tableScans lists the scans of tables under n with the rows each read.
func tableScans(n scanNode, out map[string]float64) {
	if n.Relation != "" && n.Type != "ModifyTable" {
		out[n.Relation+": "+n.Type+" "+n.Index] += (n.Rows + n.Filtered + n.Recheck) * n.Loops
	}
	for _, c := range n.Plans {
		tableScans(c, out)
	}
}

// Review 2, I: the wait-list statements of every offer and every chat booking
// read the rows they are about, not the salon's, with no statistics and
// generic plans.
func TestWaitlistChangePlansReadOnlyTheirRows(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	_, salonID := pgtest.Salon(t)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	pg := conn.Hijack()
	defer func() { _ = pg.Close(ctx) }()
	schema := fmt.Sprintf("wl_plans_%d", time.Now().UnixNano())
	for _, q := range []string{
		`CREATE SCHEMA ` + schema,
		`CREATE TABLE ` + schema + `.bookings (LIKE public.bookings INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`CREATE TABLE ` + schema + `.waitlist (LIKE public.waitlist INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`CREATE TABLE ` + schema + `.waitlist_offers (LIKE public.waitlist_offers INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`CREATE TABLE ` + schema + `.waitlist_wakes (LIKE public.waitlist_wakes INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`CREATE TABLE ` + schema + `.outbox (LIKE public.outbox INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`SET search_path = ` + schema + `, public`,
		`SET plan_cache_mode = force_generic_plan`,
		// 20,000 messages unsent, each an offer's;
		`INSERT INTO outbox (salon_id, channel, chat_id, body) SELECT '` + salonID + `', 'telegram', g::text, '{}' FROM generate_series(1, 20000) g`,
		// 50,000 bookings of one salon, three of them holds (two lapsed);
		// 20,000 entries of 20,000 chats, each offered a time before.
		`INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
		                       hold_expires_at, price_minor, currency, idempotency_key, source)
		 SELECT '` + salonID + `', 'm' || (g % 20), 'cut', g, s, s + interval '15 minutes',
		        tstzrange(s, s + interval '15 minutes'), 'confirmed', NULL, 1000, 'EUR', 'k' || g, 'telegram:' || g
		 FROM generate_series(1, 50000) g, LATERAL (SELECT '2026-06-01Z'::timestamptz + g * interval '20 minutes' AS s) x`,
		`UPDATE bookings SET status = 'held', hold_expires_at = '2027-06-01Z'::timestamptz + (idempotency_key = 'k49999')::int * interval '1 hour'
		 WHERE idempotency_key IN ('k45000', 'k45001', 'k49999')`,
		`INSERT INTO waitlist (salon_id, channel, chat_id, service_id, master_id, day, client_id)
		 SELECT '` + salonID + `', 'telegram', g::text, 'cut', 'm' || (g % 20), '2027-06-01', g FROM generate_series(1, 20000) g`,
		`INSERT INTO waitlist_offers (booking_id, salon_id, entry_id, starts_at, ends_at, outbox_id)
		 SELECT b.booking_id, b.salon_id, g, b.starts_at, b.ends_at, g FROM generate_series(1, 20000) g JOIN bookings b ON b.idempotency_key = 'k' || g`,
		`INSERT INTO waitlist_offers (booking_id, salon_id, entry_id, starts_at, ends_at)
		 SELECT booking_id, salon_id, 20000, starts_at, ends_at FROM bookings WHERE status = 'held'`,
	} {
		_, err := pg.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	var offer string
	require.NoError(t, pg.QueryRow(ctx, `SELECT booking_id::text FROM bookings WHERE idempotency_key = 'k49999'`).Scan(&offer))
	now := "2027-06-01 00:05:00Z"
	for _, st := range []struct{ name, sql, args string }{
		{"offer_live", postgres.OfferLiveSQL, fmt.Sprintf(`'%s', 7, '%s', '%s'`, salonID, now, offer)},
		{"answered", postgres.AnsweredSQL, fmt.Sprintf(`'%s', '%s', 'telegram', '7', 'cut', '2027-06-01 10:00Z', 'm7', 'any'`, salonID, offer)},
		{"answered_offers", postgres.AnsweredOffersSQL, fmt.Sprintf(`'%s', '%s', 'telegram', '7', 'cut', '2027-06-01 10:00Z', 'm7', 'any'`, salonID, offer)},
		{"end_entries", postgres.EndEntriesSQL, fmt.Sprintf(`'%s', '{7,20000}', '', 'chat'`, salonID)},
	} {
		t.Run(st.name, func(t *testing.T) {
			_, err := pg.Exec(ctx, `PREPARE `+st.name+` AS `+st.sql)
			require.NoError(t, err)
			tx, err := pg.Begin(ctx)
			require.NoError(t, err)
			defer func() { _ = tx.Rollback(ctx) }()
			var raw []byte
			require.NoError(t, tx.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE `+st.name+`(`+st.args+`)`).Scan(&raw))
			var plans []struct {
				Plan scanNode `json:"Plan"`
			}
			require.NoError(t, json.Unmarshal(raw, &plans))
			read := map[string]float64{}
			tableScans(plans[0].Plan, read)
			require.NotEmpty(t, read)
			for scan, rows := range read {
				require.LessOrEqual(t, rows, 10.0, "%s read more than its rows: %s", scan, raw)
			}
		})
	}
}

// waitBlockedBy waits until a session waits on a lock the session pid holds.
func (w *wlWorld) waitBlockedBy(t *testing.T, pid int) {
	t.Helper()
	require.Eventually(t, func() bool {
		return w.count(t, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND $1 = ANY (pg_blocking_pids(pid))`, pid) > 0
	}, 10*time.Second, 5*time.Millisecond)
}

// Review 2, J: Leave locks the entry's held offers before the entry, as a
// Confirm of one does (its booking, then the entry): the two never deadlock.
func TestWaitlistLeaveLocksLikeConfirm(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	e := w.joinAs(t, 1, "anna")
	w.free(t, 10)
	require.Equal(t, 1, w.pass(t))
	offer := w.offers(t)["telegram:1"]
	confirm, err := w.pool.Begin(ctx) // a Confirm: the booking, then the entry
	require.NoError(t, err)
	defer func() { _ = confirm.Rollback(ctx) }()
	_, err = confirm.Exec(ctx, `SELECT 1 FROM bookings WHERE booking_id = $1::uuid FOR UPDATE`, offer.ID)
	require.NoError(t, err)
	var pid int
	require.NoError(t, confirm.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	left := make(chan error, 1)
	go func() {
		_, err := w.wl.Leave(ctx, dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "1"}, e)
		left <- err
	}()
	w.waitBlockedBy(t, pid)
	_, err = confirm.Exec(ctx, `SET LOCAL lock_timeout = '5s'`)
	require.NoError(t, err)
	_, err = confirm.Exec(ctx, `SELECT 1 FROM waitlist WHERE id = $1 FOR UPDATE`, e)
	require.NoError(t, err, "Leave holds no lock on the entry while it waits for the booking")
	require.NoError(t, confirm.Commit(ctx))
	require.NoError(t, <-left)
}

// Review 2, J: an offer takes its client's lock, so two chats of one client
// (no cap: no client row lock) never both get an offer.
func TestWaitlistOfferLocksTheClient(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	w.join(t, 1)
	w.free(t, 10)
	var client int64
	require.NoError(t, w.pool.QueryRow(ctx, `SELECT client_id FROM waitlist WHERE salon_id = $1`, w.salonID).Scan(&client))
	tx, err := w.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('salonbook.waitlist.client/' || $1 || '/' || $2::bigint, 0))`, w.salonID, client)
	require.NoError(t, err)
	var pid int
	require.NoError(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	done := make(chan int, 1)
	go func() { n, _ := w.matcher.Pass(ctx); done <- n }()
	w.waitBlockedBy(t, pid)
	require.NoError(t, tx.Commit(ctx))
	require.Equal(t, 1, <-done)
}
