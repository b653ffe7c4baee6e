package salonfile

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"salonbook/src/core"
)

// weekdays are the keys of hours, in the order of the week the file is read in.
var weekdays = []struct {
	key string
	day time.Weekday
}{
	{"mon", time.Monday}, {"tue", time.Tuesday}, {"wed", time.Wednesday}, {"thu", time.Thursday},
	{"fri", time.Friday}, {"sat", time.Saturday}, {"sun", time.Sunday},
}

// shift is one range of a master's week as written, kept to name it in problems.
type shift struct {
	r     core.ClockRange
	day   int // index in weekdays: 0 is Monday
	key   string
	text  string
	field string
	line  int
	seq   int // order read, to break ties between shifts on one line
}

// hours reads a master's weekly hours and checks that no two ranges overlap.
func (p *parser) hours(m *mapping) core.WeeklyHours {
	var wh core.WeeklyHours
	keys := make([]string, len(weekdays))
	for i, wd := range weekdays {
		keys[i] = wd.key
	}
	before := len(p.problems)
	hm := p.sub(m, "hours", true, keys...)
	if hm == nil {
		return wh
	}
	var shifts []shift
	for di, wd := range weekdays {
		for i, n := range p.list(hm, wd.key, false) {
			field := index(join(hm.path, wd.key), i)
			s, ok := p.item(n, field)
			if !ok {
				continue
			}
			r, err := core.ParseClockRange(s)
			if err != nil {
				msg := err.Error()
				if q := strconv.Quote(s); !strings.Contains(msg, q) {
					msg = q + ": " + msg
				}
				p.add(n.Line, field, "%s", msg)
				continue
			}
			wh[wd.day] = append(wh[wd.day], r)
			shifts = append(shifts, shift{r: r, day: di, key: wd.key, text: s, field: field, line: n.Line, seq: len(shifts)})
		}
		slices.SortStableFunc(wh[wd.day], func(a, b core.ClockRange) int { return cmp.Compare(a.Start, b.Start) })
	}
	if len(shifts) == 0 && len(p.problems) == before {
		p.add(hm.line, hm.path, "lists no working hours; give at least one day, e.g. mon: [\"09:00-18:00\"]")
	}
	p.overlaps(shifts)
	return wh
}

// overlaps records every shift that overlaps an earlier one. Shifts are laid on
// one week of minutes from Monday 00:00; a range crossing midnight runs into the
// next day, and Sunday's runs into Monday, so it is split at the week's end.
func (p *parser) overlaps(shifts []shift) {
	const week = 7 * 24 * 60
	type segment struct {
		start, end int
		s          *shift
	}
	var segs []segment
	for i := range shifts {
		s := &shifts[i]
		start := s.day*24*60 + int(s.r.Start)
		end := start + s.r.Minutes()
		if end > week {
			segs = append(segs, segment{start, week, s}, segment{0, end - week, s})
			continue
		}
		segs = append(segs, segment{start, end, s})
	}
	slices.SortFunc(segs, func(a, b segment) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end), cmp.Compare(a.s.seq, b.s.seq))
	})
	// Sweep: a segment that starts before the furthest end so far overlaps the
	// segment that reaches it.
	reported := map[[2]int]bool{}
	var reach *segment
	for i := range segs {
		g := &segs[i]
		if reach != nil && g.start < reach.end && reach.s != g.s {
			earlier, later := reach.s, g.s
			if cmp.Or(cmp.Compare(earlier.line, later.line), cmp.Compare(earlier.seq, later.seq)) > 0 {
				earlier, later = later, earlier
			}
			if pair := [2]int{earlier.seq, later.seq}; !reported[pair] {
				reported[pair] = true
				p.add(later.line, later.field, "%q overlaps %s %q (%s, line %d)",
					later.text, earlier.key, earlier.text, earlier.field, earlier.line)
			}
		}
		if reach == nil || g.end > reach.end {
			reach = g
		}
	}
}
