package desk

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/staff"
)

// The day and week views. A day is drawn from instants, never by adding hours
// to a wall-clock reading: its rows are the local hours that exist that day, in
// order (a spring-forward day has no 02:00 row, an autumn day has two, told
// apart by their zone's abbreviation), and each booking sits in the row its
// start instant falls in.
//
// A salon's day is its business day: day D runs from D's local midnight, or
// from the end of D−1's shifts that cross midnight when that is later, to the
// same point of D+1. So a night shift (sat 20:00-02:00) and its bookings are
// drawn whole on Saturday, and the days of a week cover every instant once.

// grid is one day of the schedule for some masters.
type grid struct {
	Date    core.Date
	Title   string // "Sun 28 Mar 2027"
	Hours   int    // the calendar day's length in hours: 23, 24 or 25
	Masters []column
	Rows    []row
	Empty   bool // no shift and no booking: no rows
}

type column struct {
	ID, Name string
	Link     string // this master's week, when the viewer may open it
}

type row struct {
	Label string // local "09:00", "02:00 CET" when the hour occurs twice, "01:00 Sun" past midnight
	Cells []cell
	start time.Time
}

type cell struct {
	Working bool // the master has a shift in this hour
	Items   []item
}

// item is one booking as a viewer may see it: another master's booking shows a
// master only its time, service and status.
type item struct {
	ID      string
	Time    string // "09:15–10:00"
	Service string
	Client  string // "" when the viewer may not see it
	Phone   string // owners only
	Channel string
	Status  string // held, confirmed, coming, arrived, no-show, cancelled, expired, blocked
	Detail  bool   // the viewer sees the client
	Link    string // the booking's page, when the viewer may open it
}

// dayBounds returns day d's local midnight and the next one as instants (a
// midnight that does not exist is the first instant after it).
func dayBounds(d core.Date, zone *time.Location) core.TimeRange {
	return core.ClockRange{Start: 0, End: 0}.On(d, zone)
}

// shiftsOn returns master m's shifts that start on day d, as instants.
func shiftsOn(m core.Master, d core.Date, zone *time.Location) []core.TimeRange {
	if slices.Contains(m.DaysOff, d) {
		return nil
	}
	var out []core.TimeRange
	for _, r := range m.Hours[d.Weekday()] {
		out = append(out, r.On(d, zone))
	}
	return out
}

// cut is where business day d begins: its midnight, or the end of the
// previous day's shifts that run past it.
func cut(d core.Date, masters []core.Master, zone *time.Location) time.Time {
	at := dayBounds(d, zone).Start
	for _, m := range masters {
		for _, s := range shiftsOn(m, d.AddDays(-1), zone) {
			if s.End.After(at) {
				at = s.End
			}
		}
	}
	return at
}

// localHour returns the start of the local hour t falls in.
func localHour(t time.Time, zone *time.Location) time.Time {
	l := t.In(zone)
	return t.Add(-time.Duration(l.Minute())*time.Minute - time.Duration(l.Second())*time.Second - time.Duration(l.Nanosecond())).UTC()
}

// buildGrid draws day d for the masters from the entries (any order; those
// outside the day are ignored). all is every master of the salon (their night
// shifts bound the day).
func buildGrid(d core.Date, all, masters []core.Master, entries []staff.Entry, v staff.Account, cat *booking.Catalog, now time.Time, weekLinks bool) grid {
	zone := cat.Salon.Timezone
	win := core.TimeRange{Start: cut(d, all, zone), End: cut(d.AddDays(1), all, zone)}
	cal := dayBounds(d, zone)
	g := grid{Date: d, Title: dateTitle(d), Hours: int(cal.End.Sub(cal.Start).Round(time.Hour) / time.Hour)}

	// What is drawn: the shifts and the bookings inside the day.
	shifts := make([][]core.TimeRange, len(masters))
	var lo, hi time.Time
	widen := func(r core.TimeRange) {
		r.Start, r.End = maxTime(r.Start, win.Start), minTime(r.End, win.End)
		if !r.Start.Before(r.End) {
			return
		}
		if lo.IsZero() || r.Start.Before(lo) {
			lo = r.Start
		}
		if hi.IsZero() || r.End.After(hi) {
			hi = r.End
		}
	}
	col := map[string]int{}
	for i, m := range masters {
		col[m.ID] = i
		c := column{ID: m.ID, Name: m.Name}
		if weekLinks && v.SeesWeekOf(m.ID) {
			c.Link = "/admin/week?" + url.Values{"master": {m.ID}, "date": {d.String()}}.Encode()
		}
		g.Masters = append(g.Masters, c)
		for _, day := range []core.Date{d.AddDays(-1), d} {
			for _, s := range shiftsOn(m, day, zone) {
				if s.Overlaps(win) {
					shifts[i] = append(shifts[i], s)
					widen(s)
				}
			}
		}
	}
	var mine []staff.Entry
	for _, e := range entries {
		b := e.Booking
		// A booking belongs to the day its start falls in (one that began the
		// day before is drawn there, whole).
		if _, ok := col[b.MasterID]; !ok || b.Start.Before(win.Start) || !b.Start.Before(win.End) {
			continue
		}
		if b.Block && b.Status != core.StatusConfirmed {
			continue // a lifted block is gone from the grid (its page keeps its history)
		}
		mine = append(mine, e)
		widen(core.TimeRange{Start: b.Start, End: b.End})
	}
	if lo.IsZero() {
		g.Empty = true
		return g
	}
	for t := localHour(lo, zone); t.Before(hi); t = t.Add(time.Hour) {
		g.Rows = append(g.Rows, row{start: t, Cells: make([]cell, len(masters))})
	}
	// Labels: local time; the zone's abbreviation where a label repeats (the
	// autumn hour), the weekday where the row is past midnight.
	seen := map[string]int{}
	for _, r := range g.Rows {
		seen[r.start.In(zone).Format("15:04")]++
	}
	for i := range g.Rows {
		r := &g.Rows[i]
		l := r.start.In(zone)
		r.Label = l.Format("15:04")
		if seen[r.Label] > 1 {
			r.Label += " " + l.Format("MST")
		}
		if core.DateOf(l) != d {
			r.Label += " " + l.Format("Mon")
		}
		end := r.start.Add(time.Hour)
		for j := range masters {
			for _, s := range shifts[j] {
				if s.Start.Before(end) && s.End.After(r.start) {
					r.Cells[j].Working = true
				}
			}
		}
	}
	for _, e := range mine {
		b := e.Booking
		i := 0
		for i+1 < len(g.Rows) && !b.Start.Before(g.Rows[i+1].start) {
			i++
		}
		j := col[b.MasterID]
		g.Rows[i].Cells[j].Items = append(g.Rows[i].Cells[j].Items, itemOf(e, v, cat, zone, now))
	}
	return g
}

func itemOf(e staff.Entry, v staff.Account, cat *booking.Catalog, zone *time.Location, now time.Time) item {
	b := e.Booking
	it := item{
		ID:      b.ID,
		Time:    b.Start.In(zone).Format("15:04") + "–" + b.End.In(zone).Format("15:04"),
		Service: serviceName(cat, b.ServiceID),
		Status:  e.Status(now),
	}
	if v.SeesClientsOf(b.MasterID) {
		it.Link = "/admin/booking/" + url.PathEscape(b.ID)
	}
	if b.Block {
		it.Service = "" // a block's note is the staff's own words: to those who may open it
		if it.Link != "" {
			it.Service = b.Note
		}
		return it
	}
	if v.SeesClientsOf(b.MasterID) {
		it.Detail = true
		it.Client = e.ClientName
		it.Channel = e.Channel()
		if v.SeesPhones() {
			it.Phone = e.ClientPhone
		}
	}
	return it
}

func serviceName(cat *booking.Catalog, id string) string {
	for i := range cat.Services {
		if cat.Services[i].ID == id {
			lang := "en"
			if len(cat.Salon.Locales) > 0 {
				lang = cat.Salon.Locales[0]
			}
			return cat.Services[i].NameIn(lang)
		}
	}
	return id
}

func dateTitle(d core.Date) string {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Format("Mon 2 Jan 2006")
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

type page struct {
	Title   string
	V       *viewer
	Salon   string
	View    string // "day" or "week"
	Date    string
	Prev    string // links
	Next    string
	Today   string
	Other   string // the other view's link
	Masters []column
	Master  string // the week's master ("" for the whole salon)
	Days    []grid
	Actions bool // the desk makes changes (actions.go): links to them
}

// date reads ?date=YYYY-MM-DD; today in the salon's zone when absent.
func (d *desk) date(r *http.Request, zone *time.Location) (core.Date, bool) {
	s := r.URL.Query().Get("date")
	if s == "" {
		return core.DateOf(d.cfg.Clock.Now().In(zone)), true
	}
	day, err := core.ParseDate(s)
	if err != nil || day.Year < 2000 || day.Year > 2200 {
		return day, false
	}
	return day, true
}

// day is the salon's day: every master's column. A master sees the others'
// bookings as time, service and status.
func (d *desk) day(w http.ResponseWriter, r *http.Request, v *viewer) {
	cat, err := d.cfg.Catalog.Catalog(r.Context(), d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	zone := cat.Salon.Timezone
	day, ok := d.date(r, zone)
	if !ok {
		d.problem(w, r, v, http.StatusBadRequest, "The date must be like 2027-03-28.")
		return
	}
	masters := cat.Masters
	grids, err := d.grids(r, v, cat, masters, day, 1)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	p := page{Title: dateTitle(day), V: v, Salon: cat.Salon.Name, View: "day", Date: day.String(), Days: grids,
		Prev:  "/admin/day?date=" + day.AddDays(-1).String(),
		Next:  "/admin/day?date=" + day.AddDays(1).String(),
		Today: "/admin/day", Actions: d.cfg.Bookings != nil && d.cfg.Records != nil,
	}
	p.Other = "/admin/week?date=" + day.String()
	if !v.Owner() {
		p.Other += "&master=" + url.QueryEscape(v.MasterID)
	}
	d.render(w, http.StatusOK, "schedule.html", p)
}

// week is one master's week (Monday to Sunday), or the whole salon's for an
// owner (master empty or "all"). A master may open only their own.
func (d *desk) week(w http.ResponseWriter, r *http.Request, v *viewer) {
	cat, err := d.cfg.Catalog.Catalog(r.Context(), d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	zone := cat.Salon.Timezone
	day, ok := d.date(r, zone)
	if !ok {
		d.problem(w, r, v, http.StatusBadRequest, "The date must be like 2027-03-28.")
		return
	}
	want := r.URL.Query().Get("master")
	switch {
	case want == "all":
		want = "" // the whole salon: owners only
	case want == "" && !v.Owner():
		want = v.MasterID
	}
	if !v.SeesWeekOf(want) {
		d.problem(w, r, v, http.StatusForbidden, "You may see only your own week.")
		return
	}
	masters := cat.Masters
	if want != "" {
		i := slices.IndexFunc(cat.Masters, func(m core.Master) bool { return m.ID == want })
		if i < 0 {
			d.problem(w, r, v, http.StatusNotFound, "No such master.")
			return
		}
		masters = cat.Masters[i : i+1]
	}
	monday := day.AddDays(-((int(day.Weekday()) + 6) % 7))
	grids, err := d.grids(r, v, cat, masters, monday, 7)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	q := func(date core.Date) string {
		vals := url.Values{"date": {date.String()}}
		if want != "" {
			vals.Set("master", want)
		}
		return "/admin/week?" + vals.Encode()
	}
	title := "Week of " + dateTitle(monday)
	if want != "" {
		title = masters[0].Name + ": " + title
	}
	p := page{Title: title, V: v, Salon: cat.Salon.Name, View: "week", Date: monday.String(), Days: grids, Master: want,
		Prev: q(monday.AddDays(-7)), Next: q(monday.AddDays(7)), Today: q(core.DateOf(d.cfg.Clock.Now().In(zone))),
		Other: "/admin/day?date=" + day.String(), Actions: d.cfg.Bookings != nil && d.cfg.Records != nil}
	if v.Owner() {
		p.Masters = append(p.Masters, column{ID: "", Name: "All", Link: "/admin/week?date=" + monday.String()})
		for _, m := range cat.Masters {
			p.Masters = append(p.Masters, column{ID: m.ID, Name: m.Name,
				Link: "/admin/week?" + url.Values{"master": {m.ID}, "date": {monday.String()}}.Encode()})
		}
	}
	d.render(w, http.StatusOK, "schedule.html", p)
}

// grids reads the bookings of days days from first on in one query and draws
// each day.
func (d *desk) grids(r *http.Request, v *viewer, cat *booking.Catalog, masters []core.Master, first core.Date, days int) ([]grid, error) {
	zone := cat.Salon.Timezone
	win := core.TimeRange{Start: cut(first, cat.Masters, zone), End: cut(first.AddDays(days), cat.Masters, zone)}
	ids := make([]string, len(masters))
	for i, m := range masters {
		ids[i] = m.ID
	}
	entries, err := d.cfg.Store.Schedule(r.Context(), d.cfg.SalonID, ids, win)
	if err != nil {
		return nil, fmt.Errorf("desk: schedule: %w", err)
	}
	now := d.cfg.Clock.Now()
	out := make([]grid, 0, days)
	for i := range days {
		out = append(out, buildGrid(first.AddDays(i), cat.Masters, masters, entries, v.Account, cat, now, days == 1))
	}
	return out, nil
}

// Body is the grid's table rows. They are written here rather than by the
// template: a week of 20 masters has thousands of cells, and html/template's
// reflection and escaper calls for each took 20 ms a page (BenchmarkWeekView).
// Every value goes through html.EscapeString (which also escapes quotes, so it
// is safe in the quoted attributes); status and labels come from this package.
func (g grid) Body() template.HTML {
	var b strings.Builder
	b.Grow(len(g.Rows) * len(g.Masters) * 40)
	esc := html.EscapeString
	for _, r := range g.Rows {
		b.WriteString(`<tr><th class="hour" scope="row">`)
		b.WriteString(esc(r.Label))
		b.WriteString(`</th>`)
		for _, c := range r.Cells {
			if c.Working {
				b.WriteString(`<td class="work">`)
			} else {
				b.WriteString(`<td>`)
			}
			for _, it := range c.Items {
				status := esc(it.Status)
				b.WriteString(`<div class="b ` + status + `" data-booking="` + esc(it.ID) + `">` + "\n")
				b.WriteString(`<span class="t">` + esc(it.Time) + `</span> ` + esc(it.Service) + ` <span class="s s-` + status + `">`)
				if it.Status == "coming" {
					b.WriteString("I'll come")
				} else {
					b.WriteString(status)
				}
				b.WriteString("</span>\n")
				if it.Detail {
					b.WriteString(`<div class="m"><span class="client">` + esc(it.Client) + `</span> · ` + esc(it.Channel))
					if it.Phone != "" {
						p := esc(it.Phone)
						b.WriteString(` · <a class="phone" href="tel:` + p + `">` + p + `</a>`)
					}
					b.WriteString("</div>\n")
				}
				if it.Link != "" {
					// The whole card opens the booking (a link stretched over it by
					// the CSS), and the phone link above stays clickable.
					b.WriteString(`<a class="open" href="` + esc(it.Link) + `"><span class="sr">Open ` + esc(it.Time) + `</span></a>`)
				}
				b.WriteString(`</div>`)
			}
			b.WriteString(`</td>`)
		}
		b.WriteString("</tr>\n")
	}
	return template.HTML(b.String())
}
