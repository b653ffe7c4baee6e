package understand

import (
	"time"

	"salonbook/src/core"
)

// Intent is a menu word or a short answer: what the client wants done, as
// opposed to what they want booked.
type Intent string

// The intents. None: the message names no menu word.
const (
	None        Intent = ""
	Book        Intent = "book"         // "book", "записаться"
	Mine        Intent = "mine"         // "my bookings", "мои записи"
	Cancel      Intent = "cancel"       // "cancel", "отменить"
	Move        Intent = "move"         // "reschedule", "перенести"
	Help        Intent = "help"         // "help", "помощь", "?"
	Menu        Intent = "menu"         // "menu", "start over", "меню"
	Language    Intent = "language"     // "language", "язык", "English", "по-русски" (Request.Lang)
	Yes         Intent = "yes"          // "yes", "да", "confirm"
	No          Intent = "no"           // "no", "нет"
	Earlier     Intent = "earlier"      // "earlier", "раньше"
	Later       Intent = "later"        // "later", "позже", "more times"
	OtherDay    Intent = "other_day"    // "another day", "другой день"
	OtherMaster Intent = "other_master" // "another master", "change master", "другой мастер"

	// Questions a receptionist answers (the answer comes from the salon file).
	Price   Intent = "price"   // "how much is a haircut", "сколько стоит", "цены", "what services"
	Address Intent = "address" // "where are you", "адрес", "как добраться"
	Hours   Intent = "hours"   // "opening hours", "are you open on Sunday", "часы работы", "до скольки"
	Phone   Intent = "phone"   // "your phone number", "какой у вас телефон"
	Late    Intent = "late"    // "I'm late", "я опоздаю"
	Thanks  Intent = "thanks"  // "thanks", "спасибо"
)

// AnyMaster is Request.Masters when the client has no preference ("any
// master", "не важно к кому"); the booking engine's own word for it.
const AnyMaster = "any"

// Entry is something the salon's clients may name: a service or a master.
type Entry struct {
	ID    string
	Names []string // every name it has, in every language, and the salon file's aliases
}

// Catalog is what a salon's clients may name.
type Catalog struct {
	Services []Entry
	Masters  []Entry
}

// Context is what a message is read against.
type Context struct {
	Now  time.Time      // the instant the message is read: "today" is its date in Zone
	Zone *time.Location // the salon's zone
	// Open reports whether the salon works at a wall-clock time (on any day):
	// it settles an hour said without morning or evening ("at 5" in a salon
	// open 9 to 20 is 17:00). Nil: hours 1 to 7 are afternoon.
	Open func(core.ClockTime) bool
	// ExpectTime: a bare number is an hour ("5", "11"): the client was just
	// asked for a time.
	ExpectTime bool
}

// Request is what one message says.
type Request struct {
	Intent Intent
	Lang   string // Intent Language: the language named ("en", "ru"), or ""
	// Booking: the message speaks of a booking ("cancel my booking",
	// "отменить запись"), not only of what is under way ("cancel").
	Booking bool
	// Pure: the message is the intent's words alone (and a please): "yes",
	// "да, подтверждаю", not "ok but can we do 6 instead?". Only a pure yes
	// confirms.
	Pure bool

	// Services and Masters are the catalog ids the message names, best first:
	// more than one is an ambiguity to ask about. Masters is [AnyMaster] for
	// "any master".
	Services []string
	Masters  []string

	// Day is the local date named, when HasDay.
	Day    core.Date
	HasDay bool
	// Times are the wall-clock times the message may mean, likeliest first:
	// "at 5" is 17:00 then 05:00; "17:30" is one. Empty: no time.
	Times []core.ClockTime
	// Period is a part of the day ("tomorrow evening"), when HasPeriod and
	// no time was named.
	Period    core.ClockRange
	HasPeriod bool
	// Unsure: two different days or times were named ("Friday or
	// Saturday"): neither is kept, so that which is asked.
	Unsure bool
}

// Empty reports whether nothing in the message was understood.
func (r Request) Empty() bool {
	return r.Intent == None && len(r.Services) == 0 && len(r.Masters) == 0 && !r.HasDay && len(r.Times) == 0 && !r.HasPeriod
}

// Slot reports whether the message says something about what to book (a
// service, a master, a day or a time), beyond a menu word.
func (r Request) Slot() bool {
	return len(r.Services) > 0 || len(r.Masters) > 0 || r.HasDay || len(r.Times) > 0 || r.HasPeriod
}

// Parser reads messages against one catalog.
type Parser struct {
	services []entry
	masters  []entry
}

// New prepares a parser for a catalog. A master's names are also matched
// transliterated ("Anna" is found in "к Анне", "Анна" in "with Anna"); a
// service's are matched as written, in every language it has.
func New(c Catalog) *Parser {
	return &Parser{services: compile(c.Services, false), masters: compile(c.Masters, true)}
}

// Parse reads one message. It never fails: what it does not understand is
// left out of the Request.
func (p *Parser) Parse(text string, x Context) Request {
	if x.Zone == nil {
		x.Zone = time.UTC
	}
	var r Request
	ts := tokens(text)
	if isQuestionMark(text) {
		r.Intent = Help
		return r
	}
	s := &scan{ts: ts, x: x, today: core.DateOf(x.Now.In(x.Zone))}
	s.when(&r)
	s.intents(&r)
	p.names(s.ts, &r)
	return r
}

// isQuestionMark: a lone "?" asks for help.
func isQuestionMark(text string) bool {
	n := 0
	for _, r := range text {
		switch r {
		case '?', '¿', ' ', '\t', '\n':
			if r != ' ' && r != '\t' && r != '\n' {
				n++
			}
		default:
			return false
		}
	}
	return n > 0
}
