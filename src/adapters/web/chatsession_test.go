package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/web"
)

// TestChatSessionCookie: the page gives the browser a random session in an
// HttpOnly cookie (Lax over http; __Host-, Secure, SameSite=None and
// Partitioned when the public URL is https, for embeds), keeps one it has,
// and the message API takes the session from it.
func TestChatSessionCookie(t *testing.T) {
	t.Parallel()
	b := newChatBundle(t)
	resp, err := b.srv.Client().Get(b.srv.URL + "/chat")
	require.NoError(t, err)
	resp.Body.Close()
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	require.Equal(t, "chat", c.Name)
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.False(t, c.Secure)
	require.Equal(t, "/", c.Path)
	require.Regexp(t, `^[A-Za-z0-9_-]{32}$`, c.Value)

	again := func(cookie *http.Cookie) []*http.Cookie {
		req, err := http.NewRequest("GET", b.srv.URL+"/chat", nil)
		require.NoError(t, err)
		req.AddCookie(cookie)
		resp, err := b.srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.Cookies()
	}
	require.Empty(t, again(c), "a browser that has a session keeps it")
	require.Len(t, again(&http.Cookie{Name: "chat", Value: "short"}), 1, "a malformed one is replaced")
	require.NotEqual(t, c.Value, again(&http.Cookie{Name: "chat", Value: "x"})[0].Value)

	post := func(body string, headers map[string]string, cookie *http.Cookie) (int, string) {
		req, err := http.NewRequest("POST", b.srv.URL+"/chat/api/messages", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := b.srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(raw)
	}
	status, body := post(`{"id":"m1","text":"hi"}`, nil, nil)
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Contains(t, body, "no chat session")
	require.Contains(t, body, `"reason":"no_session"`, "the page makes a session of its own on this")
	status, body = post(`{"id":"m1","text":"hi"}`, nil, c)
	require.Equal(t, http.StatusOK, status, body)
	calls := b.chat.Calls()
	require.Equal(t, c.Value, calls[len(calls)-1].Key.ChatID, "the cookie is the session")

	// From another site, with the browser's cookie: refused before the chat sees it.
	n := len(b.chat.Calls())
	status, _ = post(`{"id":"m2","text":"cancel my booking"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, c)
	require.Equal(t, http.StatusForbidden, status)
	status, _ = post(`{"id":"m3","text":"hi"}`, map[string]string{"Origin": "https://evil.example"}, c)
	require.Equal(t, http.StatusForbidden, status)
	require.Len(t, b.chat.Calls(), n)

	// Reading back: a chat that cannot read back answers no messages (the page
	// then starts one); another site may not read it.
	get := func(headers map[string]string) (int, string) {
		req, err := http.NewRequest("GET", b.srv.URL+"/chat/api/messages", nil)
		require.NoError(t, err)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		req.AddCookie(c)
		resp, err := b.srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(raw)
	}
	status, body = get(nil)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"lang":"","messages":[]}`, body)
	status, _ = get(map[string]string{"Sec-Fetch-Site": "cross-site"})
	require.Equal(t, http.StatusForbidden, status)
}

func TestChatSessionCookieOverHTTPS(t *testing.T) {
	t.Parallel()
	b := newChatBundleWith(t, func(c *web.Config) { c.PublicURL = "https://salon.example" })
	resp, err := b.srv.Client().Get(b.srv.URL + "/chat")
	require.NoError(t, err)
	resp.Body.Close()
	raw := resp.Header.Get("Set-Cookie")
	require.True(t, strings.HasPrefix(raw, "__Host-chat="), raw)
	for _, want := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=None", "Partitioned"} {
		require.Contains(t, raw, want)
	}
	require.NotContains(t, raw, "Domain=")
}
