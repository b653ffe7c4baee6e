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

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
)

// joinAs puts chat n on the wait-list for manicures on 2 March with master.
func (w *wlWorld) joinAs(t *testing.T, n int, master string) int64 {
	t.Helper()
	require.NoError(t, w.wl.Join(ctx, dialog.WaitlistEntry{
		Key:       dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: fmt.Sprint(n)},
		ServiceID: "manicure", MasterID: master, Day: core.Date{Year: 2027, Month: 3, Day: 2},
		Client: core.Client{Name: fmt.Sprint("Waiting ", n), Phone: fmt.Sprintf("+4915200000%02d", n)}, Lang: "en",
	}))
	var id int64
	require.NoError(t, w.pool.QueryRow(ctx, `SELECT id FROM waitlist WHERE salon_id = $1 AND chat_id = $2 AND master_id = $3`,
		w.salonID, fmt.Sprint(n), master).Scan(&id))
	return id
}

func (w *wlWorld) free(t *testing.T, hours ...int) {
	t.Helper()
	for _, h := range hours {
		_, err := w.svc.Cancel(ctx, w.salonID, w.fills[h])
		require.NoError(t, err)
	}
}

// lapse lets every offer lapse and marks it expired, as the expiry job does.
func (w *wlWorld) lapse(t *testing.T) {
	t.Helper()
	w.clock.T = w.clock.T.Add(core.DefaultWaitlistOffer)
	_, err := w.wl.ExpireDue(ctx, w.salonID, w.clock.Now())
	require.NoError(t, err)
}

// starts returns the live offers' starts by chat.
func (w *wlWorld) starts(t *testing.T) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	for chat, b := range w.offers(t) {
		out[chat] = b.Start
	}
	return out
}

// orphans counts held offer bookings with no offer row (an offer whose entry
// went while it was made).
func (w *wlWorld) orphans(t *testing.T) int {
	t.Helper()
	return w.count(t, `SELECT count(*) FROM bookings b WHERE b.salon_id = $1 AND b.status = 'held'
		AND b.idempotency_key LIKE $2 || '%' AND NOT EXISTS (SELECT 1 FROM waitlist_offers o WHERE o.booking_id = b.booking_id)`,
		w.salonID, booking.OfferKeyPrefix)
}

func TestWaitlistFairness(t *testing.T) {
	t.Parallel()

	// Finding 1: who let an offer lapse comes after those never offered, and is
	// not offered the same hour again at the next grid start.
	t.Run("LapsedOffersGoToTheNextEntriesAtTheSameStarts", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		for n := 1; n <= 6; n++ {
			w.join(t, n)
		}
		w.free(t, 10, 12, 15)
		require.Equal(t, 3, w.pass(t))
		require.Equal(t, map[string]time.Time{"telegram:1": w.at(2, 10, 0), "telegram:2": w.at(2, 12, 0), "telegram:3": w.at(2, 15, 0)}, w.starts(t))
		w.lapse(t)
		require.Equal(t, 3, w.pass(t))
		require.Equal(t, map[string]time.Time{"telegram:4": w.at(2, 10, 0), "telegram:5": w.at(2, 12, 0), "telegram:6": w.at(2, 15, 0)}, w.starts(t),
			"round 2 goes to those never offered")
	})

	t.Run("NoOverlapWithATimeOfferedBefore", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		w.free(t, 10, 11) // 10:00–12:00 free: an hour fits at 10:00, 10:15 … 11:00
		require.Equal(t, 1, w.pass(t))
		require.Equal(t, w.at(2, 10, 0), w.starts(t)["telegram:1"])
		w.lapse(t)
		require.Equal(t, 1, w.pass(t))
		require.Equal(t, w.at(2, 11, 0), w.starts(t)["telegram:1"], "not 10:15: it overlaps the 10:00 offered before")
		w.lapse(t)
		require.Equal(t, 0, w.pass(t), "every start overlaps an offered hour")
	})
}

// Finding 2: one live offer per chat (and per client).
func TestWaitlistOneOfferPerChat(t *testing.T) {
	t.Parallel()

	t.Run("TwoEntriesOfOneChatGetOneOffer", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.joinAs(t, 1, "anna")
		w.joinAs(t, 1, booking.AnyMaster)
		w.join(t, 2)
		w.free(t, 10, 12)
		require.Equal(t, 2, w.pass(t))
		require.Equal(t, map[string]time.Time{"telegram:1": w.at(2, 10, 0), "telegram:2": w.at(2, 12, 0)}, w.starts(t))
		require.Equal(t, 2, w.count(t, `SELECT count(*) FROM waitlist_offers WHERE salon_id = $1`, w.salonID), "one each")
	})

	t.Run("OneClientInTwoChatsGetsOneOffer", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.join(t, 1)
		// Chat 7 is the same person (chat 1's phone).
		require.NoError(t, w.wl.Join(ctx, dialog.WaitlistEntry{
			Key:       dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "7"},
			ServiceID: "manicure", MasterID: "anna", Day: core.Date{Year: 2027, Month: 3, Day: 2},
			Client: core.Client{Name: "Waiting 1", Phone: "+491520000001"}, Lang: "en",
		}))
		w.free(t, 10, 12)
		require.Equal(t, 1, w.pass(t))
		require.Contains(t, w.starts(t), "telegram:1")
	})

	t.Run("BookingTheOfferEndsTheChatsOtherEntriesOfTheDay", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.joinAs(t, 1, "anna")
		w.joinAs(t, 1, booking.AnyMaster)
		w.free(t, 10)
		require.Equal(t, 1, w.pass(t))
		_, err := w.svc.Confirm(ctx, w.salonID, w.offers(t)["telegram:1"].ID)
		require.NoError(t, err)
		require.Equal(t, 0, w.count(t, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, w.salonID), "both entries of the day went")
		w.free(t, 12)
		require.Equal(t, 0, w.pass(t))
	})
}

// Finding 7: booking the time oneself ends the chat's entry.
func TestWaitlistBookingItselfEndsTheEntry(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	w.joinAs(t, 1, "anna")
	w.joinAs(t, 1, booking.AnyMaster)
	w.join(t, 2)
	w.free(t, 10)
	// She books 10:00 herself, before any pass.
	hold, err := w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: "manicure", MasterID: "anna", Start: w.at(2, 10, 0),
		Client: core.Client{Name: "Waiting 1", Phone: "+491520000001"}, IdempotencyKey: "self-1", Source: "telegram:1"})
	require.NoError(t, err)
	_, err = w.svc.Confirm(ctx, w.salonID, hold.ID)
	require.NoError(t, err)
	require.Equal(t, 0, w.count(t, `SELECT count(*) FROM waitlist WHERE salon_id = $1 AND chat_id = '1'`, w.salonID), "her entries went")
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM waitlist WHERE salon_id = $1 AND chat_id = '2'`, w.salonID), "not another chat's")
	w.free(t, 12)
	require.Equal(t, 1, w.pass(t))
	require.Equal(t, map[string]time.Time{"telegram:2": w.at(2, 12, 0)}, w.starts(t), "no offer for her")
}

// Finding 9: a chat that blocked the bot gets no offer hold.
func TestWaitlistBlockedChatsGetNoOffer(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	w.join(t, 1)
	w.join(t, 2)
	_, err := w.pool.Exec(ctx, `INSERT INTO channel_chats (salon_id, channel, chat_id, blocked_at) VALUES ($1, 'telegram', '1', $2)`,
		w.salonID, w.clock.Now())
	require.NoError(t, err)
	w.free(t, 10)
	require.Equal(t, 1, w.pass(t))
	require.Equal(t, map[string]time.Time{"telegram:2": w.at(2, 10, 0)}, w.starts(t))
}

// Finding 10: an offer counts toward the client's upcoming bookings; a client
// at the salon's cap is passed over.
func TestWaitlistOffersRespectTheCap(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	setup := pgtest.Setup(w.salonID)
	setup.Salon.Policy.MaxUpcoming = 1
	_, err := w.store.Apply(ctx, setup)
	require.NoError(t, err)
	w.join(t, 1)
	w.join(t, 2)
	_, err = w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: "haircut", MasterID: "boris", Start: w.at(3, 10, 0),
		Client: core.Client{Name: "Waiting 1", Phone: "+491520000001"}, IdempotencyKey: "cap-1", Source: "telegram:1", Confirm: true})
	require.NoError(t, err)
	w.free(t, 10, 12)
	require.Equal(t, 1, w.pass(t))
	require.Equal(t, map[string]time.Time{"telegram:2": w.at(2, 10, 0)}, w.starts(t), "the client at the cap is passed over")
	// Chat 2's offer is its one upcoming booking: its own flow cannot hold another.
	_, err = w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: "haircut", MasterID: "boris", Start: w.at(3, 11, 0),
		Client: core.Client{Name: "Waiting 2", Phone: "+491520000002"}, IdempotencyKey: "cap-2", Source: "telegram:2"})
	require.Equal(t, "booking.too_many", core.ErrorKey(err))
}

// Finding 11: leaving the wait-list during an offer releases the offer's hold
// and passes the time on.
func TestWaitlistLeaveReleasesTheOffer(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	e := w.joinAs(t, 1, "anna")
	w.join(t, 2)
	w.free(t, 10)
	require.Equal(t, 1, w.pass(t))
	offer := w.offers(t)["telegram:1"]
	_, err := w.pool.Exec(ctx, `DELETE FROM waitlist_wakes WHERE salon_id = $1`, w.salonID)
	require.NoError(t, err)
	left, err := w.wl.Leave(ctx, dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "1"}, e)
	require.NoError(t, err)
	require.True(t, left)
	got, err := w.svc.Get(ctx, w.salonID, offer.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusCancelled, got.Status, "the offer's hold is released")
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, w.salonID), "the matcher is woken")
	require.Equal(t, 1, w.pass(t))
	require.Equal(t, map[string]time.Time{"telegram:2": w.at(2, 10, 0)}, w.starts(t))
}

// TestWaitlistLeaveRecordsItsActor: an offer's hold released because its
// client left the wait-list is recorded as the client's doing (the actor on
// the context: the dialog's "chat"), not the system's; with no actor on the
// context it stays "system".
func TestWaitlistLeaveRecordsItsActor(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	e1 := w.joinAs(t, 1, "anna")
	e2 := w.joinAs(t, 2, "anna")
	w.free(t, 10, 12)
	require.Equal(t, 2, w.pass(t))
	offers := w.offers(t)
	require.Len(t, offers, 2)
	actorOf := func(id string) string {
		var a string
		require.NoError(t, w.pool.QueryRow(ctx, `SELECT actor FROM booking_changes WHERE booking_id = $1 AND action = 'released'`, id).Scan(&a))
		return a
	}
	chat := booking.WithActor(ctx, booking.ActorChat)
	left, err := w.wl.Leave(chat, dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "1"}, e1)
	require.NoError(t, err)
	require.True(t, left)
	require.Equal(t, "chat", actorOf(offers["telegram:1"].ID), "the client let the offer go")
	left, err = w.wl.Leave(ctx, dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "2"}, e2)
	require.NoError(t, err)
	require.True(t, left)
	require.Equal(t, "system", actorOf(offers["telegram:2"].ID), "no actor on the context")
}

// Finding 12: wakes are taken only by a pass that succeeded.
func TestWaitlistWakesSurviveAFailedPass(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	require.NoError(t, w.wl.Wake(ctx, w.salonID))
	ran, err := w.wl.Matching(ctx, w.salonID, func(woken bool) error {
		require.True(t, woken)
		require.NoError(t, w.wl.Wake(ctx, w.salonID)) // a wake during the pass
		return core.Errorf(core.EUnavailable, "error.unavailable", "test: the pass failed")
	})
	require.True(t, ran)
	require.Error(t, err)
	require.Equal(t, 2, w.count(t, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, w.salonID), "kept for the next pass")
	ran, err = w.wl.Matching(ctx, w.salonID, func(woken bool) error {
		require.True(t, woken)
		require.NoError(t, w.wl.Wake(ctx, w.salonID)) // a wake during the pass: after the pass's reading
		return nil
	})
	require.True(t, ran)
	require.NoError(t, err)
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, w.salonID), "only the wake written during the pass is left")
}

// Finding 13: the matcher's lock holds no connection of the pool its pass uses.
func TestWaitlistMatchingOnAOneConnectionPool(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	require.NoError(t, err)
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()
	wl := postgres.NewWaitlist(pool)
	defer wl.Close()
	_, salonID := pgtest.Salon(t)
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ran, err := wl.Matching(tctx, salonID, func(bool) error {
		_, err := pool.Exec(tctx, `SELECT 1`) // the pass's statements
		return err
	})
	require.NoError(t, err)
	require.True(t, ran)
	// A second matcher of the salon does not run while one does.
	other := postgres.NewWaitlist(pool)
	defer other.Close()
	ran, err = wl.Matching(tctx, salonID, func(bool) error {
		ran2, err := other.Matching(tctx, salonID, func(bool) error { return nil })
		require.NoError(t, err)
		require.False(t, ran2, "one matcher at a time")
		return nil
	})
	require.NoError(t, err)
	require.True(t, ran)
}

// Finding 17: "Book it" on an entry's old offer while the matcher gives it a
// new one ends with no held offer lacking its entry, in either order.
func TestWaitlistBookItWhileTheMatcherOffersAgain(t *testing.T) {
	t.Parallel()

	t.Run("EntryGoesFirst", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		e := w.joinAs(t, 1, "anna")
		w.free(t, 10)
		// The entry's row is being deleted (an uncommitted booking of its own).
		tx, err := w.pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		_, err = tx.Exec(ctx, `DELETE FROM waitlist WHERE id = $1`, e)
		require.NoError(t, err)
		var pid int
		require.NoError(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
		done := make(chan error, 1)
		var n int
		go func() { var err error; n, err = w.matcher.Pass(ctx); done <- err }()
		w.waitBlockedBy(t, pid) // the pass waits for the entry's row
		require.NoError(t, tx.Commit(ctx))
		require.NoError(t, <-done, "the entry going is not the pass's failure")
		require.Equal(t, 0, n)
		require.Equal(t, 0, w.orphans(t))
	})

	t.Run("OfferGoesFirst", func(t *testing.T) {
		t.Parallel()
		w := newWLWorld(t)
		w.joinAs(t, 1, "anna")
		w.free(t, 10, 12)
		require.Equal(t, 1, w.pass(t))
		old := w.offers(t)["telegram:1"]
		// The old offer lapsed by the matcher's clock; its "Book it" was pressed
		// a second before and is still confirming.
		gate, entered := make(chan struct{}), make(chan struct{})
		var once sync.Once
		var pid int
		w.store.FollowOffers(func(ctx context.Context, tx pgx.Tx, _ int64, _ core.Booking, _ *core.Salon) error {
			once.Do(func() {
				require.NoError(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
				close(entered)
				<-gate
			})
			return nil
		})
		w.clock.T = old.HoldExpiresAt
		done := make(chan error, 1)
		go func() { _, err := w.matcher.Pass(ctx); done <- err }()
		<-entered // the new offer (12:00) is made, not committed
		pressed := booking.New(w.store, &core.FixedClock{T: old.HoldExpiresAt.Add(-time.Second)})
		confirmed := make(chan error, 1)
		go func() { _, err := pressed.Confirm(ctx, w.salonID, old.ID); confirmed <- err }()
		w.waitBlockedBy(t, pid) // the confirm waits on the entry's row
		close(gate)
		require.NoError(t, <-done)
		require.NoError(t, <-confirmed)
		require.Equal(t, 0, w.orphans(t), "the new offer's hold went with its entry")
		require.Equal(t, 0, w.count(t, `SELECT count(*) FROM bookings WHERE salon_id = $1 AND status = 'held'`, w.salonID))
		require.Equal(t, 0, w.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL`, w.salonID),
			"the released offer's message is given up")
	})
}

// Finding 14: an offer's words use the salon as it is when the offer is made.
func TestWaitlistOfferReadsTheSalonPerOffer(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	setup := pgtest.Setup(w.salonID)
	setup.Salon.Policy.WaitlistOffer = 25 * time.Minute
	_, err := w.store.Apply(ctx, setup)
	require.NoError(t, err)
	w.join(t, 1)
	w.free(t, 10)
	require.Equal(t, 1, w.pass(t))
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND body::text LIKE '%for 25 minutes%'`, w.salonID),
		"the offer says the hold applied since serve started")
}

// Finding 6: the expiry's statements read a salon's holds, not its bookings,
// with no statistics and generic plans.
func TestExpiryPlansReadOnlyHolds(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	pg := conn.Hijack()
	defer func() { _ = pg.Close(ctx) }()
	schema := fmt.Sprintf("expiry_plans_%d", time.Now().UnixNano())
	for _, q := range []string{
		`CREATE SCHEMA ` + schema,
		`CREATE TABLE ` + schema + `.bookings (LIKE public.bookings INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`CREATE TABLE ` + schema + `.waitlist_wakes (LIKE public.waitlist_wakes INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`SET search_path = ` + schema + `, public`,
		`SET plan_cache_mode = force_generic_plan`,
		// 50,000 live bookings of one salon; three holds, one lapsed.
		`INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
		                       hold_expires_at, price_minor, currency, idempotency_key, source)
		 SELECT 'big', 'm' || (g % 20), 'cut', 1, s, s + interval '15 minutes',
		        tstzrange(s, s + interval '15 minutes'), 'confirmed', NULL, 1000, 'EUR', 'k' || g, 'web:' || (g % 10000)
		 FROM generate_series(1, 50000) g, LATERAL (SELECT '2026-06-01Z'::timestamptz + g * interval '20 minutes' AS s) x`,
		`UPDATE bookings SET status = 'held', hold_expires_at = '2027-06-01Z'::timestamptz + (idempotency_key = 'k49999')::int * interval '1 hour'
		 WHERE idempotency_key IN ('k45000', 'k45001', 'k49999')`,
	} {
		_, err := pg.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	now := "2027-06-01 00:05:00Z"
	for _, st := range []struct{ name, sql, args string }{
		{"next_expiry", postgres.NextExpirySQL, `'big'`},
		{"expire_due", postgres.ExpireDueSQL, fmt.Sprintf(`'%s', 'big'`, now)},
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
			bookingScans(plans[0].Plan, read)
			require.NotEmpty(t, read)
			for scan, rows := range read {
				require.LessOrEqual(t, rows, 10.0, "%s read more than the holds: %s", scan, raw)
			}
		})
	}
}

// Finding 15: the offer's message step answers with core errors.
func TestWaitlistOfferRecordErrorsAreCoreErrors(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	cat, err := i18n.Load()
	require.NoError(t, err)
	offers := pipeline.NewOffers(func(s *core.Salon, o dialog.Offer) dialog.Reply { return dialog.OfferReply(cat, s, o) },
		w.clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c, err := w.svc.Catalog(ctx, w.salonID)
	require.NoError(t, err)
	tx, err := w.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	err = offers.Record(ctx, tx, 999999999, core.Booking{SalonID: w.salonID, ServiceID: "manicure", MasterID: "anna", Start: w.at(2, 10, 0)}, c.Salon)
	require.Equal(t, core.ENotFound, core.ErrorCode(err), "%v", err)
}

// Finding 18: an offer's hold never outlasts its start.
func TestWaitlistOfferHoldEndsByItsStart(t *testing.T) {
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
	require.Equal(t, w.at(2, 10, 0), w.offers(t)["telegram:1"].HoldExpiresAt, "not 10:05")
}

// Finding 20: a day's entries go when the day ends in the salon's zone, not in UTC.
func TestWaitlistDropsAtTheSalonsMidnight(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	w.join(t, 1)
	w.clock.T = w.at(2, 23, 30) // 22:30 UTC
	require.Equal(t, 0, w.pass(t))
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, w.salonID), "still Tuesday in Berlin")
	w.clock.T = w.at(3, 0, 30) // 23:30 UTC, still Tuesday in UTC
	require.Equal(t, 0, w.pass(t))
	require.Equal(t, 0, w.count(t, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, w.salonID), "Wednesday in Berlin")
}
