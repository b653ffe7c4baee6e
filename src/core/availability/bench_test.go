package availability_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/availability"
)

// BenchmarkSlots14Days20Masters10kBookings asks for two weeks of a 45-minute service
// across a salon of 20 masters who hold 10,000 bookings over the 60-day horizon.
// "WindowBusy" passes each master only the bookings that can matter to the two weeks,
// as the booking service does; "AllBusy" passes each master all of its bookings.
func BenchmarkSlots14Days20Masters10kBookings(b *testing.B) {
	berlin := zone(b, "Europe/Berlin")
	from := date(2027, time.June, 7) // a Monday
	now := at(berlin, 2027, time.June, 6, 12, 0)
	q := availability.Query{
		Zone: berlin, From: from, Days: 14,
		Duration: 45 * time.Minute, BufferAfter: 15 * time.Minute,
		Policy: core.Policy{SlotStep: 15 * time.Minute, MinNotice: 2 * time.Hour, Horizon: 60 * 24 * time.Hour},
	}
	week := hours(b, map[time.Weekday][]string{
		time.Monday: {"09:00-13:00", "14:00-19:00"}, time.Tuesday: {"09:00-13:00", "14:00-19:00"},
		time.Wednesday: {"09:00-13:00", "14:00-19:00"}, time.Thursday: {"09:00-13:00", "14:00-19:00"},
		time.Friday: {"09:00-13:00", "14:00-19:00"}, time.Saturday: {"09:00-13:00", "14:00-19:00"},
	})

	all := make([]availability.Master, 20)
	for i := range all {
		all[i] = availability.Master{ID: fmt.Sprintf("m%02d", i), Hours: week}
	}
	// Bookings start on the 15-minute grid inside working hours, on working days,
	// anywhere in the horizon; they may overlap one another, as calendar busy time can.
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 10_000; {
		day := core.DateOf(now.In(berlin)).AddDays(rng.IntN(60))
		ranges := week[day.Weekday()]
		if len(ranges) == 0 {
			continue
		}
		r := ranges[rng.IntN(len(ranges))]
		start, _ := day.At(r.Start+core.ClockTime(15*rng.IntN((r.Minutes()-45)/15+1)), berlin)
		m := &all[rng.IntN(len(all))]
		m.Busy = append(m.Busy, core.TimeRange{Start: start, End: start.Add(time.Hour)})
		n++
	}

	// The window the booking service asks its store for: a shift may start the day
	// before and run past the last day, and buffers reach further still.
	windowStart, _ := from.AddDays(-1).At(0, berlin)
	windowEnd, _ := from.AddDays(q.Days+1).At(0, berlin)
	window := core.TimeRange{Start: windowStart.Add(-q.BufferBefore), End: windowEnd.Add(q.Duration + q.BufferAfter)}
	inWindow := make([]availability.Master, len(all))
	for i, m := range all {
		inWindow[i] = availability.Master{ID: m.ID, Hours: m.Hours}
		for _, r := range m.Busy {
			if r.Overlaps(window) {
				inWindow[i].Busy = append(inWindow[i].Busy, r)
			}
		}
	}

	for _, bc := range []struct {
		name    string
		masters []availability.Master
	}{
		{"WindowBusy", inWindow},
		{"AllBusy", all},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var slots []availability.Slot
			for b.Loop() {
				slots = availability.Slots(bc.masters, q, now)
			}
			b.ReportMetric(float64(len(slots)), "slots/op")
		})
	}
}
