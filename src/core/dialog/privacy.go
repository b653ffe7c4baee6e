package dialog

import (
	"slices"
	"strings"
	"unicode"

	"salonbook/src/core"
)

// Privacy: what is stored is said before the first name and phone are asked
// (with the salon's privacy link), and "delete my data" (typed in any of the
// catalog's languages, or the button under Help) erases the chat's personal
// data after a Yes: upcoming bookings are cancelled first, the chat's and
// those its client made from other chats (a verified number's), since a
// booking the salon expects cannot be kept for no one; then the client's name
// and phone, the wait-list entries, the chat's id on its bookings, what the
// channel kept of the chat and the conversation itself go. Booking rows stay,
// anonymous, for the salon's books. The salon's own record of a number the
// chat typed (booked also through the API or the desk) is kept, and the
// client is told so.

const (
	stepErase   = "erase" // "delete my data" asked: Yes or No
	optErase    = "erase"
	optEraseYes = "erase:yes"
	optEraseNo  = "erase:no"
)

// erasePhrases are what a client types to ask for their data to go, after
// eraseText's clean-up: lower case, ё as е, punctuation and extra spaces gone.
var erasePhrases = map[string]bool{
	"delete my data": true, "delete my personal data": true, "erase my data": true, "remove my data": true,
	"delete data": true, "delete my details": true, "forget me": true, "gdpr delete": true,
	"удалить мои данные": true, "удалите мои данные": true, "удали мои данные": true, "удалить данные": true,
	"удалить мои персональные данные": true, "удалите мои персональные данные": true,
	"забудь меня": true, "забудьте меня": true,
}

// eraseText reduces typed text to the form erasePhrases holds.
func eraseText(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "ё", "е"))
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// eraseAsked starts "delete my data" when in asks for it, at any step, and
// reports whether it did. Without a Privacy port there is nothing to erase with.
func (t *turn) eraseAsked(in Inbound) bool {
	if t.e.privacy == nil {
		return false
	}
	asked := in.Kind == KindChoice && in.Choice == optErase ||
		in.Kind == KindText && erasePhrases[eraseText(in.Text)]
	if !asked {
		return false
	}
	t.reset() // the flow under way ends (its hold released): the question is a new one
	t.st.Step = stepErase
	t.ask()
	return true
}

// eraseUpcoming lists what an erase would cancel first.
func (t *turn) eraseUpcoming() ([]core.Booking, error) {
	return t.e.privacy.Upcoming(t.ctx, t.key, t.st.ClientID, t.now)
}

// erasePrompt says what goes and what stays, and asks.
func (t *turn) erasePrompt() Reply {
	p := t.p
	text := p.T("erase.ask")
	if list, err := t.eraseUpcoming(); err == nil && len(list) > 0 {
		text += " " + p.N("erase.cancels", len(list))
	}
	text += "\n" + p.T("erase.keep")
	return Reply{Text: text, Choices: []Choice{
		{ID: optEraseYes, Label: p.T("btn.erase_yes")},
		{ID: optEraseNo, Label: p.T("btn.erase_no")},
	}}
}

func (t *turn) onErase() {
	switch t.in.Choice {
	case optEraseYes:
		t.erase()
	case optEraseNo, optMenu:
		t.reset()
		t.note = t.p.T("erase.kept")
		t.menu()
	default:
		t.again()
	}
}

// erase cancels the upcoming bookings an erase would leave for no one, then
// erases. A confirmed booking inside the cancellation cutoff stops it before
// anything changes: the salon expects that client, and the client is told to
// call. A booking made meanwhile (by another chat of a verified number) makes
// the erase refuse; it is tried once more from the list.
func (t *turn) erase() {
	p := t.p
	for attempt := 0; ; attempt++ {
		list, err := t.eraseUpcoming()
		if err != nil {
			t.eraseFailed()
			return
		}
		for _, b := range list {
			if b.Status == core.StatusConfirmed && b.Start.Sub(t.now) < t.cat.Salon.Policy.CancelCutoff {
				t.reset()
				t.note = t.phoneMsg("erase.too_late", "Time", p.DayTime(b.Start), "On", p.DayTimeOn(b.Start))
				t.menu()
				return
			}
		}
		for _, b := range list {
			if b.Status == core.StatusHeld {
				_, err = t.e.bookings.Release(t.ctx, t.e.salonID, b.ID)
			} else {
				// The client's cancel: a paid deposit inside the refund cutoff is kept.
				_, err = t.e.bookings.CancelByClient(t.ctx, t.e.salonID, b.ID)
			}
			if err != nil {
				t.eraseFailed()
				return
			}
		}
		done, err := t.e.privacy.Erase(t.ctx, t.key, t.st.ClientID, t.now)
		if core.ErrorKey(err) == "privacy.live" && attempt == 0 {
			continue
		}
		if err != nil {
			t.eraseFailed()
			return
		}
		t.st = State{Lang: t.st.Lang, Forget: true}
		t.note, t.did = p.T("erase.done"), true
		if done.Kept > 0 {
			t.note += " " + t.phoneMsg("erase.done_kept")
		}
		t.menu()
		return
	}
}

func (t *turn) eraseFailed() {
	t.reset()
	t.note = t.p.T("error.unavailable")
	t.menu()
}

// helpReply is Help's text, with the button that asks to delete the chat's data.
func (t *turn) helpReply() Reply {
	r := Reply{Text: t.p.T("help", "Salon", t.cat.Salon.Name)}
	if t.e.privacy != nil {
		r.Choices = []Choice{{ID: optErase, Label: t.p.T("btn.erase")}}
	}
	return r
}

// namePrompt asks for the name, first saying what is kept and why, with the
// salon's privacy notice when it has one: this is where personal data starts.
func (t *turn) namePrompt() Reply {
	p := t.p
	r := Reply{Text: p.T("ask.name"), Choices: []Choice{{ID: optMenu, Label: p.T("btn.menu")}}}
	if t.note != "" && t.began == stepName {
		return r // asked again after a hint: the note was said
	}
	text := p.T("privacy.note")
	if slices.Contains(t.e.adChannels, t.key.Channel) {
		text += " " + p.T("privacy.ads")
	}
	if u := t.cat.Salon.PrivacyURL; u != "" {
		text += " " + p.T("privacy.link", "URL", u)
	}
	r.Text = text + "\n\n" + r.Text
	return r
}
