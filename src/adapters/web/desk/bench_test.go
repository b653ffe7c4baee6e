package desk_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web/desk"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/staff"
)

// BenchmarkWeekView: the owner's week view of the whole salon, 20 masters × 7
// days with 1,000 bookings in the week, through the whole HTTP stack (session
// check, catalog, one schedule query, drawing); reports the median and
// 99th-percentile server time.
func BenchmarkWeekView(b *testing.B) {
	pool := pgtest.Pool(b)
	store := postgres.NewStore(pool)
	id := "w" + pgtest.RandomID()
	var hours core.WeeklyHours
	for wd := range hours {
		hours[wd] = []core.ClockRange{{Start: 8 * 60, End: 20 * 60}}
	}
	setup := postgres.SalonSetup{
		Salon: core.Salon{ID: id, Name: "Bench", Timezone: pgtest.Berlin, Locales: []string{"en"},
			Policy: core.Policy{SlotStep: 15 * time.Minute, Horizon: 366 * 24 * time.Hour, Hold: 10 * time.Minute}},
		Services: []core.Service{{ID: "cut", Name: map[string]string{"en": "Cut"}, Duration: 45 * time.Minute,
			BufferAfter: 15 * time.Minute, Price: core.Money{Minor: 3000, Currency: "EUR"}}},
		Staff: []staff.Account{{Login: "owner", Role: staff.Owner}},
	}
	for i := range 20 {
		setup.Masters = append(setup.Masters, core.Master{ID: fmt.Sprintf("m%02d", i), Name: fmt.Sprintf("Master %02d", i),
			Services: []string{"cut"}, Hours: hours})
	}
	ctx := b.Context()
	if _, err := store.Apply(ctx, setup); err != nil {
		b.Fatal(err)
	}
	// 1,000 bookings in the week of Monday 2027-03-08: master i%20 at the
	// (i/20)-th of 08:00, 09:30, … 18:30 (8 a day) counted through the days.
	if _, err := pool.Exec(ctx, `
		WITH c AS (
			INSERT INTO clients (salon_id, name, phone)
			SELECT $1, 'Client ' || n, '+4915100' || lpad(n::text, 5, '0') FROM generate_series(0, 999) n
			RETURNING client_id
		),
		cn AS (SELECT client_id, row_number() OVER (ORDER BY client_id) - 1 AS n FROM c),
		picks AS (
			SELECT i, format('m%s', lpad((i % 20)::text, 2, '0')) AS master,
			       (timestamp '2027-03-08 08:00' + make_interval(days => (i / 20) / 8, mins => 90 * ((i / 20) % 8)))
			           AT TIME ZONE 'Europe/Berlin' AS s
			FROM generate_series(0, 999) i
		)
		INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
		                      price_minor, currency, idempotency_key, source)
		SELECT $1, master, 'cut', (SELECT client_id FROM cn WHERE cn.n = i), s, s + interval '45 minutes',
		       tstzrange(s, s + interval '60 minutes'), 'confirmed', 3000, 'EUR', 'seed-' || i, 'telegram:' || i
		FROM picks`, id); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE bookings"); err != nil {
		b.Fatal(err)
	}
	clock := &core.FixedClock{T: time.Date(2027, 3, 8, 7, 0, 0, 0, time.UTC)}
	d := postgres.NewDesk(pool)
	hash, err := desk.HashPassword("bench-password")
	if err != nil {
		b.Fatal(err)
	}
	if err := d.SetPassword(ctx, id, "owner", hash, clock.T); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(desk.Handler(desk.Config{SalonID: id, Store: d, Catalog: booking.New(store, clock), Clock: clock,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(srv.URL + "/admin/login")
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token := csrfField.FindSubmatch(page)[1]
	resp, err = c.PostForm(srv.URL+"/admin/login", map[string][]string{"login": {"owner"}, "password": {"bench-password"}, "csrf": {string(token)}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()

	url := srv.URL + "/admin/week?date=2027-03-08"
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		resp, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took = append(took, time.Since(start))
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		if n := strings.Count(string(body), `class="b confirmed"`); n != 1000 {
			b.Fatalf("%d bookings drawn, want 1000", n)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}
