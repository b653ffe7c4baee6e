// Package jobs runs salonbook's background work on river (a job queue in
// PostgreSQL): today the calendar jobs. A booking change inserts its job with
// InsertTx in the booking's own transaction (Record), so the job exists if and
// only if the change committed; workers in any process take it from there.
//
// A job must never be what makes a booking fail or wait: it runs after, retries
// with capped backoff, and gives up only on what retrying cannot fix.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"salonbook/src/core/booking"
	"salonbook/src/core/calsync"
)

// QueueCalendar is the queue of calendar jobs.
const QueueCalendar = "calendar"

// PushArgs asks for a booking's calendar event to be made to match the booking.
type PushArgs struct {
	SalonID   string `json:"salon_id"`
	BookingID string `json:"booking_id"`
}

// Kind names the job in river's table.
func (PushArgs) Kind() string { return "calendar_push" }

// InsertOpts puts the job on the calendar queue.
func (PushArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueCalendar, MaxAttempts: 25}
}

// RefreshArgs asks for the salon's masters' busy time to be read again.
type RefreshArgs struct {
	SalonID string `json:"salon_id"`
}

// Kind names the job in river's table.
func (RefreshArgs) Kind() string { return "calendar_refresh" }

// InsertOpts puts the job on the calendar queue; a refresh already waiting makes
// another one pointless.
func (RefreshArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueCalendar, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{
		ByArgs:  true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateScheduled, rivertype.JobStateRunning, rivertype.JobStateRetryable},
	}}
}

// Retry is when a failed job is tried again: min(cap, 5 s × 2^attempt), drawn
// between half and all of it (jitter, so that jobs failed together do not
// return together).
func Retry(attempt int, now time.Time) time.Time {
	d := min(30*time.Minute, 5*time.Second<<min(max(attempt-1, 0), 20))
	return now.Add(d/2 + rand.N(d/2+1))
}

type pushWorker struct {
	river.WorkerDefaults[PushArgs]
	sync *calsync.Syncer
}

func (w *pushWorker) Work(ctx context.Context, job *river.Job[PushArgs]) error {
	return verdict(w.sync.Push(ctx, job.Args.SalonID, job.Args.BookingID))
}

func (w *pushWorker) NextRetry(job *river.Job[PushArgs]) time.Time {
	return Retry(job.Attempt, time.Now())
}

// Timeout is above what a push can take: a delete, an insert and a patch, each
// tried up to 5 times within 15 s plus backoff (about 4 minutes at worst).
func (w *pushWorker) Timeout(*river.Job[PushArgs]) time.Duration { return 6 * time.Minute }

type refreshWorker struct {
	river.WorkerDefaults[RefreshArgs]
	sync *calsync.Syncer
}

func (w *refreshWorker) Work(ctx context.Context, job *river.Job[RefreshArgs]) error {
	return verdict(w.sync.Reconcile(ctx, job.Args.SalonID))
}

func (w *refreshWorker) NextRetry(job *river.Job[RefreshArgs]) time.Time {
	return Retry(job.Attempt, time.Now())
}
func (w *refreshWorker) Timeout(*river.Job[RefreshArgs]) time.Duration { return 15 * time.Minute }

// verdict tells river what to do with a job's error: a permanent failure (no
// access, no such calendar) is not retried; it stays reported on /readyz.
func verdict(err error) error {
	if err != nil && calsync.Permanent(err) {
		return river.JobCancel(err)
	}
	return err
}

// Config configures the job runner.
type Config struct {
	Sync     *calsync.Syncer
	SalonIDs []string      // salons whose calendars are read on a schedule
	Refresh  time.Duration // how often busy time is read; zero means 5 minutes
	Workers  int           // calendar jobs at once; zero means 4
	Log      *slog.Logger
	// Poll is how often an idle worker looks for new jobs besides being told
	// (zero: river's default, 1 s; tests use less).
	Poll time.Duration
	// Queue names the queue of calendar jobs; "" means QueueCalendar. Tests
	// sharing a database use one each.
	Queue string
}

// Runner runs the calendar jobs (Start, Stop) and records booking changes as
// jobs (Record).
type Runner struct {
	*river.Client[pgx.Tx]
	queue string
}

// New returns the job runner; Start it to run jobs (inserting needs no Start).
func New(pool *pgxpool.Pool, c Config) (*Runner, error) {
	if c.Queue == "" {
		c.Queue = QueueCalendar
	}
	if c.Refresh == 0 {
		c.Refresh = 5 * time.Minute
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &pushWorker{sync: c.Sync})
	river.AddWorker(workers, &refreshWorker{sync: c.Sync})
	var periodic []*river.PeriodicJob
	for _, id := range c.SalonIDs {
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(c.Refresh),
			func() (river.JobArgs, *river.InsertOpts) {
				opts := RefreshArgs{}.InsertOpts()
				opts.Queue = c.Queue
				return RefreshArgs{SalonID: id}, &opts
			},
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	cfg := &river.Config{
		Queues:       map[string]river.QueueConfig{c.Queue: {MaxWorkers: c.Workers}},
		Workers:      workers,
		PeriodicJobs: periodic,
		Logger:       quiet(c.Log),
		// On shutdown, jobs in hand get this long, then their contexts end (a
		// push holds a connection while it talks to Google).
		SoftStopTimeout: 10 * time.Second,
	}
	if c.Poll > 0 {
		cfg.FetchPollInterval, cfg.FetchCooldown = c.Poll, min(c.Poll, river.FetchCooldownDefault)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return &Runner{Client: client, queue: c.Queue}, nil
}

// Record is what postgres.Store.FollowChanges (and
// postgres.Privacy.FollowChanges) needs: every change to a confirmed booking's
// time or status, a block made or lifted (its event "Blocked"), and a client's
// data erased (the event written again without the name) inserts a calendar
// push job in the change's transaction. The client's "I'll come"
// (booking.Coming) changes neither, and the event would be pushed as it is:
// no job; nor for kinds it does not know.
func (r *Runner) Record(ctx context.Context, tx pgx.Tx, c booking.Change) error {
	switch c.Kind {
	case booking.Booked, booking.Moved, booking.Cancelled, booking.Blocked, booking.Unblocked, booking.Erased:
	default:
		return nil
	}
	opts := PushArgs{}.InsertOpts()
	opts.Queue = r.queue
	if _, err := r.InsertTx(ctx, tx, PushArgs{SalonID: c.Booking.SalonID, BookingID: c.Booking.ID}, &opts); err != nil {
		return fmt.Errorf("jobs: insert calendar job: %w", err)
	}
	return nil
}

// quiet keeps river's own log lines to warnings and worse.
func quiet(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(levelAtLeast{log.Handler(), slog.LevelWarn})
}

type levelAtLeast struct {
	slog.Handler
	min slog.Level
}

func (h levelAtLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelAtLeast) WithAttrs(as []slog.Attr) slog.Handler {
	return levelAtLeast{h.Handler.WithAttrs(as), h.min}
}

func (h levelAtLeast) WithGroup(name string) slog.Handler {
	return levelAtLeast{h.Handler.WithGroup(name), h.min}
}
