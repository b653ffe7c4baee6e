package pgtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"salonbook/src/adapters/postgres"
	"salonbook/src/core"
)

// Berlin is the zone of the test salon.
var Berlin = mustZone("Europe/Berlin")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// EveryDay is 09:00-19:00 on every weekday.
func EveryDay() core.WeeklyHours {
	var h core.WeeklyHours
	for wd := range h {
		h[wd] = []core.ClockRange{{Start: 9 * 60, End: 19 * 60}}
	}
	return h
}

// Setup describes the test salon: Berlin, three masters working 09:00-19:00 daily,
// a 45-minute haircut followed by a 15-minute clean-up, and a manicure only Anna
// does. Slots every 15 minutes, 2 h notice, 60 days ahead, 10 min holds, 12 h
// cancellation cutoff.
func Setup(id string) postgres.SalonSetup {
	return postgres.SalonSetup{
		Salon: core.Salon{
			ID: id, Name: "Studio " + id, Timezone: Berlin, Locales: []string{"en", "ru"}, Phone: "+49 30 1234567",
			Policy: core.Policy{SlotStep: 15 * time.Minute, MinNotice: 2 * time.Hour, Horizon: 60 * 24 * time.Hour,
				Hold: 10 * time.Minute, CancelCutoff: 12 * time.Hour},
		},
		Services: []core.Service{
			{ID: "haircut", Name: map[string]string{"en": "Haircut", "ru": "Стрижка"}, Duration: 45 * time.Minute,
				BufferAfter: 15 * time.Minute, Price: core.Money{Minor: 3500, Currency: "EUR"}},
			{ID: "manicure", Name: map[string]string{"en": "Manicure"}, Duration: 60 * time.Minute,
				Price: core.Money{Minor: 2500, Currency: "EUR"}},
		},
		Masters: []core.Master{
			{ID: "anna", Name: "Anna", Services: []string{"haircut", "manicure"}, Hours: EveryDay()},
			{ID: "boris", Name: "Boris", Services: []string{"haircut"}, Hours: EveryDay()},
			{ID: "chloe", Name: "Chloe", Services: []string{"haircut"}, Hours: EveryDay()},
		},
	}
}

// Salon applies a fresh test salon with a random id to the package database and
// returns the store and the salon id.
func Salon(t testing.TB) (*postgres.Store, string) {
	t.Helper()
	store := postgres.NewStore(Pool(t))
	id := "s" + RandomID()
	if _, err := store.Apply(context.Background(), Setup(id)); err != nil {
		t.Fatal(err)
	}
	return store, id
}

// BenchSalon applies a salon for benchmarks: masters m00, m01, … doing one
// 45-minute service ("cut", 15-minute clean-up) Monday to Saturday 09:00-13:00 and
// 14:00-19:00, slots every 15 minutes, no notice, a year ahead; then it inserts
// bookings confirmed bookings from the day of from on, four a working day per
// master (09:00, 11:00, 14:00, 16:00), straight in SQL.
// It returns the store and the salon id.
func BenchSalon(t testing.TB, masters, bookings int, from time.Time) (*postgres.Store, string) {
	t.Helper()
	pool := Pool(t)
	store := postgres.NewStore(pool)
	id := "b" + RandomID()
	var h core.WeeklyHours
	for wd := time.Monday; wd <= time.Saturday; wd++ {
		h[wd] = []core.ClockRange{{Start: 9 * 60, End: 13 * 60}, {Start: 14 * 60, End: 19 * 60}}
	}
	setup := postgres.SalonSetup{
		Salon: core.Salon{ID: id, Name: "Bench", Timezone: Berlin, Locales: []string{"en"},
			Policy: core.Policy{SlotStep: 15 * time.Minute, Horizon: 366 * 24 * time.Hour, Hold: 10 * time.Minute}},
		Services: []core.Service{{ID: "cut", Name: map[string]string{"en": "Cut"}, Duration: 45 * time.Minute,
			BufferAfter: 15 * time.Minute, Price: core.Money{Minor: 3000, Currency: "EUR"}}},
	}
	for i := range masters {
		setup.Masters = append(setup.Masters, core.Master{ID: fmt.Sprintf("m%02d", i), Name: fmt.Sprintf("Master %02d", i),
			Services: []string{"cut"}, Hours: h})
	}
	ctx := context.Background()
	if _, err := store.Apply(ctx, setup); err != nil {
		t.Fatal(err)
	}
	// Booking i goes to master i%masters at the (i/masters)-th of those hours
	// counted through the days, so none overlap (one client per master, too).
	_, err := pool.Exec(ctx, `
		WITH c AS (
			INSERT INTO clients (salon_id, name, phone)
			SELECT $1, 'Bench', '+4900000' || lpad(n::text, 4, '0') FROM generate_series(0, $3 - 1) n
			RETURNING client_id
		),
		cn AS (SELECT client_id, row_number() OVER (ORDER BY client_id) - 1 AS n FROM c),
		hours AS (
			SELECT d + make_interval(hours => hh) AS local_start
			FROM generate_series($2::timestamp, $2::timestamp + interval '365 days', interval '1 day') d,
			     unnest(ARRAY[9, 11, 14, 16]) hh
			WHERE extract(isodow FROM d) < 7
		),
		slots AS (SELECT (local_start AT TIME ZONE 'Europe/Berlin') AS s, row_number() OVER (ORDER BY local_start) - 1 AS k FROM hours),
		picks AS (
			SELECT i, format('m%s', lpad((i % $3)::text, 2, '0')) AS master, sl.s
			FROM generate_series(0, $4 - 1) i JOIN slots sl ON sl.k = i / $3
		)
		INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
		                      price_minor, currency, idempotency_key)
		SELECT $1, master, 'cut', (SELECT client_id FROM cn WHERE cn.n = i % $3), s, s + interval '45 minutes',
		       tstzrange(s, s + interval '60 minutes'), 'confirmed', 3000, 'EUR', 'seed-' || i
		FROM picks`, id, from.In(Berlin).Format("2006-01-02"), masters, bookings)
	if err != nil {
		t.Fatal(err)
	}
	// Autovacuum would gather statistics soon after a bulk load; do it now so that
	// the planner sees the table as it would in production.
	if _, err := pool.Exec(ctx, "ANALYZE bookings"); err != nil {
		t.Fatal(err)
	}
	return store, id
}
