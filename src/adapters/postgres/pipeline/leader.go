package pipeline

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Leader lets one process at a time, across every process on the database, do
// the work of a salon's channel: its sender, whose token buckets and 429 pause
// live in memory, so two senders of one bot would together exceed the
// provider's limits. Leadership is a session-level advisory lock held on a
// connection of the pool for as long as the work runs: a process that dies or
// loses its connection lets it go at once, and another takes it within Retry.
type Leader struct {
	pool    *pgxpool.Pool
	salonID string
	channel string
	log     *slog.Logger
	// Retry is how often a process that is not the leader tries to become it.
	// Zero means 2 s.
	Retry time.Duration
	// Ping is how often the held connection is checked; when it is lost the
	// work's context is cancelled. Zero means 1 s.
	Ping time.Duration
}

// NewLeader returns the leader election of salonID's channel (its sender).
func NewLeader(pool *pgxpool.Pool, salonID, channel string, log *slog.Logger) *Leader {
	return &Leader{pool: pool, salonID: salonID, channel: channel, log: log}
}

const (
	leaderLock = `SELECT pg_try_advisory_lock(hashtextextended('salonbook.sender/' || $1 || '/' || $2, 0))`
	// On TCP: probes after 10 s idle, every 5 s, 3 missed end the session;
	// unacknowledged data for 25 s does too. Ignored on a Unix socket.
	leaderKeepalive = `SELECT set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false),
		set_config('tcp_keepalives_count', '3', false), set_config('tcp_user_timeout', '25000', false)`
	leaderUnlock = `SELECT pg_advisory_unlock(hashtextextended('salonbook.sender/' || $1 || '/' || $2, 0))`
)

// Run runs fn whenever this process holds the leadership, until ctx ends: it
// tries to take the lock every Retry; once taken, fn runs with a context that
// is cancelled when ctx ends or the lock's connection is lost. When fn returns
// the lock is let go (and, if in doubt, its connection closed). Run returns
// after fn has returned, once ctx has ended.
func (l *Leader) Run(ctx context.Context, fn func(ctx context.Context)) {
	retry := l.Retry
	if retry <= 0 {
		retry = 2 * time.Second
	}
	failing := false // log a streak of failures once
	for ctx.Err() == nil {
		conn, err := l.take(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				l.log.Warn("sender leadership: cannot try the lock", slog.String("channel", l.channel), slog.String("error", err.Error()))
			}
			failing = true
		case conn != nil:
			failing = false
			l.lead(ctx, conn, fn)
		default:
			failing = false
		}
		leaderSleep(ctx, retry)
	}
}

// take tries the lock once: the connection holding it, or nil when another
// process holds it.
func (l *Leader) take(ctx context.Context) (*pgxpool.Conn, error) {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return nil, mapErr(err, "acquire a connection for the sender lock")
	}
	var got bool
	if err := conn.QueryRow(ctx, leaderLock, l.salonID, l.channel).Scan(&got); err != nil {
		// Whether the lock was taken is unknown: close the connection, which lets it go.
		dropConn(conn)
		return nil, mapErr(err, "try the sender lock")
	}
	if !got {
		conn.Release()
		return nil, nil
	}
	// The server keeps a session's advisory locks until it notices the session
	// is gone, and an idle session gets no traffic from it: with the OS's
	// default keepalive (2 h) a leader whose host died would hold the lock that
	// long. These make the server drop it within about half a minute.
	if _, err := conn.Exec(ctx, leaderKeepalive); err != nil {
		dropConn(conn)
		return nil, mapErr(err, "set keepalives for the sender lock")
	}
	return conn, nil
}

// lead runs fn while conn holds the lock, then lets the lock and conn go.
func (l *Leader) lead(ctx context.Context, conn *pgxpool.Conn, fn func(ctx context.Context)) {
	every := l.Ping
	if every <= 0 {
		every = time.Second
	}
	attrs := []any{slog.String("salon", l.salonID), slog.String("channel", l.channel)}
	l.log.Info("this process is now the sender", attrs...)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		fn(fctx)
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	lost := false
	for done := false; !done; {
		select {
		case <-finished:
			done = true
		case <-tick.C:
			if lost {
				continue
			}
			// The check outlives ctx: while fn finishes its sends after a
			// stop, the lock must still be known held.
			pctx, pcancel := context.WithTimeout(context.WithoutCancel(ctx), max(5*time.Second, every))
			err := conn.Ping(pctx)
			pcancel()
			if err != nil {
				lost = true
				cancel()
				l.log.Warn("this process is no longer the sender: its lock's connection is lost", append(attrs, slog.String("error", err.Error()))...)
			}
		}
	}
	if lost {
		dropConn(conn)
		return
	}
	uctx, ucancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer ucancel()
	var unlocked bool
	if err := conn.QueryRow(uctx, leaderUnlock, l.salonID, l.channel).Scan(&unlocked); err != nil || !unlocked {
		// The lock must not stay with a pooled connection: close it.
		dropConn(conn)
	} else {
		conn.Release()
	}
	l.log.Info("this process is no longer the sender", attrs...)
}

// dropConn closes a pooled connection (the server lets its session locks go) and
// gives it back to the pool, which then forgets it.
func dropConn(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Conn().Close(ctx)
	conn.Release()
}

func leaderSleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
