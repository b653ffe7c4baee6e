package postgres_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/dialog"
)

// Waiting compares no entry with every live offer or blocked chat, even on
// statistics taken before a burst (estimates of a row or two): 3,000 entries,
// 1,000 of them with an offer standing and 500 blocked, as loadtest waitlist
// has them in its first minute, before autovacuum analyses the tables
// (nested-loop anti joins then took 0.4 to 2 s a pass).
func TestWaitingStaysLinearWithStaleStatistics(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	_, salonID := pgtest.Salon(t)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	pg := conn.Hijack()
	defer func() { _ = pg.Close(ctx) }()
	schema := fmt.Sprintf("wl_stale_%d", time.Now().UnixNano())
	insert := func(entries int, from int) []string {
		return []string{
			fmt.Sprintf(`INSERT INTO clients (client_id, salon_id, name, phone) OVERRIDING SYSTEM VALUE
			 SELECT g, '%[1]s', 'c', '+49' || g FROM generate_series(%[2]d, %[3]d) g`, salonID, from, from+entries-1),
			fmt.Sprintf(`INSERT INTO waitlist (salon_id, channel, chat_id, service_id, master_id, day, client_id)
			 SELECT '%[1]s', 'telegram', g::text, 'haircut', 'anna', '2027-03-02', g FROM generate_series(%[2]d, %[3]d) g`,
				salonID, from, from+entries-1),
			// A third of them have an offer standing, a sixth blocked the bot.
			fmt.Sprintf(`INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
			                       hold_expires_at, price_minor, currency, idempotency_key, source)
			 SELECT '%[1]s', 'anna', 'haircut', g, s, s + interval '1 hour', tstzrange(s, s + interval '1 hour'), 'held',
			        '2027-03-01 08:00Z', 1000, 'EUR', 'waitlist:' || g, 'telegram:' || g
			 FROM generate_series(%[2]d, %[3]d, 3) g, LATERAL (SELECT '2027-03-02Z'::timestamptz + g * interval '1 hour' AS s) x`,
				salonID, from, from+entries-1),
			`INSERT INTO waitlist_offers (booking_id, salon_id, entry_id, starts_at, ends_at)
			 SELECT b.booking_id, b.salon_id, w.id, b.starts_at, b.ends_at FROM bookings b JOIN waitlist w ON 'telegram:' || w.chat_id = b.source
			 WHERE NOT EXISTS (SELECT 1 FROM waitlist_offers o WHERE o.booking_id = b.booking_id)`,
			fmt.Sprintf(`INSERT INTO channel_chats (salon_id, channel, chat_id, blocked_at)
			 SELECT '%[1]s', 'telegram', g::text, '2027-02-01Z' FROM generate_series(%[2]d, %[3]d, 6) g`, salonID, from+1, from+entries-1),
		}
	}
	steps := []string{`CREATE SCHEMA ` + schema}
	for _, table := range []string{"bookings", "waitlist", "waitlist_offers", "clients", "channel_chats"} {
		steps = append(steps, `CREATE TABLE `+schema+`.`+table+` (LIKE public.`+table+` INCLUDING ALL) WITH (autovacuum_enabled = false)`)
	}
	steps = append(steps, `SET search_path = `+schema+`, public`)
	steps = append(steps, insert(3, 1)...) // what the statistics saw
	steps = append(steps, `ANALYZE bookings`, `ANALYZE waitlist`, `ANALYZE waitlist_offers`, `ANALYZE clients`, `ANALYZE channel_chats`)
	steps = append(steps, insert(3000, 4)...) // the burst
	for _, q := range steps {
		_, err := pg.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		t.Run(mode, func(t *testing.T) {
			_, err := pg.Exec(ctx, `SET plan_cache_mode = `+mode)
			require.NoError(t, err)
			name := "waiting_" + mode
			_, err = pg.Exec(ctx, `PREPARE `+name+` AS `+postgres.WaitingSQL)
			require.NoError(t, err)
			var raw []byte
			require.NoError(t, pg.QueryRow(ctx, fmt.Sprintf(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE %s('%s', '2027-03-01', '2027-03-01 07:00Z', '{telegram}')`,
				name, salonID)).Scan(&raw))
			var plan []struct{ Plan map[string]any }
			require.NoError(t, json.Unmarshal(raw, &plan))
			compared := 0.0
			var walk func(n map[string]any)
			walk = func(n map[string]any) {
				loops, _ := n["Actual Loops"].(float64)
				if n["Node Type"] == "CTE Scan" || n["Relation Name"] == "channel_chats" {
					require.LessOrEqual(t, loops, 1.0, "%s %v read once per entry: %s", n["Node Type"], n["Relation Name"], raw)
				}
				removed, _ := n["Rows Removed by Join Filter"].(float64)
				compared += removed * max(loops, 1)
				if kids, ok := n["Plans"].([]any); ok {
					for _, k := range kids {
						walk(k.(map[string]any))
					}
				}
			}
			walk(plan[0].Plan)
			require.Less(t, compared, 3003.0, "rows compared and dropped in joins: %s", raw)
			rows, err := pg.Query(ctx, fmt.Sprintf(`EXECUTE %s('%s', '2027-03-01', '2027-03-01 07:00Z', '{telegram}')`, name, salonID))
			require.NoError(t, err)
			n := 0
			for rows.Next() {
				n++
			}
			require.NoError(t, rows.Err())
			// 3,003 entries, less 1,001 with an offer standing and 501 blocked.
			require.Equal(t, 1501, n)
		})
	}
}

// An offer's check for another offer standing of its chat or client reads
// that chat's and client's bookings, not every offer standing in the salon
// (a thousand during a burst of freed times), with no statistics and generic
// plans; and it finds the chat's and the client's offers.
func TestWaitlistOfferCheckReadsOnlyItsChatAndClient(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	_, salonID := pgtest.Salon(t)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	pg := conn.Hijack()
	defer func() { _ = pg.Close(ctx) }()
	schema := fmt.Sprintf("wl_live_%d", time.Now().UnixNano())
	steps := []string{`CREATE SCHEMA ` + schema}
	for _, table := range []string{"bookings", "waitlist", "waitlist_offers"} {
		steps = append(steps, `CREATE TABLE `+schema+`.`+table+` (LIKE public.`+table+` INCLUDING ALL) WITH (autovacuum_enabled = false)`)
	}
	steps = append(steps, `SET search_path = `+schema+`, public`, `SET plan_cache_mode = force_generic_plan`,
		// Chats 1 to 2,000 wait (client n each); 1,001 to 2,000 have an offer
		// standing; 5,000 bookings of the past; chat 9,000 is client 1,500's
		// other chat, and chat 1,500 waits also as client 9,999.
		`INSERT INTO waitlist (salon_id, channel, chat_id, service_id, master_id, day, client_id)
		 SELECT '`+salonID+`', 'telegram', g::text, 'cut', 'm1', '2027-06-01'::date, g FROM generate_series(1, 2000) g
		 UNION ALL SELECT '`+salonID+`', 'telegram', '9000', 'cut', 'm1', '2027-06-01', 1500
		 UNION ALL SELECT '`+salonID+`', 'telegram', '1500', 'cut', 'm2', '2027-06-01', 9999`,
		`INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
		                       hold_expires_at, price_minor, currency, idempotency_key, source)
		 SELECT '`+salonID+`', 'm' || (g % 20), 'cut', g % 2000 + 1, s, s + interval '15 minutes', tstzrange(s, s + interval '15 minutes'),
		        'confirmed', NULL, 1000, 'EUR', 'past' || g, 'telegram:' || (g % 2000 + 1)
		 FROM generate_series(1, 5000) g, LATERAL (SELECT '2027-01-01Z'::timestamptz + g * interval '20 minutes' AS s) x`,
		`INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
		                       hold_expires_at, price_minor, currency, idempotency_key, source)
		 SELECT '`+salonID+`', 'm' || (g % 20), 'cut', g, s, s + interval '15 minutes', tstzrange(s, s + interval '15 minutes'),
		        'held', '2027-06-01 00:20Z', 1000, 'EUR', 'waitlist:' || g, 'telegram:' || g
		 FROM generate_series(1001, 2000) g, LATERAL (SELECT '2027-06-01Z'::timestamptz + g * interval '20 minutes' AS s) x`,
		`INSERT INTO waitlist_offers (booking_id, salon_id, entry_id, starts_at, ends_at)
		 SELECT b.booking_id, b.salon_id, w.id, b.starts_at, b.ends_at FROM bookings b
		 JOIN waitlist w ON w.salon_id = b.salon_id AND 'telegram:' || w.chat_id = b.source AND w.master_id = 'm1'
		 WHERE b.status = 'held'`,
		`PREPARE offer_live AS `+postgres.OfferLiveSQL,
	)
	for _, q := range steps {
		_, err := pg.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	entry := func(chat, master string) int64 {
		var id int64
		require.NoError(t, pg.QueryRow(ctx, `SELECT id FROM waitlist WHERE chat_id = $1 AND master_id = $2`, chat, master).Scan(&id))
		return id
	}
	const now, other = "2027-06-01 00:05:00Z", "00000000-0000-0000-0000-000000000000"
	for _, c := range []struct {
		name        string
		entry       int64
		live        bool
		description string
	}{
		{"NoneStanding", entry("7", "m1"), false, "chat 7, client 7"},
		{"ItsChats", entry("1500", "m2"), true, "chat 1,500's other entry, as client 9,999"},
		{"ItsClients", entry("9000", "m1"), true, "client 1,500 in chat 9,000"},
		{"ItsOwn", entry("1200", "m1"), true, "chat 1,200, client 1,200"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx, err := pg.Begin(ctx)
			require.NoError(t, err)
			defer func() { _ = tx.Rollback(ctx) }()
			var live bool
			require.Regexp(t, `^[a-z0-9]+$`, salonID) // safe as a literal: EXECUTE takes no parameters
			require.NoError(t, tx.QueryRow(ctx, fmt.Sprintf(`EXECUTE offer_live('%s', %d, '%s', '%s')`, salonID, c.entry, now, other)).Scan(&live))
			require.Equal(t, c.live, live, c.description)
			var raw []byte
			require.NoError(t, tx.QueryRow(ctx, fmt.Sprintf(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE offer_live('%s', %d, '%s', '%s')`,
				salonID, c.entry, now, other)).Scan(&raw))
			var plans []struct {
				Plan scanNode `json:"Plan"`
			}
			require.NoError(t, json.Unmarshal(raw, &plans))
			read := map[string]float64{}
			tableScans(plans[0].Plan, read)
			for scan, rows := range read {
				require.LessOrEqual(t, rows, 10.0, "%s read more than its rows: %s", scan, raw)
			}
		})
	}
}

// The check for another offer of the client runs once the client's lock is
// had (it goes in one round trip with the lock): an offer of the client's
// other chat committed while the pass waited on the lock is seen, and the
// pass offers nothing.
func TestWaitlistOfferChecksAfterTheClientsLock(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	w.join(t, 1)
	// Chat 7 is the same person (chat 1's phone).
	require.NoError(t, w.wl.Join(ctx, dialog.WaitlistEntry{
		Key:       dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "7"},
		ServiceID: "manicure", MasterID: "anna", Day: core.Date{Year: 2027, Month: 3, Day: 2},
		Client: core.Client{Name: "Waiting 1", Phone: "+491520000001"}, Lang: "en",
	}))
	// A typed phone names no one (clients by identity): the two chats are one
	// client as when the channel vouched for the number in both.
	_, err := w.pool.Exec(ctx, `UPDATE waitlist SET client_id = (SELECT client_id FROM waitlist WHERE salon_id = $1 AND chat_id = '1')
		WHERE salon_id = $1 AND chat_id = '7'`, w.salonID)
	require.NoError(t, err)
	w.free(t, 10)
	var client, other int64
	require.NoError(t, w.pool.QueryRow(ctx, `SELECT client_id, id FROM waitlist WHERE salon_id = $1 AND chat_id = '7'`, w.salonID).Scan(&client, &other))
	// Another offer's transaction of the client: its lock, then its hold
	// (Anna's 10:00 on the 3rd) for chat 7.
	tx, err := w.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('salonbook.waitlist.client/' || $1 || '/' || $2::bigint, 0))`, w.salonID, client)
	require.NoError(t, err)
	start := w.at(3, 10, 0)
	_, err = tx.Exec(ctx, `
		WITH b AS (
			INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status, hold_expires_at,
			                      price_minor, currency, idempotency_key, source)
			VALUES ($1, 'anna', 'manicure', $2, $3::timestamptz, $3::timestamptz + interval '1 hour', tstzrange($3::timestamptz, $3::timestamptz + interval '1 hour'), 'held', $4,
			        2500, 'EUR', 'waitlist:other', 'telegram:7')
			RETURNING booking_id, salon_id, starts_at, ends_at)
		INSERT INTO waitlist_offers (booking_id, salon_id, entry_id, starts_at, ends_at) SELECT booking_id, salon_id, $5, starts_at, ends_at FROM b`,
		w.salonID, client, start, w.clock.Now().Add(time.Hour), other)
	require.NoError(t, err)
	var pid int
	require.NoError(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	done := make(chan int, 1)
	go func() { n, _ := w.matcher.Pass(ctx); done <- n }()
	w.waitBlockedBy(t, pid)
	require.NoError(t, tx.Commit(ctx))
	require.Equal(t, 0, <-done, "the client's other chat has an offer standing")
	require.Equal(t, map[string]time.Time{"telegram:7": start}, w.starts(t))
}
