package availability_test

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests name must load on a machine without zoneinfo

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/availability"
)

// zone loads an IANA zone or fails the test.
func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// date builds a calendar day.
func date(y int, m time.Month, d int) core.Date { return core.Date{Year: y, Month: m, Day: d} }

// hours builds weekly hours from "HH:MM-HH:MM" strings, as a salon file states them.
func hours(t testing.TB, byDay map[time.Weekday][]string) core.WeeklyHours {
	t.Helper()
	var h core.WeeklyHours
	for day, ranges := range byDay {
		for _, s := range ranges {
			r, err := core.ParseClockRange(s)
			require.NoError(t, err)
			h[day] = append(h[day], r)
		}
	}
	return h
}

// everyDay gives the same ranges on all seven weekdays.
func everyDay(t testing.TB, ranges ...string) core.WeeklyHours {
	t.Helper()
	byDay := make(map[time.Weekday][]string, 7)
	for d := time.Sunday; d <= time.Saturday; d++ {
		byDay[d] = ranges
	}
	return hours(t, byDay)
}

// at is the instant the wall clock in loc shows y-m-d hh:mm, for days without a DST
// change, where the answer is unambiguous.
func at(loc *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, loc).UTC()
}

// openQuery asks for a 60-minute service on a 30-minute grid with no buffers, no
// notice and a horizon far enough that neither limits the answer.
func openQuery(loc *time.Location, from core.Date, days int) availability.Query {
	return availability.Query{
		Zone: loc, From: from, Days: days,
		Duration: time.Hour,
		Policy:   core.Policy{SlotStep: 30 * time.Minute, Horizon: 5 * 365 * 24 * time.Hour},
	}
}

// longAgo is a "now" before every day the tests ask about.
var longAgo = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// labels formats each slot's start as "YYYY-MM-DD HH:MM" local time in loc.
func labels(slots []availability.Slot, loc *time.Location) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.Start.In(loc).Format("2006-01-02 15:04")
	}
	return out
}

// clocks formats each slot's start as "HH:MM" local time in loc.
func clocks(slots []availability.Slot, loc *time.Location) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.Start.In(loc).Format("15:04")
	}
	return out
}
