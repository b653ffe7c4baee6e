package postgres_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core/booking"
)

// scanNode is a node of EXPLAIN (ANALYZE, FORMAT JSON); rows are per loop.
type scanNode struct {
	Type     string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Rows     float64    `json:"Actual Rows"`
	Loops    float64    `json:"Actual Loops"`
	Filtered float64    `json:"Rows Removed by Filter"`
	Recheck  float64    `json:"Rows Removed by Index Recheck"`
	Plans    []scanNode `json:"Plans"`
}

// bookingScans lists the scans of bookings under n with the rows each read.
func bookingScans(n scanNode, out map[string]float64) {
	if n.Relation == "bookings" && n.Type != "ModifyTable" {
		out[n.Type+" "+n.Index] += (n.Rows + n.Filtered + n.Recheck) * n.Loops
	}
	for _, c := range n.Plans {
		bookingScans(c, out)
	}
}

func TestLimitsPlansReadOnlyTheClientsAndChatsRows(t *testing.T) {
	t.Parallel()
	// With no statistics and generic plans, the limits' statements (Book runs
	// both for every chat booking) must read the client's and the chat's rows,
	// not the salon's: both once took bookings_no_client_overlap on salon_id
	// alone and read all 50,000.
	pool := pgtest.Pool(t)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	pg := conn.Hijack() // its session settings stay with it
	defer func() { _ = pg.Close(ctx) }()
	schema := fmt.Sprintf("limits_plans_%d", time.Now().UnixNano())
	for _, q := range []string{
		`CREATE SCHEMA ` + schema,
		`CREATE TABLE ` + schema + `.clients (LIKE public.clients INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`CREATE TABLE ` + schema + `.bookings (LIKE public.bookings INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`SET search_path = ` + schema + `, public`,
		`SET plan_cache_mode = force_generic_plan`,
		// 20,000 clients, 10,000 chats, 50,000 bookings over two years, a
		// quarter cancelled or expired; the client and chat asked about have
		// three bookings (one a lapsed hold) and five (one too).
		`INSERT INTO clients (client_id, salon_id, name, phone, identity) OVERRIDING SYSTEM VALUE
		 SELECT g, 'big', 'c', '+49151' || lpad(g::text, 8, '0'), 'phone:+49151' || lpad(g::text, 8, '0') FROM generate_series(1, 20000) g`,
		`INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
		                       hold_expires_at, price_minor, currency, idempotency_key, source)
		 SELECT 'big', 'm' || (g % 20), 'cut', g % 20000 + 1, s, s + interval '15 minutes',
		        tstzrange(s, s + interval '15 minutes'), (ARRAY['confirmed', 'cancelled', 'expired', 'confirmed'])[g % 4 + 1],
		        NULL, 1000, 'EUR', 'k' || g, 'web:' || (g % 10000)
		 FROM generate_series(1, 50000) g, LATERAL (SELECT '2026-06-01Z'::timestamptz + g * interval '20 minutes' AS s) x`,
		`UPDATE bookings SET status = 'held', hold_expires_at = '2027-06-01Z'
		 WHERE idempotency_key IN ('k45000', 'k49999')`,
	} {
		_, err := pg.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	var stats int
	require.NoError(t, pg.QueryRow(ctx, `SELECT count(*) FROM pg_stats WHERE schemaname = $1`, schema).Scan(&stats))
	require.Zero(t, stats, "no statistics on the copies")

	now := "2027-06-01 00:05:00Z" // the middle of the bookings
	for _, st := range []struct{ name, sql, args string }{
		{"expire", postgres.ExpireLapsedSQL, fmt.Sprintf(`'big', 'phone:+4915100005001', 'web:9999', '%s'`, now)},
		{"count", postgres.CountUpcomingSQL, fmt.Sprintf(`'big', 5001, 'web:9999', '%s', '%s', '%s'`, booking.OwnerSource, now, booking.DeskSourcePrefix)},
	} {
		t.Run(st.name, func(t *testing.T) {
			_, err := pg.Exec(ctx, `PREPARE `+st.name+` AS `+st.sql)
			require.NoError(t, err)
			tx, err := pg.Begin(ctx)
			require.NoError(t, err)
			defer func() { _ = tx.Rollback(ctx) }()
			var raw []byte
			require.NoError(t, tx.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE `+st.name+`(`+st.args+`)`).Scan(&raw))
			var plans []struct {
				Plan scanNode `json:"Plan"`
			}
			require.NoError(t, json.Unmarshal(raw, &plans))
			read := map[string]float64{}
			bookingScans(plans[0].Plan, read)
			require.NotEmpty(t, read)
			if st.name == "expire" {
				var n int
				require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE status = 'expired' AND hold_expires_at IS NOT NULL`).Scan(&n))
				require.Equal(t, 2, n, "the client's and the chat's lapsed holds")
			}
			chat := false // the chat's rows on (the copy of) bookings_source_live
			for scan := range read {
				chat = chat || strings.HasSuffix(scan, "bookings_salon_id_source_ends_at_idx")
			}
			require.True(t, chat, "%v: %s", read, raw)
			for scan, rows := range read {
				require.LessOrEqual(t, rows, 10.0, "%s read more than the client's and the chat's rows: %s", scan, raw)
			}
		})
	}
}

// TestBookingStatusesArePinned: the limits say "live" as status NOT IN
// ('cancelled','expired') (expireLapsedSQL, countUpcomingSQL, the index of
// migration 0012), which means held, awaiting_payment or confirmed only while
// the column allows these five. A new status must revisit those three places,
// and this test. (awaiting_payment, 0026: a booking awaiting its deposit is
// live for the limits, and expireLapsedSQL expires it as a hold.)
func TestBookingStatusesArePinned(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	var defs []string
	rows, err := pool.Query(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = 'bookings'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%status = ANY%'
		  AND conname <> 'bookings_kind_fields' -- a block's statuses: a subset of these (0022)`)
	require.NoError(t, err)
	for rows.Next() {
		var d string
		require.NoError(t, rows.Scan(&d))
		defs = append(defs, d)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"CHECK ((status = ANY (ARRAY['held'::text, 'awaiting_payment'::text, 'confirmed'::text, 'cancelled'::text, 'expired'::text])))"}, defs,
		"a booking status was added or removed: revisit expireLapsedSQL, countUpcomingSQL and migration 0012's index")
}

// TestNoShowsPlanReadsOnlyTheNoShows: with no statistics and generic plans,
// NoShows (every booking page; deposits, issue 16) reads the salon's no-shows
// since the instant asked (bookings_no_shows) and each one's client by
// primary key: never the salon's bookings nor its clients, whatever their
// number (there is no index on phones).
func TestNoShowsPlanReadsOnlyTheNoShows(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	pg := conn.Hijack()
	defer func() { _ = pg.Close(ctx) }()
	schema := fmt.Sprintf("noshow_plans_%d", time.Now().UnixNano())
	for _, q := range []string{
		`CREATE SCHEMA ` + schema,
		`CREATE TABLE ` + schema + `.clients (LIKE public.clients INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`CREATE TABLE ` + schema + `.bookings (LIKE public.bookings INCLUDING ALL) WITH (autovacuum_enabled = false)`,
		`SET search_path = ` + schema + `, public`,
		`SET plan_cache_mode = force_generic_plan`,
		// 5,000 clients (1001 and 1002 one person: the same phone), 20,000
		// bookings over a year, one in 250 a no-show (80, four of them
		// 1001's), and one of 1002's.
		`INSERT INTO clients (client_id, salon_id, name, phone, identity) OVERRIDING SYSTEM VALUE
		 SELECT g, 'big', 'c', '+49151' || lpad(g::text, 8, '0'), 'owner:+49151' || lpad(g::text, 8, '0') FROM generate_series(1, 5000) g`,
		`UPDATE clients SET phone = '+4915100001001', identity = 'chat:web:1' WHERE client_id = 1002`,
		`INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
		                       price_minor, currency, idempotency_key, source, attendance, attendance_at)
		 SELECT 'big', 'm' || (g % 20), 'cut', g % 5000 + 1, s, s + interval '15 minutes',
		        tstzrange(s, s + interval '15 minutes'), 'confirmed', 1000, 'EUR', 'k' || g, 'web:' || (g % 10000),
		        CASE WHEN g % 250 = 0 OR g = 6001 THEN 'no_show' END, CASE WHEN g % 250 = 0 OR g = 6001 THEN s END
		 FROM generate_series(1, 20000) g, LATERAL (SELECT '2026-06-01Z'::timestamptz + g * interval '20 minutes' AS s) x`,
		`PREPARE noshows AS ` + postgres.NoShowsSQL,
	} {
		_, err := pg.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	var raw []byte
	require.NoError(t, pg.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE noshows('big', 1001, '2026-06-01Z')`).Scan(&raw))
	var n int
	require.NoError(t, pg.QueryRow(ctx, `EXECUTE noshows('big', 1001, '2026-06-01Z')`).Scan(&n))
	require.Equal(t, 5, n, "1001's four and 1002's one (one phone)")
	var plans []struct {
		Plan scanNode `json:"Plan"`
	}
	require.NoError(t, json.Unmarshal(raw, &plans))
	read := map[string]float64{}
	scans(plans[0].Plan, read)
	require.NotEmpty(t, read)
	for scan, rows := range read {
		require.LessOrEqual(t, rows, 90.0, "%s read more than the salon's no-shows: %s", scan, raw)
	}
}

// scans lists every scan under n with the rows it read, by relation.
func scans(n scanNode, out map[string]float64) {
	if n.Relation != "" && n.Type != "ModifyTable" {
		out[n.Relation+" "+n.Type+" "+n.Index] += (n.Rows + n.Filtered + n.Recheck) * n.Loops
	}
	for _, c := range n.Plans {
		scans(c, out)
	}
}
