package dialog

import (
	"context"
	"time"

	"salonbook/src/core"
)

// The booked message answers every question a client has after booking:
// service, master, the day in full with start and end, price, the salon's
// address and phone, the booking's short reference, the cancellation rule and
// an "Add to calendar" link (the booking's own .ics, served by the web
// adapter at an address no one can guess).

// References gives a booking its short reference (6 characters, unique in
// the salon) and the token of its calendar file's address, made on first use.
type References interface {
	Reference(ctx context.Context, salonID, bookingID string) (ref, token string, err error)
	// Find returns the id of the salon's booking with reference ref whose
	// client's phone is phone (E.164), or "" (not saying which did not
	// match); tries are counted per chat who and per reference first, and
	// past the limit throttled is true and nothing is looked up.
	Find(ctx context.Context, salonID, ref, phone, who string, now time.Time) (id string, throttled bool, err error)
}

// booked is the message of booking b just confirmed. A reference that cannot
// be made now is left out (the booking is made: no apology for it).
func (t *turn) booked(b *core.Booking) string {
	p := t.p
	text := p.T("confirm.done", "Service", t.service(b.ServiceID).NameIn(p.Lang()), "Master", t.masterName(b.MasterID),
		"Day", p.DayLong(b.Start), "Start", p.Time(b.Start), "End", p.Time(b.End), "Price", p.Price(b.Price))
	if a := t.cat.Salon.Address; a != "" {
		text += "\n" + p.T("confirm.address", "Address", a)
	}
	if ph := t.cat.Salon.Phone; ph != "" {
		text += "\n" + p.T("confirm.phone", "Phone", ph)
	}
	var token string
	if t.e.refs != nil {
		ref, tok, err := t.e.refs.Reference(t.ctx, t.e.salonID, b.ID)
		if err == nil {
			text += "\n" + p.T("confirm.reference", "Ref", ref)
			token = tok
		}
	}
	text += "\n" + t.cancelRule()
	if line := t.refundRule(b); line != "" {
		text += " " + line
	}
	if token != "" && t.e.calURL != nil {
		text += "\n" + p.T("confirm.calendar", "URL", t.e.calURL(token))
	}
	return text
}
