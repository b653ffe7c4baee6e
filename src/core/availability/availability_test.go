package availability_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/availability"
)

// 2027-03-28 and 2027-10-31 are the Sundays Europe/Berlin springs forward
// (02:00 -> 03:00) and falls back (03:00 -> 02:00).
func TestSlotsDST(t *testing.T) {
	t.Parallel()

	t.Run("SkippedSpringHourIsNeverOffered", func(t *testing.T) {
		t.Parallel()
		berlin := zone(t, "Europe/Berlin")
		ms := []availability.Master{{ID: "anna", Hours: hours(t, map[time.Weekday][]string{time.Sunday: {"00:00-06:00"}})}}

		slots := availability.Slots(ms, openQuery(berlin, date(2027, time.March, 28), 1), longAgo)

		require.Equal(t, []string{"00:00", "00:30", "01:00", "01:30", "03:00", "03:30", "04:00", "04:30", "05:00"}, clocks(slots, berlin))
		// 01:30 CET plus an hour of real time is 03:30 CEST.
		require.Equal(t, "2027-03-28 03:30 CEST", slots[3].End.In(berlin).Format("2006-01-02 15:04 MST"))
		for _, s := range slots {
			require.Equal(t, time.Hour, s.End.Sub(s.Start))
		}
	})

	t.Run("RepeatedAutumnHourIsOfferedOnce", func(t *testing.T) {
		t.Parallel()
		berlin := zone(t, "Europe/Berlin")
		ms := []availability.Master{{ID: "anna", Hours: hours(t, map[time.Weekday][]string{time.Sunday: {"00:00-06:00"}})}}

		slots := availability.Slots(ms, openQuery(berlin, date(2027, time.October, 31), 1), longAgo)

		require.Equal(t, []string{
			"00:00", "00:30", "01:00", "01:30", "02:00", "02:30", "03:00", "03:30", "04:00", "04:30", "05:00",
		}, clocks(slots, berlin))
		// The repeated labels name their first occurrence, in summer time.
		require.Equal(t, "02:00 CEST", slots[4].Start.In(berlin).Format("15:04 MST"))
		require.Equal(t, "02:30 CEST", slots[5].Start.In(berlin).Format("15:04 MST"))
		require.Equal(t, "03:00 CET", slots[6].Start.In(berlin).Format("15:04 MST"))
	})

	// Lord Howe Island moves its clocks by 30 minutes: 02:00 -> 01:30 on 2027-04-04 and
	// 02:00 -> 02:30 on 2027-10-03, so an hour-sized assumption would go wrong.
	t.Run("HalfHourChangeOnLordHowe", func(t *testing.T) {
		t.Parallel()
		lordHowe := zone(t, "Australia/Lord_Howe")
		ms := []availability.Master{{ID: "anna", Hours: everyDay(t, "00:00-03:00")}}
		q := openQuery(lordHowe, date(2027, time.April, 4), 1)
		q.Duration, q.Policy.SlotStep = 15*time.Minute, 15*time.Minute

		autumn := availability.Slots(ms, q, longAgo)

		var got []string
		for _, s := range autumn {
			got = append(got, s.Start.In(lordHowe).Format("15:04 -07:00"))
		}
		require.Equal(t, []string{
			"00:00 +11:00", "00:15 +11:00", "00:30 +11:00", "00:45 +11:00",
			"01:00 +11:00", "01:15 +11:00", "01:30 +11:00", "01:45 +11:00", // first occurrences
			"02:00 +10:30", "02:15 +10:30", "02:30 +10:30", "02:45 +10:30",
		}, got)

		q.From = date(2027, time.October, 3)
		spring := availability.Slots(ms, q, longAgo)

		require.Equal(t, []string{
			"00:00", "00:15", "00:30", "00:45", "01:00", "01:15", "01:30", "01:45", "02:30", "02:45",
		}, clocks(spring, lordHowe))
	})

	t.Run("ShiftEndingInSkippedTimeEndsWhenTheClockResumes", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			zone  string
			day   core.Date
			shift string
		}{
			{"Europe/Berlin", date(2027, time.March, 28), "00:00-02:30"},
			{"America/New_York", date(2027, time.March, 14), "00:00-02:30"},
			{"Australia/Lord_Howe", date(2027, time.October, 3), "00:00-02:15"},
		} {
			t.Run(tc.zone, func(t *testing.T) {
				t.Parallel()
				loc := zone(t, tc.zone)
				ms := []availability.Master{{ID: "anna", Hours: everyDay(t, tc.shift)}}

				slots := availability.Slots(ms, openQuery(loc, tc.day, 1), longAgo)

				// 01:00 plus an hour ends exactly when the clock resumes after the gap.
				require.Equal(t, []string{"00:00", "00:30", "01:00"}, clocks(slots, loc))
			})
		}
	})

	t.Run("ShiftStartingInSkippedTimeOpensOnItsGrid", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			zone string
			day  core.Date
		}{
			{"Europe/Berlin", date(2027, time.March, 28)},
			{"America/New_York", date(2027, time.March, 14)},
		} {
			t.Run(tc.zone, func(t *testing.T) {
				t.Parallel()
				loc := zone(t, tc.zone)
				ms := []availability.Master{{ID: "anna", Hours: everyDay(t, "02:30-05:00")}}

				slots := availability.Slots(ms, openQuery(loc, tc.day, 1), longAgo)

				require.Equal(t, []string{"03:00", "03:30", "04:00"}, clocks(slots, loc))
			})
		}
	})

	t.Run("NineOClockStaysNineOClockLocal", func(t *testing.T) {
		t.Parallel()
		berlin := zone(t, "Europe/Berlin")
		ms := []availability.Master{{ID: "anna", Hours: everyDay(t, "09:00-10:00")}}
		for _, tc := range []struct {
			name     string
			from     core.Date
			utcHours []int
		}{
			{"Spring", date(2027, time.March, 27), []int{8, 7, 7}},
			{"Autumn", date(2027, time.October, 30), []int{7, 8, 8}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				q := openQuery(berlin, tc.from, 3)
				q.Policy.SlotStep = time.Hour

				slots := availability.Slots(ms, q, longAgo)

				require.Len(t, slots, 3)
				for i, s := range slots {
					require.Equal(t, "09:00", s.Start.In(berlin).Format("15:04"))
					require.Equal(t, tc.from.AddDays(i), core.DateOf(s.Start.In(berlin)))
					require.Equal(t, tc.utcHours[i], s.Start.UTC().Hour())
				}
			})
		}
	})

	t.Run("NightShiftAcrossAChange", func(t *testing.T) {
		t.Parallel()
		berlin := zone(t, "Europe/Berlin")
		ms := []availability.Master{{ID: "anna", Hours: hours(t, map[time.Weekday][]string{time.Saturday: {"22:00-04:00"}})}}
		for _, tc := range []struct {
			name string
			from core.Date
			want []string
		}{
			{"Spring", date(2027, time.March, 27), []string{"22:00 CET", "23:00 CET", "00:00 CET", "01:00 CET", "03:00 CEST"}},
			{"Autumn", date(2027, time.October, 30), []string{"22:00 CEST", "23:00 CEST", "00:00 CEST", "01:00 CEST", "02:00 CEST", "03:00 CET"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				q := openQuery(berlin, tc.from, 2)
				q.Policy.SlotStep = time.Hour

				slots := availability.Slots(ms, q, longAgo)

				var got []string
				for _, s := range slots {
					got = append(got, s.Start.In(berlin).Format("15:04 MST"))
				}
				require.Equal(t, tc.want, got)
			})
		}
	})
}

// 2027-06-05 is a Saturday with no DST change near it.
func TestSlotsCrossingMidnight(t *testing.T) {
	t.Parallel()
	saturday, sunday := date(2027, time.June, 5), date(2027, time.June, 6)
	type bundle struct {
		berlin *time.Location
		master availability.Master
		query  availability.Query
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		berlin := zone(t, "Europe/Berlin")
		q := openQuery(berlin, saturday, 2)
		q.Policy.SlotStep = time.Hour
		return &bundle{
			berlin: berlin,
			master: availability.Master{ID: "anna", Hours: hours(t, map[time.Weekday][]string{time.Saturday: {"20:00-02:00"}})},
			query:  q,
		}
	}

	t.Run("SlotsAfterMidnightBelongToSunday", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		slots := availability.Slots([]availability.Master{b.master}, b.query, longAgo)

		require.Equal(t, []string{
			"2027-06-05 20:00", "2027-06-05 21:00", "2027-06-05 22:00", "2027-06-05 23:00",
			"2027-06-06 00:00", "2027-06-06 01:00",
		}, labels(slots, b.berlin))
	})

	t.Run("SundayQueryStillSeesSaturdaysShift", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.query.From, b.query.Days = sunday, 1

		slots := availability.Slots([]availability.Master{b.master}, b.query, longAgo)

		require.Equal(t, []string{"2027-06-06 00:00", "2027-06-06 01:00"}, labels(slots, b.berlin))
	})

	t.Run("SaturdayQueryStopsAtMidnight", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.query.Days = 1

		slots := availability.Slots([]availability.Master{b.master}, b.query, longAgo)

		require.Equal(t, []string{"2027-06-05 20:00", "2027-06-05 21:00", "2027-06-05 22:00", "2027-06-05 23:00"}, labels(slots, b.berlin))
	})

	t.Run("DayOffOnSaturdayRemovesTheWholeShift", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.master.DaysOff = []core.Date{saturday}

		require.Empty(t, availability.Slots([]availability.Master{b.master}, b.query, longAgo))
		b.query.From, b.query.Days = sunday, 1
		require.Empty(t, availability.Slots([]availability.Master{b.master}, b.query, longAgo))
	})

	t.Run("DayOffOnSundayKeepsSaturdaysShift", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.master.DaysOff = []core.Date{sunday}

		require.Len(t, availability.Slots([]availability.Master{b.master}, b.query, longAgo), 6)
	})

	t.Run("ShiftEndingAt24", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.master.Hours = hours(t, map[time.Weekday][]string{time.Saturday: {"20:00-24:00"}})

		slots := availability.Slots([]availability.Master{b.master}, b.query, longAgo)

		require.Equal(t, []string{"2027-06-05 20:00", "2027-06-05 21:00", "2027-06-05 22:00", "2027-06-05 23:00"}, labels(slots, b.berlin))
		require.Equal(t, at(b.berlin, 2027, time.June, 6, 0, 0), slots[3].End)
	})
}

// 2027-06-07 is a Monday.
func TestSlotsBuffers(t *testing.T) {
	t.Parallel()
	berlin := zone(t, "Europe/Berlin")
	busy := core.TimeRange{Start: at(berlin, 2027, time.June, 7, 10, 0), End: at(berlin, 2027, time.June, 7, 11, 0)}
	q := availability.Query{
		Zone: berlin, From: date(2027, time.June, 7), Days: 1,
		Duration: 30 * time.Minute, BufferBefore: 10 * time.Minute, BufferAfter: 15 * time.Minute,
		Policy: core.Policy{SlotStep: 5 * time.Minute, Horizon: 5 * 365 * 24 * time.Hour},
	}
	ms := []availability.Master{
		{ID: "anna", Hours: everyDay(t, "08:00-13:00"), Busy: []core.TimeRange{busy}},
		{ID: "bella", Hours: everyDay(t, "08:00-13:00")},
	}

	slots := availability.Slots(ms, q, longAgo)

	// A start s occupies [s-10m, s+45m): it may touch [10:00, 11:00) but not enter it.
	var anna []string
	for _, s := range slots {
		if s.MasterID == "anna" {
			anna = append(anna, s.Start.In(berlin).Format("15:04"))
		}
	}
	require.Contains(t, anna, "09:15")
	require.Contains(t, anna, "11:10")
	for _, c := range anna {
		require.True(t, c <= "09:15" || c >= "11:10", "anna offered %s", c)
	}
	require.Len(t, anna, 16+17) // 08:00..09:15 and 11:10..12:30
	require.Len(t, slots, len(anna)+55, "bella, with nothing busy, has every start from 08:00 to 12:30")
}

func TestSlotsNoticeAndHorizon(t *testing.T) {
	t.Parallel()
	berlin := zone(t, "Europe/Berlin")
	now := at(berlin, 2027, time.June, 7, 9, 0)
	q := openQuery(berlin, date(2027, time.June, 6), 5)
	q.Policy.MinNotice = 2 * time.Hour
	q.Policy.Horizon = 48*time.Hour + 30*time.Minute
	ms := []availability.Master{{ID: "anna", Hours: everyDay(t, "09:00-18:00")}}

	slots := availability.Slots(ms, q, now)

	got := labels(slots, berlin)
	require.Equal(t, "2027-06-07 11:00", got[0], "a start exactly at now+notice is offered")
	require.Equal(t, "2027-06-09 09:00", got[len(got)-1], "a start at now+horizon is not")
	require.Len(t, got, 13+17+1)
}

func TestSlotsGridStartsAtTheShift(t *testing.T) {
	t.Parallel()
	berlin := zone(t, "Europe/Berlin")
	q := openQuery(berlin, date(2027, time.June, 5), 2)
	q.Duration, q.Policy.SlotStep = 15*time.Minute, 15*time.Minute
	ms := []availability.Master{{ID: "anna", Hours: hours(t, map[time.Weekday][]string{
		time.Saturday: {"09:10-10:00", "23:50-00:40"},
	})}}

	slots := availability.Slots(ms, q, longAgo)

	require.Equal(t, []string{
		"2027-06-05 09:10", "2027-06-05 09:25", "2027-06-05 09:40",
		"2027-06-05 23:50", "2027-06-06 00:05", "2027-06-06 00:20",
	}, labels(slots, berlin))
}

func TestSlotsAnyMaster(t *testing.T) {
	t.Parallel()
	berlin := zone(t, "Europe/Berlin")
	ms := []availability.Master{
		{ID: "carl", Hours: everyDay(t, "10:00-12:00")},
		{ID: "anna", Hours: everyDay(t, "09:00-11:00", "10:00-12:00")}, // overlapping ranges
		{ID: "bella", Hours: everyDay(t, "09:00-11:00"), Busy: []core.TimeRange{
			{Start: at(berlin, 2027, time.June, 7, 9, 0), End: at(berlin, 2027, time.June, 7, 10, 0)},
		}},
	}

	slots := availability.Slots(ms, openQuery(berlin, date(2027, time.June, 7), 1), longAgo)

	var got []string
	for _, s := range slots {
		got = append(got, s.Start.In(berlin).Format("15:04")+" "+s.MasterID)
	}
	require.Equal(t, []string{
		"09:00 anna", "09:30 anna",
		"10:00 anna", "10:00 bella", "10:00 carl",
		"10:30 anna", "10:30 carl",
		"11:00 anna", "11:00 carl",
	}, got)
}

func TestSlotsDegenerateQuery(t *testing.T) {
	t.Parallel()
	berlin := zone(t, "Europe/Berlin")
	ms := []availability.Master{{ID: "anna", Hours: everyDay(t, "09:00-18:00")}}
	for _, tc := range []struct {
		name  string
		apply func(*availability.Query)
	}{
		{"NoDays", func(q *availability.Query) { q.Days = 0 }},
		{"NegativeDays", func(q *availability.Query) { q.Days = -3 }},
		{"NoZone", func(q *availability.Query) { q.Zone = nil }},
		{"StepUnderAMinute", func(q *availability.Query) { q.Policy.SlotStep = 30 * time.Second }},
		{"NoStep", func(q *availability.Query) { q.Policy.SlotStep = 0 }},
		{"NoDuration", func(q *availability.Query) { q.Duration = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := openQuery(berlin, date(2027, time.June, 7), 3)
			require.NotEmpty(t, availability.Slots(ms, q, longAgo))
			tc.apply(&q)

			require.Nil(t, availability.Slots(ms, q, longAgo))
		})
	}
	t.Run("NoMasters", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, availability.Slots(nil, openQuery(berlin, date(2027, time.June, 7), 3), longAgo))
	})
}
