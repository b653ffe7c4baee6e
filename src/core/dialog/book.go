package dialog

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
	"salonbook/src/core/phone"
)

// The book flow: service → master or "any" → day → time → name and phone the
// first time → hold → confirm. The move of a booking shares its day and time steps.

// servicePrompt lists a page of the salon's services.
func (t *turn) servicePrompt() Reply {
	p := t.p
	r := Reply{Text: p.T("ask.service")}
	services := t.cat.Services
	from := min(t.st.Page*pageServices, len(services))
	for _, s := range services[from:min(from+pageServices, len(services))] {
		r.Text += "\n• " + p.T("service.line", "Name", s.NameIn(p.Lang()),
			"Duration", p.Duration(s.Duration), "Price", p.Price(s.Price))
		r.Choices = append(r.Choices, Choice{ID: prefService + s.ID, Label: label(s.NameIn(p.Lang()))})
	}
	if from+pageServices < len(services) {
		r.Choices = append(r.Choices, Choice{ID: optMore, Label: p.T("btn.more")})
	}
	return t.withMenu(r)
}

func (t *turn) onService() {
	if t.in.Choice == optMore {
		t.st.Page++
		if t.st.Page*pageServices >= len(t.cat.Services) {
			t.st.Page = 0
		}
		t.ask()
		return
	}
	id, ok := strings.CutPrefix(t.in.Choice, prefService)
	if !ok || t.findService(id) == nil {
		t.again()
		return
	}
	t.st.Service, t.st.Page = id, 0
	if t.st.Master != "" && t.st.Master != booking.AnyMaster && !t.masterDoes(t.st.Master, id) {
		t.st.Master = ""
	}
	if t.st.Want != "" || t.st.Day != "" || t.st.Master != "" {
		t.advance() // a typed request waits for the service: it goes on
		return
	}
	t.toMaster()
}

// toMaster goes on once the service is chosen: to the master's question, or,
// when one master does the service, to the days, saying who it is.
func (t *turn) toMaster() {
	t.st.Master = ""
	if t.soleMaster() {
		t.st.Step, t.st.Page, t.st.Day, t.st.DayPages = stepDay, 0, "", nil
		t.ask()
		return
	}
	t.st.Step = stepMaster
	t.ask()
}

// masterPrompt offers "any master" and each master who does the service.
func (t *turn) masterPrompt() Reply {
	p := t.p
	r := Reply{Text: p.T("ask.master"), Choices: []Choice{{ID: prefMaster + booking.AnyMaster, Label: p.T("btn.any_master")}}}
	for _, m := range t.cat.Masters {
		if m.Performs(t.st.Service) {
			r.Choices = append(r.Choices, Choice{ID: prefMaster + m.ID, Label: label(m.NameIn(t.p.Lang()))})
		}
	}
	return t.withMenu(r)
}

func (t *turn) onMaster() {
	id, ok := strings.CutPrefix(t.in.Choice, prefMaster)
	if !ok || (id != booking.AnyMaster && !t.masterDoes(id, t.st.Service)) {
		t.again()
		return
	}
	t.st.Master, t.st.Step, t.st.Page = id, stepDay, 0
	if t.st.Want != "" || t.st.Day != "" {
		t.advance() // a typed request waits for the master: it goes on
		return
	}
	t.ask()
}

// free lists the free slots of the flow's service and master from day for days.
// A booking being moved does not stand in its own way.
func (t *turn) free(from core.Date, days int) ([]availability.Slot, error) {
	req := booking.SlotsRequest{SalonID: t.e.salonID, ServiceID: t.st.Service, MasterID: t.st.Master, From: from, Days: days}
	if t.st.Step == stepMoveDay || t.st.Step == stepMoveTime {
		req.Exclude = t.st.BookingID
	}
	slots, _, err := t.e.bookings.Slots(t.ctx, req)
	return slots, err
}

// today is the salon's local date now.
func (t *turn) today() core.Date { return core.DateOf(t.now.In(t.cat.Salon.Timezone)) }

// pageStart is the first day the current page of days looks at.
func (t *turn) pageStart() core.Date {
	if d, err := core.ParseDate(t.st.Day); err == nil && t.st.Page > 0 {
		return d // Day holds the page start while days are being chosen
	}
	return t.today()
}

// bookable reports whether local day d opens before the booking horizon ends.
func (t *turn) bookable(d core.Date) bool {
	start, _ := d.At(0, t.cat.Salon.Timezone)
	return !d.Before(t.today()) && start.Before(t.now.Add(t.cat.Salon.Policy.Horizon))
}

// wholeDayBookable reports whether all of local day d lies before the horizon
// ends: only then can "no free time" mean the day is full.
func (t *turn) wholeDayBookable(d core.Date) bool {
	end, _ := d.AddDays(1).At(0, t.cat.Salon.Timezone)
	return !end.After(t.now.Add(t.cat.Salon.Policy.Horizon))
}

// works reports whether a master of the flow has a shift on local day d.
func (t *turn) works(d core.Date) bool {
	for _, m := range t.cat.Masters {
		if !m.Performs(t.st.Service) || (t.st.Master != booking.AnyMaster && m.ID != t.st.Master) {
			continue
		}
		if len(dayShifts(m, d)) > 0 {
			return true
		}
	}
	return false
}

func containsDate(list []core.Date, d core.Date) bool {
	for _, x := range list {
		if x == d {
			return true
		}
	}
	return false
}

// dayPrompt lists up to pageDays days from pageStart: days with free times, and
// working days that are full (marked so: a full day is where the wait-list
// starts, listed only where it is offered), within the horizon. "Later days" continues after the last day looked at.
func (t *turn) dayPrompt() Reply {
	p := t.p
	from := t.pageStart()
	slots, err := t.free(from, searchDays)
	if err != nil {
		return t.withMenu(Reply{Text: p.T("error.unavailable")})
	}
	free := map[core.Date]bool{}
	for _, s := range slots {
		free[s.Day] = true
	}
	r := Reply{Text: p.T("ask.day")}
	if t.st.Step == stepMoveDay {
		r.Text = p.T("ask.move_day")
	}
	// Room for the days among the buttons: Earlier days, Later days, Another
	// master (a move) and Menu stay within a WhatsApp list's ten.
	room := maxChoices - 2
	if t.st.Page > 0 {
		room--
		r.Choices = append(r.Choices, Choice{ID: optEarlier, Label: p.T("btn.earlier_days")})
	}
	moveMaster := t.st.Step == stepMoveDay && t.othersDo()
	if moveMaster {
		room--
	}
	listed, anyFree, next := 0, false, from
	for i := 0; i < searchDays && listed < min(pageDays, room); i++ {
		d := from.AddDays(i)
		next = d.AddDays(1)
		if !t.bookable(d) {
			break
		}
		switch {
		case free[d]:
			r.Choices = append(r.Choices, Choice{ID: prefDay + d.String(), Label: label(p.Date(d))})
			anyFree = true
		case d != t.today() && t.works(d) && t.wholeDayBookable(d) && t.st.Step == stepDay && t.offersTo():
			// A full working day, where the wait-list starts: listed only
			// where "Notify me" can be offered (not in a move, not on a
			// channel that cannot write unasked).
			r.Choices = append(r.Choices, Choice{ID: prefDay + d.String(), Label: label(p.T("day.full", "Day", p.Date(d)))})
		default:
			continue
		}
		listed++
	}
	if !anyFree {
		r.Text = p.T("no.days")
	}
	t.st.NextDay = ""
	if t.bookable(next) {
		t.st.NextDay = next.String()
		r.Choices = append(r.Choices, Choice{ID: optMore, Label: p.T("btn.later_days")})
	}
	if moveMaster {
		r.Choices = append(r.Choices, Choice{ID: optMoveMaster, Label: p.T("btn.change_master")})
	}
	return t.withMenu(r)
}

func (t *turn) onDay() {
	switch {
	case t.in.Choice == optMore && t.st.NextDay != "":
		t.st.DayPages = append(t.st.DayPages, t.pageStart().String())
		t.st.Page++
		t.st.Day = t.st.NextDay
		t.ask()
		return
	case t.in.Choice == optEarlier && t.st.Page > 0:
		t.st.Page--
		t.st.Day = ""
		if n := len(t.st.DayPages); n > 0 {
			t.st.Day, t.st.DayPages = t.st.DayPages[n-1], t.st.DayPages[:n-1]
		}
		if t.st.Page == 0 || t.st.Day == "" {
			t.st.Page, t.st.Day, t.st.DayPages = 0, "", nil
		}
		t.ask()
		return
	case t.in.Choice == optEarlier: // "earlier" typed on the first page: it is the earliest
		t.ask()
		return
	case t.in.Choice == optMoveMaster && t.st.Step == stepMoveDay:
		t.st.Step = stepMoveMaster
		t.ask()
		return
	case strings.HasPrefix(t.in.Choice, prefTime):
		t.onTime() // an alternative offered after a conflict may be on another day
		return
	}
	s, ok := strings.CutPrefix(t.in.Choice, prefDay)
	d, err := core.ParseDate(s)
	if !ok || err != nil || !t.bookable(d) {
		t.again()
		return
	}
	t.st.Day, t.st.Page, t.st.DayPages = d.String(), 0, nil
	if t.st.Step == stepMoveDay {
		t.st.Step = stepMoveTime
	} else {
		t.st.Step = stepTime
	}
	if _, period := t.wanted(); period != nil { // "in the evening" typed before the day was chosen
		t.st.Want, t.st.Period, t.partAsked = "", period.String(), true
	}
	t.ask() // a day with no time in the part asked says so (timeAsk)
}

// maxChoices is the most one reply offers: a WhatsApp list's ten rows.
const maxChoices = 10

// timesPage is where page n of a day's times begins and how many it shows:
// the first page pageTimes, the next ones one fewer, to leave room for
// Earlier beside Later, Another day and Menu. With at > 0 (the first time
// of the part of the day asked), page 0 begins there and the pages before
// it are negative, the first of them maybe short.
func timesPage(n, at int) (from, size int) {
	if at == 0 {
		if n <= 0 {
			return 0, pageTimes
		}
		return pageTimes + (n-1)*(pageTimes-1), pageTimes - 1
	}
	from, size = at+n*(pageTimes-1), pageTimes-1
	if from < 0 {
		from, size = 0, size+from
	}
	return from, size
}

// timesPageOf is the page of a day's times that shows the i-th (timesPage).
func timesPageOf(i, at int) int {
	switch {
	case at == 0 && i < pageTimes:
		return 0
	case at == 0:
		return 1 + (i-pageTimes)/(pageTimes-1)
	case i >= at:
		return (i - at) / (pageTimes - 1)
	}
	return -((at - i + pageTimes - 2) / (pageTimes - 1))
}

func (t *turn) onTime() {
	switch t.in.Choice {
	case optMore:
		t.st.Page++
		t.ask()
		return
	case optEarlier:
		t.st.Page-- // the first page is kept (timesReply): it may be below 0
		t.ask()
		return
	case optAnyDay:
		t.st.Page, t.st.Day, t.st.DayPages = 0, "", nil
		if t.st.Step == stepMoveTime {
			t.st.Step = stepMoveDay
		} else {
			t.st.Step = stepDay
		}
		t.ask()
		return
	case optWaitlist:
		d, err := core.ParseDate(t.st.Day)
		if err != nil {
			t.again()
			return
		}
		t.joinWaitlist(d)
		return
	}
	if day, ok := strings.CutPrefix(t.in.Choice, prefAllDay); ok { // the day asked, beside the nearest day's times in the part asked
		if d, err := core.ParseDate(day); err == nil && slices.Contains(t.st.Shown, t.in.Choice) && t.bookable(d) {
			t.st.Day, t.st.Page, t.st.DayPages, t.st.Period = d.String(), 0, nil, ""
			t.ask()
			return
		}
		t.again()
		return
	}
	if day, ok := strings.CutPrefix(t.in.Choice, prefWaitDay); ok { // "Notify me" for the day asked, shown beside the nearest day's times
		// Only the button shown (a forged or stale wd: names any day); the
		// flow's day changes only once the day is checked.
		if d, err := core.ParseDate(day); err == nil && slices.Contains(t.st.Shown, t.in.Choice) {
			t.joinWaitlist(d)
			return
		}
		t.again()
		return
	}
	s, ok := strings.CutPrefix(t.in.Choice, prefTime)
	unix, err := strconv.ParseInt(s, 10, 64)
	if (!ok || err != nil) && t.in.Kind == KindText {
		t.notATime()
		return
	}
	if !ok || err != nil {
		t.again()
		return
	}
	start := time.Unix(unix, 0).UTC()
	if !start.After(t.now) || !start.Before(t.now.Add(t.cat.Salon.Policy.Horizon)) {
		t.again() // not a time this conversation could have offered
		return
	}
	t.st.Start = start
	t.st.Day = core.DateOf(start.In(t.cat.Salon.Timezone)).String()
	if t.st.Step == stepMoveTime || t.st.Step == stepMoveDay {
		t.move(start)
		return
	}
	if t.st.ClientName == "" {
		t.st.Step = stepName
		t.ask()
		return
	}
	if t.st.ClientPhone == "" {
		t.st.Step = stepPhone
		t.ask()
		return
	}
	t.hold()
}

// notATime answers text at a time step that is not a time (a name typed
// early, "hmm"): what was last offered (State.Shown: the nearest times of a
// taken one, the page of the day's list, conflict alternatives) again, after a
// line saying a time is expected (hint.time). The day's list as it stands now
// is shown when it is what was offered, or when the list shown cannot be
// rebuilt (stored before Shown was kept, or a choice not of this step); after
// a typed move's question ("Yes, move it"), the step asks again as before.
func (t *turn) notATime() {
	if t.moveHere != "" && slices.Contains(t.st.Shown, t.moveHere) {
		t.again() // a move's question (take), not a list of times: its step asks again
		return
	}
	saved := t.st
	r := t.timeAsk()
	asked := t.st // timeAsk may move the flow's day (nothing free on it)
	t.st = saved
	if shown, ok := t.shownTimes(); ok && !slices.Equal(choiceIDs(r.Choices), t.st.Shown) {
		r = shown // the offer stands, and the flow's day with it
		t.st.Near = t.near
	} else {
		t.st = asked
	}
	example := ""
	for _, c := range r.Choices {
		if at, ok := t.timeOf(c.ID); ok {
			example = t.p.Time(at)
			break
		}
	}
	if example == "" { // no time to pick (nothing free): the step's own answer says why
		t.again()
		return
	}
	t.addNote(t.p.T("hint.time", "Time", example))
	if t.note != "" {
		r.Text = t.note + "\n\n" + r.Text
		t.note = ""
	}
	t.out = append(t.out, r)
}

// shownTimes rebuilds the time step's list last shown (State.Shown) with its
// labels, under a line naming the flow's day when every time is on it (the
// nearest times, when that was what was offered: State.Near); a time past
// by now or taken since is left out. It reports false when Shown is empty,
// holds no time left, or holds a choice a time step does not show.
func (t *turn) shownTimes() (Reply, bool) {
	p := t.p
	var r Reply
	oneDay := true
	var kept []availability.Slot
	free := map[core.Date][]availability.Slot{} // each day's free times, read once
	for _, id := range t.st.Shown {
		if at, ok := t.timeOf(id); ok {
			if !at.After(t.now) {
				continue
			}
			d := core.DateOf(at.In(t.cat.Salon.Timezone))
			slots, read := free[d]
			if !read {
				var err error
				if slots, err = t.free(d, 1); err != nil {
					return Reply{}, false
				}
				free[d] = slots
			}
			i := slices.IndexFunc(slots, func(s availability.Slot) bool { return s.Start.Equal(at) })
			if i < 0 {
				continue // booked since: pressing it would fail only at the hold
			}
			label := p.Time(at)
			if !t.isDay(at) {
				label, oneDay = p.Short(at), false
			}
			r.Choices = append(r.Choices, Choice{ID: id, Label: label})
			kept = append(kept, slots[i])
			continue
		}
		if day, ok := strings.CutPrefix(id, prefWaitDay); ok {
			d, err := core.ParseDate(day)
			if err != nil {
				return Reply{}, false
			}
			r.Choices = append(r.Choices, *t.waitDayChoice(d))
			continue
		}
		if day, ok := strings.CutPrefix(id, prefAllDay); ok {
			d, err := core.ParseDate(day)
			if err != nil {
				return Reply{}, false
			}
			r.Choices = append(r.Choices, t.allDayChoice(d))
			continue
		}
		var label string
		switch id {
		case optEarlier:
			label = p.T("btn.earlier")
		case optMore:
			label = p.T("btn.later")
		case optAnyDay:
			label = p.T("btn.other_day")
		case optWaitlist:
			label = p.T("btn.waitlist")
		case optMenu:
			label = p.T("btn.menu")
		default:
			return Reply{}, false
		}
		r.Choices = append(r.Choices, Choice{ID: id, Label: label})
	}
	if len(kept) == 0 {
		return Reply{}, false
	}
	r.Text = p.T("ask.time_offered")
	if d, err := core.ParseDate(t.st.Day); err == nil && oneDay {
		switch {
		case t.near && t.st.Master == booking.AnyMaster && oneMaster(kept) != "": // "Boris is free at 14:00, 14:30 and 15:00 on …"
			var times []string
			for _, s := range kept {
				times = append(times, p.Time(s.Start))
			}
			r.Text = ucFirst(p.T("why.near_one", "Master", t.masterName(oneMaster(kept)), "When", t.when(d), "WhenEnd", t.whenEnd(d),
				"Times", joinAnd(p.T("list.and"), times)))
		case t.near && t.st.Master == booking.AnyMaster: // whose each time is, as the offer said
			r.Text = ucFirst(p.T("ask.time_nearest_masters", "On", p.DateOn(d), "Times", t.timesText(kept)))
		case t.near:
			r.Text = ucFirst(p.T("ask.time_nearest", "On", p.DateOn(d)))
		default:
			r.Text = ucFirst(p.T("ask.time", "Day", p.DateLong(d), "On", p.DateOn(d)))
		}
	}
	return r, true
}

// choiceIDs lists the ids of choices, in order.
func choiceIDs(cs []Choice) []string {
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

// timeOf reads the start a time choice id stands for.
func (t *turn) timeOf(id string) (time.Time, bool) {
	s, ok := strings.CutPrefix(id, prefTime)
	unix, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil {
		return time.Time{}, false
	}
	return time.Unix(unix, 0).UTC(), true
}

// isDay reports whether start falls on the flow's day (in the salon's zone).
func (t *turn) isDay(start time.Time) bool {
	return core.DateOf(start.In(t.cat.Salon.Timezone)).String() == t.st.Day
}

// nearest answers a time typed as typed ("02:30") that is not offered on local
// day d with the offered times nearest to want (its instant, only for
// ordering: in the hour skipped on a spring-forward day it names another
// time), at most three, in order; the step stays.
func (t *turn) nearest(d core.Date, typed string, want time.Time, slots []availability.Slot) {
	p := t.p
	near := slices.Clone(slots)
	slices.SortStableFunc(near, func(a, b availability.Slot) int {
		return cmp.Compare(absDur(a.Start.Sub(want)), absDur(b.Start.Sub(want)))
	})
	near = near[:min(3, len(near))]
	slices.SortFunc(near, func(a, b availability.Slot) int { return a.Start.Compare(b.Start) })
	r := Reply{Text: ucFirst(p.T("time.not_offered", "Time", typed, "Day", p.DateLong(d), "On", p.DateOn(d), "At", p.DateAt(d)))}
	if c, err := core.ParseClock(typed); err == nil && t.outsideHours(d, c) {
		// "8pm" where the day ends at 16:00: the hours, then the nearest (nothing.go).
		key := "why.hours_master"
		if t.st.Master == booking.AnyMaster {
			key = "why.hours"
		}
		r.Text = ucFirst(p.T(key, "Master", t.masterName(t.st.Master), "Service", t.service(t.st.Service).NameIn(p.Lang()),
			"When", t.when(d), "WhenEnd", t.whenEnd(d), "Hours", t.hoursText(d))) + " " + p.T("why.near_list", "Times", t.timesText(near))
	}
	for _, s := range near {
		r.Choices = append(r.Choices, Choice{ID: prefTime + strconv.FormatInt(s.Start.Unix(), 10), Label: p.Time(s.Start)})
	}
	r.Choices = append(r.Choices, Choice{ID: optAnyDay, Label: p.T("btn.other_day")})
	t.st.Near = true
	t.out = append(t.out, t.withMenu(r))
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (t *turn) onName() {
	if t.in.Kind == KindContact && t.in.Contact == nil {
		t.in.Kind = KindText
	}
	name, intro := nameFrom(t.in.Text)
	if t.in.Kind == KindContact {
		name = strings.TrimSpace(t.in.Contact.Name)
	}
	switch {
	case t.in.Kind != KindText && t.in.Kind != KindContact || name == "":
		t.note = t.p.T("hint.name")
		t.ask()
		return
	case t.in.Kind == KindText && phone.Looks(name):
		t.note = t.p.T("hint.name_phone") // the number comes next
		t.ask()
		return
	case !booking.NameOK(name):
		t.note = t.p.T("hint.name_bad", "Max", booking.MaxNameRunes)
		t.ask()
		return
	case t.in.Kind == KindText && (intro && notANameAfterIntro(name) || !intro && notAName(name) &&
		!(fillerSurnames[strings.ToLower(name)] && strings.EqualFold(t.st.NameTried, name))):
		t.st.NameTried = name
		t.note = t.p.T("hint.name_word")
		t.ask()
		return
	}
	t.st.ClientName, t.st.NameTried = name, ""
	if t.in.Kind == KindContact {
		if e164, ok := phone.Parse(t.in.Contact.Phone, t.cat.Salon.Country, phone.Possible); ok {
			t.st.ClientPhone, t.st.PhoneVerified = e164, t.in.Contact.Own
			t.afterClient()
			return
		}
	}
	t.st.Step = stepPhone
	t.ask()
}

// onPhone takes the client's number: typed, it must be a valid number (read
// in the salon's country when it has no country code) and is contact
// information only; shared by the channel as the client's own
// (Contact.Own), it also says who the client is (core.Client.Verified).
func (t *turn) onPhone() {
	text, region, check := strings.TrimSpace(t.in.Text), t.cat.Salon.Country, phone.Valid
	if t.in.Kind == KindContact {
		if t.in.Contact == nil {
			t.again()
			return
		}
		text, check = t.in.Contact.Phone, phone.Possible // the channel's own record of a number
	}
	e164, ok := phone.Parse(text, region, check)
	if t.in.Kind != KindText && t.in.Kind != KindContact || !ok {
		t.note = t.p.T("hint.phone")
		if ex := phone.Example(region); ex != "" {
			t.note = t.p.T("hint.phone_example", "Example", ex)
		}
		t.ask()
		return
	}
	t.st.ClientPhone = e164
	t.st.PhoneVerified = t.in.Kind == KindContact && t.in.Contact.Own
	t.afterClient()
}

// hold holds the chosen time for the client and asks to confirm it.
func (t *turn) hold() {
	t.releaseHold()
	b, err := t.e.bookings.Book(t.ctx, booking.BookRequest{
		SalonID: t.e.salonID, ServiceID: t.st.Service, MasterID: t.st.Master, Start: t.st.Start,
		Client:         core.Client{Name: t.st.ClientName, Phone: t.st.ClientPhone, Verified: t.st.PhoneVerified},
		IdempotencyKey: t.in.ID,
		Source:         t.source(),
		Stored:         true, // checked when typed (onName, onPhone), or remembered from before
	})
	if err != nil {
		t.bookingFailed(err, stepTime)
		return
	}
	t.st.Hold, t.st.ClientID, t.st.Step = b.ID, b.ClientID, stepConfirm
	t.ask()
}

func (t *turn) confirmPrompt() Reply {
	p := t.p
	svc, m := t.service(t.st.Service), t.masterOf(t.st.Hold)
	return Reply{
		Text: p.N("confirm.text", int(t.cat.Salon.Policy.Hold/time.Minute), "Service", svc.NameIn(p.Lang()),
			"Time", p.DayTime(t.st.Start), "Master", m, "Price", p.Price(svc.Price)),
		Choices: []Choice{
			{ID: optConfirm, Label: p.T("btn.confirm")},
			{ID: optOther, Label: p.T("btn.other_time")},
			{ID: optDrop, Label: p.T("btn.drop")},
		},
	}
}

func (t *turn) onConfirm() {
	p := t.p
	switch t.in.Choice {
	case optConfirm:
		b, err := t.e.bookings.Confirm(t.ctx, t.e.salonID, t.st.Hold)
		if err != nil {
			if core.ErrorKey(err) == "booking.hold_expired" {
				t.st.Hold, t.st.Step, t.st.Page = "", stepTime, 0
				t.note = p.N("confirm.expired", int(t.cat.Salon.Policy.Hold/time.Minute))
				t.ask()
				return
			}
			t.bookingFailed(err, stepTime)
			return
		}
		t.st.Hold = "" // confirmed (or awaiting its deposit): no longer ours to release
		if b.Status == core.StatusAwaitingPayment {
			t.askDeposit(b)
			return
		}
		done := t.booked(b)
		t.reset()
		t.note, t.did = done, true
		t.menu()
	case optOther:
		t.releaseHold()
		t.st.Step = stepTime
		t.ask()
	case optDrop:
		t.reset()
		t.note = p.T("flow.cancelled")
		t.menu()
	default:
		t.again()
	}
}

// nameFrom is the name in text typed at the name step: the whole text, less
// a greeting and an introduction before it ("Hi, my name is Olga", "Привет,
// меня зовут Ольга", "I’m Olga") and punctuation or emoticons after it;
// intro reports that an introduction was dropped (what follows one is a name
// whatever it says: "My name is Ok").
func nameFrom(text string) (name string, intro bool) {
	name = strings.NewReplacer("’", "'", "‘", "'", "ʼ", "'").Replace(strings.TrimSpace(text))
	for _, g := range nameGreetings {
		if rest, ok := cutWord(name, g); ok {
			name = strings.TrimLeftFunc(rest, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
			break
		}
	}
	for _, in := range nameIntros {
		if rest, ok := cutWord(name, in); ok && strings.TrimSpace(rest) != "" && !namePronouns[strings.ToLower(strings.TrimSpace(rest))] {
			name, intro = strings.TrimSpace(rest), true
			break
		}
	}
	name = strings.TrimRightFunc(name, func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsSymbol(r)
	})
	if name == "" { // nothing but punctuation or a greeting: the text as typed
		name = strings.TrimRightFunc(strings.TrimSpace(text), func(r rune) bool {
			return unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsSymbol(r)
		})
	}
	return name, intro
}

// cutWord cuts prefix (in any case) off s when a letter does not follow it.
func cutWord(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	rest := s[len(prefix):]
	if r, _ := utf8.DecodeRuneInString(rest); rest != "" && (unicode.IsLetter(r) || r == '\'' || r == '-') {
		return s, false
	}
	return rest, true
}

// nameGreetings are greetings nameFrom drops before a name, longest first
// where one begins another.
var nameGreetings = []string{
	"good morning", "good afternoon", "good evening", "hello", "hi", "hey",
	"добрый день", "добрый вечер", "доброе утро", "здравствуйте", "здрасте", "привет",
}

// nameIntros are the introductions nameFrom drops, longest first where one
// begins another.
var nameIntros = []string{
	"my name is", "my name's", "name:", "i'm", "i am", "this is", "it's", "it is",
	"меня зовут", "моё имя", "мое имя", "имя:", "это", "я",
}

// namePronouns after an introduction make it no introduction: "It's me".
var namePronouns = map[string]bool{"me": true, "i": true, "я": true, "мне": true}

// notAName reports whether text typed at the name step is a word people type
// while they think or answer something else ("hmm", "ok", "да"), not a name:
// kept as the client's name it would greet them and reach the salon's desk.
// Only whole messages of such words count: "Ok Sun" stays a name.
func notAName(s string) bool {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
	if len(words) == 0 {
		return false
	}
	if fillerPhrases[strings.Join(words, " ")] {
		return true
	}
	for _, w := range words {
		if !fillerWords[w] {
			return false
		}
	}
	return true
}

// fillerPhrases are messages notAName refuses whole although a word of them
// may be a name ("You" is a surname).
var fillerPhrases = map[string]bool{"thank you": true, "thank you very much": true, "it's me": true, "это я": true,
	"i don't know": true, "не знаю": true, "good morning": true, "good afternoon": true, "good evening": true,
	"добрый день": true, "добрый вечер": true, "доброе утро": true, "здрасте": true, "how are you": true,
	"there": true, "как дела": true}

// fillerSurnames are filler words that are also surnames: typed again after
// the name was asked again, they are taken as the name.
var fillerSurnames = map[string]bool{"ok": true, "um": true, "eh": true, "uh": true}

// notANameAfterIntro reports whether what follows an introduction is no name
// ("I'm not sure", "Я хочу записаться", "This is for my daughter").
func notANameAfterIntro(rest string) bool {
	words := strings.Fields(strings.ToLower(rest))
	return len(words) == 0 || fillerPhrases[strings.Join(words, " ")] || nonNameStarts[words[0]]
}

// nonNameStarts are words a name does not begin with.
var nonNameStarts = map[string]bool{"not": true, "for": true, "going": true, "looking": true, "here": true, "there": true,
	"how": true, "sure": true, "a": true, "the": true, "calling": true, "booking": true,
	"не": true, "хочу": true, "хотела": true, "хотел": true, "для": true, "по": true, "звоню": true, "пишу": true}

// fillerWords are the words notAName looks for, in the catalogs' languages;
// pronouns and the words of an introduction with no name after it too ("It's
// me", "Меня зовут").
var fillerWords = map[string]bool{
	"hmm": true, "hm": true, "hmmm": true, "mm": true, "mmm": true, "um": true, "umm": true, "uh": true, "eh": true,
	"ok": true, "okay": true, "yes": true, "yeah": true, "yep": true, "nope": true, "sure": true,
	"hi": true, "hello": true, "hey": true, "thanks": true, "thank": true, "what": true, "why": true,
	"name": true, "my": true, "test": true, "me": true, "it": true, "it's": true, "is": true, "i'm": true,
	"хм": true, "хмм": true, "ммм": true, "мм": true, "эм": true, "ээ": true, "ок": true, "окей": true, "да": true,
	"нет": true, "ага": true, "угу": true, "привет": true, "здравствуйте": true, "спасибо": true, "что": true,
	"зачем": true, "имя": true, "моё": true, "мое": true, "тест": true, "я": true, "это": true, "меня": true, "зовут": true,
}
