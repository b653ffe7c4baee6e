package desk_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web/desk"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/staff"
)

var big struct {
	sync.Mutex
	store *postgres.Store
	desk  *postgres.Desk
	id    string
	clock *core.FixedClock
}

// bigSalon is made once per test binary (its seeding takes a minute or two);
// the benchmarks only read it (and add a feed).
func bigSalon(b *testing.B) (*postgres.Store, *postgres.Desk, string, *core.FixedClock) {
	big.Lock()
	defer big.Unlock()
	if big.id == "" {
		big.store, big.desk, big.id, big.clock = seedBigSalon(b)
	}
	return big.store, big.desk, big.id, big.clock
}

// seedBigSalon makes a salon of 20 masters with 100,000 clients and 200,000
// confirmed bookings: booking i is master i%20's (i/20)-th hour from 300 days
// before now (so about 10,000 hours each), of client i%100,000 (each client
// twice, 5,000 hours apart), each with two recorded changes (held, confirmed).
func seedBigSalon(b *testing.B) (*postgres.Store, *postgres.Desk, string, *core.FixedClock) {
	// A pool of the binary's life (pgtest.Pool's ends with the first benchmark).
	pool, err := postgres.Open(context.Background(), pgtest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	store := postgres.NewStore(pool)
	id := "c" + pgtest.RandomID()
	var hours core.WeeklyHours
	for wd := range hours {
		hours[wd] = []core.ClockRange{{Start: 0, End: 24 * 60}}
	}
	setup := postgres.SalonSetup{
		Salon: core.Salon{ID: id, Name: "Bench", Timezone: pgtest.Berlin, Locales: []string{"en"},
			Policy: core.Policy{SlotStep: 15 * time.Minute, Horizon: 60 * 24 * time.Hour, Hold: 10 * time.Minute}},
		Services: []core.Service{{ID: "cut", Name: map[string]string{"en": "Cut"}, Duration: 45 * time.Minute,
			Price: core.Money{Minor: 3000, Currency: "EUR"}}},
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
	clock := &core.FixedClock{T: time.Date(2027, 3, 8, 7, 0, 0, 0, time.UTC)}
	if _, err := pool.Exec(ctx, `
		WITH c AS (
			INSERT INTO clients (salon_id, name, phone)
			SELECT $1, (ARRAY['Anna','Maria','Olga','Petra','Sofia','Elena','Nina','Vera'])[1 + n % 8] || ' Client' || n,
			       '+4915' || lpad(n::text, 9, '0') FROM generate_series(0, 99999) n
			RETURNING client_id
		),
		cn AS (SELECT client_id, row_number() OVER (ORDER BY client_id) - 1 AS n FROM c),
		picks AS (
			SELECT i, format('m%s', lpad((i % 20)::text, 2, '0')) AS master,
			       $2::timestamptz + make_interval(hours => i / 20) AS s
			FROM generate_series(0, 199999) i
		)
		INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
		                      price_minor, currency, idempotency_key, source)
		SELECT $1, master, 'cut', cn.client_id, s, s + interval '45 minutes',
		       tstzrange(s, s + interval '45 minutes'), 'confirmed', 3000, 'EUR', 'seed-' || i, 'telegram:' || i
		FROM picks JOIN cn ON cn.n = picks.i % 100000`, id, clock.T.Add(-300*24*time.Hour)); err != nil {
		b.Fatal(err)
	}
	// Each booking's history as booking it writes it: held, then confirmed
	// (the feed counts them per booking).
	if _, err := pool.Exec(ctx, `
		INSERT INTO booking_changes (booking_id, salon_id, at, actor, action, starts_at)
		SELECT booking_id, salon_id, created_at + make_interval(secs => a.k), 'chat', a.action, starts_at
		FROM bookings, (VALUES (0, 'held'), (60, 'confirmed')) a (k, action)
		WHERE salon_id = $1`, id); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE clients; ANALYZE bookings; ANALYZE booking_changes"); err != nil {
		b.Fatal(err)
	}
	return store, postgres.NewDesk(pool), id, clock
}

func percentiles(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkClientSearch: one page of the clients search in a salon of
// 100,000 clients and 200,000 bookings (the store's query): an owner's name
// search, phone search and unfiltered first page, and a master's name search
// (only their clients, counting their bookings).
func BenchmarkClientSearch(b *testing.B) {
	_, d, id, clock := bigSalon(b)
	owner := staff.Account{Login: "owner", Role: staff.Owner}
	master := staff.Account{Login: "m", Role: staff.Master, MasterID: "m03"}
	for _, c := range []struct {
		name, text string
		who        staff.Account
	}{{"owner-name", "petra client12", owner}, {"owner-phone", "0150 0001 2345", owner}, {"owner-all", "", owner},
		{"master-name", "petra", master}} {
		b.Run(c.name, func(b *testing.B) {
			q, refusal := staff.ParseClientSearch(c.text, 0, c.who)
			if refusal != "" {
				b.Fatal(refusal)
			}
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				rows, err := d.Clients(b.Context(), id, q, clock.T)
				took = append(took, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if len(rows) == 0 {
					b.Fatal("nothing found")
				}
			}
			percentiles(b, took)
		})
	}
}

// BenchmarkCalendarFeed: a master's feed (30 days back, 60 ahead: about 2,160
// bookings) in the same salon, through the HTTP handler: the lookup by hash,
// one query, the iCalendar text and its ETag.
func BenchmarkCalendarFeed(b *testing.B) {
	store, d, id, clock := bigSalon(b)
	secret, hash := desk.NewFeedSecret()
	if err := d.SetFeed(b.Context(), id, "m07", hash, "bench", clock.T); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(desk.FeedHandler(desk.Config{SalonID: id, Store: d, Feeds: d, Catalog: booking.New(store, clock),
		Clock: clock, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}))
	defer srv.Close()
	u := desk.FeedURL(srv.URL, secret)
	var took []time.Duration
	size := 0
	for b.Loop() {
		start := time.Now()
		resp, err := http.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took = append(took, time.Since(start))
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		if n := strings.Count(string(body), "BEGIN:VEVENT"); n < 2000 {
			b.Fatalf("%d events", n)
		}
		size = len(body)
	}
	b.ReportMetric(float64(size)/1024, "KiB")
	percentiles(b, took)
}
