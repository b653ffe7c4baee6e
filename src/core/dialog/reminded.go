package dialog

import (
	"strconv"
	"strings"
	"time"

	"salonbook/src/core"
)

// A reminder's buttons (ok:, mv:, cx: with a booking id) come back to Step at
// any time, in any state of the conversation; a reminder sent as a WhatsApp
// template (outside the 24-hour window) comes back as typed text.

// press answers a press on one of a booking's buttons, from a reminder or from
// My bookings: "I'll come" (ok:), "Reschedule" (mv:), "Cancel booking" (cx:). It
// reports false for any other choice. The id is checked here: only a live
// booking this chat made is acted on; a forged id gets the answer a cancelled
// booking gets, and changes nothing.
//
// "I'll come" is a one-line answer: a flow under way goes on (its question is
// asked again). "Reschedule" and "Cancel booking" take the conversation over, as
// /start does: a booking flow under way is dropped (its hold released), and the
// answer says so. A refusal (inside the cancellation cutoff) and a press on a
// booking that is gone or has started change nothing and leave the flow as it
// was, except one about that very booking, which ends.
func (t *turn) press() bool {
	c := t.in.Choice
	var prefix string
	for _, p := range []string{prefComing, prefMove, prefCancel} {
		if strings.HasPrefix(c, p) {
			prefix = p
		}
	}
	if prefix == "" {
		return false
	}
	p := t.p
	t.note = "" // a flow dropped as idle needs no word: the press says what happens
	id := strings.TrimPrefix(c, prefix)
	b := t.own(id)
	switch {
	case b == nil || (prefix == prefComing && b.Status != core.StatusConfirmed):
		t.unchanged(id, p.T("remind.gone"))
		return true
	case !b.Start.After(t.now):
		t.unchanged(id, p.T("remind.started"))
		return true
	case prefix == prefComing:
		t.coming(b)
		return true
	case b.Status == core.StatusConfirmed && b.Start.Sub(t.now) < t.cat.Salon.Policy.CancelCutoff:
		t.unchanged(id, p.T("cancel.too_late", "Phone", t.cat.Salon.Phone))
		return true
	}
	dropped := t.dropFlow(b.ID)
	if prefix == prefCancel {
		if _, err := t.e.bookings.Cancel(t.ctx, t.e.salonID, b.ID); err != nil {
			t.bookingFailed(err, stepMine)
			return true
		}
		t.reset()
		t.note = p.T("cancel.done", "Time", p.DayTime(b.Start))
		if dropped {
			t.note += " " + p.T("remind.flow_dropped")
		}
		t.menu()
		return true
	}
	t.st.Step, t.st.BookingID, t.st.Service, t.st.Master, t.st.Page = stepMoveDay, b.ID, b.ServiceID, b.MasterID, 0
	if dropped {
		t.note = p.T("remind.flow_dropped")
	}
	t.ask()
	return true
}

// coming records "I'll come" and thanks the client; a repeat answers the same.
func (t *turn) coming(b *core.Booking) {
	p := t.p
	got, err := t.e.bookings.Coming(t.ctx, t.e.salonID, b.ID)
	if err == nil {
		t.note = p.T("remind.coming", "Time", p.DayTime(got.Start))
		t.ask()
		return
	}
	switch core.ErrorKey(err) {
	case "booking.not_active":
		t.unchanged(b.ID, p.T("remind.gone"))
		return
	case "booking.started":
		t.unchanged(b.ID, p.T("remind.started"))
		return
	default:
		t.note = p.T("error.unavailable")
	}
	t.ask()
}

// unchanged answers a press that changes nothing with note, and asks the
// question of the step under way again; a flow about booking id ends first.
func (t *turn) unchanged(id, note string) {
	if t.st.BookingID == id {
		t.reset()
	}
	t.note = note
	t.ask()
}

// dropFlow ends a booking flow under way (releasing its hold) before a press
// for booking id takes the conversation over, and says whether there was one.
// The menu, My bookings, the language list and the move of that same booking
// are no flow to drop.
func (t *turn) dropFlow(id string) bool {
	switch t.st.Step {
	case stepMenu, stepMine, stepBooking, stepLanguage:
		return false
	case stepMoveDay, stepMoveTime:
		if t.st.BookingID == id {
			return false
		}
	}
	t.reset()
	return true
}

// reminderReply reads typed text at the menu as the answer to a reminder when a
// reminder is the newest thing this chat was sent (see reminded): "1", "2", "3"
// or a button's label ("I'll come", case aside) is that button, pressed; any
// other text gets the reminder's buttons again, so that the next press or
// number answers it. It reports whether it answered. A reminder sent as a
// WhatsApp template reaches a chat silent for a day, so at the menu: a flow
// under way then has been dropped as idle.
func (t *turn) reminderReply(text string) bool {
	if t.st.Step != stepMenu || len(t.cat.Salon.Policy.Reminders) == 0 {
		return false
	}
	b := t.reminded()
	if b == nil {
		return false
	}
	r := ReminderReply(t.e.catalog, t.cat.Salon, Reminder{BookingID: b.ID, Lang: t.st.Lang, Start: b.Start,
		Service: t.service(b.ServiceID).Name, Master: t.masterName(b.MasterID)})
	text = strings.TrimSpace(text)
	for i, c := range r.Choices {
		if text == strconv.Itoa(i+1) || strings.EqualFold(text, c.Label) {
			t.in.Kind, t.in.Choice = KindChoice, c.ID
			return t.press()
		}
	}
	r.Text = t.p.T("hint.pick") + "\n\n" + r.Text
	t.note = ""
	t.out = append(t.out, r)
	return true
}

// reminded returns the booking whose reminder is the newest thing this chat was
// sent, or nil: of the chat's confirmed bookings that have not started, one with
// a reminder due (its start minus an offset of Policy.Reminders) at or before
// now and after the chat's last step (a reminder is sent at its due time, and
// one due before the booking was made, in this chat, is not sent); of several,
// the one whose reminder is latest, then the earliest. Reminders are sent
// outside the conversation, so this is worked out, not stored: the same
// booking's reminder for any replica, with no state written by the sender.
func (t *turn) reminded() *core.Booking {
	list, err := t.mine()
	if err != nil {
		return nil
	}
	var best *core.Booking
	var bestDue time.Time
	for i := range list {
		b := &list[i]
		if b.Status != core.StatusConfirmed || !b.Start.After(t.now) {
			continue
		}
		var due time.Time
		for _, o := range t.cat.Salon.Policy.Reminders {
			if d := b.Start.Add(-o); !d.After(t.now) && d.After(due) {
				due = d
			}
		}
		if due.IsZero() || !due.After(t.last) {
			continue
		}
		if best == nil || due.After(bestDue) {
			best, bestDue = b, due
		}
	}
	return best
}
