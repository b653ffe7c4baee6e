package pipeline_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// TestConcurrentDonesAreEachRecordedUnderTheirOwnLease: Done calls of sends
// finishing together are written together (issue 17), and each still counts
// only under its own lease: in a crowd of 40, the ones holding a lease that is
// not theirs change nothing, the others are marked sent or given up as asked,
// and every call returns only once its row is written.
func TestConcurrentDonesAreEachRecordedUnderTheirOwnLease(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in, out := pipeline.NewInbox(pool, salonID), pipeline.NewOutbox(pool, salonID)
	const chats = 40
	for i := range chats {
		require.NoError(t, in.Add(ctx, "tg", fmt.Sprint(i), fmt.Sprint("chat", i), []byte("x"), ""))
	}
	for range chats {
		_, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
			return messaging.Handled{Out: []messaging.Outgoing{{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "hi " + p.ChatID}}}}, nil
		})
		require.NoError(t, err)
	}
	due, err := out.Due(ctx, "tg", 0, chats)
	require.NoError(t, err)
	require.Len(t, due, chats)
	want := map[int64]string{} // id -> "sent", "failed", "leased"
	var wg sync.WaitGroup
	for i, q := range due {
		switch i % 4 {
		case 0:
			q.Lease = "an-expired-lease"
			want[q.ID] = "leased"
		case 1:
			want[q.ID] = "failed"
		default:
			want[q.ID] = "sent"
		}
		failure := ""
		if want[q.ID] == "failed" {
			failure = "rejected"
		}
		wg.Go(func() {
			require.NoError(t, out.Done(ctx, q, failure))
			var state string
			require.NoError(t, pool.QueryRow(ctx, `SELECT CASE WHEN sent_at IS NOT NULL THEN 'sent' WHEN failed IS NOT NULL THEN 'failed' ELSE 'leased' END
				FROM outbox WHERE id = $1`, q.ID).Scan(&state))
			require.Equal(t, want[q.ID], state, "written when Done returned")
		})
	}
	wg.Wait()
	rows, err := pool.Query(ctx, `SELECT id, CASE WHEN sent_at IS NOT NULL THEN 'sent' WHEN failed IS NOT NULL THEN 'failed' ELSE 'leased' END,
		lease_token IS NOT NULL FROM outbox WHERE salon_id = $1`, salonID)
	require.NoError(t, err)
	got := map[int64]string{}
	for rows.Next() {
		var id int64
		var state string
		var leased bool
		require.NoError(t, rows.Scan(&id, &state, &leased))
		got[id] = state
		require.Equal(t, state == "leased", leased, "a done message drops its lease; a stale Done leaves the lease alone")
	}
	require.NoError(t, rows.Err())
	require.Equal(t, want, got)
}

// TestAwaitAnsweredWaitsForTheRowsQueuedBefore: a worker's wait for the
// acknowledgements ahead of it (issue 17) returns at once with nothing
// queued, waits while rows queued before it are not yet committed, and
// returns once they are; its bound holds when they never are.
func TestAwaitAnsweredWaitsForTheRowsQueuedBefore(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	// One flusher, batches of 3 that never linger out: rows are written when
	// a batch fills, so the test decides when.
	g := pipeline.NewGroupCommit(pool, salonID, pipeline.GroupCommitOptions{Flushers: 1, MaxBatch: 3, Linger: never})
	defer g.Close()

	returned := make(chan bool, 1)
	go func() { returned <- g.AwaitAnswered(ctx, time.Hour) }()
	select {
	case waited := <-returned:
		require.False(t, waited, "nothing was waiting")
	case <-time.After(10 * time.Second):
		t.Fatal("AwaitAnswered with nothing queued did not return")
	}

	var adds sync.WaitGroup
	for i := range 2 {
		adds.Go(func() { require.NoError(t, g.Add(ctx, "tg", fmt.Sprint("a", i), "A", []byte("x"), "")) })
	}
	require.Eventually(t, func() bool { return g.Pending() == 2 }, 10*time.Second, time.Millisecond)
	bounded := time.Now()
	require.True(t, g.AwaitAnswered(ctx, 50*time.Millisecond), "rows were waiting") // the two rows wait for a third: the bound ends it
	require.GreaterOrEqual(t, time.Since(bounded), 50*time.Millisecond)
	require.Equal(t, 2, g.Pending(), "the rows ahead are still not written")

	waited := make(chan struct{})
	go func() { g.AwaitAnswered(ctx, time.Hour); close(waited) }()
	select {
	case <-waited:
		t.Fatal("AwaitAnswered returned before the rows queued before it were committed")
	case <-time.After(100 * time.Millisecond):
	}
	adds.Go(func() { require.NoError(t, g.Add(ctx, "tg", "a3", "A", []byte("x"), "")) }) // fills the batch
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("AwaitAnswered did not return once the rows were committed")
	}
	adds.Wait()
	require.Len(t, inboxRows(t, pool, salonID), 3)
}

// TestStepWritesAreAtomic: a step's writes go in one pipelined round trip
// (issue 17) and stay one transaction: when they fail part-way (here the
// first waits on the chat's lock held elsewhere and the step's context ends),
// nothing of the step is kept: the update is still waiting, with no reply
// queued, and is taken again.
func TestStepWritesAreAtomic(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in := pipeline.NewInbox(pool, salonID)
	require.NoError(t, in.Add(ctx, "tg", "1", "A", []byte("x"), ""))
	// Hold the chat's blocked-mark lock: the step's first write waits for it.
	hold, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = hold.Rollback(ctx) }()
	_, err = hold.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('salonbook.blocked/' || $1 || '/tg/A', 0))`, salonID)
	require.NoError(t, err)
	stepCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = in.Next(stepCtx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
		return messaging.Handled{Out: []messaging.Outgoing{{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "hi"}}}}, nil
	})
	require.Error(t, err, "the step's writes were cut off")
	require.NoError(t, hold.Rollback(ctx))
	var queued, handled int
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM outbox WHERE salon_id = $1),
		(SELECT count(*) FROM inbox WHERE salon_id = $1 AND handled_at IS NOT NULL)`, salonID).Scan(&queued, &handled))
	require.Zero(t, queued, "no reply of the failed step is queued")
	require.Zero(t, handled, "the update is still waiting")
	ps := drain(t, in)
	require.Len(t, ps, 1, "the update is taken again")
}

// TestFailedDoneLeavesTheMessageLeased: a Done whose write fails (its context
// ended) reports the error and marks nothing: the message stays leased, to be
// sent again after the lease (at least once, never lost); the next Done is
// written as usual (a failed batch does not leave the writing turn taken).
func TestFailedDoneLeavesTheMessageLeased(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in, out := pipeline.NewInbox(pool, salonID), pipeline.NewOutbox(pool, salonID)
	require.NoError(t, in.Add(ctx, "tg", "1", "A", []byte("x"), ""))
	require.NoError(t, in.Add(ctx, "tg", "2", "B", []byte("x"), ""))
	for range 2 {
		_, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
			return messaging.Handled{Out: []messaging.Outgoing{{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "hi"}}}}, nil
		})
		require.NoError(t, err)
	}
	due, err := out.Due(ctx, "tg", 0, 2)
	require.NoError(t, err)
	require.Len(t, due, 2)
	gone, cancel := context.WithCancel(ctx)
	cancel()
	require.Error(t, out.Done(gone, due[0], ""))
	require.NoError(t, out.Done(ctx, due[1], ""))
	var sent0, sent1, leased0 bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT sent_at IS NOT NULL FROM outbox WHERE id = $1), (SELECT sent_at IS NOT NULL FROM outbox WHERE id = $2),
		(SELECT lease_token IS NOT NULL FROM outbox WHERE id = $1)`, due[0].ID, due[1].ID).Scan(&sent0, &sent1, &leased0))
	require.False(t, sent0, "a failed Done marks nothing sent")
	require.True(t, leased0, "it stays leased: sent again after the lease")
	require.True(t, sent1, "the next Done is written")
}
