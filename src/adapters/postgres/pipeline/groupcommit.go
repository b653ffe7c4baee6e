package pipeline

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
)

// GroupCommitOptions tune a GroupCommit. Zero values take the defaults.
type GroupCommitOptions struct {
	// MaxBatch is the most rows one insert carries. Default 128.
	MaxBatch int
	// Linger is how long a flusher waits, after taking the first row of a
	// batch, for more rows to join it. Default 200 µs. A batch that fills is
	// written at once. (Rows also gather while every flusher is committing.)
	Linger time.Duration
	// Flushers is how many batches may be in flight at once (each holds one
	// pooled connection while it commits). Default 4.
	Flushers int
	// Timeout bounds one batch's insert and commit. Default 10 s.
	Timeout time.Duration
}

// ErrGroupCommitClosed is what Add answers once Close has begun: the caller
// answers an error and the provider delivers the update again later.
var ErrGroupCommitClosed = core.Errorf(core.EUnavailable, "error.unavailable", "postgres: inbox group commit is closed")

// GroupCommit stores webhook updates in the inbox (as Inbox.Add does) with the
// rows of concurrent callers committed together: a flusher takes the first
// waiting row, lets others join it for Linger or until MaxBatch, and writes
// them with one multi-row INSERT … ON CONFLICT DO NOTHING, in arrival order.
// Each Add returns only once its own row is committed (durable), or with the
// batch's error: a batch is one statement, so it is stored whole or not at
// all, and an error fails exactly the callers of that batch. A redelivery,
// in the same batch or later, is a no-op.
type GroupCommit struct {
	pool    *pgxpool.Pool
	salonID string
	opts    GroupCommitOptions

	// queues has one queue per flusher; a chat's rows always go to the same one
	// (by a hash of channel and chat), so they are committed in the order
	// they were added: a later update of a chat never commits before an
	// earlier one, and one update's copies never sit in two batches at once.
	queues  []chan *gcRow
	mu      sync.RWMutex // held for reading while a row is queued; Close takes it to stop the queues
	shut    bool
	done    sync.WaitGroup
	pending atomic.Int64

	// added and answered count rows queued and rows answered since the start;
	// flushed is closed (and replaced) after every batch: AwaitAnswered.
	added, answered atomic.Int64
	flushMu         sync.Mutex
	flushed         chan struct{}
}

type gcRow struct {
	channel, updateID, chatID, dead string
	payload                         []byte
	inbound                         time.Time  // AddInbound's: the chat's window, stored with the row
	result                          chan error // buffered: a flusher never waits for a caller
}

// NewGroupCommit starts the flushers of salonID's inbox; Close stops them.
func NewGroupCommit(pool *pgxpool.Pool, salonID string, opts GroupCommitOptions) *GroupCommit {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 128
	}
	if opts.Linger <= 0 {
		opts.Linger = 200 * time.Microsecond
	}
	if opts.Flushers <= 0 {
		opts.Flushers = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	g := &GroupCommit{pool: pool, salonID: salonID, opts: opts, flushed: make(chan struct{})}
	for range opts.Flushers {
		q := make(chan *gcRow, opts.MaxBatch)
		g.queues = append(g.queues, q)
		g.done.Go(func() { g.flusher(q) })
	}
	return g
}

// Add stores a received update and returns once it is committed; see
// messaging.Inbox.Add. When ctx ends first Add returns its error, and the row
// may or may not be stored (a redelivery makes that harmless).
func (g *GroupCommit) Add(ctx context.Context, channel, updateID, chatID string, payload []byte, dead string) error {
	return g.add(ctx, &gcRow{channel: channel, updateID: updateID, chatID: chatID, dead: dead, payload: payload})
}

// AddInbound stores a client's message as Add does and records, in the same
// statement, that the client wrote at at (chat_windows, as ChatWindows.Inbound
// does: an older time never replaces a newer one). The window is committed
// with the row, so a worker that takes the message finds the window open,
// and it costs no commit of its own (written apart, it cost a commit per
// WhatsApp request, outside the group commit).
func (g *GroupCommit) AddInbound(ctx context.Context, channel, updateID, chatID string, payload []byte, at time.Time) error {
	return g.add(ctx, &gcRow{channel: channel, updateID: updateID, chatID: chatID, payload: payload, inbound: at})
}

func (g *GroupCommit) add(ctx context.Context, r *gcRow) error {
	r.result = make(chan error, 1)
	channel, chatID := r.channel, r.chatID
	g.mu.RLock()
	if g.shut {
		g.mu.RUnlock()
		return ErrGroupCommitClosed
	}
	h := fnv.New32a()
	h.Write([]byte(channel))
	h.Write([]byte{0})
	h.Write([]byte(chatID))
	select {
	case g.queues[h.Sum32()%uint32(len(g.queues))] <- r:
		g.pending.Add(1)
		g.added.Add(1)
		g.mu.RUnlock()
	case <-ctx.Done():
		g.mu.RUnlock()
		return mapErr(ctx.Err(), "add to inbox")
	}
	select {
	case err := <-r.result:
		return err
	case <-ctx.Done():
		return mapErr(ctx.Err(), "add to inbox")
	}
}

// Pending is how many rows are queued or being written, not yet answered.
func (g *GroupCommit) Pending() int { return int(g.pending.Load()) }

// AwaitAnswered returns once as many rows as had been queued at the call
// have been answered (committed or failed), or after at most max, or when ctx
// ends: a worker about to take its next step lets the deliveries waiting now
// be acknowledged first (about one batch's commit), instead of pausing a fixed
// time while any delivery waits (under a steady stream some always does, and
// every step then waited the whole pause). It reports whether rows were
// waiting at the call (it had to wait).
func (g *GroupCommit) AwaitAnswered(ctx context.Context, max time.Duration) (waited bool) {
	target := g.added.Load()
	if g.answered.Load() >= target {
		return false
	}
	timer := time.NewTimer(max)
	defer timer.Stop()
	for {
		g.flushMu.Lock()
		wake := g.flushed
		g.flushMu.Unlock()
		if g.answered.Load() >= target {
			return true
		}
		select {
		case <-wake:
		case <-timer.C:
			return true
		case <-ctx.Done():
			return true
		}
	}
}

// Close stops taking rows, writes those already queued and returns when every
// flusher has finished. Call it after the HTTP server has finished its
// requests and before the pool closes.
func (g *GroupCommit) Close() {
	g.mu.Lock()
	if !g.shut {
		g.shut = true
		for _, q := range g.queues { // no Add is between its check and its send: they hold mu for reading
			close(q)
		}
	}
	g.mu.Unlock()
	g.done.Wait()
}

// flusher writes batches from its queue until it is closed and drained.
func (g *GroupCommit) flusher(queue chan *gcRow) {
	batch := make([]*gcRow, 0, g.opts.MaxBatch)
	linger := time.NewTimer(0)
	<-linger.C
	for {
		first, ok := <-queue
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		linger.Reset(g.opts.Linger)
		open := true
	collect:
		for len(batch) < g.opts.MaxBatch {
			select {
			case r, ok := <-queue:
				if !ok {
					open = false
					break collect
				}
				batch = append(batch, r)
			case <-linger.C:
				break collect
			}
		}
		if !linger.Stop() {
			select { // drain a fire that raced with a full batch
			case <-linger.C:
			default:
			}
		}
		err := g.write(batch)
		g.pending.Add(-int64(len(batch))) // before the answers: a caller that has its answer sees it counted out
		for _, r := range batch {
			r.result <- err
		}
		g.answered.Add(int64(len(batch)))
		g.flushMu.Lock()
		close(g.flushed)
		g.flushed = make(chan struct{})
		g.flushMu.Unlock()
		clear(batch) // let payloads go
		if !open {
			return
		}
	}
}

// write inserts a batch in one statement: all its rows or none.
func (g *GroupCommit) write(batch []*gcRow) error {
	type key struct{ channel, updateID string }
	seen := make(map[key]bool, len(batch))
	n := len(batch)
	channels, updates, chats, deads := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	payloads, inbound := make([][]byte, 0, n), make([]*time.Time, 0, n)
	for _, r := range batch {
		// A redelivery inside the batch: the first copy is stored, both callers
		// hear the batch's result.
		if k := (key{r.channel, r.updateID}); !seen[k] {
			seen[k] = true
			channels, updates, chats, deads = append(channels, r.channel), append(updates, r.updateID), append(chats, r.chatID), append(deads, r.dead)
			payloads = append(payloads, r.payload)
			var at *time.Time
			if !r.inbound.IsZero() {
				at = &r.inbound
			}
			inbound = append(inbound, at)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.opts.Timeout)
	defer cancel()
	var err error
	// Two batches in flight holding copies of the same updates in different
	// orders can deadlock on the unique index (a redelivery racing its first
	// delivery): PostgreSQL aborts one, which is then written again.
	for range 5 {
		if err = g.insert(ctx, channels, updates, chats, deads, payloads, inbound); !isDeadlock(err) {
			break
		}
	}
	return mapErr(err, "add batch to inbox")
}

func isDeadlock(err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pgErr.Code == "40P01"
}

func (g *GroupCommit) insert(ctx context.Context, channels, updates, chats, deads []string, payloads [][]byte, inbound []*time.Time) error {
	_, err := g.pool.Exec(ctx, insertInbox, g.salonID, channels, updates, chats, payloads, deads, inbound)
	return err
}
