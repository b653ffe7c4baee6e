package pipeline_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core"
)

// never is a linger no test waits out: batches in these tests are written
// because they fill, or because Close flushes them.
const never = time.Hour

type inboxRow struct {
	UpdateID, ChatID string
	Payload          string
	Dead             *string
	Handled          bool
}

func inboxRows(t *testing.T, pool *pgxpool.Pool, salonID string) []inboxRow {
	t.Helper()
	rows, err := pool.Query(ctx, `SELECT update_id, chat_id, convert_from(payload, 'UTF8'), dead, handled_at IS NOT NULL
		FROM inbox WHERE salon_id = $1 ORDER BY id`, salonID)
	require.NoError(t, err)
	var out []inboxRow
	for rows.Next() {
		var r inboxRow
		require.NoError(t, rows.Scan(&r.UpdateID, &r.ChatID, &r.Payload, &r.Dead, &r.Handled))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

// addAll runs each add in a goroutine of its own and returns their errors, in
// the order of adds.
func addAll(g *pipeline.GroupCommit, adds [][2]string) []error {
	errs := make([]error, len(adds))
	var wg sync.WaitGroup
	for i, a := range adds {
		wg.Go(func() { errs[i] = g.Add(ctx, "tg", a[0], a[1], []byte("u"+a[0]), "") })
	}
	wg.Wait()
	return errs
}

func TestGroupCommit(t *testing.T) {
	t.Parallel()

	t.Run("ManyConcurrentAddsAreAllStoredOnce", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		g := pipeline.NewGroupCommit(pool, salonID, pipeline.GroupCommitOptions{MaxBatch: 16, Flushers: 3})
		t.Cleanup(g.Close)
		var adds [][2]string
		for i := range 400 {
			adds = append(adds, [2]string{fmt.Sprint(i), fmt.Sprint(i % 7)})
			if i%10 == 0 { // a redelivery
				adds = append(adds, [2]string{fmt.Sprint(i), fmt.Sprint(i % 7)})
			}
		}
		for _, err := range addAll(g, adds) {
			require.NoError(t, err)
		}
		require.Zero(t, g.Pending())
		rows := inboxRows(t, pool, salonID)
		require.Len(t, rows, 400)
		ids := map[string]bool{}
		for _, r := range rows {
			require.False(t, ids[r.UpdateID], "update %s stored twice", r.UpdateID)
			ids[r.UpdateID] = true
			require.Equal(t, "u"+r.UpdateID, r.Payload)
			require.Nil(t, r.Dead)
			require.False(t, r.Handled)
		}
	})

	t.Run("RedeliveriesInsideOneBatchAndAfterAreNoOps", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		g := pipeline.NewGroupCommit(pool, salonID, pipeline.GroupCommitOptions{MaxBatch: 4, Linger: never, Flushers: 1})
		t.Cleanup(g.Close)
		// Exactly one batch: it is written when its fourth row arrives.
		for _, err := range addAll(g, [][2]string{{"1", "42"}, {"2", "42"}, {"1", "42"}, {"1", "42"}}) {
			require.NoError(t, err)
		}
		// The next batch redelivers one of them, beside a new one and a dead letter.
		var errs []error
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, a := range []func() error{
			func() error { return g.Add(ctx, "tg", "2", "42", []byte("u2"), "") },
			func() error { return g.Add(ctx, "tg", "3", "43", []byte("u3"), "") },
			func() error { return g.Add(ctx, "tg", "dead:ab", "", []byte("garbage"), "undecodable") },
			func() error { return g.Add(ctx, "tg", "dead:ab", "", []byte("garbage"), "undecodable") },
		} {
			wg.Go(func() {
				err := a()
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		rows := inboxRows(t, pool, salonID)
		require.Len(t, rows, 4)
		byID := map[string]inboxRow{}
		for _, r := range rows {
			byID[r.UpdateID] = r
		}
		require.Equal(t, "u1", byID["1"].Payload)
		require.Equal(t, "u2", byID["2"].Payload)
		require.Equal(t, "43", byID["3"].ChatID)
		dead := byID["dead:ab"]
		require.NotNil(t, dead.Dead)
		require.Equal(t, "undecodable", *dead.Dead)
		require.True(t, dead.Handled, "a dead letter is never handed to a worker")
		require.Empty(t, dead.ChatID)
	})

	t.Run("ABatchKeepsArrivalOrder", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		g := pipeline.NewGroupCommit(pool, salonID, pipeline.GroupCommitOptions{MaxBatch: 3, Linger: never, Flushers: 1})
		t.Cleanup(g.Close)
		var wg sync.WaitGroup
		for i, id := range []string{"30", "10", "20"} {
			wg.Go(func() { require.NoError(t, g.Add(ctx, "tg", id, "42", []byte("u"+id), "")) })
			if i < 2 { // the third fills the batch
				require.Eventually(t, func() bool { return g.Pending() == i+1 }, 10*time.Second, time.Millisecond)
			}
		}
		wg.Wait()
		var got []string
		for _, r := range inboxRows(t, pool, salonID) {
			got = append(got, r.UpdateID)
		}
		require.Equal(t, []string{"30", "10", "20"}, got, "ids follow arrival, which orders a chat's updates")
	})

	t.Run("CloseWritesWhatIsQueuedThenRefuses", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		g := pipeline.NewGroupCommit(pool, salonID, pipeline.GroupCommitOptions{MaxBatch: 100, Linger: never, Flushers: 2})
		errs := make(chan error, 5)
		for i := range 5 {
			go func() { errs <- g.Add(ctx, "tg", fmt.Sprint(i), "42", []byte("u"), "") }()
		}
		require.Eventually(t, func() bool { return g.Pending() == 5 }, 10*time.Second, time.Millisecond)
		require.Empty(t, inboxRows(t, pool, salonID), "nothing is written before the batch fills or lingers")
		g.Close()
		for range 5 {
			require.NoError(t, <-errs)
		}
		require.Len(t, inboxRows(t, pool, salonID), 5)
		err := g.Add(ctx, "tg", "9", "42", []byte("u"), "")
		require.ErrorIs(t, err, pipeline.ErrGroupCommitClosed)
		require.Equal(t, core.EUnavailable, core.ErrorCode(err))
		g.Close() // twice is harmless
	})

	t.Run("AFailingBatchFailsAllItsCallersAndStoresNothing", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		g := pipeline.NewGroupCommit(pool, salonID, pipeline.GroupCommitOptions{MaxBatch: 4, Linger: never, Flushers: 1})
		t.Cleanup(g.Close)
		// One row PostgreSQL refuses (text cannot hold NUL) sinks its whole batch.
		errs := addAll(g, [][2]string{{"1", "42"}, {"2", "42"}, {"bad\x00", "42"}, {"3", "43"}})
		for _, err := range errs {
			require.Error(t, err)
			require.ErrorContains(t, err, "postgres: add batch to inbox")
		}
		require.Empty(t, inboxRows(t, pool, salonID), "nothing half-stored")
		// The next batch is unaffected: the provider's redeliveries are stored.
		for _, err := range addAll(g, [][2]string{{"1", "42"}, {"2", "42"}, {"3", "43"}, {"4", "43"}}) {
			require.NoError(t, err)
		}
		require.Len(t, inboxRows(t, pool, salonID), 4)
	})

	t.Run("ACallerThatGivesUpDoesNotSinkTheBatch", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		g := pipeline.NewGroupCommit(pool, salonID, pipeline.GroupCommitOptions{MaxBatch: 3, Linger: never, Flushers: 1})
		t.Cleanup(g.Close)
		gone, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- g.Add(gone, "tg", "1", "42", []byte("u1"), "") }()
		require.Eventually(t, func() bool { return g.Pending() == 1 }, 10*time.Second, time.Millisecond)
		cancel() // the client hung up: it hears an error (Telegram redelivers)
		require.Equal(t, core.EUnavailable, core.ErrorCode(<-done))
		for _, err := range addAll(g, [][2]string{{"2", "42"}, {"3", "42"}}) {
			require.NoError(t, err)
		}
		require.Len(t, inboxRows(t, pool, salonID), 3, "its row is still written with the batch; a redelivery is a no-op")
	})
}

// TestGroupCommitKeepsAChatInOrder: a chat's rows commit in the order they were
// added even when the batch holding the earlier one is held up (here by an
// uncommitted copy of the same update in another transaction, as a redelivery
// racing its first delivery would): the later one waits, it does not overtake
// through another flusher.
func TestGroupCommitKeepsAChatInOrder(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	_, salonID := pgtest.Salon(t)
	g := pipeline.NewGroupCommit(pool, salonID, pipeline.GroupCommitOptions{Flushers: 4, MaxBatch: 1})
	defer g.Close()

	blocker, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer blocker.Rollback(ctx) //nolint:errcheck // (runs before Close: a failing test must not hang on the held batch)
	_, err = blocker.Exec(ctx, `INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload) VALUES ($1, 'tg', 'u1', 'c1', 'x')`, salonID)
	require.NoError(t, err)

	first := make(chan error, 1)
	go func() { first <- g.Add(ctx, "tg", "u1", "c1", []byte("u1"), "") }()
	require.Eventually(t, func() bool { return g.Pending() == 1 }, 5*time.Second, time.Millisecond)
	second := make(chan error, 1)
	go func() { second <- g.Add(ctx, "tg", "u2", "c1", []byte("u2"), "") }()
	select {
	case err := <-second:
		t.Fatalf("the chat's later update committed (%v) while its earlier one was held", err)
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, blocker.Rollback(ctx))
	require.NoError(t, <-first)
	require.NoError(t, <-second)
	var ids []string
	rows, err := pool.Query(ctx, `SELECT update_id FROM inbox WHERE salon_id = $1 AND chat_id = 'c1' ORDER BY id`, salonID)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.Equal(t, []string{"u1", "u2"}, ids)
}
