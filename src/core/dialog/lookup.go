package dialog

import (
	"strings"
	"unicode"

	"salonbook/src/core"
	"salonbook/src/core/phone"
)

// A booking from another device: typed text that is a booking reference and
// a phone number ("K7M3PX +49 151 23456789"), at the menu or in My bookings,
// shows that booking when both match, read-only (changes stay with the chat
// that booked, or the salon's phone). A miss says nothing of which part did
// not match; tries are counted per chat and per reference (References.Find).

// refAlphabet is what references are written with (postgres.RefAlphabet).
const refAlphabet = "ACDEFHJKMNPRTUVWXY34679"

// refAndPhone reads "REF phone" (the reference in any case, punctuation
// around it ignored); ok is false for anything else.
func refAndPhone(text, region string) (ref, e164 string, ok bool) {
	f := strings.Fields(text)
	if len(f) < 2 {
		return "", "", false
	}
	ref = strings.ToUpper(strings.TrimFunc(f[0], func(r rune) bool { return unicode.IsPunct(r) }))
	if len([]rune(ref)) != 6 || strings.IndexFunc(ref, func(r rune) bool { return !strings.ContainsRune(refAlphabet, r) }) >= 0 {
		return "", "", false
	}
	e164, ok = phone.Parse(strings.Join(f[1:], " "), region, phone.Possible)
	return ref, e164, ok
}

// lookupAsked answers a reference and phone typed at the menu or in My
// bookings, and reports whether it did.
func (t *turn) lookupAsked(in Inbound) bool {
	if t.e.refs == nil || in.Kind != KindText || (t.st.Step != stepMenu && t.st.Step != stepMine && t.st.Step != stepBooking) {
		return false
	}
	ref, e164, ok := refAndPhone(in.Text, t.cat.Salon.Country)
	if !ok {
		return false
	}
	p := t.p
	id, throttled, err := t.e.refs.Find(t.ctx, t.e.salonID, ref, e164, t.source(), t.now)
	var b *core.Booking
	if err == nil && id != "" {
		b, err = t.e.bookings.Get(t.ctx, t.e.salonID, id)
	}
	t.reset()
	switch {
	case err != nil:
		t.note = p.T("error.unavailable")
	case throttled:
		t.note = t.phoneMsg("lookup.throttled")
	case b == nil:
		t.note = p.T("lookup.none")
	default:
		t.note = t.foundText(ref, b)
	}
	t.menu()
	return true
}

// foundText shows a booking found by its reference.
func (t *turn) foundText(ref string, b *core.Booking) string {
	p := t.p
	text := p.T("lookup.found", "Ref", ref, "Service", t.service(b.ServiceID).NameIn(p.Lang()), "Master", t.masterName(b.MasterID),
		"Day", p.DayLong(b.Start), "Start", p.Time(b.Start), "End", p.Time(b.End), "Price", p.Price(b.Price))
	switch {
	case !b.Status.Blocks():
		text += "\n" + p.T("lookup.cancelled")
	case !b.Start.After(t.now):
		text += "\n" + p.T("lookup.past")
	default:
		if _, token, err := t.e.refs.Reference(t.ctx, t.e.salonID, b.ID); err == nil && t.e.calURL != nil {
			text += "\n" + p.T("confirm.calendar", "URL", t.e.calURL(token))
		}
		text += "\n" + t.phoneMsg("lookup.change")
	}
	return text
}
