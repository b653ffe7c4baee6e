package jobs_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/jobs"
	"salonbook/src/adapters/postgres/pgtest"
)

// TestCountsReadTheIndexOnState: the count by state (read at every scrape of
// /metrics) counts right and reads river_job by its index on state, with no
// statistics and a generic plan, never the whole table: finished jobs pile up
// there until River's cleaner deletes them.
func TestCountsReadTheIndexOnState(t *testing.T) {
	t.Parallel()
	admin := pgtest.Pool(t)
	ctx := context.Background()
	schema := "counts_" + pgtest.RandomID()
	_, err := admin.Exec(ctx, `CREATE SCHEMA `+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
	_, err = admin.Exec(ctx, `CREATE TABLE `+schema+`.river_job (LIKE public.river_job INCLUDING ALL) WITH (autovacuum_enabled = false)`)
	require.NoError(t, err)
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema + ", public"
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = pool.Exec(ctx, `
		INSERT INTO river_job (state, finalized_at, kind, max_attempts, args)
		SELECT CASE WHEN g <= 50000 THEN 'completed'::river_job_state WHEN g <= 50003 THEN 'retryable' ELSE 'available' END,
		       CASE WHEN g <= 50000 THEN now() END, 'calendar_push', 25, '{}'
		FROM generate_series(1, 50010) g`)
	require.NoError(t, err)

	got, err := jobs.Counts(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, int64(50000), got["completed"])
	require.Equal(t, int64(3), got["retryable"])
	require.Equal(t, int64(7), got["available"])
	require.Equal(t, int64(0), got["running"])
	require.Contains(t, got, "discarded", "every state is there, zero too")

	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `PREPARE counts(bigint) AS `+jobs.CountsSQL)
	require.NoError(t, err)
	defer conn.Exec(context.Background(), `DEALLOCATE counts`) //nolint:errcheck
	var raw []byte
	require.NoError(t, conn.QueryRow(ctx, `EXPLAIN (FORMAT JSON) EXECUTE counts(100000)`).Scan(&raw))
	var plan []struct{ Plan node }
	require.NoError(t, json.Unmarshal(raw, &plan))
	var walk func(n node)
	walk = func(n node) {
		require.NotEqual(t, "Seq Scan", n.Type, "river_job read whole:\n%s", raw)
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plan[0].Plan)
}

type node struct {
	Type  string `json:"Node Type"`
	Plans []node `json:"Plans"`
}
