package pipeline_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
)

// scans adds up the rows each scan of relation under n read.
func (n planNode) scans(relation string, out map[string]float64) {
	if n.Relation == relation {
		out[n.Type+" "+n.Index] += (n.Rows + n.Filtered + n.Recheck) * n.Loops
	}
	for _, c := range n.Plans {
		c.scans(relation, out)
	}
}

// TestStaffSummaryBookingsPlan: with no statistics and a generic plan, the
// summary's read of a master's day reads that master's bookings of the day
// through the exclusion constraint on (salon, master, occupied), not the
// salon's live bookings through bookings_no_client_overlap's index, whose
// leading column is salon_id alone (the limits' statements once took it and
// read all 50,000: postgres/plans_test.go).
func TestStaffSummaryBookingsPlan(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	pg := conn.Hijack() // its session settings stay with it
	defer func() { _ = pg.Close(ctx) }()
	schema := "summary_plans_" + pgtest.RandomID()
	defer func() { _, _ = pool.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`) }()
	for _, q := range []string{
		`CREATE SCHEMA ` + schema,
		`CREATE TABLE ` + schema + `.clients (LIKE public.clients INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`CREATE TABLE ` + schema + `.services (LIKE public.services INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`CREATE TABLE ` + schema + `.bookings (LIKE public.bookings INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`SET search_path = ` + schema + `, public`,
		`SET plan_cache_mode = force_generic_plan`,
		`INSERT INTO services (salon_id, service_id, names, duration_seconds, buffer_before_seconds, buffer_after_seconds,
		                       price_minor, currency, active, position)
		 SELECT 'big', 's' || g, '{"en": "Cut"}', 900, 0, 0, 1000, 'EUR', true, g FROM generate_series(0, 9) g`,
		// 20,000 clients, 50,000 bookings of 20 masters over two years (one
		// every 20 minutes, so a master's every 400), a quarter cancelled or
		// expired.
		`INSERT INTO clients (client_id, salon_id, name, phone) OVERRIDING SYSTEM VALUE
		 SELECT g, 'big', 'Client ' || g, '+49151' || lpad(g::text, 8, '0') FROM generate_series(1, 20000) g`,
		`INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
		                       hold_expires_at, price_minor, currency, idempotency_key, source)
		 SELECT 'big', 'm' || (g % 20), 's' || (g % 10), g % 20000 + 1, s, s + interval '15 minutes',
		        tstzrange(s, s + interval '15 minutes'), (ARRAY['confirmed', 'cancelled', 'expired', 'confirmed'])[g % 4 + 1],
		        NULL, 1000, 'EUR', 'k' || g, 'web:' || (g % 10000)
		 FROM generate_series(1, 50000) g, LATERAL (SELECT '2026-06-01Z'::timestamptz + g * interval '20 minutes' AS s) x`,
	} {
		_, err := pg.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	var stats int
	require.NoError(t, pg.QueryRow(ctx, `SELECT count(*) FROM pg_stats WHERE schemaname = $1`, schema).Scan(&stats))
	require.Zero(t, stats, "no statistics on the copies")
	var master string
	require.NoError(t, pg.QueryRow(ctx, `SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_constraint c ON c.conindid = i.indexrelid
		WHERE c.conrelid = 'bookings'::regclass AND c.contype = 'x' AND pg_get_constraintdef(c.oid) LIKE '%master_id WITH =%'`).Scan(&master))

	_, err = pg.Exec(ctx, `PREPARE summary AS `+pipeline.SummaryBookingsSQL)
	require.NoError(t, err)
	// A day in the middle: m7 has 3 or 4 bookings that day (one every 400 minutes).
	const day = `'big', 'm7', '2027-06-01 00:00+02', '2027-06-02 00:00+02'`
	var want int
	require.NoError(t, pg.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE master_id = 'm7' AND status = 'confirmed'
		AND starts_at >= '2027-06-01 00:00+02' AND starts_at < '2027-06-02 00:00+02'`).Scan(&want))
	require.Positive(t, want)
	var raw []byte
	require.NoError(t, pg.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE summary(`+day+`)`).Scan(&raw))
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	require.NoError(t, json.Unmarshal(raw, &plans))
	require.Equal(t, float64(want), plans[0].Plan.Rows, "the day's confirmed bookings of m7")
	read := map[string]float64{}
	plans[0].Plan.scans("bookings", read)
	t.Logf("bookings read: %v", read)
	require.Len(t, read, 1, "%v: %s", read, raw)
	for scan, rows := range read {
		// An index led by the master (its exclusion index, or the desk's
		// (salon, master, starts_at)); never the salon's live bookings.
		require.False(t, strings.HasPrefix(scan, "Seq Scan"), "%s: %s", scan, raw)
		require.True(t, strings.Contains(scan, "master"), "%s, not an index by master such as %s: %s", scan, master, raw)
		require.LessOrEqual(t, rows, 10.0, "%s read more than the master's day: %s", scan, raw)
	}
}
