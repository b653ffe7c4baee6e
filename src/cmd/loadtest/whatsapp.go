package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"salonbook/src/adapters/whatsapp"
	"salonbook/src/adapters/whatsapp/whatsapptest"
)

var whatsAppWords = words{
	first:   "first messages",
	updates: "notifications",
	tooMany: "130429/131056",
	raised:  "fake Graph API limits off; the server's sender raised to 10000 msg/s, 6000/min per client (WHATSAPP_RATE, WHATSAPP_CHAT_RATE)",
	limited: "fake Graph API enforces Meta's limits (80/s per number; pair limit 1 per 6 s, bursts of 45); the sender at its defaults (80/s; 10/min per client, burst 10)",
}

// waChannel is WhatsApp on the fake Graph API (whatsapptest), notifications
// signed with the app secret. With the platform's limits (-limits whatsapp)
// the fake enforces Meta's (80/s for the number, the pair limit per client)
// and the sender runs at its defaults.
type waChannel struct {
	fake  *whatsapptest.Server
	hooks *http.Client // the fake's, to the webhook
	srv   *httptest.Server
}

func newWhatsApp(limits string, conns int) (*waChannel, error) {
	var fakeLimits *whatsapptest.Limits
	switch limits {
	case "raised":
		fakeLimits = &whatsapptest.Limits{}
	case "whatsapp":
	default:
		return nil, errors.New("loadtest: -limits must be raised or whatsapp")
	}
	hooks := keepAlive(30*time.Second, conns)
	fake := whatsapptest.New(whatsapptest.Options{Limits: fakeLimits, WebhookClient: hooks})
	return &waChannel{fake: fake, hooks: hooks, srv: httptest.NewServer(fake)}, nil
}

func (w *waChannel) name() string { return whatsapp.Channel }

func (w *waChannel) close() { w.hooks.CloseIdleConnections(); w.srv.Close() }

func (w *waChannel) env(raised bool, workers int) map[string]string {
	vars := map[string]string{"WHATSAPP_TOKEN": w.fake.Token(), "WHATSAPP_APP_SECRET": w.fake.AppSecret(),
		"WHATSAPP_VERIFY_TOKEN": "loadtest-verify-" + randomHex(8), "WHATSAPP_PHONE_NUMBER_ID": w.fake.PhoneNumberID(),
		"WHATSAPP_API_URL": w.srv.URL, "WHATSAPP_TEMPLATES": "en=salon_message", "WHATSAPP_WORKERS": strconv.Itoa(workers)}
	if raised { // measure the pipeline, not Meta's limits
		vars["WHATSAPP_RATE"], vars["WHATSAPP_CHAT_RATE"] = "10000", "6000"
	}
	return vars
}

func (w *waChannel) hook(addr string) error {
	w.fake.SetWebhook("http://" + addr + "/whatsapp/webhook")
	return nil
}

func (w *waChannel) deliver(ctx context.Context, body []byte) (int, error) {
	return w.fake.Deliver(ctx, body)
}

func (w *waChannel) client(i int) whatsapptest.Client {
	return whatsapptest.Client{WaID: fmt.Sprint(49_170_000_000_000 + i), Name: clientName(i)}
}

// message is a text from c under a fresh wamid (the inbox's key for it).
func (w *waChannel) message(c whatsapptest.Client, text string) update {
	wamid := w.fake.NewWAMID(c.WaID)
	return update{w.fake.TextMessage(c, wamid, text), wamid}
}

func (w *waChannel) first(i int) update { return w.message(w.client(i), "Hi") }

func (w *waChannel) paced(i int) update {
	return w.message(whatsapptest.Client{WaID: fmt.Sprint(49_160_000_000_000 + i), Name: "Paced"}, "Hi")
}

func (w *waChannel) text(i int, text string) update { return w.message(w.client(i), text) }

// press is a reply to m with the button or list row id, a new message (under
// a fresh wamid) each time.
func (w *waChannel) press(i int, m reply, id string) (update, bool) {
	c, sent, wamid := w.client(i), m.msg.(whatsapptest.Sent), w.fake.NewWAMID(w.client(i).WaID)
	for _, b := range sent.Buttons {
		if b.ID == id {
			return update{w.fake.ButtonReply(c, wamid, sent.ID, b.ID, b.Title), wamid}, true
		}
	}
	for _, r := range sent.Rows {
		if r.ID == id {
			return update{w.fake.ListReply(c, wamid, sent.ID, r.ID, r.Title), wamid}, true
		}
	}
	return update{}, false
}

// phone presses "Use this number".
func (w *waChannel) phone(i int, m reply) (update, bool) {
	return w.press(i, m, whatsapp.ContactChoiceID)
}

func (w *waChannel) latest(i int) (int, reply) {
	sent := w.fake.SentTo(w.client(i).WaID)
	if len(sent) == 0 {
		return 0, reply{}
	}
	m := sent[len(sent)-1]
	r := reply{text: m.Text, msg: m}
	for _, ch := range append(m.Buttons, m.Rows...) {
		r.choices = append(r.choices, ch.ID)
	}
	return len(sent), r
}

func (w *waChannel) sent() ([]time.Time, map[string][]time.Time) {
	sent := w.fake.Sent()
	times := make([]time.Time, len(sent))
	perChat := map[string][]time.Time{}
	for i, m := range sent {
		times[i] = m.Time
		perChat[m.To] = append(perChat[m.To], m.Time)
	}
	return times, perChat
}

func (w *waChannel) count(r *ltResult) {
	stats := w.fake.Stats()
	r.TooMany = stats[whatsapp.ErrorThroughput] + stats[whatsapp.ErrorPairLimit]
	var refused int
	for code, n := range stats {
		if code != 0 && code != whatsapp.ErrorThroughput && code != whatsapp.ErrorPairLimit {
			refused += n
		}
	}
	if refused > 0 {
		r.Example = fmt.Sprintf("the fake refused %d messages: %v", refused, stats)
	}
}
