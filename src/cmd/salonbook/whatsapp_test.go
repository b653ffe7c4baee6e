package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/adapters/whatsapp/whatsapptest"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// TestWhatsAppEndToEnd books through WhatsApp as a client would: notifications
// as Meta sends them (signed) reach the real server's webhook from the fake
// Graph API, and the replies, sent with our client, come back to the fake,
// which refuses anything beyond WhatsApp's limits; the client presses their
// buttons and rows, and answers one list with a number.
func TestWhatsAppEndToEnd(t *testing.T) {
	t.Parallel()
	fake, fakeURL := whatsapptest.Start(t, whatsapptest.Options{})
	dbURL := pgtest.URL(t)
	vars := map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "e2e-token-0123456789",
		"WHATSAPP_TOKEN": fake.Token(), "WHATSAPP_APP_SECRET": fake.AppSecret(), "WHATSAPP_VERIFY_TOKEN": "verify-token-0123456789",
		"WHATSAPP_PHONE_NUMBER_ID": fake.PhoneNumberID(), "WHATSAPP_API_URL": fakeURL, "WHATSAPP_API_VERSION": "v24.0",
		"WHATSAPP_TEMPLATES": "en=salon_message,ru=salon_message_ru"}
	ctx := context.Background()
	require.NoError(t, run(ctx, []string{"migrate"}, env(vars), &bytes.Buffer{}, nil))
	applyDemo(t, vars, "wademo", nil)

	serveCtx, stop := context.WithCancel(ctx)
	ready, done := make(chan string, 1), make(chan error, 1)
	var logs syncBuffer
	go func() { done <- run(serveCtx, []string{"serve"}, env(vars), &logs, ready) }()
	addr := <-ready
	defer func() {
		stop()
		require.NoError(t, <-done)
		require.NotContains(t, logs.String(), fake.Token(), "the access token never reaches the log")
		require.NotContains(t, logs.String(), fake.AppSecret(), "nor the app secret")
		requireNoNumberIn(t, logs.String(), "4915112340000")
	}()
	hook := "http://" + addr + "/whatsapp/webhook"
	fake.SetWebhook(hook)

	// Meta's verification request.
	resp, err := http.Get(hook + "?hub.mode=subscribe&hub.verify_token=verify-token-0123456789&hub.challenge=424242")
	require.NoError(t, err)
	var challenge bytes.Buffer
	_, _ = challenge.ReadFrom(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "424242", challenge.String())

	olga := whatsapptest.Client{WaID: "4915112340000", Name: "Olga"}
	require.True(t, holdsNumber(`{"msg":"update","update":"`+fake.NewWAMID(olga.WaID)+`"}`, olga.WaID),
		"the log check finds a logged wamid (the worker logged them once)")
	deliver := func(body []byte) {
		t.Helper()
		status, err := fake.Deliver(ctx, body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
	}
	wait := func(n int) whatsapptest.Sent {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if sent := fake.SentTo(olga.WaID); len(sent) > n {
				m := sent[n]
				requireWithinLimits(t, m)
				return m
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no message %d from the salon; sent so far: %+v; refused: %v", n+1, fake.SentTo(olga.WaID), fake.Stats())
		return whatsapptest.Sent{}
	}
	press := func(m whatsapptest.Sent, label string) {
		t.Helper()
		for _, c := range append(m.Buttons, m.Rows...) {
			if c.Title == label || (label == "#first" && c.ID != "menu" && c.ID != "more") {
				body, ok := fake.Reply(olga, m, c.ID)
				require.True(t, ok)
				deliver(body)
				return
			}
		}
		t.Fatalf("no button or row %q in %+v %+v", label, m.Buttons, m.Rows)
	}
	say := func(text string) { deliver(fake.TextMessage(olga, fake.NewWAMID(olga.WaID), text)) }

	first := fake.TextMessage(olga, fake.NewWAMID(olga.WaID), "Hi")
	deliver(first)
	deliver(first) // Meta redelivers: handled once
	m := wait(0)
	require.Contains(t, m.Text, "Hello! This is Studio Anna")
	press(m, "Book")
	m = wait(1)
	require.Contains(t, m.Text, "Which service")
	require.Equal(t, "list", m.Kind, "more than 3 services: a list")
	press(m, "Haircut")
	m = wait(2)
	press(m, "No preference")
	m = wait(3)
	require.Contains(t, m.Text, "Which day")
	say("1") // a number picks the n-th choice
	m = wait(4)
	require.Contains(t, m.Text, "Free times on", "the number 1 chose the first day")
	press(m, "#first")
	m = wait(5)
	require.Contains(t, m.Text, "What's your name?")
	say("Olga")
	m = wait(6)
	require.Contains(t, m.Text, "phone number")
	press(m, "Use this number") // WhatsApp's stand-in for Telegram's contact button
	m = wait(7)
	require.Contains(t, m.Text, "Shall I confirm the booking?")
	require.Equal(t, "button", m.Kind)
	press(m, "Confirm")
	m = wait(8)
	require.Contains(t, m.Text, "You're booked: Haircut")
	time.Sleep(200 * time.Millisecond)
	require.Len(t, fake.SentTo(olga.WaID), 9, "one answer per message: the redelivered first one was not answered twice")

	pool := pgtest.Pool(t)
	var status, source, phone string
	require.NoError(t, pool.QueryRow(ctx, `SELECT b.status, b.source, c.phone FROM bookings b JOIN clients c USING (salon_id, client_id)
		WHERE b.salon_id = 'wademo'`).Scan(&status, &source, &phone))
	require.Equal(t, "confirmed", status)
	require.Equal(t, "whatsapp:4915112340000", source)
	require.Equal(t, "+4915112340000", phone, "the number the client shared with the button")

	// Delivery statuses are recorded against the message they belong to.
	deliver(fake.StatusUpdate(m.ID, olga.WaID, "read", 0, time.Now()))
	deliver(fake.StatusUpdate(m.ID, olga.WaID, "delivered", 0, time.Now()))
	var state string
	require.NoError(t, pool.QueryRow(ctx, `SELECT s.status FROM outbox o JOIN message_statuses s
		ON s.salon_id = o.salon_id AND s.channel = o.channel AND s.provider_id = o.provider_id
		WHERE o.salon_id = 'wademo' AND o.provider_id = $1
		ORDER BY array_position(ARRAY['sent','delivered','read','failed'], s.status) DESC LIMIT 1`, m.ID).Scan(&state))
	require.Equal(t, "read", state)

	// A wrong signature is refused and stores nothing.
	status2, err := fake.DeliverUnsigned(ctx, fake.TextMessage(olga, fake.NewWAMID(olga.WaID), "hi"), "sha256="+strings.Repeat("0", 64))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, status2)
	// A malformed body is acknowledged and kept as a dead letter.
	deliver([]byte(`{"object":"whatsapp_business_account","entry":[{`))
	var stored, dead int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(dead) FROM inbox WHERE salon_id = 'wademo'`).Scan(&stored, &dead))
	require.Equal(t, 10, stored, "9 messages and the dead letter; the redelivery and the wrong signature stored nothing")
	require.Equal(t, 1, dead)

	// 25 hours later the salon has something to say (a change made by staff, a
	// reminder: queued without a message to answer): it goes as the template.
	fake.SetInbound(olga.WaID, time.Now().Add(-25*time.Hour))
	_, err = pool.Exec(ctx, `UPDATE chat_windows SET last_inbound_at = now() - interval '25 hours' WHERE salon_id = 'wademo'`)
	require.NoError(t, err)
	body, err := json.Marshal(messaging.Outgoing{ChatID: olga.WaID, Reply: &dialog.Reply{Text: "Your haircut moved to 11:00.\nSee you!"}})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO outbox (salon_id, channel, chat_id, body) VALUES ('wademo', 'whatsapp', $1, $2)`, olga.WaID, body)
	require.NoError(t, err)
	m = wait(9)
	require.Equal(t, "template", m.Type)
	require.Equal(t, "salon_message", m.Template)
	require.Equal(t, "en", m.Language)
	require.Equal(t, []string{"Your haircut moved to 11:00. · See you!"}, m.Params)
}

// requireNoNumberIn fails when log holds the phone number waID: as digits, or
// inside anything base64 (a wamid embeds the number: Meta's and the fake's are
// "wamid." and base64), in any of base64's alphabets and at any alignment.
func requireNoNumberIn(t *testing.T, log, waID string) {
	t.Helper()
	require.NotEmpty(t, log)
	require.NotContains(t, log, waID, "the client's number never reaches the log")
	require.False(t, holdsNumber(log, waID), "nor a wamid or other base64 that embeds it")
}

var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{8,}`)

func holdsNumber(log, waID string) bool {
	for _, run := range base64Run.FindAllString(log, -1) {
		for skip := range 4 { // every alignment of the embedded bytes
			if len(run) <= skip {
				break
			}
			r := run[skip:]
			r = r[:len(r)/4*4]
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				if b, err := enc.DecodeString(r); err == nil && bytes.Contains(b, []byte(waID)) {
					return true
				}
			}
		}
	}
	return false
}

// requireWithinLimits checks a sent message against WhatsApp's limits (the
// fake refuses others; this says which limit a failure broke).
func requireWithinLimits(t *testing.T, m whatsapptest.Sent) {
	t.Helper()
	switch m.Kind {
	case "button":
		require.LessOrEqual(t, len(m.Buttons), 3)
		seen := map[string]bool{}
		for _, b := range m.Buttons {
			require.LessOrEqual(t, utf8.RuneCountInString(b.Title), 20, b.Title)
			require.False(t, seen[b.Title], "titles are unique")
			seen[b.Title] = true
		}
	case "list":
		require.LessOrEqual(t, len(m.Rows), 10)
		require.LessOrEqual(t, utf8.RuneCountInString(m.ListText), 20)
		for _, r := range m.Rows {
			require.LessOrEqual(t, utf8.RuneCountInString(r.Title), 24, r.Title)
			require.LessOrEqual(t, utf8.RuneCountInString(r.Description), 72)
		}
	}
}

func TestWhatsAppConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{"WHATSAPP_TOKEN": "EAAGtoken", "WHATSAPP_APP_SECRET": "0123456789abcdef0123",
		"WHATSAPP_VERIFY_TOKEN": "verify-token-0123456789", "WHATSAPP_PHONE_NUMBER_ID": "106540352242922"}
	with := func(k, v string) func(string) string {
		vars := map[string]string{}
		for key, val := range base {
			vars[key] = val
		}
		vars[k] = v
		return env(vars)
	}
	w, err := loadWhatsApp(with("WHATSAPP_TEMPLATES", "ru=salon_message_ru, en=salon_message:en_US"))
	require.NoError(t, err)
	require.Equal(t, "https://graph.facebook.com", w.APIURL)
	require.Equal(t, "v24.0", w.APIVersion)
	require.Equal(t, 80, w.Rate)
	require.Equal(t, "ru", w.DefaultLang)
	require.Equal(t, "en_US", w.Templates["en"].Code)
	require.Empty(t, w.ReminderTemplates)
	w, err = loadWhatsApp(with("WHATSAPP_REMINDER_TEMPLATES", "de=salon_reminder_de,en=salon_reminder"))
	require.NoError(t, err)
	require.Equal(t, whatsapp.TemplateName{Name: "salon_reminder", Code: "en"}, w.ReminderTemplates["en"])
	require.Equal(t, "de", w.DefaultLang, "without WHATSAPP_TEMPLATES, the reminders' first language")

	off, err := loadWhatsApp(env(map[string]string{"WHATSAPP_APP_SECRET": "x"}))
	require.NoError(t, err, "no token: the channel is off")
	require.Empty(t, off.Token)

	for name, v := range map[string]string{
		"WHATSAPP_APP_SECRET":         "short",
		"WHATSAPP_VERIFY_TOKEN":       "",
		"WHATSAPP_PHONE_NUMBER_ID":    "+49 151",
		"WHATSAPP_API_URL":            "ftp://graph",
		"WHATSAPP_API_VERSION":        "21",
		"WHATSAPP_RATE":               "0",
		"WHATSAPP_CHAT_RATE":          "x",
		"WHATSAPP_WORKERS":            "100",
		"WHATSAPP_TEMPLATES":          "english=salon",
		"WHATSAPP_REMINDER_TEMPLATES": "en=a,en=b",
	} {
		_, err := loadWhatsApp(with(name, v))
		require.ErrorContains(t, err, name, "a bad setting names its variable")
		require.NotContains(t, err.Error(), "EAAGtoken")
		require.NotContains(t, err.Error(), "0123456789abcdef0123")
	}
	for _, u := range []string{"http://graph.facebook.com", "https://user:hunter2secret@graph.facebook.com", "http://10.0.0.1:8080"} {
		_, err := loadWhatsApp(with("WHATSAPP_API_URL", u))
		require.ErrorContains(t, err, "WHATSAPP_API_URL", u)
		require.NotContains(t, err.Error(), "hunter2secret", "the URL is not quoted")
		require.NotContains(t, err.Error(), "graph.facebook.com")
	}
	for _, u := range []string{"http://127.0.0.1:9000", "http://localhost:9000/graph", "http://[::1]:9000", "https://graph.example"} {
		w, err := loadWhatsApp(with("WHATSAPP_API_URL", u))
		require.NoError(t, err, "https, or http to a loopback host (a fake): %s", u)
		require.Equal(t, u, w.APIURL)
	}
}
