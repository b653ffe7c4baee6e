package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/telegram/telegramtest"
)

// TestTelegramEndToEnd books through Telegram as a client would: updates as
// Telegram sends them reach the real server's webhook from the fake Bot API,
// and the bot's replies (sent with the real go-telegram client) come back to
// the fake, whose buttons the client presses.
func TestTelegramEndToEnd(t *testing.T) {
	t.Parallel()
	fake, fakeURL := telegramtest.Start(t, telegramtest.Options{})
	const secret = "e2e-webhook-secret-0123456789"
	dbURL := pgtest.URL(t)
	vars := map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "e2e-token-0123456789",
		"TELEGRAM_BOT_TOKEN": fake.Token(), "TELEGRAM_WEBHOOK_SECRET": secret, "TELEGRAM_API_URL": fakeURL}
	ctx := context.Background()
	require.NoError(t, run(ctx, []string{"migrate"}, env(vars), &bytes.Buffer{}, nil))
	applyDemo(t, vars, "tgdemo", func(demo []byte) []byte {
		// Every master's notices go to one staff group.
		return regexp.MustCompile(`(?m)^(    name: \{en: (Anna|Boris|Chloe), .*\n)`).ReplaceAll(demo, []byte("${1}    telegram_chat_id: -900\n"))
	})

	serveCtx, stop := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs syncBuffer
	go func() { done <- run(serveCtx, []string{"serve"}, env(vars), &logs, ready) }()
	addr := <-ready
	defer func() {
		stop()
		require.NoError(t, <-done)
		require.NotContains(t, logs.String(), fake.Token(), "the bot token never reaches the log")
		require.NotContains(t, logs.String(), "151 2345678", "nor a phone number")
	}()

	// Register the webhook on the fake (a real deployment sets TELEGRAM_WEBHOOK_URL, https only).
	resp, err := http.PostForm(fakeURL+"/bot"+fake.Token()+"/setWebhook",
		url.Values{"url": {"http://" + addr + "/telegram/webhook"}, "secret_token": {secret}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	const chat = 111222333
	olga := telegramtest.User{ID: chat, FirstName: "Olga", LanguageCode: "en"}
	updateID := int64(500000000)
	deliver := func(update []byte) {
		t.Helper()
		status, err := fake.Deliver(ctx, update)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
	}
	// wait returns the bot's next message to the chat after the first n.
	wait := func(n int) telegramtest.SentMessage {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if sent := fake.SentTo(chat); len(sent) > n {
				return sent[n]
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no message %d from the bot; sent so far: %+v", n+1, fake.SentTo(chat))
		return telegramtest.SentMessage{}
	}
	press := func(m telegramtest.SentMessage, label string) {
		t.Helper()
		for _, row := range m.Keyboard {
			for _, b := range row {
				if b.Text == label || (strings.HasPrefix(label, "#") && label == "#first" && !strings.Contains("Menu", b.Text)) {
					updateID++
					deliver(telegramtest.CallbackUpdateOn(updateID, olga, m, fmt.Sprint("cb", updateID), b.CallbackData))
					return
				}
			}
		}
		t.Fatalf("no button %q in %+v", label, m.Keyboard)
	}
	say := func(text string) {
		updateID++
		deliver(telegramtest.TextUpdate(updateID, chat, olga, text))
	}
	// edited: the reply to a press replaced the pressed message in place.
	edited := func(m, pressed telegramtest.SentMessage) {
		t.Helper()
		require.Equal(t, "editMessageText", m.Method, "the answer to a press replaces the keyboard message: %v", m)
		require.Equal(t, pressed.MessageID, m.MessageID)
	}
	// fresh: the reply to typed text is a new message.
	fresh := func(m telegramtest.SentMessage) {
		t.Helper()
		require.Equal(t, "sendMessage", m.Method, "%v", m)
	}

	updateID++
	start := telegramtest.CommandUpdate(updateID, chat, olga, "/start")
	deliver(start)
	deliver(start) // Telegram redelivers: handled once
	m := wait(0)
	fresh(m)
	require.Contains(t, m.Text, "Hello! This is Studio Anna")
	pressed := m
	press(m, "Book")
	m = wait(1)
	edited(m, pressed)
	require.Contains(t, m.Text, "Which service")
	require.Equal(t, [][]telegramtest.Button{{{Text: "Haircut", CallbackData: "s:haircut"}, {Text: "Colouring", CallbackData: "s:colouring"}},
		{{Text: "Manicure", CallbackData: "s:manicure"}, {Text: "Beard trim", CallbackData: "s:beard-trim"}},
		{{Text: "Menu", CallbackData: "menu"}}}, m.Keyboard)
	press(m, "Haircut")
	m = wait(2)
	edited(m, pressed)
	require.Contains(t, m.Text, "Who would you like")
	press(m, "No preference")
	m = wait(3)
	edited(m, pressed)
	require.Contains(t, m.Text, "Which day")
	press(m, "#first")
	m = wait(4)
	edited(m, pressed)
	require.Contains(t, m.Text, "Free times on")
	press(m, "#first")
	m = wait(5)
	edited(m, pressed)
	require.Contains(t, m.Text, "What's your name?")
	require.Equal(t, [][]telegramtest.Button{{{Text: "Menu", CallbackData: "menu"}}}, m.Keyboard)
	nameQuestion := m // its Menu button is pressed again later, when the message is old
	say("Olga")
	m = wait(6)
	fresh(m)
	require.Contains(t, m.Text, "phone number")
	say("+49 151 23456789")
	m = wait(7)
	fresh(m)
	require.True(t, m.RemovesKeyboard, "the phone's reply keyboard goes away before the summary: %q", m.Text)
	m = wait(8)
	fresh(m)
	require.Contains(t, m.Text, "Shall I confirm the booking?")
	require.Equal(t, [][]telegramtest.Button{{{Text: "Confirm", CallbackData: "ok"}}, {{Text: "Another time", CallbackData: "other"},
		{Text: "Cancel", CallbackData: "drop"}}}, m.Keyboard)
	pressed = m
	press(m, "Confirm")
	m = wait(9)
	edited(m, pressed)
	require.Contains(t, m.Text, "You're booked: Haircut")
	require.Equal(t, [][]telegramtest.Button{{{Text: "Book", CallbackData: "book"}, {Text: "Language", CallbackData: "lang"},
		{Text: "Help", CallbackData: "help"}}, {{Text: "My bookings", CallbackData: "mine"}}}, m.Keyboard)
	var messages int
	for _, sm := range fake.SentTo(chat) {
		if sm.Method == "sendMessage" {
			messages++
		}
	}
	require.Equal(t, 4, messages, "four messages on the client's screen (one only took the phone's keyboard away), six presses answered in place")

	require.Len(t, fake.SentTo(chat), 10, "one answer (message or edit) per update: the redelivered /start was not answered twice")
	require.Eventually(t, func() bool {
		staff := fake.SentTo(-900)
		return len(staff) == 1 && strings.HasPrefix(staff[0].Text, "New booking. Master: ") && strings.Contains(staff[0].Text, "Haircut") &&
			strings.Contains(staff[0].Text, "Olga") && !strings.Contains(staff[0].Text, "2345678")
	}, 10*time.Second, 20*time.Millisecond, "the master's staff chat hears of the booking, without the client's phone: %+v", fake.SentTo(-900))
	require.Eventually(t, func() bool { return len(fake.Answered()) == 6 }, 10*time.Second, 20*time.Millisecond,
		"every button press is answered so the client's spinner stops")

	// A press on a message scrolled up (the client typed and pressed since):
	// answered by a new message at the bottom, not inside the old one.
	press(nameQuestion, "Menu")
	m = wait(10)
	fresh(m)
	require.Contains(t, m.Text, "What would you like")

	pool := pgtest.Pool(t)
	var status, source string
	require.NoError(t, pool.QueryRow(ctx, `SELECT status, source FROM bookings WHERE salon_id = 'tgdemo'`).Scan(&status, &source))
	require.Equal(t, "confirmed", status)
	require.Equal(t, fmt.Sprint("telegram:", chat), source)

	// A wrong secret is refused and stores nothing.
	req, _ := http.NewRequest("POST", "http://"+addr+"/telegram/webhook", bytes.NewReader(telegramtest.TextUpdate(999, chat, olga, "hi")))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "wrong-secret-0123456789")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	// A malformed body is acknowledged and kept as a dead letter.
	status2, err := fake.Deliver(ctx, []byte(`{"update_id": "not a number"`))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status2)
	var stored, dead int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(dead) FROM inbox WHERE salon_id = 'tgdemo'`).Scan(&stored, &dead))
	require.Equal(t, 11, stored, "10 updates and the dead letter; the redelivery and the wrong secret stored nothing")
	require.Equal(t, 1, dead)
}

// TestTelegramPolling: with TELEGRAM_MODE=polling the server takes updates with
// getUpdates (no public URL needed) into the same pipeline.
func TestTelegramPolling(t *testing.T) {
	t.Parallel()
	fake, fakeURL := telegramtest.Start(t, telegramtest.Options{})
	ctx := context.Background()
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "e2e-token-0123456789",
		"TELEGRAM_BOT_TOKEN": fake.Token(), "TELEGRAM_MODE": "polling", "TELEGRAM_API_URL": fakeURL, "SALONBOOK_SALON": "pollsalon"}
	require.NoError(t, run(ctx, []string{"migrate"}, env(vars), &bytes.Buffer{}, nil))
	applyDemo(t, vars, "pollsalon", nil)

	serveCtx, stop := context.WithCancel(ctx)
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(serveCtx, []string{"serve"}, env(vars), &syncBuffer{}, ready) }()
	<-ready
	defer func() {
		stop()
		require.NoError(t, <-done)
	}()
	require.NoError(t, fake.Enqueue(telegramtest.CommandUpdate(700, 555, telegramtest.User{ID: 555, FirstName: "Ivan", LanguageCode: "ru"}, "/start")))
	require.Eventually(t, func() bool { return len(fake.SentTo(555)) == 1 }, 20*time.Second, 50*time.Millisecond)
	require.Contains(t, fake.SentTo(555)[0].Text, "Здравствуйте")
}

// TestServeFailsWhenTheWebhookIsRefused: when Telegram refuses the webhook at
// start, serve stops with the reason (and without the token) instead of
// hanging: the workers and the sender, which hold inbox connections, start
// only once the webhook is registered.
func TestServeFailsWhenTheWebhookIsRefused(t *testing.T) {
	t.Parallel()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"ok":false,"error_code":400,"description":"Bad Request: bad webhook: Failed to resolve host: Name or service not known"}`))
	}))
	defer refusing.Close()
	const token = "123456:refused-token-abcdefghijklmnopqrstu"
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "e2e-token-0123456789",
		"TELEGRAM_BOT_TOKEN": token, "TELEGRAM_WEBHOOK_SECRET": "refused-secret-0123456789", "TELEGRAM_API_URL": refusing.URL,
		"TELEGRAM_WEBHOOK_URL": "https://salon.example/telegram/webhook"}
	ctx := context.Background()
	require.NoError(t, run(ctx, []string{"migrate"}, env(vars), &bytes.Buffer{}, nil))
	applyDemo(t, vars, "tgrefused", nil)
	done := make(chan error, 1)
	var logs syncBuffer
	go func() { done <- run(ctx, []string{"serve"}, env(vars), &logs, nil) }()
	select {
	case err := <-done:
		require.ErrorContains(t, err, "register the webhook")
		require.ErrorContains(t, err, "Failed to resolve host")
		require.NotContains(t, err.Error(), token)
		require.NotContains(t, logs.String(), token)
	case <-time.After(30 * time.Second):
		t.Fatal("serve hung after the webhook was refused")
	}
}
