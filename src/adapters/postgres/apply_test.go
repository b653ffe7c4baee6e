package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

func TestApply(t *testing.T) {
	t.Parallel()

	t.Run("TwiceChangesNothing", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		n, err := b.store.Apply(ctx, b.setup)
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("RemovedServiceAndMasterAreDeactivatedNotDeleted", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		r := b.req("chloe", b.at(3, 10, 0), "keep")
		r.Confirm = true
		kept, err := b.svc.Book(ctx, r)
		require.NoError(t, err)

		setup := pgtest.Setup(b.salonID)
		setup.Services = setup.Services[:1]             // manicure removed
		setup.Masters = setup.Masters[:2]               // chloe removed
		setup.Masters[0].Services = []string{"haircut"} // anna no longer does manicure
		n, err := b.store.Apply(ctx, setup)
		require.NoError(t, err)
		require.Positive(t, n)

		cat, err := b.svc.Catalog(ctx, b.salonID)
		require.NoError(t, err)
		require.Len(t, cat.Services, 1)
		require.Len(t, cat.Masters, 2)
		got, err := b.svc.Get(ctx, b.salonID, kept.ID)
		require.NoError(t, err, "a removed master's bookings stay")
		require.Equal(t, core.StatusConfirmed, got.Status)
		_, err = b.svc.Book(ctx, b.req("chloe", b.at(3, 12, 0), "gone"))
		require.Equal(t, core.ENotFound, core.ErrorCode(err))

		// Putting them back reactivates them.
		_, err = b.store.Apply(ctx, pgtest.Setup(b.salonID))
		require.NoError(t, err)
		cat, err = b.svc.Catalog(ctx, b.salonID)
		require.NoError(t, err)
		require.Len(t, cat.Services, 2)
		require.Len(t, cat.Masters, 3)
	})

	t.Run("MasterNamesPerLanguageAreStored", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		setup := pgtest.Setup(b.salonID)
		setup.Masters[0].Names = map[string]string{"en": setup.Masters[0].Name, "ru": "Анна"}
		n, err := b.store.Apply(ctx, setup)
		require.NoError(t, err)
		require.Positive(t, n, "a name added is a change")
		n, err = b.store.Apply(ctx, setup)
		require.NoError(t, err)
		require.Zero(t, n, "the same names again change nothing")
		cat, err := b.svc.Catalog(ctx, b.salonID)
		require.NoError(t, err)
		require.Equal(t, "Анна", cat.Masters[0].NameIn("ru"))
		require.Equal(t, setup.Masters[0].Name, cat.Masters[0].NameIn("en"))
		require.Nil(t, cat.Masters[1].Names, "one name for every language")

		// Back to one name for every language: the names go, stored as {}.
		setup.Masters[0].Names = nil
		n, err = b.store.Apply(ctx, setup)
		require.NoError(t, err)
		require.Positive(t, n, "names removed are a change")
		cat, err = b.svc.Catalog(ctx, b.salonID)
		require.NoError(t, err)
		require.Nil(t, cat.Masters[0].Names)
		require.Equal(t, setup.Masters[0].Name, cat.Masters[0].NameIn("ru"), "the one name in every language")
		var stored string
		require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT names::text FROM masters WHERE salon_id = $1 AND master_id = 'anna'`,
			b.salonID).Scan(&stored))
		require.Equal(t, "{}", stored)
	})

	t.Run("MaxUpcomingIsStored", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		setup := pgtest.Setup(b.salonID)
		setup.Salon.Policy.MaxUpcoming = 5
		n, err := b.store.Apply(ctx, setup)
		require.NoError(t, err)
		require.Positive(t, n, "a changed cap is a change")
		cat, err := b.svc.Catalog(ctx, b.salonID)
		require.NoError(t, err)
		require.Equal(t, 5, cat.Salon.Policy.MaxUpcoming)
	})

	t.Run("AfterBookingPolicyIsStored", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		setup := pgtest.Setup(b.salonID)
		at := core.ClockTime(7*60 + 30)
		setup.Salon.Policy.Reminders = []time.Duration{48 * time.Hour, 15 * time.Minute}
		setup.Salon.Policy.WaitlistOffer = 5 * time.Minute
		setup.Salon.Policy.StaffSummary = &at
		n, err := b.store.Apply(ctx, setup)
		require.NoError(t, err)
		require.Positive(t, n)
		cat, err := b.svc.Catalog(ctx, b.salonID)
		require.NoError(t, err)
		require.Equal(t, setup.Salon.Policy.Reminders, cat.Salon.Policy.Reminders)
		require.Equal(t, 5*time.Minute, cat.Salon.Policy.WaitlistOffer)
		require.Equal(t, &at, cat.Salon.Policy.StaffSummary)

		setup.Salon.Policy.Reminders, setup.Salon.Policy.StaffSummary = nil, nil
		_, err = b.store.Apply(ctx, setup)
		require.NoError(t, err)
		cat, err = b.svc.Catalog(ctx, b.salonID)
		require.NoError(t, err)
		require.Empty(t, cat.Salon.Policy.Reminders, "no reminders is stored as none, not as the default")
		require.Nil(t, cat.Salon.Policy.StaffSummary)
		n, err = b.store.Apply(ctx, setup)
		require.NoError(t, err)
		require.Zero(t, n, "the same policy again changes nothing")
	})

	t.Run("AliasesAreStored", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		setup := pgtest.Setup(b.salonID)
		setup.Services[0].Aliases = []string{"cut", "подстричься"}
		setup.Masters[0].Aliases = []string{"Анна", "Аня"}
		n, err := b.store.Apply(ctx, setup)
		require.NoError(t, err)
		require.EqualValues(t, 2, n, "a service and a master changed")
		cat, err := b.svc.Catalog(ctx, b.salonID)
		require.NoError(t, err)
		require.Equal(t, []string{"cut", "подстричься"}, cat.Services[0].Aliases)
		require.Equal(t, []string{"Анна", "Аня"}, cat.Masters[0].Aliases)
		require.Nil(t, cat.Masters[1].Aliases)
		n, err = b.store.Apply(ctx, setup)
		require.NoError(t, err)
		require.Zero(t, n, "the same aliases again change nothing")

		setup.Services[0].Aliases = nil
		_, err = b.store.Apply(ctx, setup)
		require.NoError(t, err)
		cat, err = b.svc.Catalog(ctx, b.salonID)
		require.NoError(t, err)
		require.Nil(t, cat.Services[0].Aliases, "aliases removed from the file are gone")
	})

	t.Run("ChangedHoursChangeSlots", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		setup := pgtest.Setup(b.salonID)
		setup.Masters[0].Hours = core.WeeklyHours{time.Tuesday: {{Start: 20 * 60, End: 2 * 60}}}
		setup.Masters[0].DaysOff = []core.Date{{Year: 2027, Month: 3, Day: 9}}
		_, err := b.store.Apply(ctx, setup)
		require.NoError(t, err)
		slots, _, err := b.svc.Slots(ctx, booking.SlotsRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
			From: core.Date{Year: 2027, Month: 3, Day: 2}, Days: 14})
		require.NoError(t, err)
		require.NotEmpty(t, slots)
		for _, s := range slots {
			local := s.Start.In(b.zone)
			tuesdayNight := local.Weekday() == time.Tuesday && local.Hour() >= 20
			wednesdayEarly := local.Weekday() == time.Wednesday && local.Hour() < 2
			require.True(t, tuesdayNight || wednesdayEarly, "slot %v outside the new hours", local)
			require.False(t, core.DateOf(local) == core.Date{Year: 2027, Month: 3, Day: 9} ||
				core.DateOf(local) == core.Date{Year: 2027, Month: 3, Day: 10}, "the day off cancels the shift that starts on it: %v", local)
		}
	})
}
