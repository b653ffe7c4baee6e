package postgres_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// bundle is one test's world: a salon of its own in the package database, a fixed
// clock and the booking service over the real store.
type bundle struct {
	store   *postgres.Store
	svc     *booking.Service
	clock   *core.FixedClock
	salonID string
	zone    *time.Location
	setup   postgres.SalonSetup
}

var berlin = mustZone("Europe/Berlin")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// everyDay is 09:00-19:00 on every weekday.
func everyDay() core.WeeklyHours {
	var h core.WeeklyHours
	for wd := range h {
		h[wd] = []core.ClockRange{{Start: 9 * 60, End: 19 * 60}}
	}
	return h
}

// demoSetup is a salon in Berlin with three masters working 09:00-19:00 daily and a
// 45-minute haircut followed by a 15-minute clean-up.
func demoSetup(id string) postgres.SalonSetup {
	return postgres.SalonSetup{
		Salon: core.Salon{
			ID: id, Name: "Studio " + id, Timezone: berlin, Locales: []string{"en", "ru"}, Phone: "+49 30 1234567",
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
			{ID: "anna", Name: "Anna", Services: []string{"haircut", "manicure"}, Hours: everyDay()},
			{ID: "boris", Name: "Boris", Services: []string{"haircut"}, Hours: everyDay()},
			{ID: "chloe", Name: "Chloe", Services: []string{"haircut"}, Hours: everyDay()},
		},
	}
}

func newBundle(t *testing.T) *bundle {
	t.Helper()
	store := postgres.NewStore(pgtest.Pool(t))
	b := &bundle{
		store:   store,
		clock:   &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}, // Monday 08:00 in Berlin
		salonID: "s" + pgtest.RandomID(),
		zone:    berlin,
	}
	b.setup = demoSetup(b.salonID)
	_, err := store.Apply(context.Background(), b.setup)
	require.NoError(t, err)
	b.svc = booking.New(store, b.clock)
	return b
}

// at is a Berlin wall-clock time on March 2027.
func (b *bundle) at(day, hour, minute int) time.Time {
	return time.Date(2027, 3, day, hour, minute, 0, 0, b.zone).UTC()
}

func (b *bundle) req(master string, start time.Time, key string) booking.BookRequest {
	return booking.BookRequest{
		SalonID: b.salonID, ServiceID: "haircut", MasterID: master, Start: start,
		Client:         core.Client{Name: "Client " + key, Phone: "+49 151 " + phoneDigits(key)},
		IdempotencyKey: key,
	}
}

// phoneDigits derives a distinct phone number from a key, so that different keys
// are different clients.
func phoneDigits(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return fmt.Sprintf("%08d", h.Sum32()%100000000)
}
