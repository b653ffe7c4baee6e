package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"salonbook/src/core/adreport"
)

// QueueAds was the one queue of every salon's ad report jobs; each salon now
// has its own (AdsQueue), and a salon's runner adopts its jobs left here.
const QueueAds = "ads"

// AdsQueue is the queue of a salon's ad report jobs: a salon's process sends
// only its own salon's events, with its own token and dataset. River takes
// lower-case letters and digits joined by single "_" or "-": a salon id that
// is not such a name gets a hash of it.
func AdsQueue(salonID string) string {
	q := QueueAds + "-" + salonID
	if len(q) <= 64 && queueName.MatchString(q) {
		return q
	}
	sum := sha256.Sum256([]byte(salonID))
	return QueueAds + "-h" + hex.EncodeToString(sum[:10])
}

var queueName = regexp.MustCompile(`^[a-z0-9]+(?:[_-]?[a-z0-9]+)*$`)

// ReportArgs asks for a recorded ad event to be sent (adreport.Reporter).
type ReportArgs struct {
	SalonID string `json:"salon_id"`
	EventID string `json:"event_id"`
}

// Kind names the job in river's table.
func (ReportArgs) Kind() string { return "ad_report" }

// InsertOpts puts the job on the ads queue (Reports.Insert on the salon's). 12 tries with Retry's backoff
// span about three hours; an event's row (meta_events) keeps it at most once
// whatever river does.
func (ReportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAds, MaxAttempts: 12}
}

// ConfigRetry is how often an event whose retries ran out on the salon's
// token or dataset (adreport.ConfigError) is tried again.
const ConfigRetry = 30 * time.Minute

type reportWorker struct {
	river.WorkerDefaults[ReportArgs]
	rep     *adreport.Reporter
	salonID string
}

// Work sends the event; a refusal is the Reporter's to log and mark: only
// what can pass (throttling, 5xx, network, the database, the salon's
// credentials) comes back, to be retried; after the last attempt the event is
// dropped, unless the credentials failed it: then it waits (ConfigRetry). Another salon's job (its queue shared by mistake) is cancelled
// untouched: sending it would use this salon's token and dataset.
func (w *reportWorker) Work(ctx context.Context, job *river.Job[ReportArgs]) error {
	if job.Args.SalonID != w.salonID {
		return river.JobCancel(fmt.Errorf("jobs: ad report job of salon %q run by salon %q's process", job.Args.SalonID, w.salonID))
	}
	err := w.rep.Report(ctx, job.Args.SalonID, job.Args.EventID)
	if _, ok := errors.AsType[*adreport.ConfigError](err); ok && job.Attempt >= job.MaxAttempts {
		// The token or the dataset: the operator must fix it, and the event
		// waits for that rather than being dropped after the retries. Snoozed
		// (no attempt counted), it is tried every half hour until it goes, or
		// until Report drops it as older than Meta takes (adreport.MaxAge).
		return river.JobSnooze(ConfigRetry)
	}
	if err != nil && job.Attempt >= job.MaxAttempts {
		// The last try: the event is dropped rather than left pending, also
		// when the try failed because the job's time ran out (ctx ended).
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if gerr := w.rep.GiveUp(gctx, job.Args.SalonID, job.Args.EventID); gerr != nil {
			return errors.Join(err, gerr)
		}
	}
	return err
}

func (w *reportWorker) NextRetry(job *river.Job[ReportArgs]) time.Time {
	return Retry(job.Attempt, time.Now())
}

func (w *reportWorker) Timeout(*river.Job[ReportArgs]) time.Duration { return time.Minute }

// ReportsConfig configures the ad report runner.
type ReportsConfig struct {
	Reporter *adreport.Reporter
	SalonID  string // the salon whose events this process sends (required)
	Workers  int    // jobs at once; zero means 2
	Log      *slog.Logger
	Poll     time.Duration // as Config.Poll
	Queue    string        // "" means AdsQueue(SalonID); tests use one each
}

// Reports runs the ad report jobs (Start, Stop) and inserts them (Insert).
type Reports struct {
	*river.Client[pgx.Tx]
	pool           *pgxpool.Pool
	queue, salonID string
}

// NewReports returns the ad report runner; Start it to run jobs.
func NewReports(pool *pgxpool.Pool, c ReportsConfig) (*Reports, error) {
	if c.SalonID == "" {
		return nil, errors.New("jobs: ad reports need the salon's id")
	}
	if c.Queue == "" {
		c.Queue = AdsQueue(c.SalonID)
	}
	if c.Workers == 0 {
		c.Workers = 2
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &reportWorker{rep: c.Reporter, salonID: c.SalonID})
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
	return &Reports{Client: client, pool: pool, queue: c.Queue, salonID: c.SalonID}, nil
}

// Adopt moves the salon's waiting jobs from the old shared queue (QueueAds,
// before each salon had its own) to the salon's queue; it returns how many.
func (r *Reports) Adopt(ctx context.Context) (int64, error) {
	tag, err := r.pool.Exec(ctx, `
		UPDATE river_job SET queue = $1
		WHERE queue = $2 AND kind = 'ad_report' AND args->>'salon_id' = $3
		  AND state IN ('available', 'scheduled', 'retryable')`, r.queue, QueueAds, r.salonID)
	if err != nil {
		return 0, fmt.Errorf("jobs: adopt ad report jobs: %w", err)
	}
	return tag.RowsAffected(), nil
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
