package dialog_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
)

func summarySalon(t *testing.T, at string, locales ...string) *core.Salon {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	s := &core.Salon{Timezone: berlin, Locales: locales}
	if at != "" {
		c, err := core.ParseClock(at)
		require.NoError(t, err)
		s.Policy.StaffSummary = &c
	}
	return s
}

func utc(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2027, month, day, hour, minute, 0, 0, time.UTC)
}

// TestStaffSummaryText: the day with its weekday and the count, then each
// booking in order, the client by first name, the "I'll come" mark; in the
// salon's first language and zone (10:30 UTC is 12:30 in Berlin in summer).
func TestStaffSummaryText(t *testing.T) {
	t.Parallel()
	catalog, err := i18n.Load()
	require.NoError(t, err)
	day := dialog.StaffDay{Day: core.Date{Year: 2027, Month: 3, Day: 28}, Master: "Anna", Bookings: []dialog.StaffDayBooking{
		{Start: utc(3, 28, 7, 0), Service: map[string]string{"en": "Haircut", "ru": "Стрижка"}, Client: "Olga Petrova", Coming: true},
		{Start: utc(3, 28, 10, 30), Service: map[string]string{"en": "Manicure"}, Client: " Ivan "},
	}}
	require.Equal(t, "Anna, your day on Sunday, 28 March: 2 bookings.\n"+
		"09:00 Haircut, Olga ✓ confirmed\n"+
		"12:30 Manicure, Ivan",
		dialog.StaffSummaryText(catalog, summarySalon(t, "08:00", "en", "ru"))(day))
	require.Equal(t, "Anna, на воскресенье, 28 марта, у вас 2 записи.\n"+
		"09:00 Стрижка, Olga ✓ придёт\n"+
		"12:30 Manicure, Ivan",
		dialog.StaffSummaryText(catalog, summarySalon(t, "08:00", "ru", "en"))(day))
	day.Bookings = day.Bookings[1:]
	require.Equal(t, "Anna, your day on Sunday, 28 March: 1 booking.\n12:30 Manicure, Ivan",
		dialog.StaffSummaryText(catalog, summarySalon(t, "08:00", "en"))(day))
	day.Bookings = append(day.Bookings, day.Bookings[0], day.Bookings[0], day.Bookings[0], day.Bookings[0])
	require.Contains(t, dialog.StaffSummaryText(catalog, summarySalon(t, "08:00", "ru"))(day), "у вас 5 записей.\n")
}

// TestSummaryInstants: 08:00 stays 08:00 local across both Berlin DST changes
// of 2027; a time in the skipped hour is due at the change; off is never due.
func TestSummaryInstants(t *testing.T) {
	t.Parallel()
	salon := summarySalon(t, "08:00", "en")
	for _, c := range []struct {
		day  core.Date
		want time.Time
	}{
		{core.Date{Year: 2027, Month: 3, Day: 27}, utc(3, 27, 7, 0)},   // CET
		{core.Date{Year: 2027, Month: 3, Day: 28}, utc(3, 28, 6, 0)},   // clocks went forward at 02:00
		{core.Date{Year: 2027, Month: 10, Day: 30}, utc(10, 30, 6, 0)}, // CEST
		{core.Date{Year: 2027, Month: 10, Day: 31}, utc(10, 31, 7, 0)}, // clocks went back at 03:00
	} {
		got, ok := dialog.SummaryAt(salon, c.day)
		require.True(t, ok)
		require.Equal(t, c.want, got, "%s", c.day)
	}
	gap, ok := dialog.SummaryAt(summarySalon(t, "02:30", "en"), core.Date{Year: 2027, Month: 3, Day: 28})
	require.True(t, ok)
	require.Equal(t, utc(3, 28, 1, 0), gap, "02:30 does not exist that day: due at the change (03:00 CEST)")
	twice, ok := dialog.SummaryAt(summarySalon(t, "02:30", "en"), core.Date{Year: 2027, Month: 10, Day: 31})
	require.True(t, ok)
	require.Equal(t, utc(10, 31, 0, 30), twice, "02:30 happens twice that day: the first")

	_, _, due := dialog.SummaryDue(salon, utc(3, 28, 5, 59))
	require.False(t, due, "07:59 CEST: not yet")
	day, at, due := dialog.SummaryDue(salon, utc(3, 28, 6, 0))
	require.True(t, due)
	require.Equal(t, core.Date{Year: 2027, Month: 3, Day: 28}, day)
	require.Equal(t, utc(3, 28, 6, 0), at)
	day, _, due = dialog.SummaryDue(salon, utc(3, 28, 21, 30))
	require.True(t, due, "23:30 on the 28th: still the 28th's (SummaryTooLate decides)")
	require.Equal(t, core.Date{Year: 2027, Month: 3, Day: 28}, day)
	_, _, due = dialog.SummaryDue(salon, utc(3, 28, 22, 30))
	require.False(t, due, "00:30 on the 29th: the 28th's is over, the 29th's not yet due")

	next, ok := dialog.NextSummary(salon, utc(3, 27, 7, 0))
	require.True(t, ok)
	require.Equal(t, utc(3, 28, 6, 0), next, "after today's: tomorrow's, 23 hours later")
	next, ok = dialog.NextSummary(salon, utc(10, 31, 6, 30))
	require.True(t, ok)
	require.Equal(t, utc(10, 31, 7, 0), next, "07:30 CET: today's")

	off := summarySalon(t, "", "en")
	_, ok = dialog.SummaryAt(off, core.Date{Year: 2027, Month: 3, Day: 28})
	require.False(t, ok)
	_, _, due = dialog.SummaryDue(off, utc(3, 28, 12, 0))
	require.False(t, due)
	_, ok = dialog.NextSummary(off, utc(3, 28, 12, 0))
	require.False(t, ok)
}

// TestSummaryTooLate: late, a summary goes while the master's first booking
// at or after the due time is ahead (bookings before it, a night shift's, do
// not count; none is never late); within the grace it goes whatever the
// bookings.
func TestSummaryTooLate(t *testing.T) {
	t.Parallel()
	due := utc(3, 1, 7, 0)
	day := func(starts ...time.Time) dialog.StaffDay {
		d := dialog.StaffDay{Day: core.Date{Year: 2027, Month: 3, Day: 1}}
		for _, s := range starts {
			d.Bookings = append(d.Bookings, dialog.StaffDayBooking{Start: s})
		}
		return d
	}
	require.False(t, dialog.SummaryTooLate(due, day(due), due), "a booking at the summary time itself")
	require.False(t, dialog.SummaryTooLate(due, day(due), due.Add(dialog.SummaryGrace-time.Second)))
	require.True(t, dialog.SummaryTooLate(due, day(due), due.Add(dialog.SummaryGrace)))
	require.False(t, dialog.SummaryTooLate(due, day(utc(3, 1, 12, 0)), utc(3, 1, 11, 59)), "four hours late, first booking still ahead")
	require.True(t, dialog.SummaryTooLate(due, day(utc(3, 1, 12, 0)), utc(3, 1, 12, 0)), "the day has begun")
	night := utc(2, 28, 23, 30) // 00:30 Berlin on the 1st
	require.False(t, dialog.SummaryTooLate(due, day(night, utc(3, 1, 9, 0), utc(3, 1, 11, 0)), utc(3, 1, 7, 16)),
		"08:16 Berlin: the night shift's 00:30 is over, the working day (10:00) ahead")
	require.True(t, dialog.SummaryTooLate(due, day(night, utc(3, 1, 9, 0)), utc(3, 1, 9, 0)), "10:00 has begun")
	require.False(t, dialog.SummaryTooLate(due, day(night), utc(3, 1, 15, 0)), "nothing at or after 08:00: never late")
	require.False(t, dialog.SummaryTooLate(due, day(), utc(3, 1, 15, 0)))
}
