package pipeline_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
)

// leading runs a Leader as a process would and records when its work runs.
type leading struct {
	stop    context.CancelFunc
	stopped chan struct{} // Run returned
	started chan struct{} // one per time fn started
	ended   chan struct{} // one per time fn's context was cancelled and fn returned
	running atomic.Int32
}

// gauge counts the leaders of one key whose work runs, and the most at once.
type gauge struct {
	mu        sync.Mutex
	now, most int
}

func (g *gauge) add(n int) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now += n
	g.most = max(g.most, g.now)
}

func (g *gauge) highest() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.most
}

// lead starts a Leader of (salon, channel) on pool (a process of its own when
// the pool is); g, if not nil, counts its work with that of other leaders.
func lead(t *testing.T, pool *pgxpool.Pool, salon, channel string, g *gauge) *leading {
	t.Helper()
	l := pipeline.NewLeader(pool, salon, channel, slog.New(slog.DiscardHandler))
	l.Retry, l.Ping = 100*time.Millisecond, 50*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	p := &leading{stop: cancel, stopped: make(chan struct{}), started: make(chan struct{}, 10), ended: make(chan struct{}, 10)}
	go func() {
		defer close(p.stopped)
		l.Run(ctx, func(ctx context.Context) {
			p.running.Add(1)
			g.add(1)
			p.started <- struct{}{}
			<-ctx.Done()
			g.add(-1)
			p.running.Add(-1)
			p.ended <- struct{}{}
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-p.stopped
	})
	return p
}

func within(t *testing.T, c <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(d):
		t.Fatalf("%s: not within %v", what, d)
	}
}

func quiet(t *testing.T, c <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-c:
		t.Fatal(what)
	case <-time.After(d):
	}
}

func TestLeaderOneAtATimeThenHandsOver(t *testing.T) {
	t.Parallel()
	salon := pgtest.RandomID()
	g := &gauge{}
	// Two processes: a pool each.
	a := lead(t, pgtest.Pool(t), salon, "telegram", g)
	within(t, a.started, 10*time.Second, "the first leader runs its work")
	b := lead(t, pgtest.Pool(t), salon, "telegram", g)
	quiet(t, b.started, time.Second, "a second leader of the same key ran while the first held the lock")

	a.stop() // the first process stops: its work ends, the lock is let go
	within(t, a.ended, 5*time.Second, "the first leader's work is told to stop")
	within(t, a.stopped, 5*time.Second, "the first leader's Run returns after its work")
	within(t, b.started, 2*time.Second, "the second leader takes over within its retry interval")
	require.Equal(t, 1, g.highest(), "never two leaders of one key at once")
}

func TestLeaderDifferentKeysRunTogether(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	salon := pgtest.RandomID()
	tg := lead(t, pool, salon, "telegram", nil)
	wa := lead(t, pool, salon, "whatsapp", nil)
	other := lead(t, pool, pgtest.RandomID(), "telegram", nil)
	for _, l := range []*leading{tg, wa, other} {
		within(t, l.started, 10*time.Second, "each channel and salon has a sender of its own")
	}
	for _, l := range []*leading{tg, wa, other} {
		require.EqualValues(t, 1, l.running.Load())
	}
}

func TestLeaderLostConnectionCancelsWork(t *testing.T) {
	t.Parallel()
	salon := pgtest.RandomID()
	a := lead(t, pgtest.Pool(t), salon, "telegram", nil)
	within(t, a.started, 10*time.Second, "the first leader runs its work")
	b := lead(t, pgtest.Pool(t), salon, "telegram", nil)
	quiet(t, b.started, 300*time.Millisecond, "a second leader of the same key ran while the first held the lock")

	// The first leader's connection dies (a failover, an admin, a network cut).
	admin := pgtest.Pool(t)
	ctx := context.Background()
	var pid int32
	require.NoError(t, admin.QueryRow(ctx, `
		SELECT pid FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 1
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('salonbook.sender/' || $1 || '/' || $2, 0)`,
		salon, "telegram").Scan(&pid))
	var killed bool
	require.NoError(t, admin.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&killed))
	require.True(t, killed)

	within(t, a.ended, 5*time.Second, "the work of a leader whose lock connection is lost is cancelled")
	within(t, b.started, 5*time.Second, "the other leader takes over")
	require.EqualValues(t, 0, a.running.Load())
	quiet(t, a.started, 300*time.Millisecond, "the first leader keeps trying but does not run while the second holds the lock")

	// Its pool dropped the dead connection: it leads again once the second stops.
	b.stop()
	within(t, a.started, 5*time.Second, "the first leader takes the lock back")
}
