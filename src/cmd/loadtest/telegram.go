package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"salonbook/src/adapters/telegram/telegramtest"
)

var telegramWords = words{
	first:   "/start",
	updates: "updates",
	tooMany: "429s",
	raised:  "fake Bot API limits off; the server's sender raised to 10000 msg/s, 100/s per chat (TELEGRAM_RATE, TELEGRAM_CHAT_RATE)",
	limited: "fake Bot API enforces Telegram's limits (30/s per bot, 1/s per chat burst 3, 20/min per group)",
}

// tgChannel is Telegram on the fake Bot API (telegramtest), the webhook with
// its secret.
type tgChannel struct {
	fake     *telegramtest.Server
	srv      *httptest.Server
	secret   string
	updateID atomic.Int64
}

func newTelegram(limits string) (*tgChannel, error) {
	var fakeLimits *telegramtest.Limits
	switch limits {
	case "raised":
		fakeLimits = &telegramtest.Limits{}
	case "telegram":
	default:
		return nil, errors.New("loadtest: -limits must be raised or telegram")
	}
	fake := telegramtest.New(telegramtest.Options{Limits: fakeLimits})
	t := &tgChannel{fake: fake, srv: httptest.NewServer(fake), secret: "loadtest-secret-" + randomHex(8)}
	t.updateID.Store(100_000_000)
	return t, nil
}

func (t *tgChannel) name() string { return "telegram" }

func (t *tgChannel) close() { t.fake.Close(); t.srv.Close() }

func (t *tgChannel) env(raised bool, workers int) map[string]string {
	vars := map[string]string{"TELEGRAM_BOT_TOKEN": t.fake.Token(), "TELEGRAM_WEBHOOK_SECRET": t.secret, "TELEGRAM_API_URL": t.srv.URL,
		"TELEGRAM_WORKERS": strconv.Itoa(workers)}
	if raised { // measure the pipeline, not Telegram's limits (a platform hosts many bots)
		vars["TELEGRAM_RATE"], vars["TELEGRAM_CHAT_RATE"] = "10000", "100"
	}
	return vars
}

func (t *tgChannel) hook(addr string) error {
	return setWebhook(t.srv.URL, t.fake.Token(), "http://"+addr+"/telegram/webhook", t.secret)
}

func (t *tgChannel) deliver(ctx context.Context, body []byte) (int, error) {
	return t.fake.Deliver(ctx, body)
}

// chat is client i's chat id (a private chat: the user's id).
func (t *tgChannel) chat(i int) int64 { return int64(7_000_000_000 + i) }

func (t *tgChannel) user(i int) telegramtest.User {
	return telegramtest.User{ID: t.chat(i), FirstName: clientName(i), LanguageCode: "en"}
}

func (t *tgChannel) next() (int64, string) {
	id := t.updateID.Add(1)
	return id, strconv.FormatInt(id, 10)
}

func (t *tgChannel) first(i int) update {
	id, s := t.next()
	return update{telegramtest.CommandUpdate(id, t.chat(i), t.user(i), "/start"), s}
}

func (t *tgChannel) paced(i int) update {
	chat := int64(6_000_000_000 + i)
	id, s := t.next()
	return update{telegramtest.CommandUpdate(id, chat, telegramtest.User{ID: chat, FirstName: "Paced", LanguageCode: "en"}, "/start"), s}
}

func (t *tgChannel) text(i int, text string) update {
	id, s := t.next()
	return update{telegramtest.TextUpdate(id, t.chat(i), t.user(i), text), s}
}

// press is a callback query on the message m: each press is a new one.
func (t *tgChannel) press(i int, m reply, data string) (update, bool) {
	id, s := t.next()
	return update{telegramtest.CallbackUpdateOn(id, t.user(i), m.msg.(telegramtest.SentMessage), fmt.Sprint("cb", id), data), s}, true
}

// phone types a number: the client's own, made from its chat id.
func (t *tgChannel) phone(i int, _ reply) (update, bool) {
	return t.text(i, fmt.Sprintf("+49 151 %08d", t.chat(i)%100_000_000)), true
}

func (t *tgChannel) latest(i int) (int, reply) {
	sent := t.fake.SentTo(t.chat(i))
	if len(sent) == 0 {
		return 0, reply{}
	}
	m := sent[len(sent)-1]
	r := reply{text: m.Text, msg: m}
	for _, row := range m.Keyboard {
		for _, b := range row {
			r.choices = append(r.choices, b.CallbackData)
		}
	}
	return len(sent), r
}

// keyboardGone is how many of the bot's messages to client i only took the
// contact keyboard away ("👍 Got it" before the booking's summary, which has
// buttons and so cannot): one after the phone, beside the step's reply.
func (t *tgChannel) keyboardGone(i int) int {
	n := 0
	for _, m := range t.fake.SentTo(t.chat(i)) {
		if m.RemovesKeyboard && len(m.Keyboard) == 0 && strings.HasPrefix(m.Text, "👍") {
			n++
		}
	}
	return n
}

// waitLatest waits (at most timeout) for the bot's n-th message to client i
// and returns how many there are and the last; ok is false on timeout.
func (t *tgChannel) waitLatest(ctx context.Context, i, n int, timeout time.Duration) (int, reply, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	k, m, err := t.fake.WaitSentTo(ctx, t.chat(i), n)
	if err != nil {
		return 0, reply{}, false
	}
	r := reply{text: m.Text, msg: m}
	for _, row := range m.Keyboard {
		for _, b := range row {
			r.choices = append(r.choices, b.CallbackData)
		}
	}
	return k, r, true
}

func (t *tgChannel) sent() ([]time.Time, map[string][]time.Time) {
	sent := t.fake.Sent()
	times := make([]time.Time, len(sent))
	perChat := map[string][]time.Time{}
	for i, m := range sent {
		times[i] = m.Time
		chat := strconv.FormatInt(m.ChatID, 10)
		perChat[chat] = append(perChat[chat], m.Time)
	}
	return times, perChat
}

func (t *tgChannel) count(r *ltResult) {
	stats := t.fake.Stats()
	r.TooMany, r.Edits, r.NotModified = stats.TooManyRequests, stats.Edited, stats.NotModified
}

// setWebhook registers hook (with its secret) on the fake Bot API at fakeURL.
func setWebhook(fakeURL, token, hook, secret string) error {
	resp, err := http.PostForm(fakeURL+"/bot"+token+"/setWebhook",
		url.Values{"url": {hook}, "secret_token": {secret}, "max_connections": {"100"}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("setWebhook: %d", resp.StatusCode)
	}
	return nil
}
