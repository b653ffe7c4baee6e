package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// outboxState lists the salon's outbox rows: "sent", "unsent", or the reason
// given up, in id order.
func (b *remindBundle) outboxState(t *testing.T) []string {
	t.Helper()
	rows, err := pgtest.Pool(t).Query(ctx, `
		SELECT CASE WHEN failed IS NOT NULL THEN failed WHEN sent_at IS NOT NULL THEN 'sent' ELSE 'unsent' END
		FROM outbox WHERE salon_id = $1 ORDER BY id`, b.salonID)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

// TestReminderQueuedThenMovedOrCancelled: a reminder already queued in the
// outbox (no sender has taken it) is given up by a later move or cancel in the
// change's own transaction, and its row goes (a move back schedules it again);
// one a sender holds (leased, in a send) is left to go. The queued reminder
// carries its start as NotAfter.
func TestReminderQueuedThenMovedOrCancelled(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	moved := b.book(t, "telegram:21", b.at(4, 10, 0), "moved")
	cancelled := b.book(t, "telegram:22", b.at(4, 11, 0), "cancelled")
	leased := b.book(t, "telegram:23", b.at(4, 12, 0), "leased")
	b.clock.T = b.at(3, 12, 0)
	require.Equal(t, 3, b.tick(t))
	require.Equal(t, []string{"unsent", "unsent", "unsent"}, b.outboxState(t))
	var body []byte
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT body FROM outbox WHERE salon_id = $1 ORDER BY id LIMIT 1`, b.salonID).Scan(&body))
	var o messaging.Outgoing
	require.NoError(t, json.Unmarshal(body, &o))
	require.Equal(t, b.at(4, 10, 0), o.NotAfter.UTC(), "a reminder is never sent once its appointment has begun")
	_, err := pgtest.Pool(t).Exec(ctx, `UPDATE outbox SET leased_until = now() + interval '90 seconds', lease_token = 'x'
		WHERE salon_id = $1 AND chat_id = '23'`, b.salonID)
	require.NoError(t, err)

	_, err = b.svc.Reschedule(ctx, b.salonID, moved.ID, b.at(4, 15, 0))
	require.NoError(t, err)
	_, err = b.svc.Cancel(ctx, b.salonID, cancelled.ID)
	require.NoError(t, err)
	_, err = b.svc.Reschedule(ctx, b.salonID, leased.ID, b.at(4, 16, 0))
	require.NoError(t, err)
	require.Equal(t, []string{"reminder superseded", "reminder superseded", "unsent"}, b.outboxState(t),
		"the queued reminders of the old times are given up; the one in a send goes")

	// Moved back to 10:00: its 24h reminder, given up, is scheduled again
	// (due already: not scheduled) and its 2h one stays.
	_, err = b.svc.Reschedule(ctx, b.salonID, moved.ID, b.at(4, 10, 0))
	require.NoError(t, err)
	var starts []time.Time
	for _, r := range b.rows(t) {
		if r.Booking == moved.ID {
			require.False(t, r.Sent)
			starts = append(starts, r.Start)
		}
	}
	require.Equal(t, []time.Time{b.at(4, 10, 0)}, starts, "the 2h reminder of 10:00, unsent")
}

// TestReminderLatestOnlyWhateverTheBatch: after an outage in which both
// reminders of a booking fell due, only the later one (the 2h) is sent, also
// when the scheduler takes one row at a time.
func TestReminderLatestOnlyWhateverTheBatch(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	b.rem = pipeline.NewReminders(pipeline.RemindersConfig{Pool: pgtest.Pool(t), SalonID: b.salonID,
		Channels: []string{"telegram"}, Clock: b.clock, Catalog: catalogOf(t), Batch: 1, Salon: b.salon})
	b.book(t, "telegram:31", b.at(4, 10, 0), "outage")
	b.clock.T = b.at(4, 8, 30)
	for b.tick(t) > 0 {
	}
	out := b.outbox(t)
	require.Len(t, out, 1)
	require.Contains(t, out[0].Text, "10:00")
	var skipped string
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT skipped FROM reminders WHERE salon_id = $1 AND offset_seconds = 86400`,
		b.salonID).Scan(&skipped))
	require.Equal(t, "a later reminder was due", skipped)
}

// TestRemindersOffInApply: turning reminders off (or dropping an offset) in
// the salon file removes the reminders already scheduled for that offset; a
// new offset is not backfilled for bookings made before.
func TestRemindersOffInApply(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	b.book(t, "telegram:41", b.at(4, 10, 0), "off")
	require.Len(t, b.rows(t), 2)
	setup := b.setup()
	setup.Salon.Policy.Reminders = []time.Duration{2 * time.Hour, time.Hour}
	_, err := b.store.Apply(ctx, setup)
	require.NoError(t, err)
	require.Equal(t, []string{"Thu 2027-03-04 08:00 CET"}, b.dues(t), "the 24h one goes; the 1h one is not backfilled")

	setup.Salon.Policy.Reminders = nil
	_, err = b.store.Apply(ctx, setup)
	require.NoError(t, err)
	b.clock.T = b.at(4, 8, 0)
	require.Zero(t, b.tick(t))
	require.Empty(t, b.outbox(t))
	require.Empty(t, b.rows(t))
}

// TestReminderHoldConfirmedInsideTheWindow: a hold confirmed when its start is
// less than the shortest offset away schedules nothing; a move into the
// window keeps only the reminders still ahead of the new start.
func TestReminderHoldConfirmedInsideTheWindow(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 3, 7, 0, 0, 0, time.UTC)) // 08:00 Berlin
	r := b.req("boris", b.at(3, 9, 30), "late hold")
	r.Source = "telegram:51"
	held, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	_, err = b.svc.Confirm(ctx, b.salonID, held.ID)
	require.NoError(t, err)
	require.Empty(t, b.rows(t), "confirmed 90 minutes ahead: inside the 2h window, nothing")

	far := b.book(t, "telegram:52", b.at(5, 10, 0), "far")
	require.Len(t, b.rows(t), 2)
	_, err = b.svc.Reschedule(ctx, b.salonID, far.ID, b.at(3, 11, 0)) // 3 hours ahead
	require.NoError(t, err)
	require.Equal(t, []string{"Wed 2027-03-03 09:00 CET"}, b.dues(t), "moved 3h ahead: the 2h reminder only")
	other := b.book(t, "telegram:53", b.at(5, 12, 0), "other")
	_, err = b.svc.Reschedule(ctx, b.salonID, other.ID, b.at(3, 9, 45))
	require.NoError(t, err)
	for _, r := range b.rows(t) {
		require.NotEqual(t, other.ID, r.Booking, "moved inside the window: none")
	}
}

// TestReminderRunWithinPoll: Run queues a reminder within Poll of its due
// time: it sleeps until the due time when it knows of it, and a reminder
// scheduled while it sleeps is seen at the next look, Poll later at most.
func TestReminderRunWithinPoll(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 8, 40, 0, 0, time.UTC)) // 09:40 Berlin
	timer := &waitTimer{clock: b.clock, waits: make(chan time.Duration), wake: make(chan time.Time)}
	rem := pipeline.NewReminders(pipeline.RemindersConfig{Pool: pgtest.Pool(t), SalonID: b.salonID,
		Channels: []string{"telegram"}, Clock: b.clock, Wait: timer, Catalog: catalogOf(t), Poll: 15 * time.Minute,
		Salon: b.salon})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { rem.Run(rctx); close(done) }()
	defer func() { cancel(); timer.close(); <-done }()

	require.Equal(t, 15*time.Minute, <-timer.waits, "nothing scheduled: a look every Poll")
	b.book(t, "telegram:61", b.at(2, 10, 0), "run") // while it sleeps: its 24h reminder is due at 10:00 today
	b.clock.T = b.at(1, 9, 55)
	timer.wake <- b.clock.T
	require.Equal(t, 5*time.Minute, <-timer.waits, "seen at the next look, which waits until the due time")
	require.Empty(t, b.outbox(t))
	b.clock.T = b.at(1, 10, 0)
	timer.wake <- b.clock.T
	require.Equal(t, 15*time.Minute, <-timer.waits, "the 2h reminder is due tomorrow: a look every Poll")
	out := b.outbox(t)
	require.Len(t, out, 1, "queued at its due time")
	require.Contains(t, out[0].Text, "10:00")
}

// waitTimer is a Timer whose waits the test sees and ends.
type waitTimer struct {
	clock *core.FixedClock
	waits chan time.Duration
	wake  chan time.Time
	once  sync.Once
	done  chan struct{}
}

func (s *waitTimer) Now() time.Time { return s.clock.Now() }

func (s *waitTimer) After(d time.Duration) <-chan time.Time {
	s.once.Do(func() { s.done = make(chan struct{}) })
	select {
	case s.waits <- d:
	case <-s.done:
		c := make(chan time.Time, 1)
		c <- s.clock.Now()
		return c
	}
	return s.wake
}

func (s *waitTimer) close() {
	s.once.Do(func() { s.done = make(chan struct{}) })
	close(s.done)
	close(s.wake)
}

// TestReminderBacklog: 5,000 reminders fall due at once; the scheduler keeps
// at most the channel's backlog of them in the outbox and leaves the rest due
// (oldest first), so a reply queued meanwhile to another chat is taken within
// about that many sends, not behind all 5,000.
func TestReminderBacklog(t *testing.T) {
	t.Parallel()
	const due, backlog, take = 5000, 100, 10
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	b.rem = pipeline.NewReminders(pipeline.RemindersConfig{Pool: pgtest.Pool(t), SalonID: b.salonID,
		Channels: []string{"telegram"}, Clock: b.clock, Catalog: catalogOf(t), Backlog: map[string]int{"telegram": backlog},
		Salon: b.salon})
	first := b.book(t, "telegram:70000", b.at(8, 10, 0), "first")
	pool := pgtest.Pool(t)
	// 4,999 more bookings of a minute each (Chloe, from Tuesday 9 March
	// 03:00), each a chat of its own with a reminder ten days ahead: all due
	// on Sunday 7 March.
	_, err := pool.Exec(ctx, `
		WITH b AS (
			INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
			                      price_minor, currency, idempotency_key, source)
			SELECT salon_id, 'chloe', service_id, client_id, s, s + interval '1 minute', tstzrange(s, s + interval '1 minute'),
			       'confirmed', price_minor, currency, 'bulk' || g, 'telegram:' || (70000 + g)
			FROM bookings, generate_series(1, $3 - 1) g, LATERAL (SELECT $2::timestamptz + g * interval '1 minute' AS s) x
			WHERE booking_id = $1
			RETURNING booking_id, salon_id, starts_at, source
		)
		INSERT INTO reminders (booking_id, starts_at, offset_seconds, salon_id, due_at, channel, chat_id)
		SELECT booking_id, starts_at, 864000, salon_id, starts_at - interval '10 days', 'telegram', split_part(source, ':', 2) FROM b`,
		first.ID, b.at(9, 3, 0), due)
	require.NoError(t, err)
	b.clock.T = b.at(7, 10, 0) // every 10-day reminder is due, the first booking's 24h one too
	out := pipeline.NewOutbox(pool, b.salonID)
	in := pipeline.NewInbox(pool, b.salonID)
	waiting := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL AND body->>'template' = 'reminder'`,
			b.salonID).Scan(&n))
		return n
	}
	fill := func() {
		for b.tick(t) > 0 {
		}
		require.LessOrEqual(t, waiting(), backlog, "never more than the backlog of reminders in the outbox")
	}
	fill()
	require.Equal(t, backlog, waiting())
	// A client writes: its reply is queued behind the backlog.
	require.NoError(t, in.Add(ctx, "telegram", "u1", "555", []byte("{}"), ""))
	_, err = in.Next(ctx, "telegram", func(p messaging.Pending) (messaging.Handled, error) {
		return messaging.Handled{Out: []messaging.Outgoing{{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "live reply"}}}}, nil
	})
	require.NoError(t, err)
	sends := 0
	for replied := false; !replied; {
		batch, err := out.Due(ctx, "telegram", 0, take)
		require.NoError(t, err)
		require.NotEmpty(t, batch)
		for _, q := range batch {
			sends++
			replied = replied || q.Outgoing.ChatID == "555"
			require.NoError(t, out.Done(ctx, q, ""))
		}
		fill()
	}
	t.Logf("the reply went out as send %d of %d due reminders", sends, due)
	require.LessOrEqual(t, sends, backlog+take, "taken within the backlog's sends")
	var left int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM reminders WHERE salon_id = $1 AND sent_at IS NULL`, b.salonID).Scan(&left))
	require.Greater(t, left, due-2*backlog-take, "the rest wait, due, in table reminders")
	var oldest time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT min(due_at) FROM reminders WHERE salon_id = $1 AND sent_at IS NULL`, b.salonID).Scan(&oldest))
	var newestQueued time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT max(due_at) FROM reminders WHERE salon_id = $1 AND outbox_id IS NOT NULL`, b.salonID).Scan(&newestQueued))
	require.False(t, oldest.Before(newestQueued), "oldest due first")
}

// TestReminderWebChatBookingIsNoChange: with reminders on, a booking made
// confirmed through a source that cannot be reminded (the web chat) is not
// recorded as a change when nobody else must hear of it; a chat's is.
func TestReminderWebChatBookingIsNoChange(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	var kinds []string
	b.store.FollowChanges(func(_ context.Context, _ pgx.Tx, c booking.Change) error {
		mu.Lock()
		defer mu.Unlock()
		kinds = append(kinds, string(c.Kind)+" "+strings.SplitN(c.Booking.Source, ":", 2)[0])
		return nil
	})
	b.book(t, "web:session", b.at(3, 10, 0), "web")
	b.book(t, "telegram:81", b.at(3, 12, 0), "tg")
	require.Equal(t, []string{"booked telegram"}, kinds)
}

// TestReminderDeletesUsePrimaryKey: the reminder DELETEs inside booking
// transactions (a confirm's and move's, a cancel's, and the giving up of
// queued ones) read the booking's rows by primary key, not the queue's
// partial index, under a generic plan with no statistics and 100,000 unsent
// reminders (a read of that index took 2 ms inside every change); the giving
// up reads the outbox by id and resent_of only, with 100,000 rows unsent (a
// join on "id or resent_of" read every unsent row).
func TestReminderDeletesUsePrimaryKey(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	pg := conn.Hijack()
	defer func() { _ = pg.Close(ctx) }()
	schema := "remind_plans_" + pgtest.RandomID()
	for _, q := range []string{
		`CREATE SCHEMA ` + schema,
		`CREATE TABLE ` + schema + `.reminders (LIKE public.reminders INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`CREATE TABLE ` + schema + `.outbox (LIKE public.outbox INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`SET search_path = ` + schema + `, public`,
		`SET plan_cache_mode = force_generic_plan`,
		`INSERT INTO reminders (booking_id, starts_at, offset_seconds, salon_id, due_at, channel, chat_id)
		 SELECT gen_random_uuid(), s, 7200, 'big', s - interval '2 hours', 'telegram', g::text
		 FROM generate_series(1, 100000) g, LATERAL (SELECT '2027-06-01Z'::timestamptz + g * interval '1 minute' AS s) x`,
		`INSERT INTO outbox (salon_id, channel, chat_id, body)
		 SELECT 'big', 'telegram', g::text, '{"template": "reminder"}' FROM generate_series(1, 100000) g`,
	} {
		_, err := pg.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	for _, st := range []struct{ name, sql, args string }{
		{"schedule", pipeline.ScheduleSQL, `'00000000-0000-0000-0000-000000000001', '2027-07-01Z', 'big', 'telegram', '1', '2027-06-01Z'`},
		{"cancel", pipeline.CancelSQL, `'00000000-0000-0000-0000-000000000001'`},
		{"supersede", pipeline.SupersedeSQL, `'00000000-0000-0000-0000-000000000001', NULL, '2027-06-01T00:00:00Z'`},
		{"earlier", pipeline.EarlierSQL, `'00000000-0000-0000-0000-000000000001', '2027-07-01Z', '2027-06-01T00:00:00Z', 7200`},
	} {
		_, err := pg.Exec(ctx, `PREPARE `+st.name+` AS `+st.sql)
		require.NoError(t, err, st.sql)
		var raw []byte
		require.NoError(t, pg.QueryRow(ctx, `EXPLAIN (FORMAT JSON) EXECUTE `+st.name+`(`+st.args+`)`).Scan(&raw))
		var plan []struct {
			Plan planJSON `json:"Plan"`
		}
		require.NoError(t, json.Unmarshal(raw, &plan))
		seen := map[string]bool{}
		reminderScans(plan[0].Plan, seen)
		require.Equal(t, map[string]bool{"reminders_pkey": true}, seen, "%s: %s", st.name, raw)
		outbox := map[string]bool{}
		outboxScans(plan[0].Plan, outbox)
		for scan := range outbox {
			// The copy's indexes are named after their columns.
			require.Contains(t, []string{"outbox_pkey", "outbox_resent_of_idx"}, scan, "%s: %s", st.name, raw)
		}
	}
}

type planJSON struct {
	Type     string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Plans    []planJSON `json:"Plans"`
}

// reminderScans adds the index (or "Seq Scan") each scan of reminders under n
// reads.
func reminderScans(n planJSON, seen map[string]bool) {
	switch {
	case n.Relation == "reminders" && n.Type == "Seq Scan":
		seen["Seq Scan"] = true
	case strings.HasPrefix(n.Index, "reminders"):
		seen[n.Index] = true
	}
	for _, c := range n.Plans {
		reminderScans(c, seen)
	}
}

// outboxScans adds the index (or "Seq Scan") each scan of outbox under n
// reads.
func outboxScans(n planJSON, seen map[string]bool) {
	switch {
	case n.Relation == "outbox" && n.Type == "Seq Scan":
		seen["Seq Scan"] = true
	case strings.HasPrefix(n.Index, "outbox"):
		seen[n.Index] = true
	}
	for _, c := range n.Plans {
		outboxScans(c, seen)
	}
}

var _ = fmt.Sprint
