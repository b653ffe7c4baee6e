package dialog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
)

// A day with no free time is never a dead end: the client is told why, as a
// receptionist would (the master does not work that weekday, is off that day,
// the salon is closed, the day is fully booked, too late for today, beyond
// the booking horizon), and offered the nearest day with free times, its
// times as buttons. "Notify me" (the wait-list) only where the day is a
// working day that is full.

// prefWaitDay: wd:YYYY-MM-DD, "Notify me" for a full day other than the one
// whose times are shown (the nearest day was offered in its place).
const prefWaitDay = "wd:"

// prefAllDay: ad:YYYY-MM-DD, the times of the day asked, shown beside the
// nearest day's times in the part of the day asked when the day asked has
// times but none in it (pressed, the part is dropped).
const prefAllDay = "ad:"

// nearBack is how many days before the day asked are looked at for the
// nearest free times (after it: searchDays).
const nearBack = 3

// flowMasters are the masters the flow may book: its master, or every master
// doing its service.
func (t *turn) flowMasters() []core.Master {
	var ms []core.Master
	for _, m := range t.cat.Masters {
		if t.st.Service != "" && !m.Performs(t.st.Service) {
			continue
		}
		if t.st.Master != "" && t.st.Master != booking.AnyMaster && m.ID != t.st.Master {
			continue
		}
		ms = append(ms, m)
	}
	return ms
}

// shifts are the master's hours on local day d (none on a day off).
func shifts(m core.Master, d core.Date) []core.ClockRange {
	if containsDate(m.DaysOff, d) {
		return nil
	}
	return m.Hours[d.Weekday()]
}

// dayShifts are the hours the master works on local day d: its shifts that
// day and the part after midnight of a shift of the day before ({00:00,
// 02:00} for a Saturday 20:00–02:00 on Sunday).
func dayShifts(m core.Master, d core.Date) []core.ClockRange {
	var rs []core.ClockRange
	for _, r := range shifts(m, d.AddDays(-1)) {
		if r.CrossesMidnight() && r.End > 0 {
			rs = append(rs, core.ClockRange{Start: 0, End: r.End})
		}
	}
	return append(rs, shifts(m, d)...)
}

// whenEnd names a day at the end of a sentence: when, without the comma
// the Russian "во вторник, 2 марта," carries before what follows.
func (t *turn) whenEnd(d core.Date) string {
	switch d {
	case t.today(), t.today().AddDays(1):
		return t.when(d)
	}
	return t.p.T("when.on_end", "Weekday", t.p.T(fmt.Sprintf("weekday.on.%d", int(d.Weekday()))), "Day", d.Day,
		"Month", t.p.T(fmt.Sprintf("month.of.%d", int(d.Month))))
}

// whyNone says why local day d has no free time for the flow, and whether
// the day is a working day that is full (where the wait-list starts).
func (t *turn) whyNone(d core.Date) (why string, full bool) {
	p := t.p
	args := func(more ...any) []any {
		return append([]any{"When", t.when(d), "WhenEnd", t.whenEnd(d), "Master", t.masterName(t.st.Master),
			"Service", t.service(t.st.Service).NameIn(p.Lang())}, more...)
	}
	one := t.st.Master != "" && t.st.Master != booking.AnyMaster
	if d.Before(t.today()) {
		return p.T("day.passed"), false
	}
	if !t.bookable(d) {
		return p.T("day.too_far", "Day", longDate(p.T, t.lastDay())), false
	}
	ms := t.flowMasters()
	var working []core.Master
	for _, m := range ms {
		if len(dayShifts(m, d)) > 0 {
			working = append(working, m)
		}
	}
	if len(working) == 0 {
		switch {
		case one && len(ms) == 1 && containsDate(ms[0].DaysOff, d):
			return ucFirst(p.T("why.day_off", args()...)), false
		case one:
			return ucFirst(p.T("why.weekday", args("Weekdays", p.T(fmt.Sprintf("weekday.pl.%d", int(d.Weekday()))))...)), false
		}
		for _, m := range t.cat.Masters {
			if len(dayShifts(m, d)) > 0 {
				return ucFirst(p.T("why.no_service", args()...)), false
			}
		}
		return ucFirst(p.T("why.closed", args()...)), false
	}
	// Days no time can ever free up on: shifts shorter than the service, or
	// ending too soon after now for the notice (today, or any day with a
	// notice of days). Only a day left is fully booked.
	dur := t.service(t.st.Service).Duration
	var last time.Time
	fits := false
	for _, m := range working {
		for _, r := range dayShifts(m, d) {
			if time.Duration(r.Minutes())*time.Minute >= dur {
				fits = true
			}
			if end := r.On(d, t.cat.Salon.Timezone).End; end.After(last) {
				last = end
			}
		}
	}
	switch {
	case !fits:
		key := "why.too_short"
		if one {
			key = "why.too_short_master"
		}
		return ucFirst(p.T(key, args("Duration", p.Duration(dur), "Hours", t.hoursText(d))...)), false
	case d == t.today() && !last.After(t.now):
		if one {
			return ucFirst(p.T("why.finished_master", args()...)), false
		}
		return ucFirst(p.T("why.finished", args()...)), false
	case last.Sub(t.now.Add(t.cat.Salon.Policy.MinNotice)) < dur:
		if d == t.today() {
			return t.noticeText(), false
		}
		return t.noticeDayText(d), false
	}
	if !t.wholeDayBookable(d) {
		return p.T("day.too_far", "Day", longDate(p.T, t.lastDay())), false
	}
	if one {
		return ucFirst(p.T("why.full_master", args()...)), true
	}
	return ucFirst(p.T("why.full", args()...)), true
}

// noticeDayText says that day d (not today) is too soon to book.
func (t *turn) noticeDayText(d core.Date) string {
	n := t.cat.Salon.Policy.MinNotice
	if n >= 24*time.Hour && n%(24*time.Hour) == 0 {
		return ucFirst(t.p.N("why.notice_day_days", int(n/(24*time.Hour)), "When", t.when(d), "WhenEnd", t.whenEnd(d)))
	}
	return ucFirst(t.p.N("why.notice_day_hours", int((n+time.Hour-1)/time.Hour), "When", t.when(d), "WhenEnd", t.whenEnd(d)))
}

// lastDay is the last local day with a time the horizon lets be booked: the
// last day a shift of the flow's masters starts before the horizon ends (a
// horizon ending at 09:00 leaves a day that opens at 10:00 out).
func (t *turn) lastDay() core.Date {
	zone := t.cat.Salon.Timezone
	end := t.now.Add(t.cat.Salon.Policy.Horizon)
	last := core.DateOf(end.Add(-time.Nanosecond).In(zone))
	for d := last; !d.Before(t.today()) && daysBetween(d, last) < 7; d = d.AddDays(-1) {
		for _, m := range t.flowMasters() {
			for _, r := range dayShifts(m, d) {
				if r.On(d, zone).Start.Before(end) {
					return d
				}
			}
		}
	}
	return last
}

// noticeText says that what is left today is too soon to book.
func (t *turn) noticeText() string {
	n := t.cat.Salon.Policy.MinNotice
	if n >= time.Hour && n%time.Hour == 0 {
		return t.p.N("why.notice_hours", int(n/time.Hour))
	}
	return t.p.N("why.notice_minutes", int((n+time.Minute-1)/time.Minute))
}

// nearestDay finds the day nearest to d (a later one on a tie) with free
// times for the flow, from a few days before it to searchDays after, and
// its free times; ok false: none. With a part of the day asked (period not
// nil), the nearest day with free times in it; inPart false: no day has
// any, and the day is the nearest with free times at all.
func (t *turn) nearestDay(d core.Date, period *core.ClockRange) (day core.Date, on []availability.Slot, inPart, ok bool) {
	// From a few days before d (before the horizon's last day, for a day past
	// it), never before today, to searchDays after d, never past the horizon.
	last := t.lastDay()
	from := d.AddDays(-nearBack)
	if last.Before(from) {
		from = last.AddDays(-nearBack)
	}
	if from.Before(t.today()) {
		from = t.today()
	}
	to := d.AddDays(searchDays)
	if to.Before(t.today()) { // a day long past (a flow left for weeks): from today on
		to = t.today().AddDays(searchDays)
	}
	if last.Before(to) {
		to = last
	}
	days := daysBetween(from, to) + 1
	if days <= 0 {
		return core.Date{}, nil, false, false
	}
	slots, err := t.free(from, days)
	if err != nil {
		return core.Date{}, nil, false, false
	}
	nearest := func(keep func(availability.Slot) bool) (core.Date, bool) {
		var best core.Date
		found, bestDist := false, 0
		for _, s := range slots {
			if s.Day == d || !keep(s) {
				continue
			}
			dist := daysBetween(d, s.Day)
			if dist < 0 {
				dist = -dist*2 + 1 // a day before loses a tie to the day after
			} else {
				dist *= 2
			}
			if !found || dist < bestDist {
				best, bestDist, found = s.Day, dist, true
			}
		}
		return best, found
	}
	inPart = period != nil
	if inPart {
		day, ok = nearest(func(s availability.Slot) bool { return t.inPeriod(s, *period) })
	}
	if !ok {
		inPart = false
		day, ok = nearest(func(availability.Slot) bool { return true })
	}
	if !ok {
		return core.Date{}, nil, false, false
	}
	for _, s := range slots {
		if s.Day == day {
			on = append(on, s)
		}
	}
	return day, on, inPart, true
}

// inPeriod reports whether slot s starts in the part of the day period
// (wall clock, in the salon's zone). A part running past midnight is read
// on the day it starts: its hours after midnight are the night of the day
// before. So are the hours after midnight of a shift of the day before
// (20:00–02:00): that night's, never in a part from 00:00 ("in the
// morning", "before 11").
func (t *turn) inPeriod(s availability.Slot, period core.ClockRange) bool {
	c := wallClock(s.Start, t.cat.Salon.Timezone)
	if period.Start == 0 && c < nightEnds && t.shiftFrom(s, s.Day.AddDays(-1)) {
		return false
	}
	return c >= period.Start && (c < period.End || period.CrossesMidnight())
}

// periodFrom is the index in a day's times of the first one in the part of
// the day the client asked for (State.Period), where its page of times
// begins; 0 with none asked or none in it.
func (t *turn) periodFrom(slots []availability.Slot) int {
	period, err := core.ParseClockRange(t.st.Period)
	if err != nil {
		return 0
	}
	return max(slices.IndexFunc(slots, func(s availability.Slot) bool { return t.inPeriod(s, period) }), 0)
}

// partText names a part of the day for a sentence: "in the evening",
// "after 18:00" ("вечером", "после 18:00").
func (t *turn) partText(r core.ClockRange) string {
	p := t.p
	switch {
	case r == core.ClockRange{Start: 0, End: 12 * 60}:
		return p.T("part.morning")
	case r == core.ClockRange{Start: 12 * 60, End: 17 * 60}:
		return p.T("part.afternoon")
	case r == core.ClockRange{Start: 17 * 60, End: 24 * 60}:
		return p.T("part.evening")
	case r.End == 24*60:
		return p.T("part.after", "Time", r.Start.String())
	case r.Start == 0:
		return p.T("part.before", "Time", r.End.String())
	}
	return p.T("part.between", "From", r.Start.String(), "To", r.End.String())
}

// daysBetween counts the days from a to b.
func daysBetween(a, b core.Date) int {
	ta := time.Date(a.Year, a.Month, a.Day, 12, 0, 0, 0, time.UTC)
	tb := time.Date(b.Year, b.Month, b.Day, 12, 0, 0, 0, time.UTC)
	return int(tb.Sub(ta).Round(24*time.Hour) / (24 * time.Hour))
}

// timeAsk is the time step's question as ask sends it: the day's times, or,
// with none, why and the nearest day's times (the flow moves to that day).
func (t *turn) timeAsk() Reply {
	p := t.p
	d, err := core.ParseDate(t.st.Day)
	if err != nil {
		return t.withMenu(Reply{Text: p.T("error.unavailable")})
	}
	slots, err := t.free(d, 1)
	if err != nil {
		return t.withMenu(Reply{Text: p.T("error.unavailable")})
	}
	var period *core.ClockRange
	if r, err := core.ParseClockRange(t.st.Period); err == nil {
		period = &r
	}
	if len(slots) > 0 {
		heading := ucFirst(p.T("ask.time", "Day", p.DateLong(d), "On", p.DateOn(d)))
		if period == nil || slices.ContainsFunc(slots, func(s availability.Slot) bool { return t.inPeriod(s, *period) }) {
			return t.timesReply(slots, heading, t.allDayKept(d))
		}
		// Times that day, none in the part asked. Asked with the day
		// ("manicure on Thursday evening"): the nearest day with times in
		// it, the day asked a button away. Else (no such day, or a day
		// chosen later: Another day, "and on Thursday?"), the day's times,
		// saying so on their first page.
		if other, near, inPart, ok := t.nearestDay(d, period); ok && inPart && t.partAsked {
			t.st.Day, t.st.Page, t.st.DayPages = other.String(), 0, nil
			all := t.allDayChoice(d)
			none := ucFirst(p.T("why.part_day_none", "Part", t.partText(*period), "When", t.when(d)))
			return t.timesReply(near, none+" "+p.T("why.nearest_part", "Part", t.partText(*period), "WhenEnd", t.whenEnd(other)), &all)
		}
		if t.st.Page <= 0 {
			heading = p.T("period.none") + "\n\n" + heading
		}
		return t.timesReply(slots, heading, nil)
	}
	why, full := t.whyNone(d)
	canWait := full && t.st.Step == stepTime && t.offersTo() && t.wholeDayBookable(d)
	other, near, inPart, ok := t.nearestDay(d, period)
	if !ok {
		r := Reply{Text: why, Choices: []Choice{{ID: optAnyDay, Label: p.T("btn.other_day")}}}
		if canWait {
			r.Text += " " + p.T("why.notify")
			r.Choices = append([]Choice{{ID: optWaitlist, Label: p.T("btn.waitlist")}}, r.Choices...)
		}
		return t.withMenu(r)
	}
	t.st.Day, t.st.Page, t.st.DayPages = other.String(), 0, nil
	var wait *Choice
	if canWait {
		why += " " + t.notifyDay(d)
		wait = t.waitDayChoice(d)
	}
	nearest := p.T("why.nearest", "WhenEnd", t.whenEnd(other))
	switch {
	case inPart: // "…in the evening are on Wednesday": its evening times first (timesReply)
		nearest = p.T("why.nearest_part", "Part", t.partText(*period), "WhenEnd", t.whenEnd(other))
	case period != nil:
		nearest = ucFirst(p.T("why.part_none", "Part", t.partText(*period))) + " " + nearest
	}
	return t.timesReply(near, why+" "+nearest, wait)
}

// notifyDay offers the wait-list of day d beside another day's times, the
// day said (the sentence before gave its date): "If Thursday suits you
// best, I can let you know…", "If tomorrow suits you best…".
func (t *turn) notifyDay(d core.Date) string {
	day := t.p.T(fmt.Sprintf("weekday.on.%d", int(d.Weekday())))
	switch d {
	case t.today(), t.today().AddDays(1):
		day = t.when(d)
	}
	return t.p.T("why.notify_day", "Day", day)
}

// allDayChoice is the times of day d (prefAllDay), its date on the
// button: "Times on Thu 4 Mar".
func (t *turn) allDayChoice(d core.Date) Choice {
	return Choice{ID: prefAllDay + d.String(), Label: label(t.p.T("btn.day_times", "Day", t.p.Date(d)))}
}

// waitDayChoice is "Notify me" for day d beside another day's times, the
// day on the button: "Notify me: 2 Mar".
func (t *turn) waitDayChoice(d core.Date) *Choice {
	return &Choice{ID: prefWaitDay + d.String(), Label: t.p.T("waitlist.day_btn", "Day", d.Day,
		"Month", t.p.T(fmt.Sprintf("month.%d", int(d.Month))))}
}

// allDayKept is the "Times on <day asked>" choice shown beside the nearest
// day's times in the part of the day asked (State.Shown), shown again on
// every page of day d while the part is kept, so that it is never stale after
// Earlier or Later; nil when it was not shown.
func (t *turn) allDayKept(d core.Date) *Choice {
	if t.st.Period == "" {
		return nil
	}
	for _, id := range t.st.Shown {
		if day, ok := strings.CutPrefix(id, prefAllDay); ok && day != d.String() {
			if asked, err := core.ParseDate(day); err == nil && t.bookable(asked) {
				c := t.allDayChoice(asked)
				return &c
			}
		}
	}
	return nil
}

// timesReply shows page st.Page of a day's free times with text; wait,
// if any, is a "Notify me" for another day (then "Later" gives way to it:
// a typed "later" still pages on).
func (t *turn) timesReply(slots []availability.Slot, text string, wait *Choice) Reply {
	p := t.p
	// With a part of the day asked, page 0 begins at its first time and the
	// pages before it (Earlier) hold the times before; past the first or
	// the last page (typed "earlier" or "later" there, or times taken
	// since): that page.
	at := t.periodFrom(slots)
	t.st.Page = min(max(t.st.Page, timesPageOf(0, at)), timesPageOf(len(slots)-1, at))
	from, size := timesPage(t.st.Page, at)
	r := Reply{Text: text}
	if from > 0 {
		r.Choices = append(r.Choices, Choice{ID: optEarlier, Label: p.T("btn.earlier")})
	}
	for _, s := range slots[from:min(from+size, len(slots))] {
		r.Choices = append(r.Choices, Choice{ID: prefTime + strconv.FormatInt(s.Start.Unix(), 10), Label: p.Time(s.Start)})
	}
	switch {
	case wait != nil:
		r.Choices = append(r.Choices, *wait)
	case from+size < len(slots):
		r.Choices = append(r.Choices, Choice{ID: optMore, Label: p.T("btn.later")})
	}
	r.Choices = append(r.Choices, Choice{ID: optAnyDay, Label: p.T("btn.other_day")})
	return t.withMenu(r)
}

// hoursText lists the hours the flow's masters work on local day d, as a
// sentence says them: "10:00–14:00 and 15:00–19:00".
func (t *turn) hoursText(d core.Date) string {
	var rs []core.ClockRange
	for _, m := range t.flowMasters() {
		rs = append(rs, dayShifts(m, d)...)
	}
	return t.rangesText(mergeRanges(rs))
}

// outsideHours reports whether wall-clock time c lies outside every shift of
// the flow's masters on local day d (a working day).
func (t *turn) outsideHours(d core.Date, c core.ClockTime) bool {
	working := false
	for _, m := range t.flowMasters() {
		for _, r := range dayShifts(m, d) {
			working = true
			if r.CrossesMidnight() && c < r.End {
				return false // the night after d, as place() reads "Saturday at 1"
			}
			end := r.End
			if r.CrossesMidnight() {
				end += 24 * 60
			}
			if c >= r.Start && c < end {
				return false
			}
		}
	}
	return working
}

// mergeRanges sorts ranges and joins those that overlap or touch.
func mergeRanges(rs []core.ClockRange) []core.ClockRange {
	norm := func(r core.ClockRange) (int, int) {
		e := int(r.End)
		if r.CrossesMidnight() {
			e += 24 * 60
		}
		return int(r.Start), e
	}
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Start < rs[j-1].Start; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	var out []core.ClockRange
	for _, r := range rs {
		if n := len(out); n > 0 {
			_, pe := norm(out[n-1])
			s, e := norm(r)
			if s <= pe {
				if e > pe {
					out[n-1].End = core.ClockTime(e % (24 * 60))
					if e == 24*60 {
						out[n-1].End = 24 * 60
					}
				}
				continue
			}
		}
		out = append(out, r)
	}
	return out
}
