package dialog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
	"salonbook/src/core/i18n"
)

// Bookings is what the conversation needs of the booking use cases;
// *booking.Service is one.
type Bookings interface {
	Catalog(ctx context.Context, salonID string) (*booking.Catalog, error)
	Slots(ctx context.Context, req booking.SlotsRequest) ([]availability.Slot, *core.Salon, error)
	Book(ctx context.Context, req booking.BookRequest) (*core.Booking, error)
	Confirm(ctx context.Context, salonID, bookingID string) (*core.Booking, error)
	Cancel(ctx context.Context, salonID, bookingID string) (*core.Booking, error)
	Release(ctx context.Context, salonID, bookingID string) (bool, error)
	Reschedule(ctx context.Context, salonID, bookingID string, start time.Time) (*core.Booking, error)
	Get(ctx context.Context, salonID, bookingID string) (*core.Booking, error)
	Upcoming(ctx context.Context, salonID, source string) ([]core.Booking, error)
}

var _ Bookings = (*booking.Service)(nil)

// Steps of a conversation.
const (
	stepMenu     = ""         // nothing under way
	stepService  = "service"  // choosing a service
	stepMaster   = "master"   // choosing a master or "any"
	stepDay      = "day"      // choosing a day
	stepTime     = "time"     // choosing a time on Day
	stepName     = "name"     // asked for the client's name
	stepPhone    = "phone"    // asked for the client's phone
	stepConfirm  = "confirm"  // a hold waits for "confirm"
	stepMine     = "mine"     // the client's bookings are listed
	stepBooking  = "booking"  // one booking, with reschedule and cancel
	stepMoveDay  = "move_day" // rescheduling BookingID: choosing a day
	stepMoveTime = "move_time"
	stepLanguage = "language"
)

// Option ids. Each is short and carries ids only, never state.
const (
	optBook     = "book"
	optMine     = "mine"
	optLanguage = "lang"
	optHelp     = "help"
	optMenu     = "menu"
	optMore     = "more"
	optConfirm  = "ok"
	optOther    = "other" // another time (drops the hold)
	optDrop     = "drop"  // cancel the flow (drops the hold)
	optWaitlist = "wl"
	optAnyDay   = "days" // back to the days
	prefService = "s:"   // s:<service id>
	prefMaster  = "m:"   // m:<master id> or m:any
	prefDay     = "d:"   // d:YYYY-MM-DD
	prefTime    = "t:"   // t:<unix seconds>
	prefBooking = "b:"   // b:<booking id>
	prefMove    = "mv:"  // mv:<booking id>
	prefCancel  = "cx:"  // cx:<booking id>
	prefLang    = "l:"   // l:<language>
)

// Paging: how many options one reply offers before "more".
const (
	pageDays     = 7
	pageTimes    = 7 // with more, another day and menu: 10, a WhatsApp list's most
	pageServices = 8
	searchDays   = 14 // days looked at per page of days
)

// Engine runs one step of a conversation.
type Engine struct {
	salonID  string
	bookings Bookings
	waitlist Waitlist
	catalog  *i18n.Catalog
	clock    core.Clock
	idle     time.Duration
}

// Config builds an Engine.
type Config struct {
	SalonID  string
	Bookings Bookings
	Waitlist Waitlist
	Catalog  *i18n.Catalog
	Clock    core.Clock
	// Idle is the silence after which a flow under way is dropped (the client
	// keeps the language and the name and phone they gave). Default 30 minutes.
	Idle time.Duration
}

// NewEngine returns an Engine.
func NewEngine(c Config) *Engine {
	if c.Idle == 0 {
		c.Idle = 30 * time.Minute
	}
	return &Engine{salonID: c.SalonID, bookings: c.Bookings, waitlist: c.Waitlist, catalog: c.Catalog, clock: c.Clock, idle: c.Idle}
}

// turn is one step being worked out.
type turn struct {
	ctx  context.Context
	e    *Engine
	key  ChatKey
	in   Inbound
	st   State
	cat  *booking.Catalog
	p    *i18n.Printer
	now  time.Time
	out  []Reply
	note string // said before the next prompt, in the same message
}

// Step answers one inbound event. It always answers with at least one reply: a
// failure of the booking engine becomes an apology and the menu, never silence.
func (e *Engine) Step(ctx context.Context, key ChatKey, st State, in Inbound) (State, []Reply) {
	t := &turn{ctx: ctx, e: e, key: key, in: in, st: st, now: e.clock.Now()}
	cat, err := e.bookings.Catalog(ctx, e.salonID)
	if err != nil {
		p := e.catalog.Printer(e.catalog.Match(in.LangHint, nil), time.UTC)
		return st, []Reply{{Text: p.T("error.unavailable")}}
	}
	t.cat = cat
	if t.st.Lang == "" || !containsString(cat.Salon.Locales, t.st.Lang) {
		t.st.Lang = e.catalog.Match(in.LangHint, cat.Salon.Locales)
	}
	t.p = e.catalog.Printer(t.st.Lang, cat.Salon.Timezone)
	if t.st.Step != stepMenu && !t.st.Updated.IsZero() && t.now.Sub(t.st.Updated) > e.idle {
		t.reset()
		t.note = t.p.T("flow.expired")
	}
	t.run()
	t.st.Updated = t.now
	if len(t.out) == 0 { // every path ends in a prompt; this is a guard, not a plan
		t.menu()
	}
	// The list the client now sees: a number typed next picks from it.
	t.st.Shown = nil
	for _, r := range t.out {
		if len(r.Choices) > 0 {
			t.st.Shown = t.st.Shown[:0]
			for _, c := range r.Choices {
				t.st.Shown = append(t.st.Shown, c.ID)
			}
		}
	}
	return t.st, t.out
}

// privateOnly is the answer to an event from a shared chat: bookings are made
// in a private chat. It reads the salon's languages and writes nothing.
func (e *Engine) privateOnly(ctx context.Context, in Inbound) Reply {
	allowed := e.catalog.Languages()
	if cat, err := e.bookings.Catalog(ctx, e.salonID); err == nil {
		allowed = cat.Salon.Locales
	}
	return Reply{Text: e.catalog.Printer(e.catalog.Match(in.LangHint, allowed), time.UTC).T("chat.private_only")}
}

func (t *turn) run() {
	in := t.in
	if in.Kind == KindText && strings.HasPrefix(strings.TrimSpace(in.Text), "/") {
		in.Kind, in.Text = KindCommand, strings.ToLower(strings.TrimPrefix(strings.Fields(in.Text)[0], "/"))
	}
	switch in.Kind {
	case KindCommand:
		t.command(in.Text)
		return
	case KindText:
		// A number answers the numbered list the client was shown (channels
		// without buttons show one); at a time step an hour is a time.
		id, answered := t.typed(in.Text)
		if answered {
			return
		}
		if id != "" {
			in.Kind, in.Choice = KindChoice, id
		}
	}
	t.in = in
	if in.Kind == KindChoice {
		switch in.Choice {
		case optMenu:
			t.reset()
			t.menu()
			return
		case optHelp:
			t.say(t.p.T("help", "Salon", t.cat.Salon.Name))
			t.again()
			return
		case optLanguage:
			t.st.Step = stepLanguage
			t.ask()
			return
		}
	}
	switch t.st.Step {
	case stepMenu:
		t.onMenu()
	case stepService:
		t.onService()
	case stepMaster:
		t.onMaster()
	case stepDay, stepMoveDay:
		t.onDay()
	case stepTime, stepMoveTime:
		t.onTime()
	case stepName:
		t.onName()
	case stepPhone:
		t.onPhone()
	case stepConfirm:
		t.onConfirm()
	case stepMine, stepBooking:
		t.onMine()
	case stepLanguage:
		t.onLanguage()
	default:
		t.reset()
		t.menu()
	}
}

func (t *turn) command(name string) {
	switch name {
	case CommandStart:
		t.reset()
		t.menu()
	case CommandCancel:
		had := t.st.Step != stepMenu
		t.reset()
		if had {
			t.note = t.p.T("flow.cancelled")
		}
		t.menu()
	case CommandHelp:
		t.say(t.p.T("help", "Salon", t.cat.Salon.Name))
		t.again()
	case CommandLanguage:
		t.st.Step = stepLanguage
		t.ask()
	default:
		t.note = t.p.T("hint.unknown_command")
		t.again()
	}
}

// typed reads typed text as a choice of the list last shown (State.Shown), not
// of a list built anew: the times may have changed since. At a time step a
// number is first a time: one shown with that label ("11", "11:30", "9.30"),
// then the n-th choice if that is a time, then a time of the day's offer on any
// page; an hour not offered is answered with the nearest offered times
// (answered is then true). Elsewhere a number n picks the n-th choice shown,
// except where a name or phone is asked. It returns the choice id, or "".
func (t *turn) typed(text string) (id string, answered bool) {
	if t.st.Step == stepName || t.st.Step == stepPhone {
		return "", false
	}
	n, err := strconv.Atoi(strings.TrimSpace(text))
	var shown string
	if err == nil && n >= 1 && n <= len(t.st.Shown) {
		shown = t.st.Shown[n-1]
	}
	if t.st.Step != stepTime && t.st.Step != stepMoveTime {
		return shown, false
	}
	hour, minute, ok := clockOf(text)
	if !ok {
		return shown, false
	}
	want := fmt.Sprintf("%02d:%02d", hour, minute)
	for _, c := range t.st.Shown {
		if at, ok := t.timeOf(c); ok && t.p.Time(at) == want && t.isDay(at) {
			return c, false
		}
	}
	if strings.HasPrefix(shown, prefTime) {
		return shown, false
	}
	d, err := core.ParseDate(t.st.Day)
	if err != nil {
		return shown, false
	}
	slots, err := t.free(d, 1)
	if err != nil || len(slots) == 0 {
		return shown, false // no times that day: the numbers are the list's
	}
	for _, s := range slots {
		if t.p.Time(s.Start) == want {
			return prefTime + strconv.FormatInt(s.Start.Unix(), 10), false
		}
	}
	t.nearest(d, time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, t.cat.Salon.Timezone), slots)
	return "", true
}

// clockOf reads "9", "09", "9:30", "9.30" or "17:00" as a time of day.
func clockOf(text string) (hour, minute int, ok bool) {
	text = strings.ReplaceAll(strings.TrimSpace(text), ".", ":")
	h, m, found := strings.Cut(text, ":")
	if !found {
		m = "00"
	}
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hour < 0 || hour > 23 || minute < 0 || minute > 59 || len(m) != 2 || len(h) > 2 {
		return 0, 0, false
	}
	return hour, minute, true
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

// nearest answers a typed time that is not offered on local day d with the
// offered times nearest to want, at most three, in order; the step stays.
func (t *turn) nearest(d core.Date, want time.Time, slots []availability.Slot) {
	p := t.p
	near := slices.Clone(slots)
	slices.SortStableFunc(near, func(a, b availability.Slot) int {
		return cmp.Compare(absDur(a.Start.Sub(want)), absDur(b.Start.Sub(want)))
	})
	near = near[:min(3, len(near))]
	slices.SortFunc(near, func(a, b availability.Slot) int { return a.Start.Compare(b.Start) })
	r := Reply{Text: p.T("time.not_offered", "Time", p.Time(want), "Day", p.Date(d))}
	for _, s := range near {
		r.Choices = append(r.Choices, Choice{ID: prefTime + strconv.FormatInt(s.Start.Unix(), 10), Label: p.Time(s.Start)})
	}
	r.Choices = append(r.Choices, Choice{ID: optAnyDay, Label: p.T("btn.other_day")})
	t.out = append(t.out, t.withMenu(r))
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// reset drops the flow under way (releasing its hold), keeping the language and
// the client.
func (t *turn) reset() {
	t.releaseHold()
	t.st = State{Lang: t.st.Lang, ClientName: t.st.ClientName, ClientPhone: t.st.ClientPhone, ClientID: t.st.ClientID}
}

// releaseHold ends the flow's unconfirmed hold, if it has one and it is still
// held: a hold confirmed meanwhile (elsewhere) is the client's appointment and
// stays. A hold that cannot be released now expires on its own after the
// salon's hold time.
func (t *turn) releaseHold() {
	if t.st.Hold != "" {
		_, _ = t.e.bookings.Release(t.ctx, t.e.salonID, t.st.Hold)
		t.st.Hold = ""
	}
}

// source names this chat as the booker, so that it sees only its own bookings.
func (t *turn) source() string { return t.key.Channel + ":" + t.key.ChatID }

// say adds a message without choices.
func (t *turn) say(text string) { t.out = append(t.out, Reply{Text: text}) }

// ask sends the current step's prompt (with any note before it).
func (t *turn) ask() {
	r := t.prompt()
	if t.note != "" {
		r.Text = t.note + "\n\n" + r.Text
		t.note = ""
	}
	t.out = append(t.out, r)
}

// again re-asks the current step after something it could not use.
func (t *turn) again() {
	if t.note == "" && t.in.Kind != KindCommand && !(t.in.Kind == KindChoice && t.in.Choice == optHelp) {
		t.note = t.p.T("hint.pick")
	}
	t.ask()
}

func (t *turn) menu() {
	t.st.Step = stepMenu
	t.ask()
}

// prompt builds the current step's question and choices from the state.
func (t *turn) prompt() Reply {
	p := t.p
	switch t.st.Step {
	case stepService:
		r := Reply{Text: p.T("ask.service")}
		services := t.cat.Services
		from := min(t.st.Page*pageServices, len(services))
		for _, s := range services[from:min(from+pageServices, len(services))] {
			r.Text += "\n• " + p.T("service.line", "Name", s.NameIn(p.Lang()),
				"Minutes", int(s.Duration/time.Minute), "Price", p.Price(s.Price))
			r.Choices = append(r.Choices, Choice{ID: prefService + s.ID, Label: label(s.NameIn(p.Lang()))})
		}
		if from+pageServices < len(services) {
			r.Choices = append(r.Choices, Choice{ID: optMore, Label: p.T("btn.more")})
		}
		return t.withMenu(r)
	case stepMaster:
		r := Reply{Text: p.T("ask.master"), Choices: []Choice{{ID: prefMaster + booking.AnyMaster, Label: p.T("btn.any_master")}}}
		for _, m := range t.cat.Masters {
			if m.Performs(t.st.Service) {
				r.Choices = append(r.Choices, Choice{ID: prefMaster + m.ID, Label: label(m.Name)})
			}
		}
		return t.withMenu(r)
	case stepDay, stepMoveDay:
		return t.dayPrompt()
	case stepTime, stepMoveTime:
		return t.timePrompt()
	case stepName:
		return Reply{Text: p.T("ask.name"), Choices: []Choice{{ID: optMenu, Label: p.T("btn.menu")}}}
	case stepPhone:
		return Reply{Text: p.T("ask.phone"), RequestContact: true, Choices: []Choice{{ID: optMenu, Label: p.T("btn.menu")}}}
	case stepConfirm:
		return t.confirmPrompt()
	case stepMine:
		return t.minePrompt()
	case stepBooking:
		return t.bookingPrompt()
	case stepLanguage:
		r := Reply{Text: p.T("ask.language")}
		for _, l := range t.cat.Salon.Locales {
			if containsString(t.e.catalog.Languages(), l) {
				r.Choices = append(r.Choices, Choice{ID: prefLang + l, Label: t.e.catalog.Printer(l, nil).LanguageName()})
			}
		}
		return r
	}
	text := p.T("menu.text", "Salon", t.cat.Salon.Name)
	if t.note != "" { // after an answer the client has heard the greeting already
		text = p.T("menu.again")
	}
	return Reply{Text: text, Choices: []Choice{
		{ID: optBook, Label: p.T("btn.book")},
		{ID: optMine, Label: p.T("btn.mine")},
		{ID: optLanguage, Label: p.T("btn.language")},
		{ID: optHelp, Label: p.T("btn.help")},
	}}
}

func (t *turn) withMenu(r Reply) Reply {
	r.Choices = append(r.Choices, Choice{ID: optMenu, Label: t.p.T("btn.menu")})
	return r
}

func (t *turn) onMenu() {
	switch t.in.Choice {
	case optBook:
		t.st.Step, t.st.Page = stepService, 0
		if len(t.cat.Services) == 1 {
			t.st.Service = t.cat.Services[0].ID
			t.st.Step = stepMaster
		}
		t.ask()
	case optMine:
		t.st.Step = stepMine
		t.ask()
	default:
		if t.in.Kind == KindText && t.st.Updated.IsZero() {
			t.menu() // the first words of a new client: a greeting, not a mistake
			return
		}
		t.again()
	}
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
	t.st.Service, t.st.Step, t.st.Page = id, stepMaster, 0
	t.ask()
}

func (t *turn) onMaster() {
	id, ok := strings.CutPrefix(t.in.Choice, prefMaster)
	if !ok || (id != booking.AnyMaster && !t.masterDoes(id, t.st.Service)) {
		t.again()
		return
	}
	t.st.Master, t.st.Step, t.st.Page = id, stepDay, 0
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

// dayPrompt lists up to pageDays days from pageStart: days with free times, and
// working days that are full (marked so: a full day is where the wait-list
// starts), within the horizon. "Later days" continues after the last day looked at.
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
	listed, anyFree, next := 0, false, from
	for i := 0; i < searchDays && listed < pageDays; i++ {
		d := from.AddDays(i)
		next = d.AddDays(1)
		if !t.bookable(d) {
			break
		}
		switch {
		case free[d]:
			r.Choices = append(r.Choices, Choice{ID: prefDay + d.String(), Label: label(p.Date(d))})
			anyFree = true
		case d != t.today() && t.works(d) && t.wholeDayBookable(d):
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
	return t.withMenu(r)
}

func (t *turn) onDay() {
	switch {
	case t.in.Choice == optMore && t.st.NextDay != "":
		t.st.Page++
		t.st.Day = t.st.NextDay
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
	t.st.Day, t.st.Page = d.String(), 0
	if t.st.Step == stepMoveDay {
		t.st.Step = stepMoveTime
	} else {
		t.st.Step = stepTime
	}
	t.ask()
}

func (t *turn) timePrompt() Reply {
	p := t.p
	d, err := core.ParseDate(t.st.Day)
	if err != nil {
		return t.withMenu(Reply{Text: p.T("error.unavailable")})
	}
	slots, err := t.free(d, 1)
	if err != nil {
		return t.withMenu(Reply{Text: p.T("error.unavailable")})
	}
	if len(slots) == 0 {
		r := Reply{Text: p.T("no.times", "Day", p.Date(d)), Choices: []Choice{{ID: optAnyDay, Label: p.T("btn.other_day")}}}
		if t.st.Step == stepTime {
			r.Choices = append([]Choice{{ID: optWaitlist, Label: p.T("btn.waitlist")}}, r.Choices...)
		}
		return t.withMenu(r)
	}
	from := min(t.st.Page*pageTimes, len(slots))
	if from >= len(slots) {
		from, t.st.Page = 0, 0
	}
	r := Reply{Text: p.T("ask.time", "Day", p.Date(d))}
	for _, s := range slots[from:min(from+pageTimes, len(slots))] {
		r.Choices = append(r.Choices, Choice{ID: prefTime + strconv.FormatInt(s.Start.Unix(), 10), Label: p.Time(s.Start)})
	}
	if from+pageTimes < len(slots) {
		r.Choices = append(r.Choices, Choice{ID: optMore, Label: p.T("btn.more_times")})
	}
	r.Choices = append(r.Choices, Choice{ID: optAnyDay, Label: p.T("btn.other_day")})
	return t.withMenu(r)
}

func (t *turn) onTime() {
	switch t.in.Choice {
	case optMore:
		t.st.Page++
		t.ask()
		return
	case optAnyDay:
		t.st.Page, t.st.Day = 0, ""
		if t.st.Step == stepMoveTime {
			t.st.Step = stepMoveDay
		} else {
			t.st.Step = stepDay
		}
		t.ask()
		return
	case optWaitlist:
		t.joinWaitlist()
		return
	}
	s, ok := strings.CutPrefix(t.in.Choice, prefTime)
	unix, err := strconv.ParseInt(s, 10, 64)
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

func (t *turn) onName() {
	if t.in.Kind == KindContact && t.in.Contact == nil {
		t.in.Kind = KindText
	}
	name := strings.TrimSpace(t.in.Text)
	if t.in.Kind == KindContact {
		name = strings.TrimSpace(t.in.Contact.Name)
	}
	if t.in.Kind != KindText && t.in.Kind != KindContact || name == "" || utf8.RuneCountInString(name) > 100 ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 {
		t.note = t.p.T("hint.name")
		t.ask()
		return
	}
	t.st.ClientName = name
	if t.in.Kind == KindContact && plausiblePhone(t.in.Contact.Phone) {
		t.st.ClientPhone = t.in.Contact.Phone
		t.hold()
		return
	}
	t.st.Step = stepPhone
	t.ask()
}

func (t *turn) onPhone() {
	phone := strings.TrimSpace(t.in.Text)
	if t.in.Kind == KindContact {
		if t.in.Contact == nil {
			t.again()
			return
		}
		phone = t.in.Contact.Phone
	}
	if t.in.Kind != KindText && t.in.Kind != KindContact || !plausiblePhone(phone) {
		t.note = t.p.T("hint.phone")
		t.ask()
		return
	}
	t.st.ClientPhone = phone
	t.hold()
}

// hold holds the chosen time for the client and asks to confirm it.
func (t *turn) hold() {
	t.releaseHold()
	b, err := t.e.bookings.Book(t.ctx, booking.BookRequest{
		SalonID: t.e.salonID, ServiceID: t.st.Service, MasterID: t.st.Master, Start: t.st.Start,
		Client:         core.Client{Name: t.st.ClientName, Phone: t.st.ClientPhone},
		IdempotencyKey: t.in.ID,
		Source:         t.source(),
	})
	if err != nil {
		t.bookingFailed(err, stepTime)
		return
	}
	t.st.Hold, t.st.ClientID, t.st.Step = b.ID, b.ClientID, stepConfirm
	t.ask()
}

// bookingFailed explains why a time could not be had and offers what can.
func (t *turn) bookingFailed(err error, back string) {
	p := t.p
	switch core.ErrorKey(err) {
	case "booking.slot_taken":
		t.st.Step = back
		var alts []availability.Slot
		if c, ok := errors.AsType[*booking.ConflictError](err); ok {
			alts = c.Alternatives
		}
		r := Reply{Text: p.T("conflict.taken", "Time", p.DayTime(t.st.Start))}
		if len(alts) == 0 {
			r.Text = p.T("conflict.taken_none", "Time", p.DayTime(t.st.Start))
		}
		for _, a := range alts {
			lbl := p.Time(a.Start)
			if core.DateOf(a.Start.In(t.cat.Salon.Timezone)).String() != t.st.Day {
				lbl = p.Short(a.Start)
			}
			r.Choices = append(r.Choices, Choice{ID: prefTime + strconv.FormatInt(a.Start.Unix(), 10), Label: lbl})
		}
		r.Choices = append(r.Choices, Choice{ID: optAnyDay, Label: p.T("btn.other_day")})
		t.out = append(t.out, t.withMenu(r))
	case "booking.client_overlap":
		t.st.Step = back
		t.note = p.T("conflict.yours")
		t.ask()
	case "client.invalid_phone":
		t.st.ClientPhone = ""
		t.st.Step = stepPhone
		t.note = p.T("hint.phone")
		t.ask()
	case "client.invalid_name":
		t.st.ClientName = ""
		t.st.Step = stepName
		t.ask()
	case "booking.in_past", "booking.too_soon", "booking.too_far", "booking.not_offered":
		t.st.Step = back
		t.note = p.T("conflict.not_offered")
		t.ask()
	case "booking.cancel_too_late":
		t.reset()
		t.note = p.T("cancel.too_late", "Phone", t.cat.Salon.Phone)
		t.menu()
	default:
		t.reset()
		t.note = p.T("error.unavailable")
		t.menu()
	}
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
		t.st.Hold = "" // confirmed: no longer ours to release
		svc := t.service(b.ServiceID)
		done := p.T("confirm.done", "Service", svc.NameIn(p.Lang()), "Time", p.DayTime(b.Start),
			"Master", t.masterName(b.MasterID), "Price", p.Price(b.Price))
		if a := t.cat.Salon.Address; a != "" {
			done += "\n" + p.T("confirm.address", "Address", a)
		}
		t.reset()
		t.note = done
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

func (t *turn) joinWaitlist() {
	d, err := core.ParseDate(t.st.Day)
	if err != nil || t.e.waitlist == nil || !t.bookable(d) || !t.wholeDayBookable(d) || t.st.Step != stepTime {
		t.again()
		return
	}
	if free, err := t.free(d, 1); err != nil || len(free) > 0 {
		t.again() // the day has times again: they are shown instead
		return
	}
	err = t.e.waitlist.Join(t.ctx, WaitlistEntry{Key: t.key, ServiceID: t.st.Service, MasterID: t.st.Master,
		Day: d, ClientID: t.st.ClientID, Lang: t.st.Lang})
	t.reset()
	if err != nil {
		t.note = t.p.T("error.unavailable")
	} else {
		t.note = t.p.T("waitlist.joined", "Day", t.p.Date(d))
	}
	t.menu()
}

// mine lists the upcoming bookings this chat made.
func (t *turn) mine() ([]core.Booking, error) {
	return t.e.bookings.Upcoming(t.ctx, t.e.salonID, t.source())
}

func (t *turn) minePrompt() Reply {
	p := t.p
	list, err := t.mine()
	if err != nil {
		return t.withMenu(Reply{Text: p.T("error.unavailable")})
	}
	if len(list) == 0 {
		return Reply{Text: p.T("mine.none"), Choices: []Choice{{ID: optBook, Label: p.T("btn.book")}, {ID: optMenu, Label: p.T("btn.menu")}}}
	}
	r := Reply{Text: p.N("mine.count", len(list))}
	for _, b := range list {
		r.Text += "\n• " + p.T("mine.line", "Time", p.DayTime(b.Start), "Service", t.service(b.ServiceID).NameIn(p.Lang()), "Master", t.masterName(b.MasterID))
		r.Choices = append(r.Choices, Choice{ID: prefBooking + b.ID, Label: p.Short(b.Start)})
	}
	return t.withMenu(r)
}

// own returns the booking if this chat made it and it is live.
func (t *turn) own(id string) *core.Booking {
	if id == "" {
		return nil
	}
	b, err := t.e.bookings.Get(t.ctx, t.e.salonID, id)
	if err != nil || b.Source != t.source() || !b.Status.Blocks() {
		return nil // another chat's booking, or a forged id: no booking at all
	}
	return b
}

func (t *turn) bookingPrompt() Reply {
	p := t.p
	b := t.own(t.st.BookingID)
	if b == nil {
		t.st.Step = stepMine
		return t.minePrompt()
	}
	return Reply{
		Text: p.T("booking.text", "Time", p.DayTime(b.Start), "Service", t.service(b.ServiceID).NameIn(p.Lang()),
			"Master", t.masterName(b.MasterID), "Price", p.Price(b.Price)),
		Choices: []Choice{
			{ID: prefMove + b.ID, Label: p.T("btn.reschedule")},
			{ID: prefCancel + b.ID, Label: p.T("btn.cancel_booking")},
			{ID: optMine, Label: p.T("btn.back")},
			{ID: optMenu, Label: p.T("btn.menu")},
		},
	}
}

func (t *turn) onMine() {
	p := t.p
	c := t.in.Choice
	switch {
	case c == optBook:
		t.reset()
		t.st.Step = stepService
		t.ask()
	case c == optMine:
		t.st.Step = stepMine
		t.ask()
	case strings.HasPrefix(c, prefBooking):
		if b := t.own(strings.TrimPrefix(c, prefBooking)); b != nil {
			t.st.Step, t.st.BookingID = stepBooking, b.ID
		}
		t.ask()
	case strings.HasPrefix(c, prefCancel):
		b := t.own(strings.TrimPrefix(c, prefCancel))
		if b == nil {
			t.st.Step = stepMine
			t.again()
			return
		}
		if _, err := t.e.bookings.Cancel(t.ctx, t.e.salonID, b.ID); err != nil {
			t.bookingFailed(err, stepMine)
			return
		}
		t.reset()
		t.note = p.T("cancel.done", "Time", p.DayTime(b.Start))
		t.menu()
	case strings.HasPrefix(c, prefMove):
		b := t.own(strings.TrimPrefix(c, prefMove))
		if b == nil {
			t.st.Step = stepMine
			t.again()
			return
		}
		if b.Start.Sub(t.now) < t.cat.Salon.Policy.CancelCutoff {
			t.reset()
			t.note = p.T("cancel.too_late", "Phone", t.cat.Salon.Phone)
			t.menu()
			return
		}
		t.st.Step, t.st.BookingID, t.st.Service, t.st.Master, t.st.Page = stepMoveDay, b.ID, b.ServiceID, b.MasterID, 0
		t.ask()
	default:
		t.again()
	}
}

// move reschedules the booking being moved to start.
func (t *turn) move(start time.Time) {
	p := t.p
	b, err := t.e.bookings.Reschedule(t.ctx, t.e.salonID, t.st.BookingID, start)
	if err != nil {
		t.bookingFailed(err, stepMoveTime)
		return
	}
	t.reset()
	t.note = p.T("move.done", "Time", p.DayTime(b.Start), "Master", t.masterName(b.MasterID))
	t.menu()
}

func (t *turn) onLanguage() {
	l, ok := strings.CutPrefix(t.in.Choice, prefLang)
	if !ok || !containsString(t.cat.Salon.Locales, l) || !containsString(t.e.catalog.Languages(), l) {
		t.again()
		return
	}
	t.st.Lang = l
	t.p = t.e.catalog.Printer(l, t.cat.Salon.Timezone)
	t.reset()
	t.note = t.p.T("language.set")
	t.menu()
}

// service returns the service to show; one that is gone still shows its id.
func (t *turn) service(id string) *core.Service {
	if s := t.findService(id); s != nil {
		return s
	}
	return &core.Service{ID: id, Name: map[string]string{}}
}

// findService returns the active service id, or nil.
func (t *turn) findService(id string) *core.Service {
	for i := range t.cat.Services {
		if t.cat.Services[i].ID == id {
			return &t.cat.Services[i]
		}
	}
	return nil
}

func (t *turn) masterName(id string) string {
	for _, m := range t.cat.Masters {
		if m.ID == id {
			return m.Name
		}
	}
	return id
}

// works reports whether a master of the flow has a shift on local day d.
func (t *turn) works(d core.Date) bool {
	for _, m := range t.cat.Masters {
		if !m.Performs(t.st.Service) || (t.st.Master != booking.AnyMaster && m.ID != t.st.Master) {
			continue
		}
		if len(m.Hours[d.Weekday()]) > 0 && !containsDate(m.DaysOff, d) {
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

func (t *turn) masterDoes(id, service string) bool {
	for _, m := range t.cat.Masters {
		if m.ID == id {
			return m.Performs(service)
		}
	}
	return false
}

// masterOf names the master of a booking.
func (t *turn) masterOf(bookingID string) string {
	b, err := t.e.bookings.Get(t.ctx, t.e.salonID, bookingID)
	if err != nil {
		return ""
	}
	return t.masterName(b.MasterID)
}

// label shortens s to what every channel can show on a button.
func label(s string) string {
	if utf8.RuneCountInString(s) <= MaxChoiceLabelRune {
		return s
	}
	r := []rune(s)
	return string(r[:MaxChoiceLabelRune-1]) + "…"
}

// plausiblePhone accepts what the booking engine will: + and 6..15 digits, with
// spaces, dashes, dots and brackets between.
func plausiblePhone(s string) bool {
	digits := 0
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')', r == '.':
		default:
			return false
		}
	}
	return digits >= 6 && digits <= 15
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String describes a state for debugging, without personal data.
func (s State) String() string {
	return fmt.Sprintf("step=%q lang=%s service=%s master=%s day=%s", s.Step, s.Lang, s.Service, s.Master, s.Day)
}
