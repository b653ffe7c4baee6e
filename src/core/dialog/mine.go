package dialog

import (
	"strings"
	"time"

	"salonbook/src/core"
)

// My bookings: the chat's upcoming bookings, each with reschedule and cancel.

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
	waiting := t.waiting()
	if len(list) == 0 && len(waiting) == 0 {
		return Reply{Text: p.T("mine.none"), Choices: []Choice{{ID: optBook, Label: p.T("btn.book")}, {ID: optMenu, Label: p.T("btn.menu")}}}
	}
	r := Reply{Text: p.N("mine.count", len(list))}
	if len(list) == 0 {
		r.Text = p.T("mine.none")
	}
	for _, b := range list {
		r.Text += "\n• " + p.T("mine.line", "Time", p.DayTime(b.Start), "Service", t.service(b.ServiceID).NameIn(p.Lang()), "Master", t.masterName(b.MasterID))
		if b.Status == core.StatusAwaitingPayment {
			r.Text += " " + p.T("mine.deposit_due")
		}
		r.Choices = append(r.Choices, Choice{ID: prefBooking + b.ID, Label: p.Short(b.Start)})
	}
	t.waitingLines(&r, waiting)
	return t.withMenu(r)
}

// own returns the booking if this chat made it and it is live; nil when it is
// not (gone, another chat's, a forged id: no booking at all); an error when the
// store could not say (the caller apologises: error.unavailable).
func (t *turn) own(id string) (*core.Booking, error) {
	if id == "" {
		return nil, nil
	}
	b, err := t.e.bookings.Get(t.ctx, t.e.salonID, id)
	switch {
	case core.ErrorCode(err) == core.ENotFound:
		return nil, nil
	case err != nil:
		return nil, err
	case b.Source != t.source() || !b.Status.Blocks():
		return nil, nil
	}
	return b, nil
}

func (t *turn) bookingPrompt() Reply {
	p := t.p
	b, err := t.own(t.st.BookingID)
	if err != nil {
		return t.withMenu(Reply{Text: p.T("error.unavailable")})
	}
	if b == nil {
		t.st.Step = stepMine
		return t.minePrompt()
	}
	text := p.T("booking.text", "Time", p.DayTime(b.Start), "Service", t.service(b.ServiceID).NameIn(p.Lang()),
		"Master", t.masterName(b.MasterID), "Price", p.Price(b.Price))
	if isOffer(b) { // offered, not booked: answered as the offer, not moved or cancelled
		return Reply{Text: p.T("offer.pending") + "\n" + text, Choices: []Choice{
			{ID: prefOfferYes + b.ID, Label: p.T("btn.offer_yes")},
			{ID: prefOfferNo + b.ID, Label: p.T("btn.offer_no")},
			{ID: optMine, Label: p.T("btn.back")},
			{ID: optMenu, Label: p.T("btn.menu")},
		}}
	}
	if line := t.depositLine(b); line != "" {
		text += "\n" + line
	}
	if b.Status == core.StatusAwaitingPayment {
		return Reply{Text: text, Choices: []Choice{
			{ID: prefPay + b.ID, Label: p.T("btn.pay")},
			{ID: prefCancel + b.ID, Label: p.T("btn.cancel_booking")},
			{ID: optMine, Label: p.T("btn.back")},
			{ID: optMenu, Label: p.T("btn.menu")},
		}}
	}
	return Reply{
		Text: text,
		Choices: []Choice{
			{ID: prefMove + b.ID, Label: p.T("btn.reschedule")},
			{ID: prefCancel + b.ID, Label: p.T("btn.cancel_booking")},
			{ID: optMine, Label: p.T("btn.back")},
			{ID: optMenu, Label: p.T("btn.menu")},
		},
	}
}

// onMine answers My bookings and one booking; its Reschedule and Cancel
// booking buttons are a booking's buttons (press).
func (t *turn) onMine() {
	c := t.in.Choice
	switch {
	case c == optBook:
		t.reset()
		t.st.Step = stepService
		t.ask()
	case c == optMine:
		t.st.Step = stepMine
		t.ask()
	case strings.HasPrefix(c, prefLeave):
		t.leave()
	case strings.HasPrefix(c, prefPay):
		t.payAgain(strings.TrimPrefix(c, prefPay))
	case strings.HasPrefix(c, prefBooking):
		b, err := t.own(strings.TrimPrefix(c, prefBooking))
		if err != nil {
			t.note = t.p.T("error.unavailable")
		} else if b != nil {
			t.st.Step, t.st.BookingID = stepBooking, b.ID
		}
		t.ask()
	default:
		t.again()
	}
}

// move reschedules the booking being moved to start.
func (t *turn) move(start time.Time) {
	p := t.p
	b, err := t.e.bookings.Move(t.ctx, t.e.salonID, t.st.BookingID, t.st.Master, start)
	if err != nil {
		t.bookingFailed(err, stepMoveTime)
		return
	}
	t.reset()
	t.did = true
	t.note = p.T("move.done", "Time", p.DayTime(b.Start), "On", p.DayTimeOn(b.Start), "Master", t.masterName(b.MasterID))
	t.menu()
}
