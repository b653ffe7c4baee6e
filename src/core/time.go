package core

import (
	"fmt"
	"time"
)

// TimeRange is a half-open interval [Start, End) of UTC instants.
type TimeRange struct {
	Start time.Time
	End   time.Time
}

// Overlaps reports whether r and o share an instant. Touching ranges do not overlap.
func (r TimeRange) Overlaps(o TimeRange) bool {
	return r.Start.Before(o.End) && o.Start.Before(r.End)
}

// Contains reports whether o lies inside r.
func (r TimeRange) Contains(o TimeRange) bool {
	return !o.Start.Before(r.Start) && !o.End.After(r.End)
}

// Date is a calendar day with no zone: a day off, or the day a client picks.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// AddDays returns the day n days after d (n may be negative).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Weekday returns d's day of the week.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// At returns the instant at which the wall clock in loc shows clock on day d, and
// whether that wall-clock time exists there. On a spring-forward day the skipped
// times do not exist (ok is false). On a fall-back day a repeated time names its
// first occurrence, so it is never offered twice.
func (d Date) At(clock ClockTime, loc *time.Location) (t time.Time, ok bool) {
	h, m := int(clock)/60, int(clock)%60
	day := d
	if h >= 24 { // 24:00 is midnight of the next day
		day, h = d.AddDays(1), h-24
	}
	t = time.Date(day.Year, day.Month, day.Day, h, m, 0, 0, loc)
	if t.Hour() != h || t.Minute() != m {
		return t.UTC(), false
	}
	// time.Date does not promise which of two repeated instants it returns: take the
	// earlier one if the period before t's showed the same wall clock. The change is
	// not always an hour (Lord Howe Island moves its clocks by 30 minutes).
	if start, _ := t.ZoneBounds(); !start.IsZero() {
		_, before := start.Add(-time.Second).Zone()
		_, after := t.Zone()
		e := t.Add(-time.Duration(before-after) * time.Second)
		if before > after && e.Before(start) && e.Hour() == h && e.Minute() == m && DateOf(e) == day {
			t = e
		}
	}
	return t.UTC(), true
}

// ClockTime is a wall-clock time of day in minutes after midnight, 0..1440.
type ClockTime int

// ParseClock reads HH:MM (00:00 to 24:00).
func ParseClock(s string) (ClockTime, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("time %q is not HH:MM", s)
		}
	}
	h, m = int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	return ClockTime(h*60 + m), nil
}

// String formats c as HH:MM.
func (c ClockTime) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// ClockRange is a working period in wall-clock time. When End is not after Start the
// period crosses midnight and ends on the next day ("20:00-02:00").
type ClockRange struct {
	Start ClockTime
	End   ClockTime
}

// ParseClockRange reads HH:MM-HH:MM.
func ParseClockRange(s string) (ClockRange, error) {
	if len(s) != 11 || s[5] != '-' {
		return ClockRange{}, fmt.Errorf("range %q is not HH:MM-HH:MM", s)
	}
	start, err := ParseClock(s[:5])
	if err != nil {
		return ClockRange{}, err
	}
	end, err := ParseClock(s[6:])
	if err != nil {
		return ClockRange{}, err
	}
	if start == end {
		return ClockRange{}, fmt.Errorf("range %q is empty", s)
	}
	if start == 24*60 {
		return ClockRange{}, fmt.Errorf("range %q starts at 24:00", s)
	}
	return ClockRange{start, end}, nil
}

// CrossesMidnight reports whether the range ends on the next day.
func (r ClockRange) CrossesMidnight() bool { return r.End <= r.Start }

// Minutes is the wall-clock length of the range.
func (r ClockRange) Minutes() int {
	if r.CrossesMidnight() {
		return int(r.End) + 24*60 - int(r.Start)
	}
	return int(r.End - r.Start)
}

// String formats r as HH:MM-HH:MM.
func (r ClockRange) String() string { return r.Start.String() + "-" + r.End.String() }

// On returns the instants of r on day d in loc; a range crossing midnight ends on
// the next day. Start and end that fall in a skipped hour move forward to the first
// instant that exists, so a shift still opens once.
func (r ClockRange) On(d Date, loc *time.Location) TimeRange {
	endDay := d
	if r.CrossesMidnight() {
		endDay = d.AddDays(1)
	}
	return TimeRange{Start: existingAt(d, r.Start, loc), End: existingAt(endDay, r.End, loc)}
}

func existingAt(d Date, c ClockTime, loc *time.Location) time.Time {
	if t, ok := d.At(c, loc); ok {
		return t
	}
	// In a gap, time.Date moves the reading by the gap's length, forward in some zones
	// (Europe/Berlin) and backward in others (America/New_York). Either way t lies next
	// to the change, and the change itself is the first instant after the gap.
	h, m := int(c)/60, int(c)%60
	t := time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, loc)
	start, end := t.ZoneBounds()
	want := time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, time.UTC)
	if got := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC); got.After(want) {
		return start.UTC()
	}
	return end.UTC()
}

// WeeklyHours lists each weekday's working periods, indexed by time.Weekday.
type WeeklyHours [7][]ClockRange
