package dialog

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"salonbook/src/core"
	"salonbook/src/core/i18n"
)

// A reminder's buttons (ok:, mv:, cx: with a booking id and the start the
// reminder names, as unix seconds) come back to Step at any time, in any state
// of the conversation; a reminder sent as a WhatsApp template (outside the
// 24-hour window) comes back as typed text (pushedReply).

// press answers a press on one of a booking's buttons, from a reminder
// ("<prefix><id>:<unix>") or from My bookings ("<prefix><id>", also an older
// reminder's): "I'll come" (ok:), "Reschedule" (mv:), "Cancel booking" (cx:). It
// reports false for any other choice. The id is checked here: only a live
// booking this chat made is acted on, from a reminder only a confirmed one,
// never the flow's own hold; a forged id gets the answer a cancelled booking
// gets, and changes nothing. A reminder's press whose start is not the
// booking's (moved since) changes nothing either: the answer names the new
// time, with the buttons for it.
//
// "Reschedule" and "Cancel booking" first ask (ask.go); their Yes (cy:, my:,
// with the id and the start asked about) passes the same checks again before
// it acts, and No (kn:) keeps the booking.
//
// "I'll come" is a one-line answer: a flow under way goes on (its question is
// asked again). "Reschedule" and "Cancel booking" take the conversation over, as
// /start does: a booking flow under way is dropped (its hold released), and the
// answer says so. A refusal (inside the cancellation cutoff) and a press on a
// booking that is gone or has started change nothing and leave the flow as it
// was, except one about that very booking, which ends. The answer to a
// reminder's press goes below the reminder, never in its place (NoEdit): the
// reminder keeps its time and address.
func (t *turn) press() bool {
	c := t.in.Choice
	var prefix string
	for _, p := range []string{prefComing, prefMove, prefCancel, prefCancelYes, prefMoveYes, prefKeep} {
		if strings.HasPrefix(c, p) {
			prefix = p
		}
	}
	if prefix == "" {
		return false
	}
	p := t.p
	t.note = "" // a flow dropped as idle needs no word: the press says what happens
	id, at, bound := strings.Cut(strings.TrimPrefix(c, prefix), ":")
	yes := prefix == prefCancelYes || prefix == prefMoveYes
	reminder := bound && !yes
	t.keep = reminder
	b, err := t.own(id)
	switch {
	case err != nil:
		t.note = p.T("error.unavailable")
		t.ask()
		return true
	case b != nil && isOffer(b): // an offer is answered by its own buttons
		t.unchanged(id, p.T("offer.pending"))
		return true
	case prefix == prefKeep:
		t.kept(id, b)
		return true
	case yes && !bound: // a Yes always names the start it was asked for
		t.unchanged(id, p.T("remind.gone"))
		return true
	case b == nil || b.ID == t.st.Hold || ((prefix == prefComing || reminder) && b.Status != core.StatusConfirmed):
		t.unchanged(id, p.T("remind.gone"))
		return true
	case !b.Start.After(t.now):
		t.unchanged(id, p.T("remind.started"))
		return true
	case bound && at != strconv.FormatInt(b.Start.Unix(), 10):
		t.movedSince(b)
		return true
	case prefix == prefComing:
		t.coming(b)
		return true
	case b.Status == core.StatusConfirmed && b.Start.Sub(t.now) < t.cat.Salon.Policy.CancelCutoff:
		t.unchanged(id, t.tooLate())
		return true
	case !yes: // Reschedule and Cancel booking ask first (ask.go)
		t.askFirst(b, prefix)
		return true
	}
	dropped := t.dropFlow(b.ID)
	if prefix == prefCancelYes {
		cancelled, err := t.e.bookings.CancelByClient(t.ctx, t.e.salonID, b.ID)
		if err != nil {
			t.bookingFailed(err, stepMine)
			return true
		}
		t.reset()
		t.did = true
		t.note = p.T("cancel.done", "Time", p.DayTime(b.Start), "On", p.DayTimeOn(b.Start)) + t.cancelNote(cancelled)
		if dropped != "" {
			t.note += " " + dropped
		}
		t.menu()
		return true
	}
	t.st.Step, t.st.BookingID, t.st.Service, t.st.Master, t.st.Page = stepMoveDay, b.ID, b.ServiceID, b.MasterID, 0
	t.note = dropped
	t.ask()
	return true
}

// movedSince answers a reminder's press on a booking that has moved since the
// reminder: the new time, with the booking's buttons for it (and Menu at the
// menu; a flow under way is asked again below). Nothing is recorded.
func (t *turn) movedSince(b *core.Booking) {
	p := t.p
	r := Reply{Text: p.T("remind.moved", "Time", p.DayTime(b.Start), "On", p.DayTimeOn(b.Start)), Choices: bookingChoices(p, b.ID, b.Start)}
	if t.st.Step == stepMenu {
		t.out = append(t.out, t.withMenu(r))
		return
	}
	t.out = append(t.out, r)
	t.ask()
}

// bookingChoices are a reminder's buttons for booking id starting at start.
func bookingChoices(p *i18n.Printer, id string, start time.Time) []Choice {
	at := ":" + strconv.FormatInt(start.Unix(), 10)
	return []Choice{
		{ID: prefComing + id + at, Label: p.T("btn.coming")},
		{ID: prefMove + id + at, Label: p.T("btn.reschedule")},
		{ID: prefCancel + id + at, Label: p.T("btn.cancel_booking")},
	}
}

// coming records "I'll come" and thanks the client; a repeat answers the same.
func (t *turn) coming(b *core.Booking) {
	p := t.p
	got, err := t.e.bookings.Coming(t.ctx, t.e.salonID, b.ID)
	if err == nil {
		t.did = true
		t.note = p.T("remind.coming", "Day", p.DayLong(got.Start), "On", p.DayOn(got.Start), "At", p.DateAt(core.DateOf(got.Start.In(p.Zone()))), "Time", p.Time(got.Start))
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

// dropFlow ends a flow under way (releasing its hold) before a press for
// booking id takes the conversation over, and returns what to tell the client:
// that a booking in the making and its time were let go, that something else
// under way (a move of another booking, a wait-list sign-up) stopped, or ""
// when nothing was under way. The menu, My bookings, the language list and the
// move of that same booking are no flow to drop.
func (t *turn) dropFlow(id string) string {
	switch t.st.Step {
	case stepMenu, stepMine, stepBooking, stepLanguage, stepAskCancel, stepAskMove:
		return ""
	case stepMoveDay, stepMoveTime:
		if t.st.BookingID == id {
			return ""
		}
	}
	held := t.st.Hold != ""
	t.reset()
	if held {
		return t.p.T("remind.flow_dropped")
	}
	return t.p.T("remind.flow_stopped")
}

// pushedReply reads typed text as the answer to the newest message pushed
// to this chat (a reminder, a wait-list offer) after its last step, as the
// pipeline queued it (Pushed): a number is its n-th choice, a button's label
// (see sameLabel) is that choice, and to a reminder a typed "I'll come",
// "yes", "приду" (comingWords) is its "I'll be there"; it returns the
// choice's id.
// At the menu, any other text gets that message again, now with its buttons
// and Menu, so that the next press or number answers it (answered is then
// true). A message sent as a WhatsApp template reaches a chat silent for a
// day, so at the menu: a flow under way then has been dropped as idle (its
// note is kept). Only a message a sender has sent counts (the client has
// seen it); when the pushed messages cannot be read the text gets an apology
// (answered).
// In a flow under way (a reminder came while the client was choosing a
// time), only the reminder's "I'll be there" is answered (pushedMidFlow): its
// label, or the coming words a plain "yes"/"да" aside, and at a yes/no step
// its label alone; a typed Reschedule/Cancel booking, a number and anything
// else are the step's, and a store that cannot be read changes nothing.
func (t *turn) pushedReply(text string) (id string, answered bool) {
	if t.e.pushed == nil || t.last.IsZero() {
		return "", false
	}
	switch t.st.Step {
	case stepMenu:
	case stepMine, stepBooking: // a booking's own buttons are shown, with the reminder's labels
		return "", false
	default:
		return t.pushedMidFlow(text), false
	}
	r, err := t.e.pushed.Pushed(t.ctx, t.key, t.last)
	if err != nil {
		// Unknown whether a reminder or offer is what the text answers: an
		// apology, as for a press whose booking cannot be read ("1" as the
		// menu's Book could act on the wrong thing).
		t.note = t.p.T("error.unavailable")
		t.ask()
		return "", true
	}
	if r == nil || len(r.Choices) == 0 {
		return "", false
	}
	text = strings.TrimSpace(text)
	for i, c := range r.Choices {
		if text == strconv.Itoa(i+1) || sameLabel(text, c.Label) {
			return c.ID, false
		}
	}
	if comingWords[eraseText(text)] {
		for _, c := range r.Choices {
			if strings.HasPrefix(c.ID, prefComing) { // a reminder's "I'll be there"
				return c.ID, false
			}
		}
	}
	again := t.withMenu(*r)
	again.Text = t.p.T("hint.pick") + "\n\n" + again.Text
	if t.note != "" {
		again.Text = t.note + "\n\n" + again.Text
		t.note = ""
	}
	t.out = append(t.out, again)
	return "", true
}

// pushedMidFlow is pushedReply in a flow under way: the id of the reminder's
// "I'll be there" when text names it (its label, or the coming words), else
// "". Only that button is taken: it confirms the other booking and the step's
// question is asked again; a typed "Reschedule"/"Cancel booking" would drop
// the flow (its hold), so it stays the step's. At a yes/no step (Confirm, "Are
// you sure?") the coming words are the question's answer ("yes, I will"):
// only the label itself is the reminder's. The store is read only for text
// that could match.
func (t *turn) pushedMidFlow(text string) string {
	text = strings.TrimSpace(text)
	if text == "" || bareNumber(text) {
		return "" // the step's list's
	}
	words := eraseText(text)
	yesNo := t.st.Step == stepConfirm || t.st.Step == stepAskCancel || t.st.Step == stepAskMove
	byWords := !yesNo && comingWords[words] && !plainYes[words]
	if !byWords && !t.comingLabel(text) {
		return "" // cannot be the reminder's: no read
	}
	r, err := t.e.pushed.Pushed(t.ctx, t.key, t.last)
	if err != nil || r == nil {
		return ""
	}
	for _, c := range r.Choices {
		if strings.HasPrefix(c.ID, prefComing) && (sameLabel(text, c.Label) || byWords) {
			return c.ID
		}
	}
	return ""
}

// comingLabel reports whether text is the label of a reminder's "I'll be
// there" in any language the catalog has (the reminder may predate a change
// of language).
func (t *turn) comingLabel(text string) bool {
	if utf8.RuneCountInString(text) > 40 {
		return false // a sentence, not a button's label
	}
	for _, l := range t.e.coming {
		if sameLabel(text, l) {
			return true
		}
	}
	return false
}

// bareNumber reports whether text is digits alone.
func bareNumber(text string) bool {
	_, err := strconv.Atoi(text)
	return err == nil
}

// plainYes are coming words that answer any question: in a flow under way
// they are the step's (Confirm's "yes"), never a reminder's.
var plainYes = map[string]bool{"yes": true, "да": true, "да конечно": true}

// comingWords are typed answers to a reminder (after eraseText's clean-up)
// that mean its "I'll be there"; pushedReply takes them only as the answer to
// a reminder, never elsewhere ("yes" is a Yes to a question too). "ok"/"ок"
// are left out: they acknowledge as readily as they agree, and an
// acknowledged reminder is not a promise to come.
var comingWords = map[string]bool{
	"i ll come": true, "i will come": true, "coming": true, "i m coming": true, "i am coming": true,
	"i ll be there": true, "i will be there": true, "will be there": true,
	"yes": true, "yes i ll come": true, "yes i will come": true, "yes i ll be there": true, "yes coming": true,
	"yes i will": true, "yes i will be there": true, "sure i ll be there": true, "sure i will be there": true,
	"sure i ll come": true, "of course i ll come": true, "of course i ll be there": true,
	"thanks i ll be there": true, "thank you i ll be there": true, "thanks i ll come": true, "thank you i ll come": true,
	"see you then": true, "see you there": true,
	"приду": true, "я приду": true, "буду": true, "я буду": true, "да": true, "да приду": true, "да буду": true,
	"обязательно приду": true, "обязательно буду": true, "буду вовремя": true, "приду вовремя": true,
	"конечно приду": true, "конечно буду": true, "да конечно": true, "да конечно приду": true, "да конечно буду": true,
	"спасибо приду": true, "спасибо буду": true, "спасибо я приду": true, "спасибо я буду": true,
	"да я приду": true, "да я буду": true, "хорошо приду": true, "хорошо буду": true,
}

// sameLabel reports whether typed text is a button's label: case aside,
// curly apostrophes as straight ones, spaces and trailing punctuation
// ("I’ll come!", "приду.") ignored.
func sameLabel(text, label string) bool {
	norm := func(s string) string {
		s = strings.NewReplacer("’", "'", "‘", "'", "ʼ", "'").Replace(s)
		s = strings.TrimRightFunc(strings.TrimSpace(s), func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
		return strings.ToLower(strings.Join(strings.Fields(s), " "))
	}
	n := norm(text)
	return n != "" && n == norm(label)
}
