package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core/dialog"
)

// TestPruneAnonymous: idle anonymous web conversations go with their events,
// those that only typed a name or phone too (nothing was booked: an unverified
// phone is not worth keeping); anything with a client (set by a hold that
// succeeded), a wait-list entry, recent activity or another channel stays.
func TestPruneAnonymous(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	now := time.Now()
	old, recent := now.Add(-8*24*time.Hour), now.Add(-24*time.Hour)
	for _, c := range []struct {
		channel, chat, state string
		at                   time.Time
	}{
		{"web", "anon-old", `{"step":"menu","lang":"ru"}`, old},
		{"web", "empty-old", `{}`, old},
		{"web", "anon-recent", `{"step":"menu"}`, recent},
		{"web", "named-old", `{"name":"Olga","phone":"+7 912 0000001"}`, old},
		{"web", "client-old", `{"client":7}`, old},
		{"web", "hold-old", `{"hold":"00000000-0000-0000-0000-000000000001","client":8}`, old},
		{"web", "waiting-old", `{}`, old},
		{"telegram", "anon-old", `{}`, old},
	} {
		_, err := pool.Exec(ctx, `INSERT INTO conversations (salon_id, channel, chat_id, state, updated_at) VALUES ($1, $2, $3, $4::jsonb, $5)`,
			salonID, c.channel, c.chat, c.state, c.at)
		require.NoError(t, err)
		for _, e := range []string{"e1", "e2"} {
			// Events are fresh: PruneEvents, tested alongside, must not see them.
			_, err := pool.Exec(ctx, `INSERT INTO dialog_events (salon_id, channel, chat_id, event_id, replies) VALUES ($1, $2, $3, $4, '[]')`,
				salonID, c.channel, c.chat, c.chat+e)
			require.NoError(t, err)
		}
	}
	_, err := pool.Exec(ctx, `INSERT INTO waitlist (salon_id, channel, chat_id, service_id, master_id, day) VALUES ($1, 'web', 'waiting-old', 'haircut', 'any', '2027-03-02')`, salonID)
	require.NoError(t, err)

	n, err := postgres.NewConversations(pool).PruneAnonymous(ctx, salonID, "web", now.Add(-7*24*time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	rows, err := pool.Query(ctx, `SELECT channel || '/' || chat_id FROM conversations WHERE salon_id = $1 ORDER BY 1`, salonID)
	require.NoError(t, err)
	var left []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		left = append(left, s)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"telegram/anon-old", "web/anon-recent", "web/client-old", "web/hold-old", "web/waiting-old"}, left)
	var events int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM dialog_events WHERE salon_id = $1`, salonID).Scan(&events))
	require.Equal(t, 10, events, "the pruned conversations' events went with them")
}

// TestPruneAnonymousAtScale: 10,000 idle anonymous sessions with 20,000 events
// (the attack's figures) are all pruned, in batches.
func TestPruneAnonymousAtScale(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	old := time.Now().Add(-8 * 24 * time.Hour)
	_, err := pool.Exec(ctx, `
		INSERT INTO conversations (salon_id, channel, chat_id, state, updated_at)
		SELECT $1, 'web', 'sess-' || i, '{"step":"menu"}', $2 FROM generate_series(1, 10000) i`, salonID, old)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `
		INSERT INTO dialog_events (salon_id, channel, chat_id, event_id, replies)
		SELECT $1, 'web', 'sess-' || i, 'web:sess-' || i || ':' || j, '[]'
		FROM generate_series(1, 10000) i, generate_series(1, 2) j`, salonID)
	require.NoError(t, err)
	n, err := postgres.NewConversations(pool).PruneAnonymous(ctx, salonID, "web", time.Now().Add(-7*24*time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 10000, n)
	var left int
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM conversations WHERE salon_id = $1) + (SELECT count(*) FROM dialog_events WHERE salon_id = $1)`, salonID).Scan(&left))
	require.Zero(t, left)
}

// TestRunSurvivesAPruneOfItsChat: a conversation deleted (pruned) while an event
// of it waits for its lock is started afresh, not lost as "not found".
func TestRunSurvivesAPruneOfItsChat(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	convs := postgres.NewConversations(pool)
	key := dialog.ChatKey{SalonID: salonID, Channel: "web", ChatID: "pruned"}
	_, err := convs.Run(ctx, key, "e1", func(st dialog.State) (dialog.State, []dialog.Reply) {
		st.Step = "menu"
		return st, []dialog.Reply{{Text: "first"}}
	})
	require.NoError(t, err)

	// An earlier event holds the row; the pruner deletes it once that is done.
	blocker, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = blocker.Rollback(ctx) }()
	var pid int
	require.NoError(t, blocker.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	_, err = blocker.Exec(ctx, `SELECT 1 FROM conversations WHERE salon_id = $1 AND chat_id = 'pruned' FOR UPDATE`, salonID)
	require.NoError(t, err)

	var got []dialog.Reply
	var seen dialog.State
	done := make(chan error, 1)
	go func() {
		var err error
		got, err = convs.Run(ctx, key, "e2", func(st dialog.State) (dialog.State, []dialog.Reply) {
			seen = st
			return st, []dialog.Reply{{Text: "second"}}
		})
		done <- err
	}()
	for waiting := 0; waiting == 0; time.Sleep(5 * time.Millisecond) {
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&waiting))
	}
	_, err = blocker.Exec(ctx, `DELETE FROM conversations WHERE salon_id = $1 AND chat_id = 'pruned'`, salonID)
	require.NoError(t, err)
	require.NoError(t, blocker.Commit(ctx))
	require.NoError(t, <-done, "the event runs on a new conversation")
	require.Equal(t, []dialog.Reply{{Text: "second"}}, got)
	require.Equal(t, dialog.State{}, seen, "afresh, as a new session")
}
