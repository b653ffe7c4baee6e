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
	Day      core.Date // the local date of Start in the query's zone
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

	// The inner loop works in Unix seconds: it runs for every grid point of every
	// shift of every master, and integer comparisons are what make it cheap.
	earliestS, latestS := earliest.Unix(), latest.Unix()
	dur, before, after := secs(q.Duration), secs(q.BufferBefore), secs(q.BufferAfter)
	type found struct {
		start, end int64
		master     int
		day        core.Date
	}
	var out []found
	for i := range masters {
		m := &masters[i]
		busy := union(m.Busy)
		// Start a day early: yesterday's shift may cross into From.
		for d := q.From.AddDays(-1); d.Before(last); d = d.AddDays(1) {
			if slices.Contains(m.DaysOff, d) {
				continue
			}
			days := [2]core.Date{d, d.AddDays(1)} // a shift reaches at most into the next day
			for _, r := range m.Hours[d.Weekday()] {
				shift := r.On(d, q.Zone)
				shiftStart, shiftEnd := shift.Start.Unix(), shift.End.Unix()
				steady := steadyOffset(shift, r, d, q.Zone)
				for k := 0; k*stepMin < r.Minutes(); k++ {
					clock := int(r.Start) + k*stepMin
					day := days[clock/(24*60)]
					var start int64
					if steady {
						// No clock change in this shift: wall-clock minutes are real minutes.
						start = shiftStart + int64(k*stepMin*60)
					} else {
						t, ok := day.At(core.ClockTime(clock%(24*60)), q.Zone)
						if start = t.Unix(); !ok || start < shiftStart {
							continue // a wall-clock time the DST change skipped
						}
					}
					end := start + dur
					if end > shiftEnd {
						break
					}
					if start < earliestS || start >= latestS {
						continue
					}
					if day.Before(q.From) || !day.Before(last) { // day is the slot's local date
						continue
					}
					if overlapsAny(busy, span{start - before, end + after}) {
						continue
					}
					out = append(out, found{start, end, i, day})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b found) int {
		if c := cmpInt(a.start, b.start); c != 0 {
			return c
		}
		return strings.Compare(masters[a.master].ID, masters[b.master].ID)
	})
	slots := make([]Slot, 0, len(out))
	for i, f := range out {
		if i > 0 && f.start == out[i-1].start && masters[f.master].ID == masters[out[i-1].master].ID {
			continue // two shifts of one master that overlap offer a start once
		}
		slots = append(slots, Slot{Start: time.Unix(f.start, 0).UTC(), End: time.Unix(f.end, 0).UTC(), MasterID: masters[f.master].ID, Day: f.day})
	}
	return slots
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

// span is a half-open interval of Unix seconds.
type span struct{ start, end int64 }

func secs(d time.Duration) int64 { return int64(d / time.Second) }

// union turns the intervals into sorted, disjoint spans (merging overlapping or
// touching ones), so that a binary search can answer "does anything overlap?".
// Instants are whole seconds here: a salon's times are whole minutes.
func union(in []core.TimeRange) []span {
	if len(in) == 0 {
		return nil
	}
	s := make([]span, 0, len(in))
	for _, r := range in {
		if r.End.After(r.Start) {
			s = append(s, span{r.Start.Unix(), (r.End.UnixNano() + 999_999_999) / 1e9})
		}
	}
	slices.SortFunc(s, func(a, b span) int { return cmpInt(a.start, b.start) })
	out := s[:0]
	for _, r := range s {
		if n := len(out); n > 0 && r.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, r.end)
			continue
		}
		out = append(out, r)
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// overlapsAny reports whether r overlaps one of the sorted, disjoint spans.
func overlapsAny(sorted []span, r span) bool {
	i := sort.Search(len(sorted), func(i int) bool { return sorted[i].end > r.start })
	return i < len(sorted) && sorted[i].start < r.end
}
