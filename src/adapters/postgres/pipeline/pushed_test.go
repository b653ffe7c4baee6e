package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core/dialog"
)

// TestPushed: the newest pushed message of the chat after the instant asked,
// by the instant its queuer stamped, once sent; replies to steps, other
// chats' messages, messages given up (blocked, failed) and messages not sent
// yet (queued behind the limits, a 429, a paused channel) are left out.
func TestPushed(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	add := func(chat, text string, pushed *time.Time, failed *string) {
		sent := failed == nil && text != "queued offer"
		_, err := pool.Exec(ctx, `INSERT INTO outbox (salon_id, channel, chat_id, body, pushed_at, failed, sent_at)
			VALUES ($1, 'telegram', $2, jsonb_build_object('chat_id', $2::text, 'reply', jsonb_build_object('text', $3::text)), $4, $5,
			        CASE WHEN $6 THEN now() END)`,
			b.salonID, chat, text, pushed, failed, sent)
		require.NoError(t, err)
	}
	at := func(m int) *time.Time { x := t0.Add(time.Duration(m) * time.Minute); return &x }
	gaveUp := "blocked by the user"
	add("7", "reminder", at(1), nil)
	add("7", "offer", at(3), nil)
	add("7", "queued offer", at(4), nil)      // not sent yet: the chat has not seen it
	add("7", "blocked offer", at(5), &gaveUp) // given up: never reached the chat
	add("7", "a step's reply", nil, nil)
	add("8", "another chat's", at(6), nil)
	p := pipeline.NewPushed(pool)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "7"}
	text := func(after time.Time) string {
		r, err := p.Pushed(ctx, key, after)
		require.NoError(t, err)
		if r == nil {
			return ""
		}
		return r.Text
	}
	require.Equal(t, "offer", text(t0), "the newest")
	require.Equal(t, "offer", text(*at(2)))
	require.Equal(t, "", text(*at(3)), "only after the instant asked")
	key.Channel = "whatsapp"
	require.Equal(t, "", text(t0), "another channel's chat 7")
}

// TestPushedPlanWithoutStatistics: the read stays on the chat's pushed rows
// (outbox_pushed) with no statistics and a generic plan, however many replies
// the outbox holds.
func TestPushedPlanWithoutStatistics(t *testing.T) {
	t.Parallel()
	admin := pgtest.Pool(t)
	schema := "pushed_" + pgtest.RandomID()
	_, err := admin.Exec(ctx, `CREATE SCHEMA `+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
	_, err = admin.Exec(ctx, `CREATE TABLE `+schema+`.outbox (LIKE public.outbox INCLUDING ALL) WITH (autovacuum_enabled = false)`)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `INSERT INTO `+schema+`.outbox (salon_id, channel, chat_id, body, sent_at)
		SELECT 's', 'telegram', (i % 50)::text, '{}', now() FROM generate_series(1, 20000) i`)
	require.NoError(t, err)
	pool := planPool(t, schema, nil)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `PREPARE pushed(text, text, text, timestamptz) AS `+pipeline.PushedSQL)
	require.NoError(t, err)
	rows, err := conn.Query(ctx, `EXPLAIN EXECUTE pushed('s', 'telegram', '7', now())`)
	require.NoError(t, err)
	var plan []string
	for rows.Next() {
		var l string
		require.NoError(t, rows.Scan(&l))
		plan = append(plan, l)
	}
	require.NoError(t, rows.Err())
	// The copy's outbox_pushed is named after its columns.
	require.Contains(t, strings.Join(plan, "\n"), "chat_id_pushed_at_idx", strings.Join(plan, "\n"))
	require.NotContains(t, strings.Join(plan, "\n"), "Seq Scan")
}
