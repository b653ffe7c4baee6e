package jobs

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// CountCap is where Counts stops counting the jobs of one state: each count
// reads at most that many index entries (finished jobs stay in river_job until
// River's cleaner deletes them: a day for completed ones by default).
const CountCap = 100_000

// Counts returns how many river jobs (every queue) are in each state, each
// counted up to CountCap by the index on state. For metrics.
func Counts(ctx context.Context, pool *pgxpool.Pool) (map[string]int64, error) {
	rows, err := pool.Query(ctx, countsSQL, CountCap)
	if err != nil {
		return nil, fmt.Errorf("jobs: count by state: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("jobs: count by state: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: count by state: %w", err)
	}
	return out, nil
}

const countsSQL = `
	SELECT s::text, (SELECT count(*) FROM (SELECT 1 FROM river_job WHERE state = s LIMIT $1) j)
	FROM unnest(enum_range(NULL::river_job_state)) AS s`
