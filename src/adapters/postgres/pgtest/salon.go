package pgtest

import (
	"context"
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
