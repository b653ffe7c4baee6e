package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/adapters/whatsapp/whatsapptest"
)

// telegramPerson is a person on the fake Bot API: updates are queued for
// getUpdates, so salonbook must poll (make run does when no webhook URL is set).
type telegramPerson struct {
	fake   *telegramtest.Server
	nextID atomic.Int64
}

func newTelegramPerson(fake *telegramtest.Server) *telegramPerson {
	p := &telegramPerson{fake: fake}
	p.nextID.Store(time.Now().Unix()) // above what an earlier run of the fake confirmed
	return p
}

func (p *telegramPerson) user(chat, lang string) (int64, telegramtest.User) {
	id, _ := strconv.ParseInt(chat, 10, 64) // person checked the digits
	return id, telegramtest.User{ID: id, FirstName: "Guest", LanguageCode: lang}
}

func (p *telegramPerson) say(_ context.Context, chat, lang, text string) error {
	id, from := p.user(chat, lang)
	return p.fake.Enqueue(telegramtest.TextUpdate(p.nextID.Add(1), id, from, text))
}

func (p *telegramPerson) press(_ context.Context, chat, lang, label string) error {
	id, from := p.user(chat, lang)
	sent := p.fake.SentTo(id)
	for i := len(sent) - 1; i >= 0; i-- {
		for _, row := range sent[i].Keyboard {
			for _, b := range row {
				if b.CallbackData != "" && (strings.EqualFold(b.Text, label) || b.CallbackData == label) {
					u := p.nextID.Add(1)
					return p.fake.Enqueue(telegramtest.CallbackUpdateOn(u, from, sent[i], "cb"+strconv.FormatInt(u, 10), b.CallbackData))
				}
			}
		}
	}
	return noButtonError{label}
}

func (p *telegramPerson) sent(chat string) []personMessage {
	id, _ := strconv.ParseInt(chat, 10, 64)
	var out []personMessage
	for _, m := range p.fake.SentTo(id) {
		pm := personMessage{edited: m.Method == "editMessageText", text: m.Text}
		for _, row := range m.Keyboard {
			var labels []string
			for _, b := range row {
				labels = append(labels, b.Text)
			}
			pm.buttons = append(pm.buttons, labels)
		}
		out = append(out, pm)
	}
	return out
}

// whatsappPerson is a person on the fake Graph API: messages are delivered,
// signed, to salonbook's webhook (-webhook).
type whatsappPerson struct{ fake *whatsapptest.Server }

func (p whatsappPerson) deliver(ctx context.Context, body []byte) error {
	status, err := p.fake.Deliver(ctx, body)
	if err == nil && status != 200 {
		err = fmt.Errorf("salonbook's webhook answered %d", status)
	}
	if err != nil {
		return fmt.Errorf("deliver to the webhook: %w", err)
	}
	return nil
}

func (p whatsappPerson) say(ctx context.Context, chat, _, text string) error {
	c := whatsapptest.Client{WaID: chat, Name: "Guest"}
	return p.deliver(ctx, p.fake.TextMessage(c, p.fake.NewWAMID(chat), text))
}

func (p whatsappPerson) press(ctx context.Context, chat, _, label string) error {
	c := whatsapptest.Client{WaID: chat, Name: "Guest"}
	sent := p.fake.SentTo(chat)
	for i := len(sent) - 1; i >= 0; i-- {
		for _, ch := range append(append([]whatsapptest.Choice(nil), sent[i].Buttons...), sent[i].Rows...) {
			if strings.EqualFold(ch.Title, label) || ch.ID == label {
				body, _ := p.fake.Reply(c, sent[i], ch.ID)
				return p.deliver(ctx, body)
			}
		}
	}
	return noButtonError{label}
}

func (p whatsappPerson) sent(chat string) []personMessage {
	var out []personMessage
	for _, m := range p.fake.SentTo(chat) {
		pm := personMessage{text: m.Text}
		if m.Type == "template" {
			pm.text = fmt.Sprintf("(template %s, %s) %s", m.Template, m.Language, strings.Join(m.Params, " "))
		}
		var row []string
		for _, b := range m.Buttons {
			row = append(row, b.Title)
		}
		if row != nil {
			pm.buttons = append(pm.buttons, row)
		}
		for _, r := range m.Rows {
			pm.buttons = append(pm.buttons, []string{r.Title})
		}
		out = append(out, pm)
	}
	return out
}
