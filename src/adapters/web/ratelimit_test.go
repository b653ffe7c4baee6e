package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/web"
)

// refusal sends a message of session from addr and returns the status, the
// error object of the answer and its Retry-After.
func (b *chatBundle) refusal(t *testing.T, addr, session, id string) (int, map[string]any, string) {
	t.Helper()
	body := fmt.Sprintf(`{"session":%q,"id":%q,"text":"hi"}`, session, id)
	req := httptest.NewRequest("POST", "/chat/api/messages", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = addr + ":40000"
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	var out struct {
		Error map[string]any `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out.Error, rec.Header().Get("Retry-After")
}

// TestChatNewSessionsPerAddressOff: with the per-address limit off (a reverse
// proxy in front makes every visitor one address) one address starts more than
// ten chats; the server's budget still holds.
func TestChatNewSessionsPerAddressOff(t *testing.T) {
	t.Parallel()
	b := newChatBundleWith(t, func(c *web.Config) { c.NewChatsPerAddr = -1 })
	for i := range web.DefaultNewChatsPerMinute {
		status, body := b.sendFrom(t, "10.7.0.1", fmt.Sprintf("proxy-session-%06d", i), "m")
		require.Equal(t, http.StatusOK, status, "session %d: %s", i, body)
	}
	status, _, _ := b.refusal(t, "10.7.0.1", "proxy-session-999999", "m")
	require.Equal(t, http.StatusTooManyRequests, status, "the server's budget still holds")

	b = newChatBundleWith(t, func(c *web.Config) { c.NewChatsPerAddr = 3 })
	for i := range 3 {
		status, body := b.sendFrom(t, "10.7.0.2", fmt.Sprintf("three-session-%06d", i), "m")
		require.Equal(t, http.StatusOK, status, "session %d: %s", i, body)
	}
	status, e, _ := b.refusal(t, "10.7.0.2", "three-session-999999", "m")
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "new_chats_network", e["reason"], "NewChatsPerAddr sets the limit")
}

// TestChatRateLimitReasons: each limit says which it is, for the page to say it
// in the client's language, and when to try again.
func TestChatRateLimitReasons(t *testing.T) {
	t.Parallel()

	t.Run("Messages", func(t *testing.T) {
		t.Parallel()
		b := newChatBundle(t)
		for i := range 20 {
			status, _ := b.sendFrom(t, "10.8.0.1", chatSession, fmt.Sprint("m", i))
			require.Equal(t, http.StatusOK, status)
			b.clock.T = b.clock.T.Add(100 * time.Millisecond)
		}
		status, e, retry := b.refusal(t, "10.8.0.1", chatSession, "m20")
		require.Equal(t, http.StatusTooManyRequests, status)
		require.Equal(t, "rate_limited", e["code"])
		require.Equal(t, "messages", e["reason"])
		require.Equal(t, "too many messages, slow down", e["message"])
		require.Equal(t, "8", retry, "the first message leaves the 10 s window in 8 s")
	})

	t.Run("NewChats", func(t *testing.T) {
		t.Parallel()
		b := newChatBundleWith(t, func(c *web.Config) { c.NewChatsPerMinute = 2 })
		for i := range 2 {
			status, _ := b.sendFrom(t, fmt.Sprint("10.8.1.", i), fmt.Sprintf("budget2-session-%06d", i), "m")
			require.Equal(t, http.StatusOK, status)
		}
		status, e, retry := b.refusal(t, "10.8.1.9", "budget2-session-999999", "m")
		require.Equal(t, http.StatusTooManyRequests, status)
		require.Equal(t, "rate_limited", e["code"])
		require.Equal(t, "new_chats", e["reason"])
		require.Equal(t, "30", retry, "at 2 a minute a new chat fits in 30 s")
	})

	t.Run("NewChatsNetwork", func(t *testing.T) {
		t.Parallel()
		b := newChatBundle(t)
		for i := range 10 {
			status, _ := b.sendFrom(t, "10.8.2.1", fmt.Sprintf("net-session-%06d", i), "m")
			require.Equal(t, http.StatusOK, status, i)
			if i < 9 {
				b.clock.T = b.clock.T.Add(time.Minute)
			}
		}
		status, e, retry := b.refusal(t, "10.8.2.1", "net-session-999999", "m")
		require.Equal(t, http.StatusTooManyRequests, status)
		require.Equal(t, "rate_limited", e["code"])
		require.Equal(t, "new_chats_network", e["reason"])
		require.Contains(t, e["message"], "new chats from your network")
		require.Equal(t, "60", retry, "the first of the ten leaves the 10-minute window in a minute")
	})
}

// TestChatPageSaysEachLimit: the page words each reason of a 429 in English and
// Russian rather than showing the server's English message.
func TestChatPageSaysEachLimit(t *testing.T) {
	t.Parallel()
	b := newChatBundle(t)
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/chat", nil))
	page := rec.Body.String()
	for _, s := range []string{`reason === "new_chats"`, `reason === "new_chats_network"`,
		"Too many new chats from your network", "Из вашей сети начато слишком много новых чатов"} {
		require.Contains(t, page, s)
	}
	require.NotContains(t, page, "showNote(data.error.message); // a 429")
}

// TestChatLimitsPerVisitorBehindAProxy: behind a trusted reverse proxy the
// per-address limits go by the visitor (X-Forwarded-For), not by the proxy,
// so one busy visitor does not lock every other client out of the chat.
func TestChatLimitsPerVisitorBehindAProxy(t *testing.T) {
	t.Parallel()
	b := newChatBundleWith(t, func(c *web.Config) {
		c.NewChatsPerAddr = 3
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.9.0.1/32")}
	})
	from := func(visitor, session string) int {
		t.Helper()
		body := fmt.Sprintf(`{"session":%q,"id":"m","text":"hi"}`, session)
		req := httptest.NewRequest("POST", "/chat/api/messages", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "198.51.100.9, "+visitor) // the first hop is the client's to forge
		req.RemoteAddr = "10.9.0.1:40000"
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range 3 {
		require.Equal(t, http.StatusOK, from("203.0.113.5", fmt.Sprintf("busy-visitor-%06d", i)))
	}
	require.Equal(t, http.StatusTooManyRequests, from("203.0.113.5", "busy-visitor-999999"), "past this visitor's 3 new chats")
	for i := range 5 {
		require.Equal(t, http.StatusOK, from(fmt.Sprintf("203.0.113.%d", 20+i), fmt.Sprintf("other-visitor-%06d", i)),
			"another visitor behind the same proxy has a budget of its own")
	}
}
