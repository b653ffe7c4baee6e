package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

// fakeChat echoes what it is given and remembers every call; err, when set, is
// returned instead.
type fakeChat struct {
	mu    sync.Mutex
	calls []fakeChatCall
	err   error
}

type fakeChatCall struct {
	Key dialog.ChatKey
	In  dialog.Inbound
}

func (f *fakeChat) Handle(_ context.Context, key dialog.ChatKey, in dialog.Inbound) ([]dialog.Reply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fakeChatCall{Key: key, In: in})
	if f.err != nil {
		return nil, f.err
	}
	switch in.Kind {
	case dialog.KindText:
		if in.Text == "silence" {
			return nil, nil
		}
		if in.Text == "+49 151 1" { // after a contact request: Telegram's keyboard goes first
			return []dialog.Reply{{Text: "👍 Got it", RemoveKeyboard: true, KeyboardOnly: true},
				{Text: "Confirm?", Choices: []dialog.Choice{{ID: "ok", Label: "Confirm"}}}}, nil
		}
		return []dialog.Reply{{Text: "you said: " + in.Text}}, nil
	case dialog.KindChoice:
		return []dialog.Reply{{Text: "you chose " + in.Choice}, {Text: "and then?", Choices: []dialog.Choice{{ID: "x", Label: "X"}}}}, nil
	default:
		return []dialog.Reply{{Text: "menu", Choices: []dialog.Choice{{ID: "book", Label: "Book"}, {ID: "mine", Label: "My bookings"}}}}, nil
	}
}

func (f *fakeChat) Calls() []fakeChatCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeChatCall(nil), f.calls...)
}

// lockedBuffer is a log sink that tests can read while the server writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type chatBundle struct {
	srv     *httptest.Server
	salonID string
	clock   *core.FixedClock
	chat    *fakeChat
	log     *lockedBuffer
	handler http.Handler
}

func newChatBundle(t *testing.T) *chatBundle {
	t.Helper()
	return newChatBundleWith(t, nil)
}

// newChatBundleWith lets edit change the server's configuration first.
func newChatBundleWith(t *testing.T, edit func(*web.Config)) *chatBundle {
	t.Helper()
	store, salonID := pgtest.Salon(t)
	b := &chatBundle{
		salonID: salonID, clock: &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)},
		chat: &fakeChat{}, log: &lockedBuffer{},
	}
	cfg := web.Config{
		Bookings: booking.New(store, b.clock),
		SalonID:  salonID,
		APIToken: token,
		Ready:    func(context.Context) error { return nil },
		Logger:   slog.New(slog.NewJSONHandler(b.log, nil)),
		Clock:    b.clock,
		Chat:     b.chat,
	}
	if edit != nil {
		edit(&cfg)
	}
	b.handler = web.Handler(cfg)
	b.srv = httptest.NewServer(b.handler)
	t.Cleanup(b.srv.Close)
	return b
}

const chatSession = "Sess_ion-0123456789abcd"

// post sends a raw body to the message API and returns the status and the body.
func (b *chatBundle) post(t *testing.T, body string) (int, string) {
	t.Helper()
	resp, err := b.srv.Client().Post(b.srv.URL+"/chat/api/messages", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(raw)
}

func (b *chatBundle) send(t *testing.T, msg map[string]any) (int, map[string]any) {
	t.Helper()
	raw, err := json.Marshal(msg)
	require.NoError(t, err)
	status, body := b.post(t, string(raw))
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &out), body)
	return status, out
}

func TestChatPage(t *testing.T) {
	t.Parallel()
	b := newChatBundle(t)
	get := func() (*http.Response, string) {
		resp, err := b.srv.Client().Get(b.srv.URL + "/chat")
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(raw)
	}
	resp, page := get()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Empty(t, resp.Header.Get("X-Frame-Options"), "salons embed the page")

	csp := resp.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'self'")
	require.Contains(t, csp, "frame-ancestors *")
	require.NotContains(t, csp, "unsafe-inline")
	nonce := regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9_-]{20,})'`).FindStringSubmatch(csp)
	require.NotNil(t, nonce, csp)
	require.Contains(t, page, `<script nonce="`+nonce[1]+`">`)
	require.Contains(t, page, `<style nonce="`+nonce[1]+`">`)
	require.NotContains(t, page, "{{NONCE}}")

	for _, want := range []string{`id="log"`, `aria-live="polite"`, `id="text"`, `id="send"`, `"msg " + who`, `"choices"`, "dataset.id", "getRandomValues", "navigator.language", `credentials: "same-origin"`, `command: "start"`, "applyLang"} {
		require.Contains(t, page, want)
	}
	for _, external := range []string{"<link", " src=", "http://", "https://", "@import"} {
		require.NotContains(t, page, external, "the page is self-contained")
	}

	resp2, _ := get()
	require.NotEqual(t, csp, resp2.Header.Get("Content-Security-Policy"), "a fresh nonce per response")
}

func TestChatOff(t *testing.T) {
	t.Parallel()
	store, salonID := pgtest.Salon(t)
	srv := httptest.NewServer(web.Handler(web.Config{
		Bookings: booking.New(store, core.SystemClock{}), SalonID: salonID, APIToken: token,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Clock: core.SystemClock{},
	}))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/chat")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, err = srv.Client().Post(srv.URL+"/chat/api/messages", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestChatMessages(t *testing.T) {
	t.Parallel()

	t.Run("NoKeyboardToTakeAway", func(t *testing.T) {
		t.Parallel()
		b := newChatBundle(t)
		status, out := b.send(t, map[string]any{"session": chatSession, "id": "m1", "text": "+49 151 1"})
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, map[string]any{"replies": []any{
			map[string]any{"text": "Confirm?", "choices": []any{map[string]any{"id": "ok", "label": "Confirm"}}},
		}}, out, "the page has no contact keyboard: the reply that only removes one is not shown")
	})

	t.Run("Text", func(t *testing.T) {
		t.Parallel()
		b := newChatBundle(t)
		status, out := b.send(t, map[string]any{"session": chatSession, "id": "m1", "text": "  Hello, salon!  ", "lang": "ru-RU"})
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, map[string]any{"replies": []any{
			map[string]any{"text": "you said: Hello, salon!", "choices": []any{}},
		}}, out)
		require.Equal(t, []fakeChatCall{{
			Key: dialog.ChatKey{SalonID: b.salonID, Channel: "web", ChatID: chatSession},
			In:  dialog.Inbound{ID: "web:" + chatSession + ":m1", Kind: dialog.KindText, Text: "Hello, salon!", LangHint: "ru-RU"},
		}}, b.chat.Calls())

		logs := b.log.String()
		require.Contains(t, logs, `"route":"POST /chat/api/messages"`)
		require.NotContains(t, logs, "Hello")
		require.NotContains(t, logs, chatSession)
	})

	t.Run("Choice", func(t *testing.T) {
		t.Parallel()
		b := newChatBundle(t)
		status, out := b.send(t, map[string]any{"session": chatSession, "id": "m2", "choice": "svc:haircut"})
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, map[string]any{"replies": []any{
			map[string]any{"text": "you chose svc:haircut", "choices": []any{}},
			map[string]any{"text": "and then?", "choices": []any{map[string]any{"id": "x", "label": "X"}}},
		}}, out)
		require.Equal(t, dialog.Inbound{ID: "web:" + chatSession + ":m2", Kind: dialog.KindChoice, Choice: "svc:haircut"}, b.chat.Calls()[0].In)
	})

	t.Run("Commands", func(t *testing.T) {
		t.Parallel()
		b := newChatBundle(t)
		for i, cmd := range []string{"start", "cancel", "help", "language"} {
			status, out := b.send(t, map[string]any{"session": chatSession, "id": fmt.Sprint("c", i), "command": cmd})
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, "menu", out["replies"].([]any)[0].(map[string]any)["text"])
			require.Equal(t, dialog.Inbound{ID: fmt.Sprint("web:", chatSession, ":c", i), Kind: dialog.KindCommand, Text: cmd}, b.chat.Calls()[i].In)
		}
	})

	t.Run("NoRepliesIsAnEmptyArray", func(t *testing.T) {
		t.Parallel()
		b := newChatBundle(t)
		status, body := b.post(t, `{"session":"`+chatSession+`","id":"m3","text":"silence"}`)
		require.Equal(t, http.StatusOK, status)
		require.JSONEq(t, `{"replies":[]}`, body)
	})
}

func TestChatInvalid(t *testing.T) {
	t.Parallel()
	b := newChatBundle(t)
	msg := func(fields string) string { return `{"session":"` + chatSession + `","id":"m1",` + fields + `}` }
	for name, body := range map[string]string{
		"SessionTooShort":    `{"session":"abc","id":"m1","text":"hi"}`,
		"SessionTooLong":     `{"session":"` + strings.Repeat("a", 65) + `","id":"m1","text":"hi"}`,
		"SessionBadChars":    `{"session":"0123456789abcdef/..","id":"m1","text":"hi"}`,
		"MissingSession":     `{"id":"m1","text":"hi"}`,
		"MissingID":          `{"session":"` + chatSession + `","text":"hi"}`,
		"IDTooLong":          `{"session":"` + chatSession + `","id":"` + strings.Repeat("i", 65) + `","text":"hi"}`,
		"IDBadChars":         `{"session":"` + chatSession + `","id":"m 1","text":"hi"}`,
		"Nothing":            msg(`"lang":"en"`),
		"TextAndChoice":      msg(`"text":"hi","choice":"book"`),
		"EmptyTextAndChoice": msg(`"text":"","choice":"book"`),
		"ChoiceAndCommand":   msg(`"choice":"book","command":"start"`),
		"UnknownCommand":     msg(`"command":"reboot"`),
		"EmptyText":          msg(`"text":""`),
		"BlankText":          msg(`"text":" \n\t "`),
		"TextTooLong":        msg(`"text":"` + strings.Repeat("я", 1001) + `"`),
		"EmptyChoice":        msg(`"choice":""`),
		"ChoiceTooLong":      msg(`"choice":"` + strings.Repeat("c", 65) + `"`),
		"LangTooLong":        msg(`"text":"hi","lang":"` + strings.Repeat("l", 36) + `"`),
		"LangBadChars":       msg(`"text":"hi","lang":"en<script>"`),
		"UnknownField":       msg(`"text":"hi","phone":"+49 30 1234567"`),
		"WrongType":          msg(`"text":42`),
		"NotJSON":            `text=hi`,
		"TooLarge":           msg(`"text":"` + strings.Repeat("a", 5000) + `"`),
	} {
		status, raw := b.post(t, body)
		require.Equal(t, http.StatusBadRequest, status, name)
		var out map[string]any
		require.NoError(t, json.Unmarshal([]byte(raw), &out), name)
		require.Equal(t, "invalid", errCode(out), name)
		require.NotEmpty(t, out["error"].(map[string]any)["message"], name)
	}
	require.Empty(t, b.chat.Calls())

	status, _ := b.send(t, map[string]any{"session": chatSession, "id": "ok", "text": strings.Repeat("я", 1000)})
	require.Equal(t, http.StatusOK, status, "1000 characters fit, in 2000 bytes")
}

func TestChatFlood(t *testing.T) {
	t.Parallel()
	b := newChatBundle(t)
	hello := func(session string, i int) int {
		status, _ := b.send(t, map[string]any{"session": session, "id": fmt.Sprint("m", i), "text": "hi"})
		return status
	}
	for i := range 20 {
		require.Equal(t, http.StatusOK, hello(chatSession, i), "message %d", i)
		b.clock.T = b.clock.T.Add(100 * time.Millisecond)
	}
	status, out := b.send(t, map[string]any{"session": chatSession, "id": "m20", "text": "hi"})
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, map[string]any{"error": map[string]any{"code": "rate_limited", "message": "too many messages, slow down", "reason": "messages"}}, out)
	require.Len(t, b.chat.Calls(), 20, "the refused message did not reach the chat")

	require.Equal(t, http.StatusOK, hello("another-session-0123", 0), "other sessions are not affected")

	// 10 s after the first message it leaves the window: one more fits, the next does not.
	b.clock.T = b.clock.T.Add(7900 * time.Millisecond)
	require.Equal(t, http.StatusTooManyRequests, hello(chatSession, 21), "still inside the window")
	b.clock.T = b.clock.T.Add(100 * time.Millisecond)
	require.Equal(t, http.StatusOK, hello(chatSession, 22))
	require.Equal(t, http.StatusTooManyRequests, hello(chatSession, 23))

	// A quiet window later the session starts afresh.
	b.clock.T = b.clock.T.Add(10 * time.Second)
	for i := range 20 {
		require.Equal(t, http.StatusOK, hello(chatSession, 100+i))
	}
	require.Equal(t, http.StatusTooManyRequests, hello(chatSession, 200))
}

func TestChatErrors(t *testing.T) {
	t.Parallel()
	const secret = "dialog: SECRET detail for +49 30 1234567"
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"Invalid", core.Errorf(core.EInvalid, "request.invalid", "%s", secret), http.StatusBadRequest, "invalid"},
		{"Conflict", core.Errorf(core.EConflict, "booking.slot_taken", "%s", secret), http.StatusConflict, "conflict"},
		{"Unavailable", core.Errorf(core.EUnavailable, "error.unavailable", "%s: %w", secret, context.DeadlineExceeded), http.StatusServiceUnavailable, "unavailable"},
		{"Internal", core.Errorf(core.EInternal, "booking.slot_taken", "%s", secret), http.StatusInternalServerError, "internal"},
		{"Plain", errors.New(secret), http.StatusInternalServerError, "internal"},
		{"Wrapped", fmt.Errorf("web chat: %w", errors.New(secret)), http.StatusInternalServerError, "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newChatBundle(t)
			b.chat.err = tc.err
			status, body := b.post(t, `{"session":"`+chatSession+`","id":"m1","text":"my phone is +49 30 7654321"}`)
			require.Equal(t, tc.status, status)
			var out map[string]any
			require.NoError(t, json.Unmarshal([]byte(body), &out))
			require.Equal(t, tc.code, errCode(out))
			require.NotContains(t, body, "SECRET")
			require.NotContains(t, body, "1234567")
			require.NotContains(t, body, "7654321")
			logs := b.log.String()
			require.NotContains(t, logs, "7654321", "the message text is never logged")
			require.NotContains(t, logs, chatSession, "nor the session id")
		})
	}
}

// TestChatFloodPerAddress: a script that invents a new session for every message
// is still limited by its network address.
func TestChatFloodPerAddress(t *testing.T) {
	t.Parallel()
	b := newChatBundleWith(t, func(c *web.Config) { c.NewChatsPerMinute = 1000 }) // the address, not the budget
	for i := range 120 {
		status, _ := b.send(t, map[string]any{"session": fmt.Sprintf("fresh-session-%06d", i%6), "id": fmt.Sprint("m", i), "text": "hi"})
		require.Equal(t, http.StatusOK, status, "message %d", i)
	}
	status, _ := b.send(t, map[string]any{"session": "fresh-session-000000", "id": "m999", "text": "hi"})
	require.Equal(t, http.StatusTooManyRequests, status)
	b.clock.T = b.clock.T.Add(11 * time.Second)
	status, _ = b.send(t, map[string]any{"session": "fresh-session-000000", "id": "m999", "text": "hi"})
	require.Equal(t, http.StatusOK, status, "the address recovers after the window")
}

// sendFrom sends a message of session as if from the network address addr.
func (b *chatBundle) sendFrom(t *testing.T, addr, session, id string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"session":%q,"id":%q,"text":"hi"}`, session, id)
	req := httptest.NewRequest("POST", "/chat/api/messages", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = addr + ":40000"
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestChatNewSessionBudget: sessions invented from many addresses, each within
// its address's limit, still draw on one budget of new sessions for the whole
// server; sessions already admitted go on.
func TestChatNewSessionBudget(t *testing.T) {
	t.Parallel()

	t.Run("Default", func(t *testing.T) {
		t.Parallel()
		b := newChatBundle(t)
		for i := range web.DefaultNewChatsPerMinute {
			status, body := b.sendFrom(t, fmt.Sprintf("10.0.%d.%d", i/250, i%250), fmt.Sprintf("budget-session-%06d", i), "m")
			require.Equal(t, http.StatusOK, status, "session %d: %s", i, body)
		}
		status, body := b.sendFrom(t, "10.9.9.9", "budget-session-999999", "m")
		require.Equal(t, http.StatusTooManyRequests, status, "one more new session, from a fresh address")
		require.Contains(t, body, "too many new chats")
	})

	t.Run("RefillsAndKnownSessionsGoOn", func(t *testing.T) {
		t.Parallel()
		b := newChatBundleWith(t, func(c *web.Config) { c.NewChatsPerMinute = 6 }) // one every 10 s
		for i := range 6 {
			status, _ := b.sendFrom(t, fmt.Sprintf("10.1.0.%d", i), fmt.Sprintf("refill-session-%06d", i), "m")
			require.Equal(t, http.StatusOK, status, i)
		}
		status, _ := b.sendFrom(t, "10.1.1.1", "refill-session-new000", "m")
		require.Equal(t, http.StatusTooManyRequests, status)
		status, _ = b.sendFrom(t, "10.1.1.2", "refill-session-000003", "m2")
		require.Equal(t, http.StatusOK, status, "an admitted session is not new, from any address")
		require.Len(t, b.chat.Calls(), 7, "the refused session did not reach the chat")

		b.clock.T = b.clock.T.Add(10 * time.Second)
		status, _ = b.sendFrom(t, "10.1.1.1", "refill-session-new000", "m")
		require.Equal(t, http.StatusOK, status, "ten seconds refill one")
		status, _ = b.sendFrom(t, "10.1.1.3", "refill-session-new001", "m")
		require.Equal(t, http.StatusTooManyRequests, status, "and only one")

		b.clock.T = b.clock.T.Add(50 * time.Minute)
		for i := range 6 {
			status, _ := b.sendFrom(t, fmt.Sprintf("10.2.0.%d", i), fmt.Sprintf("later-session-%06d", i), "m")
			require.Equal(t, http.StatusOK, status, "the budget is full again: %d", i)
		}
		status, _ = b.sendFrom(t, "10.1.1.1", "refill-session-000000", "m3")
		require.Equal(t, http.StatusOK, status, "a session quiet for 50 minutes is still known")
		status, _ = b.sendFrom(t, "10.2.1.1", "later-session-new000", "m")
		require.Equal(t, http.StatusTooManyRequests, status)
	})
}

// TestChatNewSessionsPerAddress: one address (an IPv6 /64 counts as one) cannot
// use up the server's budget of new sessions: another address still starts a
// chat, and the refusal says why.
func TestChatNewSessionsPerAddress(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct{ flooder, sibling, other string }{
		"IPv4": {"10.3.0.1", "10.3.0.1", "10.3.0.2"},
		"IPv6": {"[2001:db8:1:2::1]", "[2001:db8:1:2:ffff::7]", "[2001:db8:1:3::1]"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newChatBundle(t)
			started := 0
			for i := range web.DefaultNewChatsPerMinute {
				addr := c.flooder
				if i%2 == 1 {
					addr = c.sibling
				}
				status, body := b.sendFrom(t, addr, fmt.Sprintf("flood-session-%06d", i), "m")
				if status != http.StatusOK {
					require.Equal(t, http.StatusTooManyRequests, status, body)
					require.Contains(t, body, "new chats from your network")
					break
				}
				started++
			}
			require.Less(t, started, web.DefaultNewChatsPerMinute/2, "one address takes a small share of the budget")
			require.Positive(t, started, "a few chats from one address (a salon's Wi-Fi) are fine")
			status, body := b.sendFrom(t, c.other, "other-session-000000", "m")
			require.Equal(t, http.StatusOK, status, "another address still starts a chat: %s", body)
			status, body = b.sendFrom(t, c.flooder, "flood-session-000000", "m2")
			require.Equal(t, http.StatusOK, status, "a session already started goes on: %s", body)
		})
	}
}
