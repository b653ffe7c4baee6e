package dialog

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog/understand"
)

// Typed requests: text the client writes instead of pressing buttons
// ("стрижку к Анне завтра в 5 вечера", "my bookings", "later") is read by
// package understand at any step. What it names fills the flow's steps (a new
// booking flow, or the move under way), what is missing is asked, and a time
// is checked against the real free times: a free one goes on as if pressed
// (for a booking: the hold and its confirmation; for a move: a button that
// asks first), a busy one is answered with the nearest free times as buttons.
// Typed text never confirms a booking by itself: a hold always waits for its
// confirmation ("yes" typed at that question is one), and a move named in a
// sentence waits for its button; a time typed at a time step is the press of
// that time, as before (at a move's, only a clock alone: "11", "11:30"; the
// other reading of an hour is offered, never pressed).

// The move's master step and the buttons of moving around.
const (
	stepMoveMaster = "move_master" // rescheduling BookingID: choosing another master
	optEarlier     = "less"        // earlier times, or the days before
	optMoveMaster  = "mm"          // a move: another master
)

// typedState is what State keeps for typed requests and for moving around
// (its fields are State's own in JSON).
type typedState struct {
	// Want is a typed time to place once the day is known: "17:00,05:00"
	// (likeliest first) or a part of the day, "17:00-24:00".
	Want string `json:"want,omitempty"`
	// Period is the part of the day asked ("17:00-24:00"), kept for the
	// flow once a day is known: the day's times are shown from the first in
	// it, and a day with nothing free offers the nearest day with times in
	// it (nothing.go). A time asked replaces it.
	Period string `json:"period,omitempty"`
	// DayPages are the first days (YYYY-MM-DD) of the pages of days before
	// the one shown: "Earlier days" goes back through them.
	DayPages []string `json:"day_pages,omitempty"`
	// MoveHere is the "Yes, move it" button of the move just offered for a
	// typed time (take): a "yes" typed next presses it.
	MoveHere string `json:"move_here,omitempty"`
	// Near: the times last shown (State.Shown) are the nearest to one asked
	// (offer, nearest), not a page of the day's list: shown again, they are
	// headed so.
	Near bool `json:"near,omitempty"`
}

// typing is what a turn keeps for reading typed text.
type typing struct {
	words *understand.Parser // the catalog's words, built when text is first read (parse)
	// began is the step the conversation was at when the event came: a typed
	// request may reach the name's question from the menu with notes before
	// it, and the privacy note is still said there (namePrompt).
	began   string
	catalog string // catalogKey of the turn's catalog, once written (catKey)
	// moveHere is State.MoveHere as the event found it (cleared for the next).
	moveHere string
	// near is State.Near as the event found it (cleared for the next).
	near bool
	// partAsked: this event asked for a part of the day with the day
	// ("manicure on Thursday evening"): a day with times, none in it, gives
	// way to the nearest day with times in it (timeAsk).
	partAsked bool
	// priceOnly: the text asked a question (a price), not for a booking: a
	// time found is offered as a button, never held.
	priceOnly bool
}

// parse reads text against the salon's catalog; expectTime reads a bare
// number as an hour.
func (t *turn) parse(text string, expectTime bool) understand.Request {
	if t.words == nil {
		t.words = t.e.typedWords.parser(t.cat, t.catKey())
	}
	x := understand.Context{Now: t.now, Zone: t.cat.Salon.Timezone, Open: t.open(t.st.Service, t.st.Master), ExpectTime: expectTime}
	r := t.words.Parse(text, x)
	// An hour is read by the hours of the master or service the text itself
	// names, when it names one ("haircut with Boris at 3": Boris works at 15:00).
	service, master := t.st.Service, t.st.Master
	if len(r.Services) == 1 {
		service = r.Services[0]
	}
	if len(r.Masters) == 1 {
		master = r.Masters[0]
	}
	if len(r.Times) > 1 && (service != t.st.Service || master != t.st.Master) {
		x.Open = t.open(service, master)
		r = t.words.Parse(text, x)
	}
	return r
}

// open reports whether a master (master, or those doing service, or all)
// works at a wall-clock time on some day: "at 5" in a salon open 9 to 20 is
// 17:00.
func (t *turn) open(service, master string) func(core.ClockTime) bool {
	at := t.e.typedWords.open(t.cat, t.catKey(), service, master)
	return func(c core.ClockTime) bool { return c >= 0 && int(c) < len(at) && at[c] }
}

// wordsCache keeps what reading typed text needs of a catalog (the parser,
// the open hours), built again only when the catalog changes: the catalog is
// read anew each step, so it is keyed by what of it they use (catalogKey).
type wordsCache struct {
	mu    sync.Mutex
	key   string
	words *understand.Parser
	hours map[[2]string]*[24 * 60]bool // by service and master
}

// catalogKey writes what the parser and the open hours read of a catalog:
// the names, aliases, services and hours.
func catalogKey(cat *booking.Catalog) string {
	b := make([]byte, 0, 1024)
	str := func(sep byte, s string) { b = append(append(b, sep), s...) }
	for _, s := range cat.Services {
		str('\n', s.ID)
		for _, n := range slices.Sorted(maps.Values(s.Name)) {
			str(0, n)
		}
		for _, a := range s.Aliases {
			str(1, a)
		}
	}
	for _, m := range cat.Masters {
		str('\n', m.ID)
		str(0, m.Name)
		for _, n := range slices.Sorted(maps.Values(m.Names)) {
			str(0, n)
		}
		for _, a := range m.Aliases {
			str(1, a)
		}
		for _, s := range m.Services {
			str(3, s)
		}
		for _, day := range m.Hours {
			b = append(b, 4)
			for _, r := range day {
				b = strconv.AppendInt(append(b, ' '), int64(r.Start), 10)
				b = strconv.AppendInt(append(b, '-'), int64(r.End), 10)
			}
		}
	}
	return string(b)
}

// catKey is the turn's catalogKey, written once.
func (t *turn) catKey() string {
	if t.catalog == "" {
		t.catalog = catalogKey(t.cat)
	}
	return t.catalog
}

// current drops what was built for another catalog; c.mu is held.
func (c *wordsCache) current(key string) {
	if key != c.key {
		c.key, c.words, c.hours = key, nil, nil
	}
}

// parser is the catalog's parser.
func (c *wordsCache) parser(cat *booking.Catalog, key string) *understand.Parser {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.current(key)
	if c.words == nil {
		var uc understand.Catalog
		for _, s := range cat.Services {
			names := slices.Sorted(maps.Values(s.Name))
			uc.Services = append(uc.Services, understand.Entry{ID: s.ID, Names: append(names, s.Aliases...)})
		}
		for _, m := range cat.Masters {
			uc.Masters = append(uc.Masters, understand.Entry{ID: m.ID, Names: slices.Concat([]string{m.Name}, slices.Sorted(maps.Values(m.Names)), m.Aliases)})
		}
		c.words = understand.New(uc)
	}
	return c.words
}

// open is the minutes of the day when a master (master, or those doing
// service, or all) works on some day.
func (c *wordsCache) open(cat *booking.Catalog, key, service, master string) *[24 * 60]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.current(key)
	k := [2]string{service, master}
	if at, ok := c.hours[k]; ok {
		return at
	}
	at := new([24 * 60]bool)
	for _, m := range cat.Masters {
		if (service != "" && !m.Performs(service)) || (master != "" && master != booking.AnyMaster && m.ID != master) {
			continue
		}
		for _, day := range m.Hours {
			for _, r := range day {
				for c := int(r.Start); c < int(r.Start)+r.Minutes(); c++ {
					at[c%(24*60)] = true
				}
			}
		}
	}
	if c.hours == nil {
		c.hours = map[[2]string]*[24 * 60]bool{}
	}
	c.hours[k] = at // bounded: services × masters of one catalog
	return at
}

// moving reports whether the flow under way moves a booking.
func (t *turn) moving() bool {
	return t.st.Step == stepMoveDay || t.st.Step == stepMoveTime || t.st.Step == stepMoveMaster
}

// bookingFlow reports whether a booking is being made (its hold, if any, is
// the flow's).
func (t *turn) bookingFlow() bool {
	switch t.st.Step {
	case stepService, stepMaster, stepDay, stepTime, stepConfirm:
		return true
	}
	return false
}

// understood acts on typed text that says something the parser knows, and
// reports whether it did; false leaves the text to the step (a hint and the
// same question, as before). Where a name or a phone is asked, only a menu
// word alone is taken ("menu", "cancel", "help"): anything else is the
// answer.
func (t *turn) understood(text string) bool {
	if t.st.Step == stepConfirm && comingWords[eraseText(text)] {
		// "yes, I will", "да, буду", "see you then": Confirm's yes (a
		// reminder's "I'll be there" here is its label alone, pushedMidFlow).
		t.in.Kind, t.in.Choice = KindChoice, optConfirm
		t.onConfirm()
		return true
	}
	r := t.parse(text, false)
	if r.Empty() {
		return false
	}
	if t.last.IsZero() && t.st.Step == stepMenu && r.Intent != understand.Help && r.Intent != understand.Language && r.Intent != understand.Menu {
		t.addNote(t.p.T("greeting", "Salon", t.cat.Salon.Name)) // a new client's first words: hello first
	}
	switch t.st.Step {
	case stepName, stepPhone:
		if r.Slot() || len(strings.Fields(text)) > 3 {
			return false
		}
		switch r.Intent {
		case understand.Menu, understand.Cancel, understand.Help, understand.Mine:
		default:
			return false
		}
	case stepLanguage:
		if r.Intent != understand.Language || r.Lang == "" {
			return false
		}
	}
	if t.infoAsked(r) { // a price, the address, the hours… (info.go)
		return true
	}
	switch r.Intent {
	case understand.Help:
		t.in.Kind, t.in.Choice = KindChoice, optHelp // help answered: no "please pick" after it
		t.help()
		return true
	case understand.Menu:
		t.reset()
		if !r.Slot() {
			t.menu()
			return true
		}
	case understand.Language:
		if r.Lang != "" && containsString(t.cat.Salon.Locales, r.Lang) && containsString(t.e.catalog.Languages(), r.Lang) {
			t.in.Choice = prefLang + r.Lang
			t.onLanguage()
			return true
		}
		t.st.Step = stepLanguage
		t.ask()
		return true
	case understand.Mine:
		t.reset()
		t.st.Step = stepMine
		t.ask()
		return true
	case understand.Cancel:
		t.cancelTyped(r)
		return true
	case understand.Move:
		t.moveTyped(r)
		return true
	case understand.Yes, understand.No:
		// Only the answer alone confirms or drops ("yes", "да, подтверждаю",
		// "не записывайте"); "I'm not sure" or "ok but can we do 6?" is asked
		// again.
		if t.st.Step == stepConfirm && !r.Slot() && r.Pure {
			t.in.Kind, t.in.Choice = KindChoice, optConfirm
			if r.Intent == understand.No {
				t.in.Choice = optDrop
			}
			t.onConfirm()
			return true
		}
		// "yes" to "Shall I move your booking there?": its button.
		if t.st.Step == stepMoveTime && r.Intent == understand.Yes && r.Pure && !r.Slot() && t.moveHere != "" &&
			slices.Contains(t.st.Shown, t.moveHere) {
			t.in.Kind, t.in.Choice = KindChoice, t.moveHere
			t.onTime()
			return true
		}
	case understand.Earlier, understand.Later, understand.OtherDay, understand.OtherMaster:
		if !r.Slot() {
			return t.navigate(r.Intent)
		}
	}
	switch {
	case r.Slot() && t.moving():
		t.moveFill(r)
	case r.Slot():
		t.bookFill(r)
	case r.Intent == understand.Book && !t.bookingFlow():
		t.reset()
		t.bookFill(r)
	case r.Intent == understand.Book:
		t.ask() // already booking: the question under way
	default:
		return false
	}
	return true
}

// help answers "help": what the bot does, and that the client may write.
// typedExample is a service's name as a client would type it in the middle of
// a Russian sentence («стрижка завтра в 5 вечера»): the first letter lower-case.
// English keeps the name as written.
func (t *turn) typedExample(name string) string {
	if t.p.Lang() != "ru" {
		return name
	}
	r, n := utf8.DecodeRuneInString(name)
	return string(unicode.ToLower(r)) + name[n:]
}

func (t *turn) help() {
	r := t.helpReply()
	if len(t.cat.Services) > 0 {
		r.Text += "\n\n" + t.p.T("help.typing", "Service", t.typedExample(t.cat.Services[0].NameIn(t.p.Lang())))
	}
	t.out = append(t.out, r)
	t.again()
}

// navigate answers "earlier", "later", "another day" and "another master"
// typed where they mean something, as their buttons would; elsewhere it
// reports false.
func (t *turn) navigate(in understand.Intent) bool {
	id := ""
	switch t.st.Step {
	case stepTime, stepMoveTime:
		id = map[understand.Intent]string{understand.Earlier: optEarlier, understand.Later: optMore,
			understand.OtherDay: optAnyDay}[in]
	case stepDay, stepMoveDay:
		id = map[understand.Intent]string{understand.Earlier: optEarlier, understand.Later: optMore}[in]
	}
	if in == understand.OtherMaster {
		switch {
		case t.moving() && t.othersDo():
			t.st.Step, t.st.Page = stepMoveMaster, 0
			t.ask()
			return true
		case t.moving():
			return false // nobody else does it: the step's own answer
		case t.st.Step == stepDay || t.st.Step == stepTime:
			t.st.Master, t.st.Step, t.st.Page, t.st.Day = "", stepMaster, 0, ""
			t.ask()
			return true
		}
	}
	if id == "" {
		return false
	}
	t.in.Kind, t.in.Choice = KindChoice, id
	switch t.st.Step {
	case stepTime, stepMoveTime:
		t.onTime()
	case stepDay, stepMoveDay:
		t.onDay()
	}
	return true
}

// cancelTyped answers "cancel": a flow under way ends (as /cancel), unless
// the client speaks of a booking ("cancel my booking", "отменить запись на
// пятницу"); then the booking is shown with its Cancel button, or the list
// to choose from. Nothing is cancelled by the text itself.
func (t *turn) cancelTyped(r understand.Request) {
	underWay := t.st.Step != stepMenu && t.st.Step != stepMine && t.st.Step != stepBooking && t.st.Step != stepLanguage
	if underWay && !r.Booking && !r.HasDay {
		t.command(CommandCancel)
		return
	}
	t.whichBooking(r, "cancel.which", "cancel.how", "btn.cancel_booking")
}

// whichBooking shows the booking the request speaks of (by its day, else the
// only one) with note how, or the list with note which.
func (t *turn) whichBooking(r understand.Request, which, how, button string) {
	looking := ""
	if t.st.Step == stepBooking && !r.HasDay {
		looking = t.st.BookingID // the booking on screen is the one meant
	}
	list, err := t.mine()
	t.reset()
	if err != nil {
		t.addNote(t.p.T("error.unavailable"))
		t.menu()
		return
	}
	var on []core.Booking
	for _, b := range list {
		if b.ID == looking || (r.HasDay && core.DateOf(b.Start.In(t.cat.Salon.Timezone)) == r.Day) {
			on = append(on, b)
		}
	}
	if len(on) > 0 {
		list = on
	}
	t.st.Step = stepMine
	switch len(list) {
	case 0:
	case 1:
		t.st.Step, t.st.BookingID = stepBooking, list[0].ID
		t.addNote(t.p.T(how, "Button", t.p.T(button)))
	default:
		t.addNote(t.p.T(which))
	}
	t.ask()
}

// moveTyped answers "move my booking …": with one booking (or one of that
// service), its move starts, filled with what the text says (another day, a
// time, another master); with several, the list to choose from.
func (t *turn) moveTyped(r understand.Request) {
	if t.moving() {
		if r.Slot() {
			t.moveFill(r)
		} else {
			t.ask()
		}
		return
	}
	list, err := t.mine()
	if err != nil {
		t.addNote(t.p.T("error.unavailable"))
		t.ask()
		return
	}
	if len(r.Services) > 0 {
		var of []core.Booking
		for _, b := range list {
			if slices.Contains(r.Services, b.ServiceID) {
				of = append(of, b)
			}
		}
		if len(of) > 0 {
			list = of
		}
	}
	if len(list) != 1 || isOffer(&list[0]) {
		t.whichBooking(understand.Request{}, "move.which", "move.how", "btn.reschedule")
		return
	}
	b := list[0]
	switch {
	case !b.Start.After(t.now):
		t.reset()
		t.addNote(t.p.T("remind.started"))
		t.menu()
		return
	case b.Status == core.StatusConfirmed && b.Start.Sub(t.now) < t.cat.Salon.Policy.CancelCutoff:
		t.reset()
		t.addNote(t.tooLate())
		t.menu()
		return
	}
	t.reset()
	t.st.Step, t.st.BookingID, t.st.Service, t.st.Master = stepMoveDay, b.ID, b.ServiceID, b.MasterID
	r.Services = nil // a move keeps its service
	t.moveFill(r)
}

// bookFill fills the booking flow with what the request names, then asks for
// what is missing (advance). A service or master named replaces the one
// chosen; one that does not fit the other is said so and asked again.
func (t *turn) bookFill(r understand.Request) {
	switch t.st.Step {
	case stepService, stepMaster, stepDay, stepTime:
	case stepConfirm:
		t.releaseHold()
		t.st.Step = stepTime
	default:
		t.reset()
		t.st.Step = stepService
	}
	if !t.wantDay(r) {
		return
	}
	t.wantTime(r)
	st := &t.st
	// A master named who does not do the service chosen (and no service
	// named): the client wants that master; which of their services?
	if len(r.Masters) == 1 && r.Masters[0] != booking.AnyMaster && len(r.Services) == 0 && st.Service != "" &&
		!t.masterDoes(r.Masters[0], st.Service) {
		t.addNote(t.p.T("master.no_service", "Master", t.masterName(r.Masters[0]), "Service", t.service(st.Service).NameIn(t.p.Lang())))
		st.Service, st.Master = "", r.Masters[0]
		var theirs []string
		for _, s := range t.cat.Services {
			if t.masterDoes(st.Master, s.ID) {
				theirs = append(theirs, s.ID)
			}
		}
		t.whichOf(theirs, nil, t.p.T("ask.service_with", "Master", t.masterName(st.Master)))
		return
	}
	// The master named, if one; several: the ones doing the service.
	masters := r.Masters
	if len(masters) > 1 {
		masters = slices.DeleteFunc(slices.Clone(masters), func(id string) bool {
			return st.Service != "" && len(r.Services) == 0 && !t.masterDoes(id, st.Service)
		})
	}
	if len(masters) == 1 {
		st.Master = masters[0]
	}
	// The service named; none named but a master: the master's only one.
	services := r.Services
	if len(services) > 1 && st.Master != "" && st.Master != booking.AnyMaster {
		services = slices.DeleteFunc(slices.Clone(services), func(id string) bool { return !t.masterDoes(st.Master, id) })
		if len(services) == 0 {
			services = r.Services
		}
	}
	ask := t.p.T("ask.which_service")
	if len(services) == 0 && st.Service == "" && len(masters) == 1 && st.Master != booking.AnyMaster {
		for _, s := range t.cat.Services {
			if t.masterDoes(st.Master, s.ID) {
				services = append(services, s.ID)
			}
		}
		ask = t.p.T("ask.service_with", "Master", t.masterName(st.Master))
	}
	switch {
	case len(services) == 1:
		if st.Service != services[0] {
			if st.Service != "" && len(masters) == 0 && st.Master != "" && st.Master != booking.AnyMaster {
				// Another service, no master named: a new request, not
				// one for the master the last one had (maybe the only
				// one doing that service).
				st.Master = ""
			}
			st.Service, st.Page = services[0], 0
		}
	case len(services) > 1:
		t.whichOf(services, nil, ask)
		return
	}
	if st.Master != "" && st.Master != booking.AnyMaster && st.Service != "" && !t.masterDoes(st.Master, st.Service) {
		if len(r.Masters) > 0 { // named now; a master left from an earlier request gives way quietly
			t.addNote(t.p.T("master.no_service", "Master", t.masterName(st.Master), "Service", t.service(st.Service).NameIn(t.p.Lang())))
		}
		st.Master = ""
	}
	if len(masters) > 1 {
		t.whichOf(nil, masters, t.p.T("ask.which_master"))
		return
	}
	t.advance()
}

// whichOf asks which of the services (or masters) the client means, with
// question.
func (t *turn) whichOf(services, masters []string, question string) {
	p := t.p
	r := Reply{Text: question}
	if len(services) > 0 {
		t.st.Step, t.st.Page = stepService, 0
		for _, id := range services {
			r.Choices = append(r.Choices, Choice{ID: prefService + id, Label: label(t.service(id).NameIn(p.Lang()))})
		}
	} else {
		t.st.Step = stepMaster
		for _, id := range masters {
			r.Choices = append(r.Choices, Choice{ID: prefMaster + id, Label: label(t.masterName(id))})
		}
	}
	if len(r.Choices) > pageServices {
		r.Choices = r.Choices[:pageServices]
	}
	if t.note != "" {
		r.Text = t.note + "\n\n" + r.Text
		t.note = ""
	}
	t.out = append(t.out, t.withMenu(r))
}

// moveFill fills the move under way: another master (who does the service), a
// day, a time; then asks for what is missing.
func (t *turn) moveFill(r understand.Request) {
	if !t.wantDay(r) {
		return
	}
	t.wantTime(r)
	if len(r.Masters) == 1 && r.Masters[0] != booking.AnyMaster && r.Masters[0] != t.st.Master {
		if !t.masterDoes(r.Masters[0], t.st.Service) {
			t.addNote(t.p.T("master.no_service", "Master", t.masterName(r.Masters[0]), "Service", t.service(t.st.Service).NameIn(t.p.Lang())))
			t.st.Step = stepMoveMaster
			t.ask()
			return
		}
		t.st.Master = r.Masters[0]
	}
	t.advance()
}

// wantDay takes the day the request names, if any; a day past or beyond the
// horizon is said so, the days are asked, and it reports false.
func (t *turn) wantDay(r understand.Request) bool {
	if !r.HasDay {
		return true
	}
	switch {
	case r.Day.Before(t.today()):
		t.addNote(t.p.T("day.passed"))
	case !t.bookable(r.Day):
		t.addNote(t.p.T("day.too_far", "Day", longDate(t.p.T, t.lastDay())))
	default:
		t.st.Day, t.st.Page, t.st.DayPages = r.Day.String(), 0, nil
		return true
	}
	t.st.Day, t.st.Page, t.st.DayPages = "", 0, nil
	if t.moving() {
		t.st.Step = stepMoveDay
	} else if t.st.Service != "" && t.st.Master != "" {
		t.st.Step = stepDay
	}
	if t.st.Step == stepDay || t.st.Step == stepMoveDay {
		t.ask()
		return false
	}
	return true // the service or master is asked first; the note goes with it
}

// wantTime keeps the time (or part of the day) the request names, to be
// placed once the day is known: "17:00,05:00" (likeliest first) or
// "17:00-24:00".
func (t *turn) wantTime(r understand.Request) {
	switch {
	case len(r.Times) > 0:
		var s []string
		for _, c := range r.Times {
			s = append(s, c.String())
		}
		t.st.Want, t.st.Period = strings.Join(s, ","), ""
	case r.HasPeriod:
		t.st.Want = r.Period.String()
	}
}

// wanted reads State.Want: the times, or a part of the day.
func (t *turn) wanted() (times []core.ClockTime, period *core.ClockRange) {
	if t.st.Want == "" {
		return nil, nil
	}
	if r, err := core.ParseClockRange(t.st.Want); err == nil {
		return nil, &r
	}
	if r, ok := strings.CutSuffix(t.st.Want, "-00:00"); ok { // a range to midnight, stored by an older form
		if c, err := core.ParseClock(r); err == nil {
			return nil, &core.ClockRange{Start: c, End: 24 * 60}
		}
	}
	for _, s := range strings.Split(t.st.Want, ",") {
		if c, err := core.ParseClock(s); err == nil && c < 24*60 {
			times = append(times, c)
		}
	}
	return times, nil
}

// soleMaster chooses the master when only one does the flow's service, and
// says who it is; it reports whether it did.
func (t *turn) soleMaster() bool {
	var only *core.Master
	for i, m := range t.cat.Masters {
		if m.Performs(t.st.Service) {
			if only != nil {
				return false
			}
			only = &t.cat.Masters[i]
		}
	}
	if only == nil {
		return false
	}
	t.st.Master = only.ID
	t.addNote(t.p.T("one.master", "Service", t.service(t.st.Service).NameIn(t.p.Lang()), "Master", only.NameIn(t.p.Lang())))
	return true
}

// addNote adds a sentence to what is said before the next question.
func (t *turn) addNote(line string) {
	if t.note != "" {
		line = t.note + " " + line
	}
	t.note = line
}

// advance asks for what the flow still lacks: the service, the master (none
// asked when one does the service; no preference when a day or time was
// named), the day (today or tomorrow when only a time was named), then the
// time, placed against the day's free times when one was named.
func (t *turn) advance() {
	st := &t.st
	moving := t.moving()
	if st.Service == "" {
		if len(t.cat.Services) == 1 {
			st.Service = t.cat.Services[0].ID
		} else {
			st.Step, st.Page = stepService, 0
			t.ask()
			return
		}
	}
	if st.Master == "" && !t.soleMaster() {
		if st.Day == "" && st.Want == "" {
			st.Step = stepMaster
			t.ask()
			return
		}
		st.Master = booking.AnyMaster
	}
	times, period := t.wanted()
	if st.Day == "" {
		if len(times) == 0 {
			st.Step, st.Page, st.DayPages = stepDay, 0, nil
			if moving {
				st.Step = stepMoveDay
			}
			t.ask()
			return
		}
		st.Day = t.dayFor(times[0]).String()
	}
	st.Step, st.Page = stepTime, 0
	if moving {
		st.Step = stepMoveTime
	}
	switch {
	case len(times) > 0:
		t.place(times)
	case period != nil:
		st.Want, st.Period, t.partAsked = "", period.String(), true
		t.ask() // a day with no time in the part asked says so (timeAsk)
	default:
		t.ask()
	}
}

// dayFor is the day a time named without one means: today while it can
// still be booked, else tomorrow.
func (t *turn) dayFor(c core.ClockTime) core.Date {
	today := t.today()
	if at, ok := today.At(c, t.cat.Salon.Timezone); ok && !at.Before(t.now.Add(t.cat.Salon.Policy.MinNotice)) {
		return today
	}
	return today.AddDays(1)
}

// wallClock is the local time of day of an instant.
func wallClock(at time.Time, zone *time.Location) core.ClockTime {
	l := at.In(zone)
	return core.ClockTime(l.Hour()*60 + l.Minute())
}

// place puts the times named on the flow's day: a free one is taken as if
// pressed (a move asks first); else the nearest free times that day are
// offered, or, with none that day, the nearest on the next days.
func (t *turn) place(times []core.ClockTime) {
	p := t.p
	st := &t.st
	st.Want = ""
	d, err := core.ParseDate(st.Day)
	if err != nil {
		t.ask()
		return
	}
	slots, err := t.free(d, 1)
	if err != nil {
		t.addNote(p.T("error.unavailable"))
		t.ask()
		return
	}
	for _, c := range times {
		for _, s := range slots {
			if p.Time(s.Start) == c.String() {
				t.take(s)
				return
			}
		}
	}
	// An hour of the night named with a day ("Saturday at midnight", "в
	// субботу в час ночи") may be the night after it: a shift that starts that
	// day and runs past midnight.
	// "at 1" is 01:00 or 13:00: the nearest to the one within the hours.
	if i := slices.IndexFunc(times, func(c core.ClockTime) bool { return !t.outsideHours(d, c) }); i > 0 {
		times = append([]core.ClockTime{times[i]}, slices.Delete(slices.Clone(times), i, i+1)...)
	}
	zone := t.cat.Salon.Timezone
	want := time.Date(d.Year, d.Month, d.Day, int(times[0])/60, int(times[0])%60, 0, 0, zone)
	if slices.ContainsFunc(times, func(c core.ClockTime) bool { return c < nightEnds }) {
		if night, err := t.free(d.AddDays(1), 1); err == nil {
			for _, c := range times {
				for _, s := range night {
					if c < nightEnds && p.Time(s.Start) == c.String() && t.shiftFrom(s, d) {
						t.take(s)
						return
					}
				}
			}
			// Taken: the nearest are looked for in that night too.
			if times[0] < nightEnds && t.nightShift(d) {
				n := d.AddDays(1)
				want = time.Date(n.Year, n.Month, n.Day, int(times[0])/60, int(times[0])%60, 0, 0, zone)
				for _, s := range night {
					if t.shiftFrom(s, d) {
						slots = append(slots, s)
					}
				}
			}
		}
	}
	if len(slots) > 0 {
		near := nearestSlots(slots, want, 3)
		key := "near.master"
		if st.Master == booking.AnyMaster {
			key = "near.any"
		}
		r := Reply{Text: ucFirst(p.T(key, "Master", t.masterName(st.Master), "Time", times[0].String(), "When", t.when(d),
			"Times", t.timesText(near)))}
		if t.outsideHours(d, times[0]) { // "at 8" where the day starts at 10: the hours, then the nearest
			key := "why.hours_master"
			if st.Master == booking.AnyMaster {
				key = "why.hours"
			}
			r.Text = ucFirst(p.T(key, "Master", t.masterName(st.Master), "Service", t.service(st.Service).NameIn(p.Lang()),
				"When", t.when(d), "WhenEnd", t.whenEnd(d), "Hours", t.hoursText(d))) + " " + p.T("why.near_list", "Times", t.timesText(near))
		}
		for _, s := range near {
			r.Choices = append(r.Choices, Choice{ID: prefTime + strconv.FormatInt(s.Start.Unix(), 10), Label: p.Time(s.Start)})
		}
		t.offer(r)
		return
	}
	// Nothing that day: why, and the nearest free times on the nearest day
	// that has some (nothing.go).
	why, full := t.whyNone(d)
	other, onDay, _, ok := t.nearestDay(d, nil) // the times nearest the one asked
	if !ok {
		t.ask() // the day's own answer: why, and the wait-list where it is offered
		return
	}
	near := nearestSlots(onDay, time.Date(other.Year, other.Month, other.Day, int(times[0])/60, int(times[0])%60, 0, 0, zone), 3)
	canWait := full && st.Step == stepTime && t.offersTo() && t.wholeDayBookable(d)
	if canWait {
		why += " " + t.notifyDay(d)
	}
	t.addNote(why)
	r := Reply{Text: p.T("why.near_times", "WhenEnd", t.whenEnd(other), "Times", t.timesText(near))}
	if m := oneMaster(near); st.Master == booking.AnyMaster && m != "" { // "Anna is free at 10:30, 11:00 and 11:30 on …"
		var times []string
		for _, s := range near {
			times = append(times, p.Time(s.Start))
		}
		r.Text = ucFirst(p.T("why.near_one", "Master", t.masterName(m), "When", t.when(other), "WhenEnd", t.whenEnd(other),
			"Times", joinAnd(p.T("list.and"), times)))
	}
	st.Day = other.String()
	for _, s := range near {
		r.Choices = append(r.Choices, Choice{ID: prefTime + strconv.FormatInt(s.Start.Unix(), 10), Label: p.Time(s.Start)})
	}
	if canWait {
		r.Choices = append(r.Choices, *t.waitDayChoice(d))
	}
	t.offer(r)
}

// oneMaster is the master of every slot, if they share one, else "".
func oneMaster(slots []availability.Slot) string {
	if len(slots) == 0 {
		return ""
	}
	for _, s := range slots {
		if s.MasterID != slots[0].MasterID {
			return ""
		}
	}
	return slots[0].MasterID
}

// offer sends the nearest free times found for a typed time, with Another
// day and Menu; the note, if any, before them.
func (t *turn) offer(r Reply) {
	t.st.Near = true
	r.Choices = append(r.Choices, Choice{ID: optAnyDay, Label: t.p.T("btn.other_day")})
	if t.note != "" {
		r.Text = t.note + "\n\n" + r.Text
		t.note = ""
	}
	t.out = append(t.out, t.withMenu(r))
}

// take goes on with a free slot found for a typed time: a booking as if the
// time was pressed (name and phone if not known, then the hold and its
// confirmation); a move asks first, with a button.
func (t *turn) take(s availability.Slot) {
	p := t.p
	id := prefTime + strconv.FormatInt(s.Start.Unix(), 10)
	if t.moving() {
		master := t.st.Master
		if s.MasterID != "" {
			master = s.MasterID
		}
		d := core.DateOf(s.Start.In(t.cat.Salon.Timezone))
		t.offerMove(Reply{Text: ucFirst(p.T("move.offer", "Master", t.masterName(master), "When", t.when(d), "Time", p.Time(s.Start))),
			Choices: []Choice{{ID: id, Label: p.T("btn.move_here")}}})
		t.st.MoveHere = id
		return
	}
	if t.priceOnly { // "how much is a haircut with Anna on Thursday at 11?": the time offered, not held
		master := t.st.Master
		if s.MasterID != "" {
			master = s.MasterID
		}
		d := core.DateOf(s.Start.In(t.cat.Salon.Timezone))
		t.st.Day = d.String()
		t.offer(Reply{Text: ucFirst(p.T("price.offer", "Master", t.masterName(master), "When", t.when(d), "WhenEnd", t.whenEnd(d),
			"Time", p.Time(s.Start))), Choices: []Choice{{ID: id, Label: p.Time(s.Start)}}})
		return
	}
	t.in.Kind, t.in.Choice = KindChoice, id
	t.onTime()
}

// offerMove asks before a typed move: its button, Another day and Menu.
func (t *turn) offerMove(r Reply) { t.offer(r) }

// nearestSlots returns up to n of slots nearest to want, in time order.
func nearestSlots(slots []availability.Slot, want time.Time, n int) []availability.Slot {
	near := slices.Clone(slots)
	near = slices.CompactFunc(near, func(a, b availability.Slot) bool { return a.Start.Equal(b.Start) })
	slices.SortStableFunc(near, func(a, b availability.Slot) int {
		return cmp.Compare(absDur(a.Start.Sub(want)), absDur(b.Start.Sub(want)))
	})
	near = near[:min(n, len(near))]
	slices.SortFunc(near, func(a, b availability.Slot) int { return a.Start.Compare(b.Start) })
	return near
}

// timesText lists times for a sentence: "16:45 and 17:30"; with no master
// preference, each with its master: "16:45 (Anna) and 17:30 (Boris)".
func (t *turn) timesText(slots []availability.Slot) string {
	var items []string
	for _, s := range slots {
		item := t.p.Time(s.Start)
		if t.st.Master == booking.AnyMaster && s.MasterID != "" {
			item += " (" + t.masterName(s.MasterID) + ")"
		}
		items = append(items, item)
	}
	return joinAnd(t.p.T("list.and"), items)
}

// joinAnd joins items as a sentence lists them: "a", "a and b", "a, b and c".
func joinAnd(and string, items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + and + items[len(items)-1]
}

// when names a day in a sentence: "today", "tomorrow", "on Tuesday, 2 March"
// ("во вторник, 2 марта,").
func (t *turn) when(d core.Date) string {
	switch d {
	case t.today():
		return t.p.T("when.today")
	case t.today().AddDays(1):
		return t.p.T("when.tomorrow")
	}
	return t.p.T("when.on", "Weekday", t.p.T(fmt.Sprintf("weekday.on.%d", int(d.Weekday()))), "Day", d.Day,
		"Month", t.p.T(fmt.Sprintf("month.of.%d", int(d.Month))))
}

// longDate writes a day in full for a sentence after "up to" / "на":
// "Tuesday, 2 March" / "вторник, 2 марта".
func longDate(T func(string, ...any) string, d core.Date) string {
	return T("fmt.date_long", "Weekday", T(fmt.Sprintf("weekday.acc.%d", int(d.Weekday()))), "Day", d.Day,
		"Month", T(fmt.Sprintf("month.of.%d", int(d.Month))))
}

// ucFirst capitalises a sentence that begins with a day ("завтра в 17:00…").
func ucFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// movePrompt asks which master a booking should move to: those who do its
// service, but the one it has.
func (t *turn) moveMasterPrompt() Reply {
	p := t.p
	r := Reply{Text: p.T("ask.move_master")}
	for _, m := range t.cat.Masters {
		if m.Performs(t.st.Service) && m.ID != t.st.Master {
			r.Choices = append(r.Choices, Choice{ID: prefMaster + m.ID, Label: label(m.NameIn(t.p.Lang()))})
		}
	}
	if len(r.Choices) > pageServices {
		r.Choices = r.Choices[:pageServices]
	}
	r.Choices = append(r.Choices, Choice{ID: optAnyDay, Label: p.T("btn.back")})
	return t.withMenu(r)
}

// onMoveMaster takes the master a booking moves to, and asks the day.
func (t *turn) onMoveMaster() {
	if t.in.Choice == optAnyDay {
		t.st.Step, t.st.Page, t.st.DayPages = stepMoveDay, 0, nil
		t.ask()
		return
	}
	id, ok := strings.CutPrefix(t.in.Choice, prefMaster)
	if !ok || id == booking.AnyMaster || !t.masterDoes(id, t.st.Service) {
		t.again()
		return
	}
	t.st.Master, t.st.Step, t.st.Page, t.st.Day, t.st.DayPages = id, stepMoveDay, 0, "", nil
	t.ask()
}

// othersDo reports whether another master than the flow's does its service
// (a move may then change master).
func (t *turn) othersDo() bool {
	for _, m := range t.cat.Masters {
		if m.Performs(t.st.Service) && m.ID != t.st.Master {
			return true
		}
	}
	return false
}

// nightEnds: hours before it, said with a day, may be the night after that day.
const nightEnds = core.ClockTime(6 * 60)

// nightShift reports whether a master of the flow has a shift on local day d
// that runs past midnight.
func (t *turn) nightShift(d core.Date) bool {
	for _, m := range t.flowMasters() {
		for _, r := range shifts(m, d) {
			if r.CrossesMidnight() && r.End > 0 {
				return true
			}
		}
	}
	return false
}

// shiftFrom reports whether slot s lies in a shift of its master that starts
// on local day d (a night shift running past midnight).
func (t *turn) shiftFrom(s availability.Slot, d core.Date) bool {
	for _, m := range t.cat.Masters {
		if m.ID != s.MasterID || containsDate(m.DaysOff, d) {
			continue
		}
		for _, r := range m.Hours[d.Weekday()] {
			span := r.On(d, t.cat.Salon.Timezone)
			if r.CrossesMidnight() && !s.Start.Before(span.Start) && s.Start.Before(span.End) {
				return true
			}
		}
	}
	return false
}
