package pipeline_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core"
	"salonbook/src/core/messaging"
)

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

// drain runs the real sender of channel, at the bundle's clock, until nothing
// of the salon's outbox is left to send, and returns what it sent.
func (b *remindBundle) drain(t *testing.T, channel string) []messaging.Outgoing {
	t.Helper()
	pool := pgtest.Pool(t)
	rec := &sendRecorder{}
	sender := &messaging.Sender{Channel: channel, Outbox: pipeline.NewOutbox(pool, b.salonID), Transport: rec,
		Clock: fixedNow{b.clock}, Log: slog.New(slog.DiscardHandler)}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { sender.Run(sctx); close(done) }()
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND channel = $2
			AND sent_at IS NULL AND failed IS NULL`, b.salonID, channel).Scan(&n))
		return n == 0
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.sent
}

const tooLate = "too late: past its not-after time"

// TestReminderHandedBackAfterMoveOrCancel: a reminder a sender holds (leased)
// when its booking is moved or cancelled is not given up at once (the send may
// be under way and goes), but once the sender hands it back (no token, a 429,
// a network error, a timeout, or its lease ran out) it is given up, never sent
// with the old time.
func TestReminderHandedBackAfterMoveOrCancel(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	moved := b.book(t, "telegram:51", b.at(4, 10, 0), "hb-moved")
	cancelled := b.book(t, "telegram:52", b.at(4, 11, 0), "hb-cancelled")
	flying := b.book(t, "telegram:53", b.at(4, 12, 0), "hb-flying")
	expired := b.book(t, "telegram:54", b.at(4, 13, 0), "hb-expired")
	b.clock.T = b.at(3, 13, 0)
	require.Equal(t, 4, b.tick(t))
	pool := pgtest.Pool(t)
	out := pipeline.NewOutbox(pool, b.salonID)
	leased, err := out.Due(ctx, "telegram", 0, 10)
	require.NoError(t, err)
	require.Len(t, leased, 4)

	b.clock.T = b.at(3, 13, 5)
	_, err = b.svc.Reschedule(ctx, b.salonID, moved.ID, b.at(4, 15, 0))
	require.NoError(t, err)
	_, err = b.svc.Cancel(ctx, b.salonID, cancelled.ID)
	require.NoError(t, err)
	_, err = b.svc.Reschedule(ctx, b.salonID, flying.ID, b.at(4, 16, 0))
	require.NoError(t, err)
	_, err = b.svc.Cancel(ctx, b.salonID, expired.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"unsent", "unsent", "unsent", "unsent"}, b.outboxState(t), "held by a sender: not given up here")

	for _, q := range leased {
		switch q.Outgoing.ChatID {
		case "53": // the send under way goes through
			require.NoError(t, out.Done(ctx, q, ""))
		case "54": // the sender was killed: its lease runs out
			_, err := pool.Exec(ctx, `UPDATE outbox SET leased_until = now() - interval '1 second' WHERE id = $1`, q.ID)
			require.NoError(t, err)
		default: // handed back (no token, a 429, a network error)
			require.NoError(t, out.Later(ctx, q, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), false))
		}
	}
	require.Empty(t, b.drain(t, "telegram"), "nothing sent with the old time")
	require.Equal(t, []string{tooLate, tooLate, "sent", tooLate}, b.outboxState(t))
}

// TestReminderResendCopyGivenUp: a WhatsApp reminder the provider failed after
// accepting it is queued again as a copy (Deliveries.Resend); a move or
// cancel of its booking gives the copy up as it gives up the reminder.
func TestReminderResendCopyGivenUp(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	moved := b.book(t, "whatsapp:4915100000061", b.at(4, 10, 0), "rs-moved")
	cancelled := b.book(t, "whatsapp:4915100000062", b.at(4, 11, 0), "rs-cancelled")
	b.clock.T = b.at(3, 12, 0)
	require.Equal(t, 2, b.tick(t))
	pool := pgtest.Pool(t)
	out := pipeline.NewOutbox(pool, b.salonID)
	batch, err := out.Due(ctx, "whatsapp", 0, 10)
	require.NoError(t, err)
	require.Len(t, batch, 2)
	deliveries := pipeline.NewDeliveries(pool, b.salonID, "whatsapp")
	for _, q := range batch {
		q.ProviderID = "wamid." + q.Outgoing.ChatID
		require.NoError(t, out.Done(ctx, q, ""))
		found, err := deliveries.Resend(ctx, q.ProviderID)
		require.NoError(t, err)
		require.True(t, found)
	}
	require.Equal(t, []string{"sent", "sent", "unsent", "unsent"}, b.outboxState(t), "the copies wait to go")

	_, err = b.svc.Reschedule(ctx, b.salonID, moved.ID, b.at(4, 15, 0))
	require.NoError(t, err)
	_, err = b.svc.Cancel(ctx, b.salonID, cancelled.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"sent", "sent", "reminder superseded", "reminder superseded"}, b.outboxState(t))
}

// TestReminderLatestOnlyAfterASenderOutage: a booking's 24 h reminder queued
// while the channel is down (nothing sends) is given up when its 2 h one is
// queued: when the channel comes back the client gets one reminder. One a
// sender held when the 2 h one was queued is given up once handed back.
func TestReminderLatestOnlyAfterASenderOutage(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	waiting := b.book(t, "telegram:62", b.at(4, 12, 0), "so-waiting")
	b.book(t, "telegram:63", b.at(4, 13, 0), "so-held")
	b.clock.T = b.at(3, 13, 0) // Wednesday: both 24 h reminders queued
	require.Equal(t, 2, b.tick(t))
	pool := pgtest.Pool(t)
	_, err := pool.Exec(ctx, `UPDATE outbox SET leased_until = now() + interval '90 seconds', lease_token = 'x'
		WHERE salon_id = $1 AND chat_id = '63'`, b.salonID)
	require.NoError(t, err)
	b.clock.T = b.at(4, 11, 30) // Thursday, the channel still down: both 2 h reminders queued
	require.Equal(t, 2, b.tick(t))
	require.Equal(t, []string{"reminder superseded", "unsent", "unsent", "unsent"}, b.outboxState(t))
	_, err = pool.Exec(ctx, `UPDATE outbox SET leased_until = now() - interval '1 second' WHERE salon_id = $1 AND lease_token = 'x'`,
		b.salonID)
	require.NoError(t, err) // the sender that held it died

	sent := b.drain(t, "telegram")
	var chats []string
	for _, o := range sent {
		chats = append(chats, o.ChatID)
	}
	require.ElementsMatch(t, []string{"62", "63"}, chats, "one reminder each, the 2 h one")
	require.Equal(t, []string{"reminder superseded", tooLate, "sent", "sent"}, b.outboxState(t))
	at, err := b.rem.Scheduled(ctx, b.salonID, waiting.ID, waiting.Start)
	require.NoError(t, err)
	require.Equal(t, []time.Time{b.at(4, 10, 0)}, at, "the 24 h one was given up")
}

// TestReminderBacklogCountAfterTheLock: the backlog is counted after the
// channel's lock is taken, in a snapshot of its own: reminders another
// scheduler committed just before the lock came free are counted, and the
// bound holds.
func TestReminderBacklogCountAfterTheLock(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	b.rem = pipeline.NewReminders(pipeline.RemindersConfig{Pool: pgtest.Pool(t), SalonID: b.salonID,
		Channels: []string{"telegram"}, Clock: b.clock, Catalog: catalogOf(t), Backlog: map[string]int{"telegram": 2},
		Salon: b.salon})
	b.book(t, "telegram:71", b.at(4, 10, 0), "bl-1")
	b.book(t, "telegram:72", b.at(4, 11, 0), "bl-2")
	pool := pgtest.Pool(t)
	once := false
	pipeline.SetRemindersLocked(b.rem, func(context.Context, pgx.Tx) {
		if once {
			return
		}
		once = true
		// Another scheduler's two reminders, committed as the lock came free.
		_, err := pool.Exec(ctx, `INSERT INTO outbox (salon_id, channel, chat_id, body)
			SELECT $1, 'telegram', g::text, '{"template": "reminder"}' FROM generate_series(1, 2) g`, b.salonID)
		require.NoError(t, err)
	})
	b.clock.T = b.at(3, 12, 0)
	require.Zero(t, b.tick(t), "the backlog is full")
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND sent_at IS NULL`, b.salonID).Scan(&n))
	require.Equal(t, 2, n)
}

// TestReminderBacklogPlan: the backlog count reads the index
// outbox_reminders_unsent only (an index-only scan of a few buffers), under a
// generic plan, with the outbox never analyzed or analyzed while empty, and
// 50,000 unsent replies beside the 150 reminders counted.
func TestReminderBacklogPlan(t *testing.T) {
	t.Parallel()
	for _, analyzedEmpty := range []bool{false, true} {
		admin := pgtest.Pool(t)
		schema := "backlog_" + pgtest.RandomID()
		_, err := admin.Exec(ctx, `CREATE SCHEMA `+schema)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = admin.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
		_, err = admin.Exec(ctx, `CREATE TABLE `+schema+`.outbox (LIKE public.outbox INCLUDING ALL EXCLUDING INDEXES)
			WITH (autovacuum_enabled = false)`)
		require.NoError(t, err)
		// The same indexes, under their own names.
		rows, err := admin.Query(ctx, `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'outbox'`)
		require.NoError(t, err)
		defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		for _, def := range defs {
			_, err := admin.Exec(ctx, strings.Replace(def, " ON public.outbox ", " ON "+schema+".outbox ", 1))
			require.NoError(t, err, def)
		}
		if analyzedEmpty {
			_, err = admin.Exec(ctx, `ANALYZE `+schema+`.outbox`)
			require.NoError(t, err)
		}
		_, err = admin.Exec(ctx, `INSERT INTO `+schema+`.outbox (salon_id, channel, chat_id, body)
			SELECT 's', 'telegram', (g % 5000)::text, '{"reply": {"text": "a reply"}}' FROM generate_series(1, 50000) g`)
		require.NoError(t, err)
		_, err = admin.Exec(ctx, `INSERT INTO `+schema+`.outbox (salon_id, channel, chat_id, body)
			SELECT 's', 'telegram', g::text, '{"template": "reminder"}' FROM generate_series(1, 150) g`)
		require.NoError(t, err)
		conn, err := planPool(t, schema, nil).Acquire(ctx)
		require.NoError(t, err)
		_, err = conn.Exec(ctx, `PREPARE backlog(text, text, int) AS `+pipeline.ReminderBacklogSQL)
		require.NoError(t, err)
		var n int
		require.NoError(t, conn.QueryRow(ctx, `EXECUTE backlog('s', 'telegram', 150)`).Scan(&n))
		require.Equal(t, 150, n)
		var raw []byte
		require.NoError(t, conn.QueryRow(ctx, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE backlog('s', 'telegram', 150)`).Scan(&raw))
		conn.Release()
		var plan []struct {
			Plan bufPlan `json:"Plan"`
		}
		require.NoError(t, json.Unmarshal(raw, &plan))
		var scans []string
		plan[0].Plan.scans(&scans)
		require.Equal(t, []string{"Index Only Scan outbox_reminders_unsent"}, scans, "analyzed while empty: %v: %s", analyzedEmpty, raw)
		buffers := plan[0].Plan.Hit + plan[0].Plan.Read
		t.Logf("analyzed while empty %v: %d buffers", analyzedEmpty, buffers)
		require.Less(t, buffers, 50, "analyzed while empty: %v: %s", analyzedEmpty, raw)
	}
}

type bufPlan struct {
	Type     string    `json:"Node Type"`
	Relation string    `json:"Relation Name"`
	Index    string    `json:"Index Name"`
	Hit      int       `json:"Shared Hit Blocks"`
	Read     int       `json:"Shared Read Blocks"`
	Plans    []bufPlan `json:"Plans"`
}

// scans adds each scan under n: its node type and index.
func (n bufPlan) scans(out *[]string) {
	if strings.HasSuffix(n.Type, "Scan") {
		*out = append(*out, strings.TrimSpace(n.Type+" "+n.Index))
	}
	for _, c := range n.Plans {
		c.scans(out)
	}
}
