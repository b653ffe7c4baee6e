package pipeline_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// TestBlockAndAStepOfTheChatAreSerialised: a late 403 (Outbox.Block) and the
// step answering the chat's new message run at the same time. Before, Block's
// test for a newer answer was evaluated at the start of its statement: an
// answer the step committed meanwhile was not seen, the step's clearing of the
// mark found none committed, and Block then marked a chat that had just
// written (its later notices stored failed until it wrote again). A held
// transaction makes each interleaving happen for sure.
func TestBlockAndAStepOfTheChatAreSerialised(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) (*pgxpool.Pool, string, *pipeline.Inbox, *pipeline.Outbox, messaging.Queued) {
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in, out := pipeline.NewInbox(pool, salonID), pipeline.NewOutbox(pool, salonID)
		require.NoError(t, in.Add(ctx, "tg", "1", "U", []byte("x"), ""))
		_, err := in.Next(ctx, "tg", answerWith("1"))
		require.NoError(t, err)
		inFlight, err := out.Due(ctx, "tg", 10, 10)
		require.NoError(t, err)
		require.Len(t, inFlight, 1)
		require.NoError(t, in.Add(ctx, "tg", "2", "U", []byte("x"), "")) // they unblocked the bot and wrote again
		return pool, salonID, in, out, inFlight[0]
	}

	t.Run("BlockStartsFirst", func(t *testing.T) {
		t.Parallel()
		pool, salonID, in, out, q := setup(t)
		// Block is held between its read of the chat's answers and its mark: a
		// transaction inserts the same mark and waits.
		held, pid := holdTx(t, pool)
		_, err := held.Exec(ctx, `INSERT INTO channel_chats (salon_id, channel, chat_id) VALUES ($1, 'tg', 'U')`, salonID)
		require.NoError(t, err)
		blocked := make(chan error, 1)
		go func() { blocked <- out.Block(ctx, q) }()
		behind := waitBehind(t, pool, nil, pid)
		stepped := make(chan error, 1)
		go func() {
			_, err := in.Next(ctx, "tg", answerWith("2"))
			stepped <- err
		}()
		waitBehind(t, pool, stepped, behind) // the step finishes (before) or waits for Block
		require.NoError(t, held.Rollback(ctx))
		require.NoError(t, <-blocked)
		require.NoError(t, <-stepped)
		require.False(t, marked(t, pool, salonID, "U"), "the chat that wrote is not left marked")
		require.Equal(t, []string{"reply 2", "more 2"}, queued(t, pool, salonID, "U"), "the answers to the new message go out")
	})

	t.Run("StepStartsFirst", func(t *testing.T) {
		t.Parallel()
		pool, salonID, in, out, q := setup(t)
		// The step is held after queuing its answers, before its commit: a
		// transaction holds the chat's inbox_chats row, which its last
		// statement (moveOn) updates.
		held, pid := holdTx(t, pool)
		_, err := held.Exec(ctx, `SELECT 1 FROM inbox_chats WHERE salon_id = $1 AND chat_id = 'U' FOR UPDATE`, salonID)
		require.NoError(t, err)
		stepped := make(chan error, 1)
		go func() {
			_, err := in.Next(ctx, "tg", answerWith("2"))
			stepped <- err
		}()
		behind := waitBehind(t, pool, nil, pid)
		blocked := make(chan error, 1)
		go func() { blocked <- out.Block(ctx, q) }()
		waitBehind(t, pool, blocked, behind) // Block finishes (before) or waits for the step
		require.NoError(t, held.Commit(ctx))
		require.NoError(t, <-stepped)
		require.NoError(t, <-blocked)
		require.False(t, marked(t, pool, salonID, "U"), "the chat that wrote is not marked")
		require.Equal(t, []string{"more 1", "reply 2", "more 2"}, queued(t, pool, salonID, "U"),
			"only the message that met the 403 is given up")
	})
}

// TestBlockGivesUpTheChatsQueuedMessages: when a 403 marks the chat, its
// messages queued after the one that met it and answering the same message,
// or no message (a staff notice), are given up with it: before, each stayed
// queued and met a 403 of its own. Other chats' messages stay queued.
func TestBlockGivesUpTheChatsQueuedMessages(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in, out := pipeline.NewInbox(pool, salonID), pipeline.NewOutbox(pool, salonID)
	for _, chat := range []string{"W", "X"} {
		require.NoError(t, in.Add(ctx, "tg", chat, chat, []byte("x"), ""))
		_, err := in.Next(ctx, "tg", answerWith("1"))
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO outbox (salon_id, channel, chat_id, body) VALUES ($1, 'tg', $2, $3)`,
			salonID, chat, `{"chat_id":"`+chat+`","reply":{"text":"notice"}}`) // a staff notice
		require.NoError(t, err)
	}
	due, err := out.Due(ctx, "tg", 10, 10)
	require.NoError(t, err)
	require.Len(t, due, 2)
	require.Equal(t, "W", due[0].Outgoing.ChatID)
	require.NoError(t, out.Block(ctx, due[0]))
	require.True(t, marked(t, pool, salonID, "W"))
	require.Empty(t, queued(t, pool, salonID, "W"), "nothing more is queued to the chat that blocked the bot")
	var failed []string
	require.NoError(t, pool.QueryRow(ctx, `SELECT array_agg(DISTINCT failed) FROM outbox WHERE salon_id = $1 AND chat_id = 'W'`,
		salonID).Scan(&failed))
	require.Equal(t, []string{"blocked by the user"}, failed)
	require.Equal(t, []string{"reply 1", "more 1", "notice"}, queued(t, pool, salonID, "X"), "another chat's messages stay")
}

// answerWith is a step that answers any update with two messages.
func answerWith(update string) func(messaging.Pending) (messaging.Handled, error) {
	return func(p messaging.Pending) (messaging.Handled, error) {
		return messaging.Handled{Out: []messaging.Outgoing{
			{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "reply " + update}},
			{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "more " + update}},
		}}, nil
	}
}

// holdTx begins a transaction the test ends, and returns it with its backend's pid.
func holdTx(t *testing.T, pool *pgxpool.Pool) (pgx.Tx, int) {
	t.Helper()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	var pid int
	require.NoError(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	return tx, pid
}

// waitBehind waits until a backend waits for a lock pid holds, and returns
// its pid, or until done has a value (which it leaves there), and returns 0.
func waitBehind(t *testing.T, pool *pgxpool.Pool, done chan error, pid int) int {
	t.Helper()
	var behind int
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			done <- err
			return true
		default:
		}
		err := pool.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) LIMIT 1`, pid).Scan(&behind)
		if errors.Is(err, pgx.ErrNoRows) {
			return false
		}
		require.NoError(t, err)
		return true
	}, 10*time.Second, 5*time.Millisecond, "a backend waiting behind %d", pid)
	return behind
}

// marked tells whether chat is marked blocked.
func marked(t *testing.T, pool *pgxpool.Pool, salonID, chat string) bool {
	t.Helper()
	var m bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM channel_chats
		WHERE salon_id = $1 AND channel = 'tg' AND chat_id = $2 AND blocked_at IS NOT NULL)`, salonID, chat).Scan(&m))
	return m
}

// queued lists the texts of chat's messages neither sent nor given up.
func queued(t *testing.T, pool *pgxpool.Pool, salonID, chat string) []string {
	t.Helper()
	var texts []string
	require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(array_agg(body->'reply'->>'text' ORDER BY id), '{}') FROM outbox
		WHERE salon_id = $1 AND channel = 'tg' AND chat_id = $2 AND failed IS NULL AND sent_at IS NULL`, salonID, chat).Scan(&texts))
	return texts
}
