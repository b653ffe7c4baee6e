package dialog

import (
	"context"
	"strconv"
	"strings"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog/understand"
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
	CancelByClient(ctx context.Context, salonID, bookingID string) (*core.Booking, error)
	Release(ctx context.Context, salonID, bookingID string) (bool, error)
	Move(ctx context.Context, salonID, bookingID, masterID string, start time.Time) (*core.Booking, error)
	Get(ctx context.Context, salonID, bookingID string) (*core.Booking, error)
	Coming(ctx context.Context, salonID, bookingID string) (*core.Booking, error)
	Upcoming(ctx context.Context, salonID, source string) ([]core.Booking, error)
	Paid(ctx context.Context, salonID, bookingID string, p booking.Payment) (*booking.PaidResult, error)
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
	optBook      = "book"
	optMine      = "mine"
	optLanguage  = "lang"
	optHelp      = "help"
	optMenu      = "menu"
	optMore      = "more"
	optConfirm   = "ok"
	optOther     = "other" // another time (drops the hold)
	optDrop      = "drop"  // cancel the flow (drops the hold)
	optWaitlist  = "wl"
	optAnyDay    = "days" // back to the days
	prefService  = "s:"   // s:<service id>
	prefMaster   = "m:"   // m:<master id> or m:any
	prefDay      = "d:"   // d:YYYY-MM-DD
	prefTime     = "t:"   // t:<unix seconds>
	prefBooking  = "b:"   // b:<booking id>
	prefMove     = "mv:"  // mv:<booking id>, or mv:<booking id>:<start, unix seconds> from a reminder
	prefCancel   = "cx:"  // cx:<booking id>, or cx:<booking id>:<unix> from a reminder
	prefComing   = "ok:"  // ok:<booking id>:<unix>: "I'll come", from a reminder (ok:<booking id> from older ones)
	prefLang     = "l:"   // l:<language>
	prefOfferYes = "wy:"  // wy:<booking id>: "Book it", from a wait-list offer
	prefOfferNo  = "wn:"  // wn:<booking id>: "No, thanks", from a wait-list offer
	prefLeave    = "wx:"  // wx:<wait-list entry id>: leave the wait-list, from "My bookings"
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
	pushed   Pushed
	privacy  Privacy
	catalog  *i18n.Catalog
	clock    core.Clock
	idle     time.Duration
	noOffers []string
	payments Payments
	refs     References
	calURL   func(token string) string
	// coming are the labels of a reminder's "I'll be there" in every
	// language: typed text mid-flow is read against the pushed messages only
	// when it is one of them (or the coming words).
	coming []string
	// adChannels: Config.AdChannels.
	adChannels []string
	// typedWords: the parser and open hours of the catalog last read.
	typedWords wordsCache
}

// Config builds an Engine.
type Config struct {
	SalonID  string
	Bookings Bookings
	Waitlist Waitlist
	// Pushed reads the reminders and offers sent to a chat, so that typed text
	// at the menu can answer them; nil: typed text is never such an answer.
	Pushed Pushed
	// Privacy erases a chat's data on request ("delete my data", a button
	// under Help); nil: not offered.
	Privacy Privacy
	Catalog *i18n.Catalog
	Clock   core.Clock
	// Idle is the silence after which a flow under way is dropped (the client
	// keeps the language and the name and phone they gave). Default 30 minutes.
	Idle time.Duration
	// NoOffers are the channels a message cannot be sent to unasked (the web
	// chat): their chats are not offered "Notify me", since no wait-list offer
	// could reach them.
	NoOffers []string
	// Payments makes the link to a hosted payment page for the chats whose
	// channel does not take payments itself; nil: every chat gets an invoice
	// (Reply.Invoice).
	Payments Payments
	// References gives a booking its short reference and calendar token for
	// the booked message; nil: the message has neither.
	References References
	// CalendarURL is the address of a booking's calendar file by its token;
	// nil: the booked message has no "Add to calendar" link.
	CalendarURL func(token string) string
	// AdChannels are the channels whose chats' bookings may be reported to
	// the ad platform (Meta's Conversions API, when it is on): the privacy
	// note says so there. None: reporting is off.
	AdChannels []string
}

// NewEngine returns an Engine.
func NewEngine(c Config) *Engine {
	if c.Idle == 0 {
		c.Idle = 30 * time.Minute
	}
	var coming []string
	if c.Catalog != nil {
		for _, lang := range c.Catalog.Languages() {
			coming = append(coming, c.Catalog.Printer(lang, time.UTC).T("btn.coming"))
		}
	}
	return &Engine{salonID: c.SalonID, bookings: c.Bookings, waitlist: c.Waitlist, pushed: c.Pushed, catalog: c.Catalog, clock: c.Clock, idle: c.Idle,
		noOffers: c.NoOffers, privacy: c.Privacy, payments: c.Payments, refs: c.References, calURL: c.CalendarURL,
		adChannels: c.AdChannels, coming: coming}
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
	note string    // said before the next prompt, in the same message
	did  bool      // something the client asked for was done this turn (booked, cancelled, moved…)
	last time.Time // when the conversation's previous step was (zero: none stored)
	keep bool      // a press on a pushed message (a reminder) that must stay: answered as new messages
	typing
}

// Step answers one inbound event. It always answers with at least one reply: a
// failure of the booking engine becomes an apology and the menu, never silence.
func (e *Engine) Step(ctx context.Context, key ChatKey, st State, in Inbound) (State, []Reply) {
	ctx = booking.WithActor(ctx, booking.ActorChat) // what a chat changes is the client's doing
	t := &turn{ctx: ctx, e: e, key: key, in: in, st: st, now: e.clock.Now(), last: st.Updated}
	t.began = st.Step
	t.moveHere, t.st.MoveHere = t.st.MoveHere, ""
	t.near, t.st.Near = t.st.Near, false
	cat, err := e.bookings.Catalog(ctx, e.salonID)
	if err != nil {
		p := e.catalog.Printer(e.catalog.Match(in.LangHint, nil), time.UTC)
		return st, []Reply{{Text: p.T("error.unavailable")}}
	}
	t.cat = cat
	if t.st.Lang == "" || !containsString(cat.Salon.Locales, t.st.Lang) {
		t.st.Lang, t.st.LangAuto = e.catalog.Match(in.LangHint, cat.Salon.Locales), true
	}
	t.p = e.catalog.Printer(t.st.Lang, cat.Salon.Timezone)
	if in.Kind == KindText {
		t.followTyped(in.Text) // a sentence in another of the salon's languages (language.go)
	}
	if t.st.Step != stepMenu && !t.st.Updated.IsZero() && t.now.Sub(t.st.Updated) > e.idle {
		t.reset()
		t.note = t.p.T("flow.expired")
	}
	t.run()
	t.st.Updated = t.now
	if len(t.out) == 0 { // every path ends in a prompt; this is a guard, not a plan
		t.menu()
	}
	if t.keep {
		t.out[0].NoEdit = true
	}
	if t.st.Forget {
		t.out[0].Forget = true // the update that asked is not kept either
	}
	t.markKeyboard()
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

// markKeyboard marks the replies whose rendering depends on the contact
// button: a contact request, and the first reply after one (the phone given,
// or anything else the client did instead), which removes the button unless
// the step asks again; when that reply has choices or is an invoice, a
// KeyboardOnly reply is put before it to remove the button instead. Whether it was shown is read from the step stored
// before this one, never from a process's memory.
func (t *turn) markKeyboard() {
	asks := false
	for i := range t.out {
		if t.out[i].RequestContact {
			asks = true
			t.out[i].Lang = t.st.Lang
		}
	}
	if t.began == stepPhone && !asks {
		if len(t.out[0].Choices) == 0 && t.out[0].Invoice == nil {
			t.out[0].RemoveKeyboard = true
			t.out[0].Lang = t.st.Lang
			return
		}
		// The reply cannot carry the removal: a short reply of its own goes
		// first, its own message in the outbox (one send, one token of the
		// limits, retried alone).
		gone := Reply{Text: t.p.T("chat.keyboard_gone"), RemoveKeyboard: true, KeyboardOnly: true, Lang: t.st.Lang}
		t.out = append([]Reply{gone}, t.out...)
	}
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
	if t.eraseAsked(in) { // "delete my data", whatever the step
		return
	}
	if t.lookupAsked(in) { // a booking reference and a phone (lookup.go)
		return
	}
	switch in.Kind {
	case KindCommand:
		t.command(in.Text)
		return
	case KindPaid:
		t.onPaid()
		return
	case KindText:
		t.in = in
		// At the menu, an answer to a reminder or offer sent since (a
		// WhatsApp template's has no buttons); else a number answers the
		// numbered list the client was shown (channels without buttons show
		// one); at a time step an hour is a time.
		id, answered := t.pushedReply(in.Text)
		if id == "" && !answered {
			id, answered = t.typed(in.Text)
		}
		if answered {
			return
		}
		if id != "" {
			in.Kind, in.Choice = KindChoice, id
		} else if t.understood(in.Text) {
			return // read as words: a request, a menu word, an answer
		}
	}
	t.in = in
	if in.Kind == KindChoice && (strings.HasPrefix(in.Choice, prefOfferYes) || strings.HasPrefix(in.Choice, prefOfferNo)) {
		t.onOffer() // from an offer message, whatever the step
		return
	}
	if in.Kind == KindChoice {
		switch in.Choice {
		case optMenu:
			t.reset()
			t.menu()
			return
		case optHelp:
			t.help()
			return
		case optLanguage:
			t.st.Step = stepLanguage
			t.ask()
			return
		}
		if t.press() { // a booking's button (a reminder's), in any step
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
	case stepMoveMaster:
		t.onMoveMaster()
	case stepErase:
		t.onErase()
	case stepAskCancel, stepAskMove:
		t.onAsk()
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
		t.help()
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
// time alone ("11", "11:30", "9.30", "5pm", "в 5 вечера") is first a time: one
// shown with that label, then (a bare number n) the n-th choice if that is a
// time, then a time of the day's offer on any page; a time not offered is
// answered with the nearest offered times (answered is then true). An hour
// that may be morning or evening ("5") is read as the salon's hours say (17:00
// in a salon open 9 to 20), the other reading tried too. Elsewhere a number n
// picks the n-th choice shown, except where a name or phone is asked. It
// returns the choice id, or "".
func (t *turn) typed(text string) (id string, answered bool) {
	if t.st.Step == stepName || t.st.Step == stepPhone {
		return "", false
	}
	if t.st.Shown == nil && !t.st.Updated.IsZero() {
		// Stored before the list shown was kept: the list the step shows now.
		saved := t.st
		for _, c := range t.prompt().Choices {
			saved.Shown = append(saved.Shown, c.ID)
		}
		t.st = saved
	}
	n, err := strconv.Atoi(strings.TrimSpace(text))
	var shown string
	if err == nil && n >= 1 && n <= len(t.st.Shown) {
		shown = t.st.Shown[n-1]
	}
	if t.st.Step != stepTime && t.st.Step != stepMoveTime {
		return shown, false
	}
	if t.st.Step == stepMoveTime && !bareClock(text) {
		// A move presses only a clock alone ("11", "11:30"): "what about
		// 11am?" is read as a request, whose move asks first (take).
		return shown, false
	}
	r := t.parse(text, true)
	if len(r.Times) == 0 || r.HasDay || len(r.Services) > 0 || len(r.Masters) > 0 || r.Intent != understand.None {
		return shown, false // not a time alone: a number picks, words are read as a request
	}
	if t.st.Step == stepMoveTime {
		r.Times = r.Times[:1] // the other reading is offered (nearest), never pressed
	}
	labelled := func(want core.ClockTime) string {
		for _, c := range t.st.Shown {
			if at, ok := t.timeOf(c); ok && t.p.Time(at) == want.String() && t.isDay(at) {
				return c
			}
		}
		return ""
	}
	if err == nil { // a bare number: the hour as written, then the n-th choice, then the other reading
		if n >= 0 && n < 24 && (t.st.Step != stepMoveTime || core.ClockTime(n*60) == r.Times[0]) {
			if c := labelled(core.ClockTime(n * 60)); c != "" {
				return c, false
			}
		}
		if strings.HasPrefix(shown, prefTime) {
			return shown, false
		}
	}
	for _, want := range r.Times {
		if c := labelled(want); c != "" {
			return c, false
		}
	}
	d, err := core.ParseDate(t.st.Day)
	if err != nil {
		return shown, false
	}
	slots, err := t.free(d, 1)
	if err != nil || len(slots) == 0 {
		return shown, false // no times that day: the numbers are the list's
	}
	for _, want := range r.Times {
		for _, s := range slots {
			if t.p.Time(s.Start) == want.String() {
				return prefTime + strconv.FormatInt(s.Start.Unix(), 10), false
			}
		}
	}
	first := r.Times[0]
	t.nearest(d, first.String(), time.Date(d.Year, d.Month, d.Day, int(first)/60, int(first)%60, 0, 0, t.cat.Salon.Timezone), slots)
	return "", true
}

// bareClock reports whether text is a clock alone: "11", "11:30", "9.30".
func bareClock(text string) bool {
	s := strings.TrimSpace(text)
	h, m, hasMin := strings.Cut(s, ":")
	if !hasMin {
		h, m, hasMin = strings.Cut(s, ".")
	}
	digits := func(s string, lo, hi int) bool {
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		return len(s) >= lo && len(s) <= hi
	}
	return digits(h, 1, 2) && (!hasMin || digits(m, 2, 2))
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
		return t.servicePrompt()
	case stepMaster:
		return t.masterPrompt()
	case stepDay, stepMoveDay:
		return t.dayPrompt()
	case stepTime, stepMoveTime:
		return t.timeAsk() // as ask sends it (a day with nothing free: the nearest day's times)
	case stepName:
		return t.namePrompt()
	case stepPhone:
		return Reply{Text: p.T("ask.phone"), RequestContact: true, Choices: []Choice{{ID: optMenu, Label: p.T("btn.menu")}}}
	case stepConfirm:
		return t.confirmPrompt()
	case stepMine:
		return t.minePrompt()
	case stepBooking:
		return t.bookingPrompt()
	case stepLanguage:
		return t.languagePrompt()
	case stepMoveMaster:
		return t.moveMasterPrompt()
	case stepErase:
		return t.erasePrompt()
	case stepAskCancel, stepAskMove:
		return t.askPrompt()
	}
	text := p.T("menu.text", "Salon", t.cat.Salon.Name)
	switch {
	case t.did: // something was done: offer more
		text = p.T("menu.again")
	case t.note != "": // after an answer the client has heard the greeting already
		text = p.T("menu.choose")
	}
	return Reply{Text: text, Choices: []Choice{
		{ID: optBook, Label: p.T("btn.book")},
		{ID: optMine, Label: p.T("btn.mine")},
		{ID: optLanguage, Label: p.T("btn.language")},
		{ID: optHelp, Label: p.T("btn.help")},
	}}
}

func (t *turn) onMenu() {
	switch t.in.Choice {
	case optBook:
		t.st.Step, t.st.Page = stepService, 0
		if len(t.cat.Services) == 1 {
			t.st.Service = t.cat.Services[0].ID
			t.toMaster()
			return
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
