package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
)

// TestBacklogPlansReadOnlyWhatWaits: the scrape-time read of the queues reads
// the waiting rows' index entries and a few chat rows, never the handled
// updates or the sent messages, with no statistics and a generic plan (a
// fresh database, or queues analyzed while empty), and counts right.
func TestBacklogPlansReadOnlyWhatWaits(t *testing.T) {
	t.Parallel()
	for _, analyzedEmpty := range []bool{false, true} {
		t.Run(map[bool]string{false: "NeverAnalyzed", true: "AnalyzedWhileEmpty"}[analyzedEmpty], func(t *testing.T) {
			t.Parallel()
			backlogPlan(t, analyzedEmpty)
		})
	}
}

func backlogPlan(t *testing.T, analyzedEmpty bool) {
	const handled, chats, sent, unsent = 60_000, 1_000, 60_000, 700
	salonID := "b" + pgtest.RandomID()
	admin := pgtest.Pool(t)
	schema := "backlog_" + pgtest.RandomID()
	_, err := admin.Exec(ctx, `CREATE SCHEMA `+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
	for _, table := range []string{"inbox", "inbox_chats", "outbox"} {
		_, err = admin.Exec(ctx, `CREATE TABLE `+schema+`.`+table+` (LIKE public.`+table+` INCLUDING ALL) WITH (autovacuum_enabled = false)`)
		require.NoError(t, err)
	}
	pool := planPool(t, schema, nil)
	if analyzedEmpty {
		_, err = pool.Exec(ctx, `ANALYZE inbox, inbox_chats, outbox`)
		require.NoError(t, err)
	}
	for _, q := range []string{
		// Handled updates, then two waiting per chat (the oldest an hour old);
		// half the chats back off.
		`INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload, handled_at, received_at)
		 SELECT $1, 'tg', 'h' || g, 'c' || (g % 5000), '\x00', now(), now() - interval '2 hours' FROM generate_series(1, 60000) g`,
		`INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload, received_at)
		 SELECT $1, 'tg', 'p' || g, 'c' || (g % 1000), '\x00', now() - interval '1 hour' + g * interval '1 ms' FROM generate_series(0, 1999) g`,
		`INSERT INTO inbox_chats (salon_id, channel, chat_id, head_id, last_id, retry_at)
		 SELECT $1, 'tg', chat_id, min(id), max(id), CASE WHEN min(id) % 2 = 0 THEN now() + interval '1 minute' END
		 FROM inbox WHERE handled_at IS NULL GROUP BY chat_id`,
		`INSERT INTO outbox (salon_id, channel, chat_id, body, sent_at)
		 SELECT $1, 'tg', 'c' || (g % 5000), '{}', now() FROM generate_series(1, 60000) g`,
		`INSERT INTO outbox (salon_id, channel, chat_id, body)
		 SELECT $1, 'tg', 'c' || g, '{}' FROM generate_series(1, 700) g`,
	} {
		_, err = pool.Exec(ctx, q, salonID)
		require.NoError(t, err, q)
	}
	var stats int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM pg_stats WHERE schemaname = $1`, schema).Scan(&stats))
	require.Zero(t, stats, "no statistics on the copies (or those of empty tables)")

	got, err := pipeline.Backlogs(ctx, pool, salonID, []string{"tg", "wa"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, pipeline.Backlog{Channel: "wa"}, got[1], "a channel with nothing waiting")
	require.Equal(t, "tg", got[0].Channel)
	require.Equal(t, int64(2*chats), got[0].InboxWaiting)
	require.Equal(t, int64(unsent), got[0].OutboxWaiting)
	require.InDelta(t, time.Hour.Seconds(), got[0].InboxOldest.Seconds(), 60, "the oldest waiting update is an hour old")

	plan := explainGeneric(t, pool, recorded{sql: pipeline.BacklogSQL, args: []any{salonID, []string{"tg"}, pipeline.BacklogCap}})
	var work float64
	var scans []string
	var walk func(n planNode)
	walk = func(n planNode) {
		require.NotEqual(t, "Seq Scan", n.Type, "a scan of a whole queue table:\n%s", plan.text())
		if n.Index != "" {
			scans = append(scans, n.Index)
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plan.Plan)
	checkPlan(t, recorded{sql: pipeline.BacklogSQL}, plan, &work)
	// What waits (2,000 updates, 700 messages), the chats backing off (500)
	// and a few probes; handled and sent rows are 120,000.
	require.LessOrEqual(t, work, float64(2*chats+unsent+chats/2+10), "rows read:\n%s", plan.text())
	t.Logf("backlog read without statistics: %.0f rows by %v (%d handled and %d sent rows left alone)", work, scans, handled, sent)
}
