package dialog

import (
	"strconv"
	"time"

	"salonbook/src/core"
)

// Nothing destructive on one tap: Cancel booking and Reschedule (from My
// bookings or a reminder) first ask, naming the booking in full and saying the
// cancellation rule (and, for a cancel, what happens to a paid deposit) before
// it applies. Yes is bound to that booking and to its start: it is checked
// again when pressed (still this chat's, still live, not moved since, still
// outside the cutoff), as a first press is, because a choice id can be forged.
// No keeps the booking and says so.

const (
	stepAskCancel = "ask_cancel" // Cancel booking asked for BookingID: Yes or No
	stepAskMove   = "ask_move"   // Reschedule asked for BookingID: Yes or No
	prefCancelYes = "cy:"        // cy:<booking id>:<start, unix seconds>: yes, cancel it
	prefMoveYes   = "my:"        // my:<booking id>:<start, unix seconds>: yes, move it
	prefKeep      = "kn:"        // kn:<booking id>: no, keep it
)

// askFirst asks whether to cancel (prefix prefCancel) or move b, ending a flow
// under way as a press on a booking's button does.
func (t *turn) askFirst(b *core.Booking, prefix string) {
	dropped := t.dropFlow(b.ID)
	t.st.Step, t.st.BookingID, t.st.Asked = stepAskMove, b.ID, b.Start.Unix()
	if prefix == prefCancel {
		t.st.Step = stepAskCancel
	}
	t.note = dropped
	t.ask()
}

// askPrompt is the question of stepAskCancel or stepAskMove.
func (t *turn) askPrompt() Reply {
	p := t.p
	b, err := t.own(t.st.BookingID)
	if err != nil {
		return t.withMenu(Reply{Text: p.T("error.unavailable")})
	}
	if b == nil {
		t.st.Step = stepMine
		return t.minePrompt()
	}
	data := []any{"Service", t.service(b.ServiceID).NameIn(p.Lang()), "Master", t.masterName(b.MasterID),
		"Day", p.DayOn(b.Start), "Time", p.Time(b.Start)}
	// Yes is bound to the start the question first named: a typed yes after the
	// booking moved meanwhile (the desk) is answered as a moved booking's press.
	asked := b.Start.Unix()
	if t.st.Asked != 0 {
		asked = t.st.Asked
	}
	at := b.ID + ":" + strconv.FormatInt(asked, 10)
	keep := Choice{ID: prefKeep + b.ID, Label: p.T("btn.keep")}
	if t.st.Step == stepAskMove {
		return Reply{Text: p.T("ask.move", data...) + "\n" + t.cancelRule(),
			Choices: []Choice{{ID: prefMoveYes + at, Label: p.T("btn.yes_move")}, keep}}
	}
	text := p.T("ask.cancel", data...) + "\n" + t.cancelRule()
	if line := t.refundRule(b); line != "" {
		text += " " + line
	}
	return Reply{Text: text, Choices: []Choice{{ID: prefCancelYes + at, Label: p.T("btn.yes_cancel")}, keep}}
}

// cancelRule says until when a booking may be cancelled or moved in the chat.
func (t *turn) cancelRule() string {
	p := t.p
	cut := t.cat.Salon.Policy.CancelCutoff
	switch {
	case cut <= 0:
		return p.T("rule.cancel_any")
	case cut%time.Hour == 0:
		return t.phoneN("rule.cancel_hours", int(cut/time.Hour))
	}
	return t.phoneN("rule.cancel_minutes", int((cut+time.Minute-1)/time.Minute))
}

// refundRule says what a cancel now does to b's paid deposit; "" for none.
func (t *turn) refundRule(b *core.Booking) string {
	if b.DepositState != core.DepositPaid {
		return ""
	}
	p := t.p
	cutoff := t.cat.Salon.Policy.RefundCutoff()
	// Exactly to the minute, as deposit.rules says it at booking: "36 hours"
	// for a cutoff of 36 h 30 min promised a refund the policy refused.
	if b.Start.Sub(t.now) < cutoff {
		return p.T("rule.refund_lost", "Cutoff", t.duration(cutoff), "Deposit", p.Price(b.Deposit))
	}
	return p.T("rule.refund", "Cutoff", t.duration(cutoff), "Deposit", p.Price(b.Deposit))
}

// kept answers No: the booking stays (b nil: it is gone meanwhile).
func (t *turn) kept(id string, b *core.Booking) {
	if b == nil {
		t.unchanged(id, t.p.T("remind.gone"))
		return
	}
	t.unchanged(id, t.p.T("ask.kept", "Day", t.p.DayOn(b.Start), "Time", t.p.Time(b.Start)))
}

// yesWords and noWords answer the question typed, after eraseText's clean-up.
var (
	yesWords = map[string]bool{"yes": true, "y": true, "yes please": true, "ok": true, "sure": true,
		"да": true, "ага": true, "конечно": true, "хорошо": true}
	noWords = map[string]bool{"no": true, "n": true, "nope": true, "no thanks": true, "нет": true, "не надо": true, "нет спасибо": true}
)

// onAsk reads typed text as Yes or No (the words, or a button's label); a
// press of Yes or No never gets here: they are a booking's buttons (press).
func (t *turn) onAsk() {
	if t.in.Kind == KindText {
		r := t.prompt()
		if t.st.Step == stepAskCancel || t.st.Step == stepAskMove { // the booking may be gone
			words := eraseText(t.in.Text)
			for i, c := range r.Choices {
				if sameLabel(t.in.Text, c.Label) || i == 0 && yesWords[words] || i == 1 && noWords[words] {
					t.in = Inbound{Kind: KindChoice, Choice: c.ID}
					t.press()
					return
				}
			}
		}
	}
	t.again()
}
