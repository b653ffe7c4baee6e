package understand

import (
	"strconv"
	"strings"
	"time"

	"salonbook/src/core"
)

// Small sets of words the scan looks for next to others.
var (
	eveningAfter    = words("вечером", "tonight")
	dayAfter        = words("днем")
	morningAfter    = words("утром", "morning")
	strongPreps     = words("at", "around", "about", "by", "в", "во", "к", "ко", "около", "с", "со") // "в 10.10" is a time
	theOnly         = words("the")
	aOne            = words("a", "one")
	beforeWeekday   = words("в", "во", "on", "this")
	beforeOneOclock = words("в", "к", "около", "с") // "в час дня"
)

// scan walks one message's tokens; each part of it understood marks its
// tokens used, so that nothing is read twice ("12 декабря" is a day, not an
// hour and a month).
type scan struct {
	ts     []token
	x      Context
	today  core.Date
	dayEnd int // the token after the day expression found, or -1: "завтра 17" reads 17 as an hour

	// The days and times named, left out ("не завтра", "not at 5") or not;
	// a day after "с"/"from" ("перенести с пятницы на субботу") is the old
	// one when another is named. Two different ones: which is asked (settle).
	days     []core.Date
	fromDays []core.Date
	times    [][]core.ClockTime
}

// when finds the day and the time of day the message names: the most
// specific forms first, so that their tokens are not taken by looser ones.
func (s *scan) when(r *Request) {
	s.dayEnd = -1
	s.fillers()
	s.clockTimes(r)
	s.numericDates(r)
	s.monthDates(r)
	s.dayOfMonth(r)
	s.relativeDays(r)
	s.wordTimes(r)
	s.periods(r)
	s.settle(r)
}

// tok returns token i when it exists and is not used.
func (s *scan) tok(i int) *token {
	if i < 0 || i >= len(s.ts) || s.ts[i].used {
		return nil
	}
	return &s.ts[i]
}

// is reports whether token i is an unused word of set.
func (s *scan) is(i int, set set) bool {
	t := s.tok(i)
	return t != nil && !t.num && set[t.w]
}

// plain returns the value of token i when it is an unused number without
// separators of at most digits digits.
func (s *scan) plain(i, digits int) (int, bool) {
	t := s.tok(i)
	if t == nil || !t.num || len(t.w) > digits || strings.ContainsAny(t.w, ":./-") {
		return 0, false
	}
	n, err := strconv.Atoi(t.w)
	return n, err == nil
}

func (s *scan) use(from, to int) {
	for i := max(from, 0); i <= to && i < len(s.ts); i++ {
		s.ts[i].used = true
	}
}

// seq reports whether the unused words from i are ws ("*" at a word's end
// matches any word it begins), and returns how many tokens that is.
func (s *scan) seq(i int, ws []string) bool {
	for k, w := range ws {
		t := s.tok(i + k)
		if t == nil || t.num {
			return false
		}
		if p, ok := strings.CutSuffix(w, "*"); ok {
			if !strings.HasPrefix(t.w, p) {
				return false
			}
		} else if t.w != w {
			return false
		}
	}
	return true
}

func (s *scan) fillers() {
	for i := range s.ts {
		for _, f := range fillers {
			if s.seq(i, f) {
				s.use(i, i+len(f)-1)
			}
		}
	}
}

func (s *scan) setDay(r *Request, d core.Date, from, to int) {
	s.use(from, to)
	switch k, ok := s.excluded(from); {
	case ok:
		s.use(k, from)
		return
	case from > 0 && !s.ts[from-1].num && oldMarks[s.ts[from-1].w]:
		s.use(from-1, from)
		s.fromDays = append(s.fromDays, d)
		return
	}
	s.days = append(s.days, d)
	if !r.HasDay {
		r.Day, r.HasDay = d, true
		s.dayEnd = to + 1
	}
}

// excludes are the words that leave out what follows: "не завтра", "not at
// 5", "кроме Анны", "except Friday", "but not".
var excludes = words("не", "not", "кроме", "except", "excluding")

// oldMarks name the old value of a move: "с пятницы на субботу", "from
// Friday to Saturday".
var oldMarks = words("с", "со", "from")

// leadIns may stand between an exclusion and what it leaves out: "не в 11",
// "not on Friday", "кроме как к Анне".
var leadIns = words("в", "во", "на", "к", "ко", "у", "с", "at", "on", "to", "with", "by", "как", "for")

// excluded reports whether the expression starting at token from is left out
// ("не завтра", "не в 11", "not with Anna"), and returns the index of the
// word that leaves it out.
func excludedAt(ts []token, from int) (int, bool) {
	k := from - 1
	for n := 0; n < 2 && k >= 0 && !ts[k].num && leadIns[ts[k].w]; n++ {
		k--
	}
	if k >= 0 && !ts[k].num && excludes[ts[k].w] {
		return k, true
	}
	return 0, false
}

func (s *scan) excluded(from int) (int, bool) { return excludedAt(s.ts, from) }

// settle leaves out a day or a time named twice differently ("Friday or
// Saturday", "at 11 or 12"): which is asked, not the first taken (Unsure); an
// old day of a move ("с пятницы") is the day only when no other is named.
func (s *scan) settle(r *Request) {
	if len(s.days) == 0 && len(s.fromDays) > 0 {
		r.Day, r.HasDay = s.fromDays[0], true
	}
	for _, d := range s.days {
		if d != r.Day {
			r.HasDay, r.Day, r.Times, r.Unsure = false, core.Date{}, nil, true // the time waits for the day asked
			break
		}
	}
	for _, ts := range s.times {
		if len(r.Times) > 0 && ts[0] != r.Times[0] {
			r.Times, r.Unsure = nil, true
			break
		}
	}
}

// setTime records a time found in tokens from..to; a time after "after" or
// "before" is a limit, a part of the day.
func (s *scan) setTime(r *Request, times []core.ClockTime, from, to int) {
	if len(times) == 0 {
		return
	}
	switch {
	case s.is(from-1, afterWord):
		s.use(from-1, to)
		if !r.HasPeriod {
			r.Period, r.HasPeriod = core.ClockRange{Start: times[0], End: 24 * 60}, true
		}
		return
	case s.is(from-1, beforeWord):
		s.use(from-1, to)
		if !r.HasPeriod {
			r.Period, r.HasPeriod = core.ClockRange{Start: 0, End: times[0]}, true
		}
		return
	}
	if s.is(from-1, timePreps) {
		from--
	}
	s.use(from, to)
	if k, ok := s.excluded(from); ok {
		s.use(k, from)
		return
	}
	s.times = append(s.times, times)
	if len(r.Times) == 0 {
		r.Times = times
	}
}

// meridiem is what follows an hour: "pm", "вечера", "in the morning".
type meridiem int

const (
	merNone    meridiem = iota
	merAM               // am, утра, in the morning
	merPM               // pm
	merDay              // дня, in the afternoon: 12 to 17
	merEvening          // вечера, in the evening
	merNight            // ночи, at night
)

// after reads an hour mark ("часов", "h") and a meridiem from token i, and
// returns the meridiem and the index of the last token read (i-1: none).
func (s *scan) after(i int) (meridiem, int) {
	last := i - 1
	if s.is(i, hourMarks) {
		last = i
		i++
	}
	if s.seq(i, []string{"in", "the"}) {
		switch {
		case s.is(i+2, morning):
			return merAM, i + 2
		case s.is(i+2, afternoon):
			return merDay, i + 2
		case s.is(i+2, evening):
			return merEvening, i + 2
		}
	}
	switch {
	case s.is(i, amWords):
		return merAM, i
	case s.is(i, pmWords):
		return merPM, i
	case s.is(i, eveningWords), s.is(i, eveningAfter):
		return merEvening, i
	case s.is(i, dayTimeWords), s.is(i, dayAfter):
		return merDay, i
	case s.is(i, nightWords):
		return merNight, i
	case s.is(i, morningAfter):
		return merAM, i
	}
	return merNone, last
}

// clock turns an hour as said into the times it may mean, likeliest first.
// literal: written so that it can only be itself ("17:00", "09:30", "0").
func (s *scan) clock(h, m int, mer meridiem, literal bool) []core.ClockTime {
	if h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return nil
	}
	if h == 24 {
		h = 0
	}
	at := func(h int) core.ClockTime { return core.ClockTime(h*60 + m) }
	if h > 12 || h == 0 {
		if mer == merAM && h > 12 { // "17 утра" says two things; the digits win
			return []core.ClockTime{at(h)}
		}
		return []core.ClockTime{at(h)}
	}
	switch mer {
	case merAM:
		if h == 12 {
			return []core.ClockTime{at(0)}
		}
		return []core.ClockTime{at(h)}
	case merPM, merEvening:
		if h == 12 {
			if mer == merEvening {
				return []core.ClockTime{at(0)}
			}
			return []core.ClockTime{at(12)}
		}
		return []core.ClockTime{at(h + 12)}
	case merDay:
		if h == 12 || h >= 10 {
			return []core.ClockTime{at(h)}
		}
		return []core.ClockTime{at(h + 12)}
	case merNight:
		switch {
		case h == 12:
			return []core.ClockTime{at(0)}
		case h <= 5:
			return []core.ClockTime{at(h)}
		default:
			return []core.ClockTime{at(h + 12)}
		}
	}
	if literal {
		return []core.ClockTime{at(h)}
	}
	// No meridiem: the morning or the evening reading, the one the salon
	// works at first; when both or neither, 1 to 7 is afternoon, 8 to 11
	// morning, 12 noon.
	a, b := at(h), at(h+12)
	if h == 12 {
		a, b = at(12), at(0)
	}
	first, second := a, b
	if h >= 1 && h <= 7 {
		first, second = b, a
	}
	if s.x.Open != nil {
		oa, ob := s.x.Open(a), s.x.Open(b)
		switch {
		case oa && !ob:
			first, second = a, b
		case ob && !oa:
			first, second = b, a
		}
	}
	return []core.ClockTime{first, second}
}

// clockTimes reads "17:30", "5:30 pm", "в 17:00".
func (s *scan) clockTimes(r *Request) {
	for i := range s.ts {
		t := s.tok(i)
		if t == nil || !t.num || strings.Count(t.w, ":") != 1 {
			continue
		}
		hs, ms, _ := strings.Cut(t.w, ":")
		h, err1 := strconv.Atoi(hs)
		m, err2 := strconv.Atoi(ms)
		if err1 != nil || err2 != nil || len(hs) > 2 || len(ms) != 2 {
			continue
		}
		mer, last := s.after(i + 1)
		s.setTime(r, s.clock(h, m, mer, h == 0 || h > 12 || (len(hs) == 2 && hs[0] == '0')), i, last)
	}
}

// numericDates reads "12.12", "12.12.2027", "12/12", "2027-12-12"; "17.30"
// and "в 10.30" are times.
func (s *scan) numericDates(r *Request) {
	for i := range s.ts {
		t := s.tok(i)
		if t == nil || !t.num || !strings.ContainsAny(t.w, "./-") || strings.Contains(t.w, ":") {
			continue
		}
		sep := "."
		switch {
		case strings.Contains(t.w, "/"):
			sep = "/"
		case strings.Contains(t.w, "-"):
			sep = "-"
		}
		parts := strings.Split(t.w, sep)
		if strings.ContainsAny(strings.Join(parts, ""), "./-") {
			continue // separators mixed: not a date
		}
		n := make([]int, len(parts))
		for k, p := range parts {
			v, err := strconv.Atoi(p)
			if err != nil || len(p) > 4 {
				n = nil
				break
			}
			n[k] = v
		}
		if n == nil {
			continue
		}
		switch {
		case sep == "-" && len(n) == 3 && len(parts[0]) == 4:
			if d, ok := valid(n[0], n[1], n[2]); ok {
				s.setDay(r, d, i, i)
			}
		case sep == "-":
		case len(n) == 3 && (len(parts[2]) == 2 || len(parts[2]) == 4):
			y := n[2]
			if len(parts[2]) == 2 {
				y += 2000
			}
			day, month := n[0], n[1]
			if sep == "/" && day <= 12 && month > 12 {
				day, month = month, day
			}
			if d, ok := valid(y, month, day); ok {
				s.setDay(r, d, i, i)
			}
		case len(n) == 2 && sep == "/":
			day, month := n[0], n[1]
			if day <= 12 && month > 12 {
				day, month = month, day
			}
			if d, ok := s.upcoming(time.Month(month), day); ok {
				s.setDay(r, d, i, i)
			}
		case len(n) == 2:
			a, b := n[0], n[1]
			dateOK := len(parts[0]) <= 2 && len(parts[1]) <= 2 && a >= 1 && a <= 31 && b >= 1 && b <= 12
			timeOK := len(parts[0]) <= 2 && len(parts[1]) == 2 && a <= 23 && b <= 59
			mer, last := s.after(i + 1)
			strong := s.is(i-1, strongPreps) ||
				s.is(i-1, afterWord) || s.is(i-1, beforeWord)
			switch {
			case timeOK && (strong || mer != merNone || last >= i+1 || s.x.ExpectTime || !dateOK):
				s.setTime(r, s.clock(a, b, mer, a == 0 || a > 12 || (len(parts[0]) == 2 && parts[0][0] == '0')), i, last)
			case dateOK:
				if d, ok := s.upcoming(time.Month(b), a); ok {
					s.setDay(r, d, i, i)
				}
			}
		}
	}
}

// valid returns the date y-m-d when it exists.
func valid(y, m, d int) (core.Date, bool) {
	if y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31 {
		return core.Date{}, false
	}
	t := time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return core.Date{}, false
	}
	return core.DateOf(t), true
}

// upcoming is the next day d of month m from today: this year's, or next
// year's when this year's has passed (29 February: the next leap year's).
func (s *scan) upcoming(m time.Month, d int) (core.Date, bool) {
	for y := s.today.Year; y <= s.today.Year+4; y++ {
		if date, ok := valid(y, int(m), d); ok && !date.Before(s.today) {
			return date, true
		}
	}
	return core.Date{}, false
}

// monthDates reads "12 Dec", "12th of December", "Dec 12", "December 12th",
// "12 декабря", with an optional year after.
func (s *scan) monthDates(r *Request) {
	for i := range s.ts {
		t := s.tok(i)
		if t == nil || t.num {
			continue
		}
		m, ok := months[t.w]
		if !ok {
			continue
		}
		// A day before the month: "12 Dec", "12th of December", "12-го декабря".
		j := i - 1
		if s.is(j, ofWord) {
			j--
		}
		if s.is(j, ordSuffix) {
			j--
		}
		if d, ok := s.plain(j, 2); ok {
			last := i
			y, yok := s.plain(i+1, 4)
			if yok && y >= 2000 && y <= 2100 {
				last = i + 1
			}
			if date, ok := s.dated(m, d, y, yok && y >= 2000 && y <= 2100); ok {
				s.setDay(r, date, j, last)
			}
			continue
		}
		// A day after the month: "Dec 12", "December 12th, 2027".
		if m == time.May && t.w == "may" && !s.tok(i+1).isNum() {
			continue // the verb
		}
		if d, ok := s.plain(i+1, 2); ok {
			last := i + 1
			if s.is(i+2, ordSuffix) {
				last = i + 2
			}
			y, yok := s.plain(last+1, 4)
			if yok && y >= 2000 && y <= 2100 {
				last++
			}
			if date, ok := s.dated(m, d, y, yok && y >= 2000 && y <= 2100); ok {
				s.setDay(r, date, i, last)
			}
		}
	}
}

func (t *token) isNum() bool { return t != nil && t.num }

// dated is day d of month m: of year y when given, else the next one to come.
func (s *scan) dated(m time.Month, d, y int, withYear bool) (core.Date, bool) {
	if withYear {
		return valid(y, int(m), d)
	}
	return s.upcoming(m, d)
}

// dayOfMonth reads "the 12th", "12-го", "12 числа": that day of this month,
// or of the next when it has passed.
func (s *scan) dayOfMonth(r *Request) {
	for i := range s.ts {
		d, ok := s.plain(i, 2)
		if !ok || !s.is(i+1, ordSuffix) || d < 1 || d > 31 {
			continue
		}
		if w := s.ts[i+1].w; (w == "е" || w == "ое") && !s.ts[i+1].glue {
			continue // "5 е" is not an ordinal
		}
		y, m := s.today.Year, s.today.Month
		for k := 0; k < 3; k++ {
			if date, ok := valid(y, int(m), d); ok && !date.Before(s.today) {
				s.setDay(r, date, i, i+1)
				break
			}
			if m++; m > 12 {
				m, y = 1, y+1
			}
		}
	}
}

// relativeDays reads "today", "tomorrow", "послезавтра", "day after
// tomorrow", "in 3 days", "через неделю", "Friday", "next Tuesday", "в эту
// пятницу".
func (s *scan) relativeDays(r *Request) {
	for i := range s.ts {
		t := s.tok(i)
		if t == nil {
			continue
		}
		switch {
		case s.seq(i, []string{"day", "after", "tomorrow"}):
			from := i
			if s.is(i-1, theOnly) {
				from--
			}
			s.setDay(r, s.today.AddDays(2), from, i+2)
		case s.is(i, afterTomorrow):
			s.setDay(r, s.today.AddDays(2), i, i)
		case s.is(i, tomorrow):
			s.setDay(r, s.today.AddDays(1), i, i)
		case s.is(i, today):
			if t.w == "tonight" && !r.HasPeriod {
				r.Period, r.HasPeriod = core.ClockRange{Start: 17 * 60, End: 24 * 60}, true
			}
			s.setDay(r, s.today, i, i)
		case s.is(i, nextWords) && s.is(i+1, weekUnit):
			// "next week on Friday", "на следующей неделе в пятницу": that
			// weekday of it; "next week" alone: its Monday.
			k := i + 2
			if s.is(k, beforeWeekday) {
				k++
			}
			if wd, ok := s.weekdayAt(k); ok {
				s.setDay(r, s.weekday(wd, true), i, k)
				continue
			}
			s.setDay(r, s.today.AddDays(7-(int(s.today.Weekday())+6)%7), i, i+1)
		case s.is(i, inWords):
			n, last := 1, i
			if v, ok := s.plain(i+1, 2); ok {
				n, last = v, i+1
			} else if v, ok := hourWords[s.word(i+1)]; ok {
				n, last = v, i+1
			} else if s.is(i+1, aOne) {
				last = i + 1
			}
			switch {
			case s.is(last+1, dayUnit) && last > i && n <= 366:
				s.setDay(r, s.today.AddDays(n), i, last+1)
			case s.is(last+1, weekUnit) && n <= 52:
				s.setDay(r, s.today.AddDays(7*n), i, last+1)
			}
		default:
			wd, ok := weekdays[t.w]
			if !ok || t.num {
				continue
			}
			from, to, next := i, i, false
			switch {
			case s.is(i-1, nextWords):
				from, next = i-1, true
			case s.is(i-1, thisWords):
				from = i - 1
			}
			if s.is(from-1, beforeWeekday) {
				from--
			}
			// "Friday next week", "в пятницу на следующей неделе".
			k := i + 1
			if s.is(k, weekLinks) {
				k++
			}
			if s.is(k, nextWords) && s.is(k+1, weekUnit) {
				to, next = k+1, true
			}
			d := s.weekday(wd, next)
			if !next && weekendWords[t.w] && s.today.Weekday() == time.Sunday {
				d = s.today // "this weekend" said on a Sunday: today is still the weekend
			}
			s.setDay(r, d, from, to)
		}
	}
}

// weekLinks join a weekday to "next week": "Friday of next week", "в
// пятницу на следующей неделе".
var weekLinks = words("of", "on", "на")

// weekendWords name the weekend (its Saturday, or today on its Sunday).
var weekendWords = words("weekend", "выходных", "выходные")

// weekdayAt reads token i as a weekday.
func (s *scan) weekdayAt(i int) (time.Weekday, bool) {
	t := s.tok(i)
	if t == nil || t.num {
		return 0, false
	}
	wd, ok := weekdays[t.w]
	return wd, ok
}

// word returns the word of token i when it is unused, else "".
func (s *scan) word(i int) string {
	if t := s.tok(i); t != nil && !t.num {
		return t.w
	}
	return ""
}

// weekday is the coming wd (today when today is one); next: wd of the next
// calendar week, weeks starting on Monday ("next Tuesday" said on a Monday is
// eight days away, as "в следующий вторник" is).
func (s *scan) weekday(wd time.Weekday, next bool) core.Date {
	if !next {
		return s.today.AddDays((int(wd) - int(s.today.Weekday()) + 7) % 7)
	}
	iso := func(w time.Weekday) int { return (int(w)+6)%7 + 1 } // Monday 1 … Sunday 7
	monday := s.today.AddDays(8 - iso(s.today.Weekday()))
	return monday.AddDays(iso(wd) - 1)
}

// wordTimes reads the hours said with words around them: "5pm", "at 5",
// "в 5 вечера", "к 17", "at five", "noon", "half past five", "в полшестого",
// "без четверти шесть"; a bare number right after a day ("завтра 17"), and
// any bare number when a time was asked for.
func (s *scan) wordTimes(r *Request) {
	for i := range s.ts {
		t := s.tok(i)
		if t == nil {
			continue
		}
		switch {
		case s.is(i, noon):
			s.setTime(r, []core.ClockTime{12 * 60}, i, i)
			continue
		case s.is(i, midnight):
			s.setTime(r, []core.ClockTime{0}, i, i)
			continue
		}
		if h, m, last, ok := s.phrasedHour(i); ok {
			mer, end := s.after(last + 1)
			s.setTime(r, s.clock(h, m, mer, false), i, max(end, last))
			continue
		}
		h, ok := s.plain(i, 2)
		if !ok {
			if w, isWord := hourWords[s.word(i)]; isWord {
				mer, last := s.after(i + 1)
				if s.is(i-1, timePreps) || s.is(i-1, afterWord) || s.is(i-1, beforeWord) || mer != merNone || last > i {
					s.setTime(r, s.clock(w, 0, mer, false), i, last)
				}
			} else if t.w == "час" && s.is(i-1, beforeOneOclock) {
				mer, last := s.after(i + 1)
				s.setTime(r, s.clock(1, 0, mer, false), i, max(last, i))
			}
			continue
		}
		if h > 24 {
			continue
		}
		literal := h == 0 || h > 12 || (len(t.w) == 2 && t.w[0] == '0')
		// "в 5 30", "at 5 30": minutes as a second number.
		m, last := 0, i
		if mm, ok := s.plain(i+1, 2); ok && len(s.ts[i+1].w) == 2 && mm <= 59 && s.is(i-1, timePreps) {
			m, last = mm, i+1
		}
		mer, end := s.after(last + 1)
		switch {
		case mer != merNone || end > last, // "5pm", "17ч", "5 часов вечера"
			s.is(i-1, timePreps), s.is(i-1, afterWord), s.is(i-1, beforeWord), // "at 5", "к 17", "после 5"
			i == s.dayEnd,  // "завтра 17"
			s.x.ExpectTime: // "5" when a time was asked for
			s.setTime(r, s.clock(h, m, mer, literal), i, max(end, last))
		}
	}
}

// phrasedHour reads an hour said as a phrase from token i: "half past 5",
// "quarter to six", "half five", "в полшестого", "половина шестого",
// "четверть шестого", "без четверти шесть". It returns the hour (1..12) and
// minute and the last token read.
func (s *scan) phrasedHour(i int) (h, m, last int, ok bool) {
	number := func(j int) (int, bool) {
		if v, ok := s.plain(j, 2); ok && v >= 1 && v <= 12 {
			return v, true
		}
		v, ok := hourWords[s.word(j)]
		return v, ok
	}
	prev := func(n int) int { return (n+10)%12 + 1 } // the hour before n: 6 -> 5, 1 -> 12
	w := s.word(i)
	switch {
	case w == "":
		return 0, 0, 0, false
	case strings.HasPrefix(w, "пол") && ordinals[strings.TrimPrefix(strings.TrimPrefix(w, "пол"), "-")] > 0:
		return prev(ordinals[strings.TrimPrefix(strings.TrimPrefix(w, "пол"), "-")]), 30, i, true
	case halfRu[w] && ordinals[s.word(i+1)] > 0:
		return prev(ordinals[s.word(i+1)]), 30, i + 1, true
	case quarter[w] && ordinals[s.word(i+1)] > 0:
		return prev(ordinals[s.word(i+1)]), 15, i + 1, true
	case without[w] && quarter[s.word(i+1)]:
		if n, ok := number(i + 2); ok {
			return prev(n), 45, i + 2, true
		}
	case (half[w] || quarter[w]) && past[s.word(i+1)]:
		if n, ok := number(i + 2); ok {
			m := 30
			if quarter[w] {
				m = 15
			}
			return n, m, i + 2, true
		}
	case quarter[w] && to[s.word(i+1)]:
		if n, ok := number(i + 2); ok {
			return prev(n), 45, i + 2, true
		}
	case half[w]:
		if n, ok := number(i + 1); ok { // British "half five"
			return n, 30, i + 1, true
		}
	}
	return 0, 0, 0, false
}

// periods reads a part of the day ("tomorrow evening", "утром") when no time
// was named.
func (s *scan) periods(r *Request) {
	if len(r.Times) > 0 || r.HasPeriod {
		return
	}
	for i := range s.ts {
		switch {
		case s.is(i, morning):
			r.Period, r.HasPeriod = core.ClockRange{Start: 0, End: 12 * 60}, true
		case s.is(i, afternoon):
			r.Period, r.HasPeriod = core.ClockRange{Start: 12 * 60, End: 17 * 60}, true
		case s.is(i, evening):
			r.Period, r.HasPeriod = core.ClockRange{Start: 17 * 60, End: 24 * 60}, true
		default:
			continue
		}
		s.use(i, i)
		return
	}
}
