package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// answer handles an update with one reply (its payload) to its chat.
func answer(p messaging.Pending) (messaging.Handled, error) {
	return messaging.Handled{Out: []messaging.Outgoing{{ChatID: p.ChatID, Reply: &dialog.Reply{Text: string(p.Payload)}}}}, nil
}

// TestNextBatch: a worker takes several chats' heads in one transaction,
// runs their steps one after another and commits what they made together.
func TestNextBatch(t *testing.T) {
	t.Parallel()

	t.Run("OneHeadPerChatInChatOrderOnlyWhatWaits", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		for _, u := range []string{"b1", "d1", "a1", "c1", "d2"} { // oldest first: b, d, a, c
			require.NoError(t, in.Add(ctx, "tg", u, u[:1], []byte(u), ""))
		}
		var got []string
		n, err := in.NextBatch(ctx, "tg", 8, func(p messaging.Pending) (messaging.Handled, error) {
			got = append(got, string(p.Payload))
			return answer(p)
		})
		require.NoError(t, err)
		require.Equal(t, 4, n, "as many as are waiting: one head per chat")
		require.Equal(t, []string{"a1", "b1", "c1", "d1"}, got, "the steps run one after another, in chat order")
		require.Equal(t, []string{"b1", "d1", "a1", "c1"}, queuedReplies(t, pool, salonID),
			"each step's reply, with its update, queued in the order the updates arrived (not the chats' lock order)")
		var rows []string
		require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(array_agg(chat_id ORDER BY chat_id), '{}') FROM inbox_chats WHERE salon_id = $1`,
			salonID).Scan(&rows))
		require.Equal(t, []string{"d"}, rows, "the chats with nothing more waiting are gone, d queues again")
		require.Equal(t, []string{"d2"}, payloadsOf(drain(t, in)))

		for _, u := range []string{"e1", "f1", "g1"} {
			require.NoError(t, in.Add(ctx, "tg", u, u[:1], []byte(u), ""))
		}
		got = nil
		n, err = in.NextBatch(ctx, "tg", 2, func(p messaging.Pending) (messaging.Handled, error) {
			got = append(got, string(p.Payload))
			return messaging.Handled{}, nil
		})
		require.NoError(t, err)
		require.Equal(t, 2, n, "at most the batch asked for")
		require.Equal(t, []string{"e1", "f1"}, got, "the chats waiting longest")
	})

	t.Run("AFailedStepKeepsTheOthers", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		for _, u := range []string{"a1", "b1", "b2", "c1"} {
			require.NoError(t, in.Add(ctx, "tg", u, u[:1], []byte(u), ""))
		}
		n, err := in.NextBatch(ctx, "tg", 8, func(p messaging.Pending) (messaging.Handled, error) {
			h, _ := answer(p)
			if p.ChatID == "b" {
				return h, errors.New("state unreadable")
			}
			return h, nil
		})
		require.Equal(t, 3, n)
		require.ErrorContains(t, err, "state unreadable")
		require.Equal(t, []string{"a1", "c1"}, queuedReplies(t, pool, salonID), "the other steps are committed; the failed one's reply is not")
		var handled []string
		var attempts int
		var backingOff bool
		require.NoError(t, pool.QueryRow(ctx, `SELECT
			(SELECT array_agg(update_id ORDER BY update_id) FROM inbox WHERE salon_id = $1 AND handled_at IS NOT NULL),
			(SELECT attempts FROM inbox WHERE salon_id = $1 AND update_id = 'b1'),
			(SELECT retry_at > now() FROM inbox_chats WHERE salon_id = $1 AND chat_id = 'b')`, salonID).Scan(&handled, &attempts, &backingOff))
		require.Equal(t, []string{"a1", "c1"}, handled)
		require.Equal(t, 1, attempts, "the failed attempt is counted")
		require.True(t, backingOff, "its chat backs off")
		require.Empty(t, drain(t, in), "b's updates wait behind the failed one")
	})

	t.Run("AReplyThatCannotBeWrittenFailsOnlyItsStep", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		for _, u := range []string{"a1", "b1", "b2", "c1"} {
			require.NoError(t, in.Add(ctx, "tg", u, u[:1], []byte(u), ""))
		}
		bad := func(p messaging.Pending) (messaging.Handled, error) { // jsonb rejects "\u0000" (22P05)
			if p.ChatID == "b" {
				return messaging.Handled{Out: []messaging.Outgoing{{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "x\x00y"}}}}, nil
			}
			return answer(p)
		}
		state := func() (handled []string, attempts int, backingOff bool, dead *string) {
			require.NoError(t, pool.QueryRow(ctx, `SELECT
				(SELECT coalesce(array_agg(update_id ORDER BY update_id), '{}') FROM inbox WHERE salon_id = $1 AND handled_at IS NOT NULL),
				(SELECT attempts FROM inbox WHERE salon_id = $1 AND update_id = 'b1'),
				coalesce((SELECT retry_at > now() FROM inbox_chats WHERE salon_id = $1 AND chat_id = 'b'), false),
				(SELECT dead FROM inbox WHERE salon_id = $1 AND update_id = 'b1')`, salonID).Scan(&handled, &attempts, &backingOff, &dead))
			return
		}
		n, err := in.NextBatch(ctx, "tg", 8, bad)
		require.Equal(t, 3, n)
		require.ErrorContains(t, err, "22P05")
		require.Equal(t, []string{"a1", "c1"}, queuedReplies(t, pool, salonID), "the other steps are committed")
		handled, attempts, backingOff, _ := state()
		require.Equal(t, []string{"a1", "c1"}, handled)
		require.Equal(t, 1, attempts, "the failed write counts as an attempt")
		require.True(t, backingOff, "its chat backs off")
		require.Empty(t, drain(t, in), "b's updates wait behind the failed one")

		// Alone in its batch, its write fails the same way, is counted, and
		// after MaxUpdateAttempts it is given up.
		for i := 2; i <= pipeline.MaxUpdateAttempts; i++ {
			_, err := pool.Exec(ctx, `UPDATE inbox_chats SET retry_at = now() - interval '1 second' WHERE salon_id = $1 AND chat_id = 'b'`, salonID)
			require.NoError(t, err)
			n, err := in.NextBatch(ctx, "tg", 8, bad)
			require.Equal(t, 1, n)
			require.ErrorContains(t, err, "22P05")
			_, attempts, backingOff, _ := state()
			require.Equal(t, i, attempts)
			require.True(t, backingOff)
		}
		_, err = pool.Exec(ctx, `UPDATE inbox_chats SET retry_at = now() - interval '1 second' WHERE salon_id = $1 AND chat_id = 'b'`, salonID)
		require.NoError(t, err)
		n, err = in.NextBatch(ctx, "tg", 8, bad)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, _, _, dead := state()
		require.NotNil(t, dead)
		require.Contains(t, *dead, "gave up")
		require.Equal(t, []string{"b2"}, payloadsOf(drain(t, in)), "the chat moves on")
	})

	t.Run("AFailedTransactionTakesNone", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		for _, u := range []string{"a1", "b1"} {
			require.NoError(t, in.Add(ctx, "tg", u, u[:1], []byte(u), ""))
		}
		cut, cancel := context.WithCancel(ctx)
		n, err := in.NextBatch(cut, "tg", 8, func(p messaging.Pending) (messaging.Handled, error) {
			if p.ChatID == "b" {
				cancel() // the transaction's writes and commit fail
			}
			return answer(p)
		})
		require.Error(t, err)
		require.Zero(t, n, "nothing written: the worker is told it took none, and pauses")
		var handled, attempts int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE handled_at IS NOT NULL), coalesce(sum(attempts), 0) FROM inbox WHERE salon_id = $1`,
			salonID).Scan(&handled, &attempts))
		require.Zero(t, handled)
		require.Zero(t, attempts)
		require.Equal(t, []string{"a1", "b1"}, payloadsOf(drain(t, in)))
	})

	t.Run("ASkippedUpdateStaysAsItWas", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		for _, u := range []string{"a1", "b1"} {
			require.NoError(t, in.Add(ctx, "tg", u, u[:1], []byte(u), ""))
		}
		n, err := in.NextBatch(ctx, "tg", 8, func(p messaging.Pending) (messaging.Handled, error) {
			if p.ChatID == "b" { // the worker stops after a's step
				return messaging.Handled{}, messaging.ErrSkipped
			}
			return answer(p)
		})
		require.NoError(t, err, "skipping is no failure")
		require.Equal(t, 2, n)
		require.Equal(t, []string{"a1"}, queuedReplies(t, pool, salonID))
		var attempts int
		var backingOff bool
		require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT attempts FROM inbox WHERE salon_id = $1 AND update_id = 'b1' AND handled_at IS NULL),
			(SELECT retry_at IS NOT NULL FROM inbox_chats WHERE salon_id = $1 AND chat_id = 'b')`, salonID).Scan(&attempts, &backingOff))
		require.Zero(t, attempts, "no attempt counted")
		require.False(t, backingOff)
		require.Equal(t, []string{"b1"}, payloadsOf(drain(t, in)), "taken again at once")
	})

	t.Run("APoisonUpdateIsGivenUpBesideTheOthers", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		for _, u := range []string{"p1", "q1"} {
			require.NoError(t, in.Add(ctx, "tg", u, u[:1], []byte(u), ""))
		}
		_, err := pool.Exec(ctx, `UPDATE inbox SET attempts = $2 WHERE salon_id = $1 AND update_id = 'p1'`, salonID, pipeline.MaxUpdateAttempts)
		require.NoError(t, err)
		var got []string
		n, err := in.NextBatch(ctx, "tg", 8, func(p messaging.Pending) (messaging.Handled, error) {
			got = append(got, string(p.Payload))
			return answer(p)
		})
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.Equal(t, []string{"q1"}, got, "the poison update is not handed out")
		var dead string
		var rows int
		require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT dead FROM inbox WHERE salon_id = $1 AND update_id = 'p1' AND handled_at IS NOT NULL),
			(SELECT count(*) FROM inbox_chats WHERE salon_id = $1)`, salonID).Scan(&dead, &rows))
		require.Contains(t, dead, "gave up")
		require.Zero(t, rows, "both chats move on")
		require.Equal(t, []string{"q1"}, queuedReplies(t, pool, salonID))
	})
}

// TestNextBatchLocksChatsInTheWritersOrder: a batch of several chats moves
// their inbox_chats rows on in chat order, the order insertInbox upserts them
// in (one statement for many chats: the webhook's group commit), so neither
// waits for the other in a cycle. Here a writer holds chat a's row (its next
// update stored, not yet committed) while a worker's batch of a and b (b
// waiting longer) moves them on, then stores b's next update: taken in head
// order, the worker held b's row while waiting for a's, the writer waited for
// b's, and PostgreSQL aborted one of them as a deadlock.
func TestNextBatchLocksChatsInTheWritersOrder(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in := pipeline.NewInbox(pool, salonID)
	_, err := in.Next(ctx, "tg", answer) // the start-up repair, out of the way
	require.NoError(t, err)
	require.NoError(t, in.Add(ctx, "tg", "b1", "b", []byte("b1"), ""))
	require.NoError(t, in.Add(ctx, "tg", "a1", "a", []byte("a1"), ""))
	w, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer w.Rollback(ctx)                //nolint:errcheck
	store := func(update string) error { // as the group commit: the chat's row upserted, held until the commit
		_, err := w.Exec(ctx, pipeline.InsertInbox, salonID, []string{"tg"}, []string{update}, []string{update[:1]},
			[][]byte{[]byte(update)}, []string{""}, nil)
		return err
	}
	require.NoError(t, store("a2"))
	var writer int
	require.NoError(t, w.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&writer))
	var got []string
	done := make(chan error, 1)
	go func() {
		_, err := in.NextBatch(ctx, "tg", 8, func(p messaging.Pending) (messaging.Handled, error) {
			got = append(got, string(p.Payload))
			return answer(p)
		})
		done <- err
	}()
	waitBlockedBy(t, pool, writer) // the batch moves a on: it waits for the writer's row lock
	require.NoError(t, store("b2"), "the writer's next chat is not held by the waiting batch")
	require.NoError(t, w.Commit(ctx))
	require.NoError(t, <-done)
	require.Equal(t, []string{"a1", "b1"}, got)
	require.Equal(t, []string{"a2", "b2"}, payloadsOf(drain(t, in)), "both chats kept their rows")
}

// TestNextBatchWorkersAndWritersTogether: workers taking batches of chats and
// writers storing updates of many chats in each statement, all at once, in
// both processes' ways (Add and the group commit): no error (no deadlock), a
// chat is in one step at a time, in order, and every update is handled.
func TestNextBatchWorkersAndWritersTogether(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in := pipeline.NewInbox(pool, salonID)
	gc := pipeline.NewGroupCommit(pool, salonID, pipeline.GroupCommitOptions{})
	_, err := in.Next(ctx, "tg", answer) // the start-up repair, out of the way
	require.NoError(t, err)
	const chats, rounds = 48, 30
	var mu sync.Mutex
	seen := map[string][]int{}
	busy := map[string]bool{}
	overlaps := 0
	stop := make(chan struct{})
	var workers sync.WaitGroup
	for range 4 {
		workers.Go(func() {
			for {
				n, err := in.NextBatch(ctx, "tg", 8, func(p messaging.Pending) (messaging.Handled, error) {
					mu.Lock()
					if busy[p.ChatID] {
						overlaps++
					}
					busy[p.ChatID] = true
					mu.Unlock()
					time.Sleep(100 * time.Microsecond)
					var i int
					fmt.Sscan(string(p.Payload), &i)
					mu.Lock()
					busy[p.ChatID] = false
					seen[p.ChatID] = append(seen[p.ChatID], i)
					mu.Unlock()
					return answer(p)
				})
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					select {
					case <-stop:
						return
					case <-time.After(time.Millisecond):
					}
				}
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 3 {
		writers.Go(func() {
			for r := range rounds {
				// Writer 0 stores a round of every chat in one statement
				// (in reverse: the statement orders them); the others
				// through the group commit, a chat each, together.
				ids, chatIDs, payloads, dead := []string{}, []string{}, [][]byte{}, []string{}
				for c := chats - 1; c >= 0; c-- {
					if c%3 != w {
						continue
					}
					ids, chatIDs = append(ids, fmt.Sprint(c, "-", r)), append(chatIDs, fmt.Sprint("c", c))
					payloads, dead = append(payloads, []byte(fmt.Sprint(r))), append(dead, "")
				}
				if w < 2 {
					_, err := pool.Exec(ctx, pipeline.InsertInbox, salonID, slices.Repeat([]string{"tg"}, len(ids)), ids, chatIDs, payloads, dead, nil)
					if err != nil {
						t.Error(err)
					}
					continue
				}
				var adds sync.WaitGroup
				for i := range ids {
					adds.Go(func() {
						if err := gc.Add(ctx, "tg", ids[i], chatIDs[i], payloads[i], ""); err != nil {
							t.Error(err)
						}
					})
				}
				adds.Wait()
			}
		})
	}
	writers.Wait()
	gc.Close()
	require.Eventually(t, func() bool {
		var left int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM inbox WHERE salon_id = $1 AND handled_at IS NULL`, salonID).Scan(&left))
		return left == 0
	}, 30*time.Second, 20*time.Millisecond, "every update is handled")
	close(stop)
	workers.Wait()
	require.Zero(t, overlaps, "two workers were in one chat at once")
	for c := range chats {
		got := seen[fmt.Sprint("c", c)]
		require.Len(t, got, rounds)
		require.True(t, slices.IsSorted(got), "chat c%d in order: %v", c, got)
	}
}

// queuedReplies lists the texts of the replies queued in the outbox, oldest
// first.
func queuedReplies(t *testing.T, pool *pgxpool.Pool, salonID string) []string {
	t.Helper()
	var out []string
	require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(array_agg(body->'reply'->>'text' ORDER BY id), '{}') FROM outbox
		WHERE salon_id = $1 AND body ? 'reply'`, salonID).Scan(&out))
	return out
}

// waitBlockedBy waits until a statement of another session waits for a lock
// the session pid holds.
func waitBlockedBy(t *testing.T, pool *pgxpool.Pool, pid int) {
	t.Helper()
	require.Eventually(t, func() bool {
		var waiting int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&waiting))
		return waiting > 0
	}, 5*time.Second, 5*time.Millisecond, "a statement waiting for session %d", pid)
}

// TestNextBatchMakesNoMultiXacts: the heads' locks and their updates share
// one (sub)transaction, so handling an update leaves no MultiXact as the old
// row version's xmax (a head locked by the transaction and updated under a
// later savepoint got one per update handled: pg_multixact growth and
// anti-wraparound vacuums).
func TestNextBatchMakesNoMultiXacts(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	var super bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super))
	if !super {
		t.Skip("pageinspect needs a superuser")
	}
	_, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pageinspect`)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42710") { // created by a concurrent test meanwhile
		err = nil
	}
	require.NoError(t, err)
	// A snapshot held from before the batch keeps the old row versions from
	// being pruned or vacuumed away while they are read (inbox is shared with
	// the package's other tests).
	hold, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	require.NoError(t, err)
	defer func() { _ = hold.Rollback(ctx) }()
	_, err = hold.Exec(ctx, `SELECT 1`)
	require.NoError(t, err)
	in := pipeline.NewInbox(pool, salonID)
	for _, u := range []string{"mx-a", "mx-b", "mx-c"} {
		require.NoError(t, in.Add(ctx, "tg", u, u, []byte(u), ""))
	}
	n, err := in.NextBatch(ctx, "tg", 8, answer)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	// The old versions of the handled rows: those whose t_ctid points at a
	// live handled row of this salon, on any page of inbox.
	var multis, olds int
	require.NoError(t, pool.QueryRow(ctx, `
		WITH live AS (SELECT ctid FROM inbox WHERE salon_id = $1 AND handled_at IS NOT NULL),
		     items AS (SELECT p.blkno, h.* FROM generate_series(0, (pg_relation_size('inbox') / current_setting('block_size')::int)::int - 1) p(blkno),
		               LATERAL heap_page_items(get_raw_page('inbox', p.blkno)) h)
		SELECT count(*) FILTER (WHERE i.t_infomask & 4096 <> 0), count(*)
		FROM items i JOIN live l ON i.t_ctid = l.ctid
		WHERE format('(%s,%s)', i.blkno, i.lp)::tid <> l.ctid`, salonID).Scan(&multis, &olds))
	require.Equal(t, 3, olds, "the three handled rows' old versions")
	require.Zero(t, multis, "no MultiXact as an old version's xmax")
}
