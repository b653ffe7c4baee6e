package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"salonbook/src/core/adreport"
)

// QueueAds is the queue of ad report jobs.
const QueueAds = "ads"

// ReportArgs asks for a recorded ad event to be sent (adreport.Reporter).
type ReportArgs struct {
	SalonID string `json:"salon_id"`
	EventID string `json:"event_id"`
}

// Kind names the job in river's table.
func (ReportArgs) Kind() string { return "ad_report" }

// InsertOpts puts the job on the ads queue. 12 tries with Retry's backoff
// span about three hours; an event's row (meta_events) keeps it at most once
// whatever river does.
func (ReportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAds, MaxAttempts: 12}
}

type reportWorker struct {
	river.WorkerDefaults[ReportArgs]
	rep *adreport.Reporter
}

// Work sends the event; a refusal is the Reporter's to log and mark: only
// what can pass (429, 5xx, network, the database) comes back, to be retried.
func (w *reportWorker) Work(ctx context.Context, job *river.Job[ReportArgs]) error {
	return w.rep.Report(ctx, job.Args.EventID)
}

func (w *reportWorker) NextRetry(job *river.Job[ReportArgs]) time.Time {
	return Retry(job.Attempt, time.Now())
}

func (w *reportWorker) Timeout(*river.Job[ReportArgs]) time.Duration { return time.Minute }

// ReportsConfig configures the ad report runner.
type ReportsConfig struct {
	Reporter *adreport.Reporter
	Workers  int // jobs at once; zero means 2
	Log      *slog.Logger
	Poll     time.Duration // as Config.Poll
	Queue    string        // "" means QueueAds; tests use one each
}

// Reports runs the ad report jobs (Start, Stop) and inserts them (Insert).
type Reports struct {
	*river.Client[pgx.Tx]
	queue string
}

// NewReports returns the ad report runner; Start it to run jobs.
func NewReports(pool *pgxpool.Pool, c ReportsConfig) (*Reports, error) {
	if c.Queue == "" {
		c.Queue = QueueAds
	}
	if c.Workers == 0 {
		c.Workers = 2
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &reportWorker{rep: c.Reporter})
	cfg := &river.Config{
		Queues:          map[string]river.QueueConfig{c.Queue: {MaxWorkers: c.Workers}},
		Workers:         workers,
		Logger:          quiet(c.Log),
		SoftStopTimeout: 10 * time.Second,
	}
	if c.Poll > 0 {
		cfg.FetchPollInterval, cfg.FetchCooldown = c.Poll, min(c.Poll, river.FetchCooldownDefault)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return &Reports{Client: client, queue: c.Queue}, nil
}

// Insert inserts, in tx (the booking change's), the job that sends each
// recorded event.
func (r *Reports) Insert(ctx context.Context, tx pgx.Tx, salonID string, eventIDs []string) error {
	opts := ReportArgs{}.InsertOpts()
	opts.Queue = r.queue
	for _, id := range eventIDs {
		if _, err := r.InsertTx(ctx, tx, ReportArgs{SalonID: salonID, EventID: id}, &opts); err != nil {
			return fmt.Errorf("jobs: insert ad report job: %w", err)
		}
	}
	return nil
}
