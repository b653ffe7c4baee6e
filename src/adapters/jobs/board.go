package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core/staff"
)

// Board reads river's jobs for the owner's desk (/admin/jobs): counts by kind
// and state, and the jobs that failed lately. Only one salon's jobs: every
// kind's args carry salon_id (PushArgs, RefreshArgs). Job args are never
// returned whole; a calendar push's booking id is.
type Board struct{ pool *pgxpool.Pool }

// NewBoard returns the desk's view of river's jobs on pool.
func NewBoard(pool *pgxpool.Pool) *Board { return &Board{pool: pool} }

// Counts returns how many of the salon's jobs are in each state, by kind; each
// state's jobs are read up to CountCap by the index on state (as Counts).
func (b *Board) Counts(ctx context.Context, salonID string) ([]staff.JobCount, error) {
	rows, err := b.pool.Query(ctx, `
		SELECT j.kind, s::text, count(*)
		FROM unnest(enum_range(NULL::river_job_state)) AS s
		CROSS JOIN LATERAL (SELECT kind FROM river_job WHERE state = s AND args @> jsonb_build_object('salon_id', $1::text) LIMIT $2) j
		GROUP BY j.kind, s
		ORDER BY j.kind, s`, salonID, CountCap)
	if err != nil {
		return nil, fmt.Errorf("jobs: count by kind and state: %w", err)
	}
	var out []staff.JobCount
	var c staff.JobCount
	if _, err := pgx.ForEachRow(rows, []any{&c.Kind, &c.State, &c.N}, func() error { out = append(out, c); return nil }); err != nil {
		return nil, fmt.Errorf("jobs: count by kind and state: %w", err)
	}
	return out, nil
}

// Problems returns the salon's latest limit jobs that failed: retrying
// (retryable, or due again and waiting with errors), given up (discarded) or
// cancelled, latest first, each with its last error's text (never the stack
// trace river keeps with it).
func (b *Board) Problems(ctx context.Context, salonID string, limit int) ([]staff.JobProblem, error) {
	rows, err := b.pool.Query(ctx, `
		SELECT id, kind, queue, state::text, attempt, max_attempts,
		       coalesce(errors[array_length(errors, 1)]->>'error', ''),
		       coalesce(finalized_at, attempted_at, created_at),
		       CASE WHEN state = 'retryable' THEN scheduled_at END,
		       CASE WHEN kind = 'calendar_push' THEN coalesce(args->>'booking_id', '') ELSE '' END
		FROM river_job
		WHERE (state IN ('retryable', 'discarded', 'cancelled')
		       OR (state IN ('available', 'running') AND errors IS NOT NULL))
		  AND args @> jsonb_build_object('salon_id', $1::text)
		ORDER BY coalesce(finalized_at, attempted_at, created_at) DESC, id DESC
		LIMIT $2`, salonID, limit)
	if err != nil {
		return nil, fmt.Errorf("jobs: read failed jobs: %w", err)
	}
	var out []staff.JobProblem
	var p staff.JobProblem
	var next *time.Time
	_, err = pgx.ForEachRow(rows, []any{&p.ID, &p.Kind, &p.Queue, &p.State, &p.Attempt, &p.MaxAttempts, &p.Error, &p.At, &next, &p.BookingID}, func() error {
		p.At = p.At.UTC()
		p.Next = time.Time{}
		if next != nil {
			p.Next = next.UTC()
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: read failed jobs: %w", err)
	}
	return out, nil
}
