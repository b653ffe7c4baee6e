package dialog

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
)

// What every flow uses: prompts, hints, the end of a flow, booking failures
// and the catalog's names.

// reset drops the flow under way (releasing its hold), keeping the language and
// the client.
func (t *turn) reset() {
	t.releaseHold()
	t.st = State{Lang: t.st.Lang, LangAuto: t.st.LangAuto, ClientName: t.st.ClientName, ClientPhone: t.st.ClientPhone, ClientID: t.st.ClientID,
		PhoneVerified: t.st.PhoneVerified}
}

// releaseHold ends the flow's unconfirmed hold, if it has one and it is still
// held: a hold confirmed meanwhile (elsewhere) is the client's appointment and
// stays. A hold that cannot be released now expires on its own after the
// salon's hold time.
func (t *turn) releaseHold() {
	if t.st.Hold != "" {
		_, _ = t.e.bookings.Release(t.ctx, t.e.salonID, t.st.Hold)
		t.st.Hold = ""
	}
}

// source names this chat as the booker, so that it sees only its own bookings.
func (t *turn) source() string { return t.key.Channel + ":" + t.key.ChatID }

// ask sends the current step's prompt (with any note before it).
func (t *turn) ask() {
	var r Reply
	if t.st.Step == stepTime || t.st.Step == stepMoveTime {
		r = t.timeAsk() // a day with nothing free moves on to the nearest (nothing.go)
	} else {
		r = t.prompt()
	}
	if t.note != "" {
		r.Text = t.note + "\n\n" + r.Text
		t.note = ""
	}
	t.out = append(t.out, r)
}

// again re-asks the current step after something it could not use.
func (t *turn) again() {
	if t.note == "" && t.in.Kind != KindCommand && !(t.in.Kind == KindChoice && t.in.Choice == optHelp) {
		t.note = t.p.T("hint.pick")
	}
	t.ask()
}

func (t *turn) withMenu(r Reply) Reply {
	r.Choices = append(r.Choices, Choice{ID: optMenu, Label: t.p.T("btn.menu")})
	return r
}

// bookingFailed explains why a time could not be had and offers what can.
func (t *turn) bookingFailed(err error, back string) {
	p := t.p
	switch core.ErrorKey(err) {
	case "booking.slot_taken":
		t.st.Step = back
		var alts []availability.Slot
		if c, ok := errors.AsType[*booking.ConflictError](err); ok {
			alts = c.Alternatives
		}
		r := Reply{Text: p.T("conflict.taken", "Time", p.DayTime(t.st.Start))}
		if len(alts) == 0 {
			r.Text = p.T("conflict.taken_none", "Time", p.DayTime(t.st.Start))
		}
		for _, a := range alts {
			lbl := p.Time(a.Start)
			if core.DateOf(a.Start.In(t.cat.Salon.Timezone)).String() != t.st.Day {
				lbl = p.Short(a.Start)
			}
			r.Choices = append(r.Choices, Choice{ID: prefTime + strconv.FormatInt(a.Start.Unix(), 10), Label: lbl})
		}
		r.Choices = append(r.Choices, Choice{ID: optAnyDay, Label: p.T("btn.other_day")})
		t.out = append(t.out, t.withMenu(r))
	case "booking.client_overlap":
		t.st.Step = back
		t.note = p.T("conflict.yours")
		t.ask()
	case "client.invalid_phone":
		t.st.ClientPhone, t.st.PhoneVerified = "", false
		t.st.Step = stepPhone
		t.note = p.T("hint.phone")
		t.ask()
	case "client.invalid_name":
		t.st.ClientName = ""
		t.st.Step = stepName
		t.ask()
	case "booking.in_past", "booking.too_soon", "booking.too_far", "booking.not_offered":
		t.st.Step = back
		t.note = p.T("conflict.not_offered")
		t.ask()
	case "booking.too_many":
		// Another time would be refused the same way: back to the menu, where
		// "My bookings" can cancel one.
		t.reset()
		t.note = t.phoneMsg("booking.too_many")
		t.menu()
	case "booking.cancel_too_late":
		t.reset()
		t.note = t.tooLate()
		t.menu()
	case "deposit.unavailable":
		t.reset()
		t.note = t.depositUnavailable()
		t.menu()
	default:
		t.reset()
		t.note = p.T("error.unavailable")
		t.menu()
	}
}

// service returns the service to show; one that is gone still shows its id.
func (t *turn) service(id string) *core.Service {
	if s := t.findService(id); s != nil {
		return s
	}
	return &core.Service{ID: id, Name: map[string]string{}}
}

// findService returns the active service id, or nil.
func (t *turn) findService(id string) *core.Service {
	for i := range t.cat.Services {
		if t.cat.Services[i].ID == id {
			return &t.cat.Services[i]
		}
	}
	return nil
}

func (t *turn) masterName(id string) string {
	for _, m := range t.cat.Masters {
		if m.ID == id {
			return m.NameIn(t.p.Lang())
		}
	}
	return id
}

func (t *turn) masterDoes(id, service string) bool {
	for _, m := range t.cat.Masters {
		if m.ID == id {
			return m.Performs(service)
		}
	}
	return false
}

// masterOf names the master of a booking.
func (t *turn) masterOf(bookingID string) string {
	b, err := t.e.bookings.Get(t.ctx, t.e.salonID, bookingID)
	if err != nil {
		return ""
	}
	return t.masterName(b.MasterID)
}

// label shortens s to what every channel can show on a button.
func label(s string) string {
	if utf8.RuneCountInString(s) <= MaxChoiceLabelRune {
		return s
	}
	r := []rune(s)
	return string(r[:MaxChoiceLabelRune-1]) + "…"
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String describes a state for debugging, without personal data.
func (s State) String() string {
	return fmt.Sprintf("step=%q lang=%s service=%s master=%s day=%s", s.Step, s.Lang, s.Service, s.Master, s.Day)
}
