package postgres_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"salonbook/src/adapters/jobs"
	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// BenchmarkSlots: free times of one service for 14 days across 20 masters, with
// 10,000 bookings in the table, through the booking service and the real store.
func BenchmarkSlots(b *testing.B) {
	now := time.Date(2027, 3, 1, 6, 0, 0, 0, time.UTC)
	store, salonID := pgtest.BenchSalon(b, 20, 10000, now)
	svc := booking.New(store, &core.FixedClock{T: now})
	req := booking.SlotsRequest{SalonID: salonID, ServiceID: "cut", MasterID: booking.AnyMaster,
		From: core.Date{Year: 2027, Month: 3, Day: 8}, Days: 14}
	for _, master := range []string{booking.AnyMaster, "m07"} {
		b.Run("master="+master, func(b *testing.B) {
			req.MasterID = master
			var n int
			for b.Loop() {
				slots, _, err := svc.Slots(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				n = len(slots)
			}
			b.ReportMetric(float64(n), "slots")
		})
	}
}

// BenchmarkBookingThroughput: confirmed bookings committed per second by 8
// concurrent writers through booking.Service, then pgbench with 8 clients
// inserting into the same table for the same time, and the ratio of the two.
// Run it with -benchtime=Nx (N bookings in all); scripts/bench.sh does.
func BenchmarkBookingThroughput(b *testing.B) { benchBookings(b, false, false) }

// BenchmarkBookingThroughputCapped is BenchmarkBookingThroughput as a chat
// books under policy.max_upcoming (each writer a chat of its own): lapsed holds
// expired first, the chat's lock, the client's row lock and the count.
func BenchmarkBookingThroughputCapped(b *testing.B) { benchBookings(b, false, true) }

// BenchmarkBookingWithCalendar is the same with every master on a calendar and
// calendar sync on: each booking runs in a transaction that also inserts its
// river job (nothing runs the jobs here).
func BenchmarkBookingWithCalendar(b *testing.B) { benchBookings(b, true, false) }

func benchBookings(b *testing.B, calendars, capped bool) {
	const writers = 8
	now := time.Date(2027, 3, 1, 6, 0, 0, 0, time.UTC)
	store, salonID := pgtest.BenchSalon(b, writers, 0, now)
	ctx := context.Background()
	if capped {
		pool := pgtest.Pool(b)
		if _, err := pool.Exec(ctx, `UPDATE salons SET max_upcoming = 100000 WHERE salon_id = $1`, salonID); err != nil {
			b.Fatal(err)
		}
		store = postgres.NewStore(pool) // its catalog is read after the change
	}
	svc := booking.New(store, &core.FixedClock{T: now})
	if calendars {
		pool := pgtest.Pool(b)
		if _, err := pool.Exec(ctx, `UPDATE masters SET calendar = master_id || '@example.com' WHERE salon_id = $1`, salonID); err != nil {
			b.Fatal(err)
		}
		runner, err := jobs.New(pool, jobs.Config{Queue: "bench" + salonID})
		if err != nil {
			b.Fatal(err)
		}
		store.FollowChanges(runner.Record)
	}

	// Writer w books master w on its working hours in order: no two bookings
	// collide, so every attempt is a commit, as with pgbench below.
	var starts []time.Time
	for d := range 300 {
		day := core.Date{Year: 2027, Month: 3, Day: 2}.AddDays(d)
		if day.Weekday() == time.Sunday {
			continue
		}
		for _, h := range []int{9, 10, 11, 12, 14, 15, 16, 17, 18} {
			t, _ := day.At(core.ClockTime(h*60), pgtest.Berlin)
			starts = append(starts, t)
		}
	}
	source := func(w int) string {
		if capped {
			return fmt.Sprintf("bench:%d", w)
		}
		return ""
	}
	var next [writers]atomic.Int64
	var done atomic.Int64
	b.ResetTimer()
	began := time.Now()
	var wg sync.WaitGroup
	per := (b.N + writers - 1) / writers
	for w := range writers {
		wg.Go(func() {
			for range per {
				i := next[w].Add(1) - 1
				if int(i) >= len(starts) {
					b.Error("benchmark ran out of distinct times; lower -benchtime")
					return
				}
				_, err := svc.Book(ctx, booking.BookRequest{
					SalonID: salonID, ServiceID: "cut", MasterID: fmt.Sprintf("m%02d", w), Start: starts[i],
					Client:         core.Client{Name: "Writer", Phone: fmt.Sprintf("+4915100000%02d", w)},
					IdempotencyKey: fmt.Sprintf("w%d-%d", w, i), Confirm: true, Source: source(w),
				})
				if err != nil {
					b.Error(err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	ours := float64(done.Load()) / elapsed.Seconds()
	b.ReportMetric(ours, "bookings/s")

	rate, err := pgbenchInserts(b, salonID, elapsed)
	if err != nil {
		b.Logf("pgbench comparison skipped: %v", err)
		return
	}
	b.ReportMetric(rate, "pgbench-inserts/s")
	b.ReportMetric(ours/rate, "ratio")
}

// pgbenchInserts runs pgbench with 8 clients for d, each transaction one INSERT …
// ON CONFLICT DO NOTHING of a confirmed booking at a random time into the same
// table and salon, and returns the inserted rows per second.
func pgbenchInserts(b *testing.B, salonID string, d time.Duration) (float64, error) {
	if _, err := exec.LookPath("pgbench"); err != nil {
		return 0, err
	}
	pool := pgtest.Pool(b)
	ctx := context.Background()
	var client int64
	if err := pool.QueryRow(ctx, `SELECT client_id FROM clients WHERE salon_id = $1 LIMIT 1`, salonID).Scan(&client); err != nil {
		return 0, err
	}
	script := filepath.Join(b.TempDir(), "insert.sql")
	err := os.WriteFile(script, []byte(fmt.Sprintf(`\set m random(0, 7)
\set k random(0, 1000000000)
INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status, price_minor, currency, idempotency_key)
SELECT '%[1]s', 'm0' || :m, 'cut', %[2]d, s, s + interval '45 minutes', tstzrange(s, s + interval '60 minutes'), 'confirmed', 3000, 'EUR', 'pgb-' || :k || '-' || :m
FROM (SELECT timestamptz '2040-01-01' + make_interval(mins => :k) AS s) t
ON CONFLICT DO NOTHING;
`, salonID, client)), 0o600)
	if err != nil {
		return 0, err
	}
	count := func() (n int64) {
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE salon_id = $1 AND idempotency_key LIKE 'pgb-%'`, salonID).Scan(&n)
		return n
	}
	before := count()
	secs := max(5, int(d.Seconds()+0.5))
	out, err := exec.Command("pgbench", "-n", "-c", "8", "-j", "2", "-T", strconv.Itoa(secs), "-f", script, pgtest.URL(b)).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v: %s", err, out)
	}
	m := regexp.MustCompile(`(?m)^duration: (\d+) s`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench output not understood: %s", out)
	}
	dur, _ := strconv.Atoi(string(m[1]))
	return float64(count()-before) / float64(dur), nil
}
