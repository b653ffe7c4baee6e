package pipeline

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Backlog is what waits in one channel's queues (for metrics).
type Backlog struct {
	Channel       string
	InboxWaiting  int64         // updates not yet handled, counted up to BacklogCap
	InboxOldest   time.Duration // how long the oldest chat's head update has waited; 0 when none
	OutboxWaiting int64         // messages neither sent nor given up, counted up to BacklogCap
}

// BacklogCap is where the counts of Backlogs stop: each count reads at most
// that many index entries, so a scrape stays cheap whatever the backlog.
const BacklogCap = 100_000

// Backlogs reads the queues of salonID's channels in one statement. The
// counts read the partial indexes of what waits (inbox_pending,
// outbox_unsent), never the handled or sent rows, and stop at BacklogCap; the
// oldest update is the lowest head of inbox_chats (chats ready by
// inbox_chats_ready, chats backing off by inbox_chats_backoff), read by its
// primary key: identity ids follow arrival. Linear in what waits, with no
// statistics and generic plans too (TestBacklogPlansReadOnlyWhatWaits).
func Backlogs(ctx context.Context, pool *pgxpool.Pool, salonID string, channels []string) ([]Backlog, error) {
	rows, err := pool.Query(ctx, backlogSQL, salonID, channels, BacklogCap)
	if err != nil {
		return nil, mapErr(err, "read the backlog")
	}
	defer rows.Close()
	var out []Backlog
	for rows.Next() {
		var b Backlog
		var oldest float64
		if err := rows.Scan(&b.Channel, &b.InboxWaiting, &oldest, &b.OutboxWaiting); err != nil {
			return nil, mapErr(err, "read the backlog")
		}
		b.InboxOldest = time.Duration(max(oldest, 0) * float64(time.Second))
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, "read the backlog")
	}
	return out, nil
}

const backlogSQL = `
	SELECT ch,
	       (SELECT count(*) FROM (SELECT 1 FROM inbox
	                              WHERE salon_id = $1 AND channel = ch AND handled_at IS NULL LIMIT $3) i),
	       coalesce((SELECT extract(epoch FROM now() - h.received_at)::float8 FROM inbox h
	                 WHERE h.id = (SELECT min(head) FROM (
	                     (SELECT head_id AS head FROM inbox_chats
	                      WHERE salon_id = $1 AND channel = ch AND retry_at IS NULL ORDER BY head_id LIMIT 1)
	                     UNION ALL
	                     (SELECT min(head_id) FROM inbox_chats
	                      WHERE salon_id = $1 AND channel = ch AND retry_at IS NOT NULL)) heads)), 0),
	       (SELECT count(*) FROM (SELECT 1 FROM outbox
	                              WHERE salon_id = $1 AND channel = ch AND sent_at IS NULL AND failed IS NULL LIMIT $3) o)
	FROM unnest($2::text[]) AS ch`
