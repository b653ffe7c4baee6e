package i18n

import (
	"fmt"
	"time"
)

// DayLong formats the local day of t in full, as a sentence says it:
// "Tuesday, 8 December" / "вторник, 8 декабря" (the month in the genitive).
func (p *Printer) DayLong(t time.Time) string {
	l := t.In(p.zone)
	return p.T("fmt.day_long", "Weekday", p.T(fmt.Sprintf("weekday_long.%d", int(l.Weekday()))),
		"Day", l.Day(), "Month", p.T(fmt.Sprintf("month_long.%d", int(l.Month()))))
}

// DayOn is DayLong as the day of an appointment in a sentence: "on Tuesday,
// 8 December" / "на вторник, 8 декабря" (the weekday as "на" takes it: "на
// среду").
func (p *Printer) DayOn(t time.Time) string {
	l := t.In(p.zone)
	return p.T("fmt.day_on", "Weekday", p.T(fmt.Sprintf("weekday_on.%d", int(l.Weekday()))),
		"Day", l.Day(), "Month", p.T(fmt.Sprintf("month_long.%d", int(l.Month()))))
}
