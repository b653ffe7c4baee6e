package availability_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"salonbook/src/core"
	"salonbook/src/core/availability"
)

// The zones cover no DST, hour-sized DST on both sides of UTC, a 30-minute DST and a
// 45-minute offset. Each comes with the days its clocks change in 2027, around which
// the generated queries cluster.
var propertyZones = map[string][]core.Date{
	"UTC":                 {date(2027, time.June, 6)},
	"Europe/Berlin":       {date(2027, time.March, 28), date(2027, time.October, 31)},
	"America/New_York":    {date(2027, time.March, 14), date(2027, time.November, 7)},
	"Australia/Lord_Howe": {date(2027, time.April, 4), date(2027, time.October, 3)},
	"Asia/Kathmandu":      {date(2027, time.March, 28), date(2027, time.October, 31)},
	// Zones whose clocks change at midnight: the day itself starts in a gap or twice.
	"Africa/Cairo":     {date(2027, time.April, 30), date(2027, time.October, 28)},
	"America/Santiago": {date(2027, time.April, 3), date(2027, time.September, 5)},
	"America/Havana":   {date(2027, time.March, 14), date(2027, time.November, 7)},
	"Asia/Beirut":      {date(2027, time.March, 28), date(2027, time.October, 30)},
}

// scenario is one generated call of Slots.
type scenario struct {
	masters []availability.Master
	query   availability.Query
	now     time.Time
}

// drawScenario draws masters with random weekly hours (some crossing midnight), days
// off and busy intervals, and a query around a DST change in a random zone.
func drawScenario(t *rapid.T, zoneNames []string, withBusy bool) scenario {
	name := rapid.SampledFrom(zoneNames).Draw(t, "zone")
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	from := rapid.SampledFrom(propertyZones[name]).Draw(t, "change").AddDays(rapid.IntRange(-2, 1).Draw(t, "fromOffset"))
	days := rapid.IntRange(1, 4).Draw(t, "days")
	// An approximate local midnight is enough to place busy time and "now" nearby.
	midnight := time.Date(from.Year, from.Month, from.Day, 0, 0, 0, 0, loc)

	q := availability.Query{
		Zone: loc, From: from, Days: days,
		Duration:     time.Duration(rapid.IntRange(1, 48).Draw(t, "duration5m")) * 5 * time.Minute,
		BufferBefore: time.Duration(rapid.IntRange(0, 6).Draw(t, "bufferBefore5m")) * 5 * time.Minute,
		BufferAfter:  time.Duration(rapid.IntRange(0, 6).Draw(t, "bufferAfter5m")) * 5 * time.Minute,
		Policy: core.Policy{
			SlotStep:  time.Duration(rapid.SampledFrom([]int{1, 5, 10, 15, 20, 25, 30, 45, 60, 90}).Draw(t, "stepMin")) * time.Minute,
			MinNotice: time.Duration(rapid.IntRange(0, 48*12).Draw(t, "notice5m")) * 5 * time.Minute,
			Horizon:   time.Duration(rapid.IntRange(0, 10*24*12).Draw(t, "horizon5m")) * 5 * time.Minute,
		},
	}
	now := midnight.Add(time.Duration(rapid.IntRange(-4*24*60, 4*24*60).Draw(t, "nowMin")) * time.Minute).UTC()

	ids := rapid.Permutation([]string{"anna", "bella", "carl"}).Draw(t, "ids")
	n := rapid.IntRange(1, 3).Draw(t, "masters")
	masters := make([]availability.Master, n)
	for i := range masters {
		m := availability.Master{ID: ids[i]}
		for day := range m.Hours {
			for range rapid.IntRange(0, 2).Draw(t, "ranges") {
				// Multiples of 5 minutes hit the DST edges, and half the ends fall in the
				// small hours, where clocks change. End <= Start crosses midnight.
				start := core.ClockTime(rapid.OneOf(rapid.IntRange(0, 287), rapid.IntRange(0, 48)).Draw(t, "start5m") * 5)
				end := core.ClockTime(rapid.OneOf(rapid.IntRange(0, 288), rapid.IntRange(0, 48)).Draw(t, "end5m") * 5)
				if start == end {
					continue
				}
				m.Hours[day] = append(m.Hours[day], core.ClockRange{Start: start, End: end})
			}
		}
		for range rapid.IntRange(0, 2).Draw(t, "daysOff") {
			m.DaysOff = append(m.DaysOff, from.AddDays(rapid.IntRange(-1, days).Draw(t, "dayOff")))
		}
		if withBusy {
			for range rapid.IntRange(0, 8).Draw(t, "busy") {
				s := midnight.Add(time.Duration(rapid.IntRange(-24*12, (days+1)*24*12).Draw(t, "busyStart5m")) * 5 * time.Minute)
				l := time.Duration(rapid.IntRange(1, 60).Draw(t, "busyLen5m")) * 5 * time.Minute
				m.Busy = append(m.Busy, core.TimeRange{Start: s.UTC(), End: s.Add(l).UTC()})
			}
		}
		masters[i] = m
	}
	return scenario{masters: masters, query: q, now: now}
}

// wall is a local date and clock reading written as a UTC time, so that wall-clock
// readings compare and add like numbers.
func wall(d core.Date, minutes int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute)
}

// wallOf is what the clock in loc shows at instant i, written as a UTC time.
func wallOf(i time.Time, loc *time.Location) time.Time {
	l := i.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
}

// firstInstant returns the earliest instant at which the clock in loc shows w or
// later, and whether it shows exactly w. That is the first occurrence of a repeated
// reading, and the moment the clock resumes after a skipped one. It works from the
// zone's offsets alone, independently of the core's helpers: every instant showing
// w is w minus an offset in effect within 14 hours of w.
func firstInstant(w time.Time, loc *time.Location) (time.Time, bool) {
	_, before := w.Add(-14 * time.Hour).In(loc).Zone()
	_, after := w.Add(14 * time.Hour).In(loc).Zone()
	var found []time.Time
	for _, off := range []int{before, after} {
		if i := w.Add(-time.Duration(off) * time.Second); wallOf(i, loc).Equal(w) {
			found = append(found, i)
		}
	}
	if len(found) > 0 {
		return slices.MinFunc(found, func(a, b time.Time) int { return a.Compare(b) }), true
	}
	// A skipped reading: the clock jumps over w between the two candidates.
	lo, hi := w.Add(-time.Duration(max(before, after))*time.Second), w.Add(-time.Duration(min(before, after))*time.Second)
	for i := lo; !i.After(hi); i = i.Add(time.Minute) {
		if !wallOf(i, loc).Before(w) {
			return i, false
		}
	}
	panic(fmt.Sprintf("no instant shows %s in %s", w, loc))
}

// shiftOf is one master's working period as instants, recomputed for the test.
type shiftOf struct {
	start, end         time.Time // instants
	wallStart, wallEnd time.Time // the readings the grid runs over, [wallStart, wallEnd)
}

// shifts expands a master's hours over the days whose shifts can reach [from, last).
func shifts(m availability.Master, from core.Date, days int, loc *time.Location) []shiftOf {
	var out []shiftOf
	for n := -1; n < days; n++ {
		d := from.AddDays(n)
		if slices.Contains(m.DaysOff, d) {
			continue
		}
		wd := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
		for _, r := range m.Hours[wd] {
			ws, we := wall(d, int(r.Start)), wall(d, int(r.End))
			if r.End <= r.Start {
				we = wall(d, int(r.End)+24*60)
			}
			s, _ := firstInstant(ws, loc)
			e, _ := firstInstant(we, loc)
			out = append(out, shiftOf{start: s, end: e, wallStart: ws, wallEnd: we})
		}
	}
	return out
}

func TestSlotsProperties(t *testing.T) {
	t.Parallel()
	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"}

	rapid.Check(t, func(t *rapid.T) {
		sc := drawScenario(t, zones, true)
		q, loc := sc.query, sc.query.Zone
		last := q.From.AddDays(q.Days)

		got := availability.Slots(sc.masters, q, sc.now)

		byID := map[string]availability.Master{}
		for _, m := range sc.masters {
			byID[m.ID] = m
		}
		seenLabel := map[string]bool{}
		for i, s := range got {
			m, ok := byID[s.MasterID]
			if !ok {
				t.Fatalf("slot %d names unknown master %q", i, s.MasterID)
			}
			if i > 0 {
				p := got[i-1]
				if !(p.Start.Before(s.Start) || p.Start.Equal(s.Start) && p.MasterID < s.MasterID) {
					t.Fatalf("slots %d and %d are not strictly ordered: %v %s, %v %s", i-1, i, p.Start, p.MasterID, s.Start, s.MasterID)
				}
			}
			if s.End.Sub(s.Start) != q.Duration {
				t.Fatalf("slot %v lasts %v, not %v", s.Start, s.End.Sub(s.Start), q.Duration)
			}
			if s.Start.Before(sc.now.Add(q.Policy.MinNotice)) || !s.Start.Before(sc.now.Add(q.Policy.Horizon)) {
				t.Fatalf("slot %v is outside [now+notice, now+horizon) = [%v, %v)", s.Start, sc.now.Add(q.Policy.MinNotice), sc.now.Add(q.Policy.Horizon))
			}
			local := core.DateOf(s.Start.In(loc))
			if local.Before(q.From) || !local.Before(last) {
				t.Fatalf("slot %v is on local day %s, outside [%s, %s)", s.Start, local, q.From, last)
			}
			occupied := core.TimeRange{Start: s.Start.Add(-q.BufferBefore), End: s.End.Add(q.BufferAfter)}
			for _, b := range m.Busy {
				if occupied.Start.Before(b.End) && b.Start.Before(occupied.End) {
					t.Fatalf("slot %v of %s occupies [%v, %v), overlapping busy [%v, %v)", s.Start, s.MasterID, occupied.Start, occupied.End, b.Start, b.End)
				}
			}
			label := s.MasterID + " " + s.Start.In(loc).Format("2006-01-02 15:04")
			if seenLabel[label] {
				t.Fatalf("%s is offered twice", label)
			}
			seenLabel[label] = true
			if first, _ := firstInstant(wallOf(s.Start, loc), loc); !first.Equal(s.Start) {
				t.Fatalf("slot %v (%s) is not the first instant showing its wall clock, %v is", s.Start, label, first)
			}
			inside := false
			for _, sh := range shifts(m, q.From, q.Days, loc) {
				onGrid := wallOf(s.Start, loc).Sub(sh.wallStart)%q.Policy.SlotStep == 0
				if onGrid && !s.Start.Before(sh.start) && !s.End.After(sh.end) {
					inside = true
					break
				}
			}
			if !inside {
				t.Fatalf("slot %v (%s) lies on the grid of none of %s's shifts", s.Start, label, s.MasterID)
			}
		}

		want := expectedSlots(sc)
		if !slices.EqualFunc(got, want, sameSlot) {
			t.Fatalf("slots differ from the independent count (%d, want %d):\nmissing %s\nextra %s",
				len(got), len(want), difference(want, got, loc), difference(got, want, loc))
		}
	})
}

// expectedSlots lists, for each master, every wall-clock reading on the grid of each
// shift that exists in the zone, whose appointment fits in the shift, and that passes
// the notice, horizon, day and busy checks.
func expectedSlots(sc scenario) []availability.Slot {
	q, loc := sc.query, sc.query.Zone
	last := q.From.AddDays(q.Days)
	seen := map[string]bool{}
	var out []availability.Slot
	for _, m := range sc.masters {
		for _, sh := range shifts(m, q.From, q.Days, loc) {
			for w := sh.wallStart; w.Before(sh.wallEnd); w = w.Add(q.Policy.SlotStep) {
				start, exists := firstInstant(w, loc)
				if !exists {
					continue
				}
				end := start.Add(q.Duration)
				local := core.DateOf(start.In(loc))
				occupied := core.TimeRange{Start: start.Add(-q.BufferBefore), End: end.Add(q.BufferAfter)}
				free := !slices.ContainsFunc(m.Busy, occupied.Overlaps)
				if end.After(sh.end) || start.Before(sc.now.Add(q.Policy.MinNotice)) || !start.Before(sc.now.Add(q.Policy.Horizon)) ||
					local.Before(q.From) || !local.Before(last) || !free {
					continue
				}
				if key := fmt.Sprint(start.Unix(), m.ID); !seen[key] {
					seen[key] = true
					out = append(out, availability.Slot{Start: start, End: end, MasterID: m.ID})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b availability.Slot) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.MasterID, b.MasterID)
	})
	return out
}

// difference lists, in loc, up to ten slots of a that b lacks.
func difference(a, b []availability.Slot, loc *time.Location) []string {
	var out []string
	for _, s := range a {
		if !slices.ContainsFunc(b, func(o availability.Slot) bool { return sameSlot(s, o) }) && len(out) < 10 {
			out = append(out, s.Start.In(loc).Format("2006-01-02 15:04 -07:00 ")+s.MasterID)
		}
	}
	return out
}

func sameSlot(a, b availability.Slot) bool {
	return a.Start.Equal(b.Start) && a.End.Equal(b.End) && a.MasterID == b.MasterID
}

// In UTC with nothing busy, the slots are plain arithmetic on minutes: each range
// offers every step from its start at which the service still fits, counted from
// the first local midnight of the query.
func TestSlotsCompleteInUTC(t *testing.T) {
	t.Parallel()

	rapid.Check(t, func(t *rapid.T) {
		sc := drawScenario(t, []string{"UTC"}, false)
		q := sc.query
		q.Policy.MinNotice, q.Policy.Horizon = 0, 365*24*time.Hour
		now := wall(q.From, -7*24*60)
		step, duration := int(q.Policy.SlotStep/time.Minute), int(q.Duration/time.Minute)

		got := availability.Slots(sc.masters, q, now)

		want := 0
		for _, m := range sc.masters {
			starts := map[int]bool{} // minutes after From's midnight
			for n := -1; n < q.Days; n++ {
				if slices.Contains(m.DaysOff, q.From.AddDays(n)) {
					continue
				}
				for _, r := range m.Hours[q.From.AddDays(n).Weekday()] {
					length := int(r.End) - int(r.Start)
					if length <= 0 {
						length += 24 * 60
					}
					for k := 0; k*step+duration <= length; k++ {
						if at := n*24*60 + int(r.Start) + k*step; at >= 0 && at < q.Days*24*60 {
							starts[at] = true
						}
					}
				}
			}
			want += len(starts)
			for _, s := range got {
				if s.MasterID == m.ID && !starts[int(s.Start.Sub(wall(q.From, 0))/time.Minute)] {
					t.Fatalf("%s offered at %v, which no range allows", m.ID, s.Start)
				}
			}
		}
		if len(got) != want {
			t.Fatalf("%d slots, want %d", len(got), want)
		}
	})
}
