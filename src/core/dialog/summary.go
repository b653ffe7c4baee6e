package dialog

import (
	"strings"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/i18n"
)

// StaffDay is one master's day for the morning summary (policy.staff_summary):
// the master's confirmed bookings that start on Day (a local date of the salon:
// from 00:00 to 24:00 there, so a booking after midnight in a shift that began
// the evening before belongs to the next day's summary), in order of start.
type StaffDay struct {
	Day    core.Date
	Master string // the master's default name
	// MasterNames are the master's names by locale; nil: Master in every language.
	MasterNames map[string]string
	Bookings    []StaffDayBooking
}

// StaffDayBooking is one line of a summary.
type StaffDayBooking struct {
	Start   time.Time         // UTC
	Service map[string]string // the service's names by locale
	Client  string            // the client's name as stored; the summary shows the first name
	Coming  bool              // the client said "I'll come" (bookings.coming_at)
}

// StaffSummaryText writes a master's morning summary (messages
// staff.summary.head, staff.summary.line, staff.summary.coming) in the salon's
// first language and zone: the day with its weekday and the count, then a line
// per booking: time, service, the client's first name, and a mark when the
// client said "I'll come". Several masters may share a staff chat, so it names
// the master. An empty day has no summary (the caller sends none).
func StaffSummaryText(catalog *i18n.Catalog, salon *core.Salon) func(StaffDay) string {
	lang := catalog.Match("", salon.Locales)
	p := catalog.Printer(lang, salon.Timezone)
	return func(d StaffDay) string {
		lines := []string{p.N("staff.summary.head", len(d.Bookings), "Master", masterName(d.MasterNames, lang, d.Master), "Day", p.Date(d.Day), "On", p.DateOn(d.Day))}
		for _, b := range d.Bookings {
			key := "staff.summary.line"
			if b.Coming {
				key = "staff.summary.coming"
			}
			client, _, _ := strings.Cut(strings.TrimSpace(b.Client), " ")
			lines = append(lines, p.T(key, "Time", p.Time(b.Start), "Service", serviceName(b.Service, lang, salon.Locales),
				"Client", client))
		}
		return strings.Join(lines, "\n")
	}
}

// SummaryGrace is how late a summary may leave and still count as on time:
// within it a summary is sent even if the master's first booking has begun
// (a booking at the summary time itself, a loop that woke a little late).
const SummaryGrace = 15 * time.Minute

// SummaryAt returns the instant the summary of day is due in the salon's zone,
// and false when summaries are off. The wall-clock time stays the same across
// DST changes (08:00 is 08:00 local); a time that does not exist that day (in
// the hour skipped in spring) is due at the change itself, the first instant
// after the gap.
func SummaryAt(salon *core.Salon, day core.Date) (time.Time, bool) {
	at := salon.Policy.StaffSummary
	if at == nil || *at < 0 || *at >= 24*60 {
		return time.Time{}, false
	}
	return core.ClockRange{Start: *at, End: 24 * 60}.On(day, salon.Timezone).Start, true
}

// SummaryDue returns the local day whose summaries are due at now (today's,
// once its time has come) with its due instant; false when summaries are off
// or today's time is still ahead. Only the current local day is ever due: a
// day missed entirely (the service was down all day) is not caught up.
func SummaryDue(salon *core.Salon, now time.Time) (core.Date, time.Time, bool) {
	day := core.DateOf(now.In(salon.Timezone))
	due, ok := SummaryAt(salon, day)
	if !ok || now.Before(due) {
		return core.Date{}, time.Time{}, false
	}
	return day, due, true
}

// NextSummary returns the first due instant after now (today's or
// tomorrow's); false when summaries are off.
func NextSummary(salon *core.Salon, now time.Time) (time.Time, bool) {
	day := core.DateOf(now.In(salon.Timezone))
	for i := range 3 { // a zone that skips a whole day (Samoa, 2011) needs a third
		due, ok := SummaryAt(salon, day.AddDays(i))
		if !ok {
			return time.Time{}, false
		}
		if due.After(now) {
			return due, true
		}
	}
	return time.Time{}, false
}

// SummaryTooLate reports whether the summary of d, due at due, may no longer
// be sent at now. A summary is sent late (the service was down at its time)
// while the master's working day is still ahead: before the first of d's
// bookings that starts at or after due has begun, and only on its own day
// (SummaryDue). Bookings before due (a night shift's 00:30) do not count: they
// ended before the working day the summary is for; a day with none at or after
// due is never too late. Once that first booking has begun the master is at
// work and has been told of each booking as it was made (staff notices), so
// that day's summary is skipped. Within SummaryGrace of due it is never too
// late.
func SummaryTooLate(due time.Time, d StaffDay, now time.Time) bool {
	if now.Before(due.Add(SummaryGrace)) {
		return false
	}
	for _, b := range d.Bookings {
		if !b.Start.Before(due) {
			return !now.Before(b.Start)
		}
	}
	return false
}
