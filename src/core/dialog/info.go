package dialog

import (
	"fmt"
	"strings"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/dialog/understand"
)

// Questions a receptionist answers from the salon file: prices and
// durations, the address, the opening hours, the phone, "I'm late",
// "thanks". The answer goes before the question under way (a flow is not
// dropped for it), or, at the menu, before a way to book: the service's
// booking for a price asked of one, the list of services with their prices.

// infoAsked answers r's question, if it asks one, and reports whether it did.
func (t *turn) infoAsked(r understand.Request) bool {
	p := t.p
	salon := t.cat.Salon
	switch r.Intent {
	case understand.Price:
		if t.bookingFlow() || t.moving() {
			for _, id := range r.Services {
				t.addNote(t.priceLine(id))
			}
			if len(r.Services) == 0 && t.st.Service != "" {
				t.addNote(t.priceLine(t.st.Service))
			}
			t.ask()
			return true
		}
		if len(r.Services) == 1 {
			t.reset()
			t.addNote(t.priceLine(r.Services[0]))
			t.priceOnly = true // a time named is offered, not held
			t.bookFill(understand.Request{Services: r.Services, Masters: r.Masters, Day: r.Day, HasDay: r.HasDay,
				Times: r.Times, Period: r.Period, HasPeriod: r.HasPeriod})
			return true
		}
		t.reset()
		t.st.Step, t.st.Page = stepService, 0
		t.ask() // the services with their prices and durations, as buttons to book
		return true
	case understand.Address: // the salon file may have no address or no phone
		switch {
		case salon.Address == "":
			t.addNote(t.phoneLine())
		case salon.Phone == "":
			t.addNote(p.T("info.address_only", "Address", salon.Address))
		default:
			t.addNote(p.T("info.address", "Address", salon.Address, "Phone", salon.Phone))
		}
	case understand.Phone:
		t.addNote(t.phoneLine())
	case understand.Hours:
		if len(r.Services) > 0 || len(r.Masters) > 0 {
			return false // "are you open tomorrow for a haircut?": its times answer it
		}
		if r.HasDay {
			t.addNote(t.hoursOn(r.Day))
		} else {
			t.addNote(t.weekHours())
		}
	case understand.Late:
		if salon.Phone == "" {
			t.addNote(p.T("info.late_no_phone"))
		} else {
			t.addNote(p.T("info.late", "Phone", salon.Phone))
		}
	case understand.Thanks:
		if r.Slot() {
			return false
		}
		// "Спасибо" in an English chat: the welcome in the language it was
		// written in (one word does not switch the chat's language).
		if l := scriptLang(t.in.Text); l != "" && l != p.Lang() && containsString(salon.Locales, l) &&
			containsString(t.e.catalog.Languages(), l) {
			t.addNote(t.e.catalog.Printer(l, salon.Timezone).T("info.welcome"))
		} else {
			t.addNote(p.T("info.welcome"))
		}
	default:
		return false
	}
	t.did = true // a question answered: at the menu, "Anything else I can do for you?"
	t.ask()      // the step under way; at the menu, the menu
	return true
}

// Messages that send the client to the salon's phone have a _no_phone form
// for a salon file without one (as info.late / info.late_no_phone): phoneMsg
// and phoneN pick it.

// phoneMsg is message key with the salon's phone (data plus "Phone"), or,
// with none in the salon file, its key_no_phone form.
func (t *turn) phoneMsg(key string, data ...any) string {
	if t.cat.Salon.Phone == "" {
		return t.p.T(key+"_no_phone", data...)
	}
	return t.p.T(key, append(data, "Phone", t.cat.Salon.Phone)...)
}

// phoneN is phoneMsg for a message with plural forms (i18n N).
func (t *turn) phoneN(key string, n int, data ...any) string {
	if t.cat.Salon.Phone == "" {
		return t.p.N(key+"_no_phone", n, data...)
	}
	return t.p.N(key, n, append(data, "Phone", t.cat.Salon.Phone)...)
}

// tooLate is cancel.too_late: a change inside the cancellation cutoff.
func (t *turn) tooLate() string { return t.phoneMsg("cancel.too_late") }

// depositUnavailable is deposit.unavailable: a deposit this chat cannot pay.
func (t *turn) depositUnavailable() string { return t.phoneMsg("deposit.unavailable") }

// phoneLine gives the salon's phone, or, with none in the salon file, says
// to write here.
func (t *turn) phoneLine() string {
	if t.cat.Salon.Phone == "" {
		return t.p.T("info.no_phone")
	}
	return t.p.T("info.phone", "Phone", t.cat.Salon.Phone)
}

// priceLine is a service's price and duration as a sentence: "A haircut
// is €35 and takes 45 min."
func (t *turn) priceLine(id string) string {
	s := t.service(id)
	return t.p.T("price.line", "Name", s.NameIn(t.p.Lang()), "Duration", t.p.Duration(s.Duration), "Price", t.p.Price(s.Price))
}

// salonShifts are the hours some master works on weekday wd (or, with d,
// on that day, days off counted), merged.
func (t *turn) salonShifts(wd time.Weekday, d *core.Date) []core.ClockRange {
	var rs []core.ClockRange
	for _, m := range t.cat.Masters {
		if d != nil {
			rs = append(rs, dayShifts(m, *d)...)
		} else {
			rs = append(rs, m.Hours[wd]...)
		}
	}
	return mergeRanges(rs)
}

// rangesText writes hours for a sentence: "from 09:00 to 13:00 and from
// 14:00 to 20:00".
func (t *turn) rangesText(rs []core.ClockRange) string { return t.rangesIn("hours.range", rs) }

// rangesIn writes hours with the range's key: hours.range in a sentence,
// hours.range_list in the week's list ("09:00–13:00").
func (t *turn) rangesIn(key string, rs []core.ClockRange) string {
	var items []string
	for _, r := range rs {
		items = append(items, t.p.T(key, "From", r.Start.String(), "To", (r.End%(24*60)).String()))
	}
	return joinAnd(t.p.T("list.and"), items)
}

// weekHours lists the salon's hours, Monday first.
func (t *turn) weekHours() string {
	lines := []string{t.p.T("info.hours")}
	for i := 1; i <= 7; i++ {
		wd := time.Weekday(i % 7)
		hours := t.p.T("info.closed")
		if rs := t.salonShifts(wd, nil); len(rs) > 0 {
			hours = t.rangesIn("hours.range_list", rs)
		}
		lines = append(lines, "• "+t.p.T("info.hours_line", "Weekday", ucFirst(t.p.T(fmt.Sprintf("weekday_long.%d", i%7))), "Hours", hours))
	}
	return strings.Join(lines, "\n")
}

// hoursOn says the salon's hours on local day d.
func (t *turn) hoursOn(d core.Date) string {
	rs := t.salonShifts(d.Weekday(), &d)
	if len(rs) == 0 {
		return ucFirst(t.p.T("why.closed", "When", t.when(d), "WhenEnd", t.whenEnd(d)))
	}
	return ucFirst(t.p.T("info.hours_day", "When", t.when(d), "WhenEnd", t.whenEnd(d), "Hours", t.rangesText(rs)))
}
