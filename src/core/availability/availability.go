// Package availability computes the free start times of a service: working hours in
// the salon's zone, minus what is busy, under the salon's policy, at a given now.
//
// It is pure: the same inputs always give the same slots, and it never reads a clock,
// a database or a calendar. Callers gather the busy intervals; this package only
// decides. Shifts are expanded day by day in the salon's zone, so DST days are right:
// a start in the skipped spring hour does not exist, a repeated autumn wall-clock time
// is offered once (its first occurrence), and 09:00 stays 09:00 local either side.
package availability

import (
	"slices"
	"sort"
	"strings"
	"time"

	"salonbook/src/core"
)

// Master is one master's rules and busy time as availability needs them.
type Master struct {
	ID      string
	Hours   core.WeeklyHours
	DaysOff []core.Date
	// Busy holds the intervals the master is not free: occupied ranges of held and
	// confirmed bookings (already widened by their buffers) and calendar busy time.
	// Any order; they may overlap.
	Busy []core.TimeRange
}

// Query asks for the slots of one service over a run of days.
type Query struct {
	Zone         *time.Location
	From         core.Date // first local day
	Days         int       // number of local days, from From
	Duration     time.Duration
	BufferBefore time.Duration
	BufferAfter  time.Duration
	Policy       core.Policy
}

// Slot is a start time a client can book with one master. End is Start + duration.
type Slot struct {
	Start    time.Time
	End      time.Time
	MasterID string
}

// Slots returns, for every master, the starts on the grid of each shift at which the
// appointment fits inside the shift, its occupied range (appointment widened by the
// buffers) overlaps no busy interval, the start is at least MinNotice after now and
// before now + Horizon, and the start falls on a local day in [From, From+Days).
// A shift that crosses midnight belongs to the day it starts on (so a day off
// cancels it), while each slot is listed under the local day it starts on.
// The result is ordered by start, then master, and holds no duplicates.
func Slots(masters []Master, q Query, now time.Time) []Slot {
	if q.Days <= 0 || q.Duration <= 0 || q.Policy.SlotStep < time.Minute || q.Zone == nil {
		return nil
	}
	earliest := now.Add(q.Policy.MinNotice)
	latest := now.Add(q.Policy.Horizon) // exclusive
	stepMin := int(q.Policy.SlotStep / time.Minute)
	last := q.From.AddDays(q.Days)

	var out []Slot
	for i := range masters {
		m := &masters[i]
		busy := union(m.Busy)
		// Start a day early: yesterday's shift may cross into From.
		for d := q.From.AddDays(-1); d.Before(last); d = d.AddDays(1) {
			if slices.Contains(m.DaysOff, d) {
				continue
			}
			for _, r := range m.Hours[d.Weekday()] {
				shift := r.On(d, q.Zone)
				steady := steadyOffset(shift, r, d, q.Zone)
				for k := 0; k*stepMin < r.Minutes(); k++ {
					clock := int(r.Start) + k*stepMin
					day := d.AddDays(clock / (24 * 60))
					var start time.Time
					if steady {
						// No clock change in this shift: wall-clock minutes are real minutes.
						start = shift.Start.Add(time.Duration(k*stepMin) * time.Minute)
					} else {
						var ok bool
						start, ok = day.At(core.ClockTime(clock%(24*60)), q.Zone)
						if !ok || start.Before(shift.Start) {
							continue // a wall-clock time the DST change skipped
						}
					}
					end := start.Add(q.Duration)
					if end.After(shift.End) {
						break
					}
					if start.Before(earliest) || !start.Before(latest) {
						continue
					}
					if day.Before(q.From) || !day.Before(last) { // day is the slot's local date
						continue
					}
					occ := core.TimeRange{Start: start.Add(-q.BufferBefore), End: end.Add(q.BufferAfter)}
					if overlapsAny(busy, occ) {
						continue
					}
					out = append(out, Slot{Start: start, End: end, MasterID: m.ID})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Slot) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.MasterID, b.MasterID)
	})
	return slices.CompactFunc(out, func(a, b Slot) bool {
		return a.Start.Equal(b.Start) && a.MasterID == b.MasterID
	})
}

// steadyOffset reports whether the zone's offset holds for the whole shift and the
// shift opens at its wall-clock start, so that slot starts can be computed by
// adding minutes instead of converting each wall-clock time (the common case, and
// the hot loop of a slot search).
func steadyOffset(shift core.TimeRange, r core.ClockRange, d core.Date, zone *time.Location) bool {
	local := shift.Start.In(zone)
	if local.Hour()*60+local.Minute() != int(r.Start)%(24*60) || core.DateOf(local) != d {
		return false
	}
	_, periodEnd := local.ZoneBounds()
	return periodEnd.IsZero() || !periodEnd.Before(shift.End)
}

// union sorts the intervals and merges the overlapping or touching ones, so that a
// binary search can answer "does anything overlap?".
func union(in []core.TimeRange) []core.TimeRange {
	if len(in) == 0 {
		return nil
	}
	s := slices.Clone(in)
	slices.SortFunc(s, func(a, b core.TimeRange) int { return a.Start.Compare(b.Start) })
	out := s[:1]
	for _, r := range s[1:] {
		lastR := &out[len(out)-1]
		if !r.Start.After(lastR.End) {
			if r.End.After(lastR.End) {
				lastR.End = r.End
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// overlapsAny reports whether r overlaps one of the sorted, disjoint intervals.
func overlapsAny(sorted []core.TimeRange, r core.TimeRange) bool {
	i := sort.Search(len(sorted), func(i int) bool { return sorted[i].End.After(r.Start) })
	return i < len(sorted) && sorted[i].Start.Before(r.End)
}
