package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/web"
	"salonbook/src/core"
)

type clickStore struct {
	mu      sync.Mutex
	fbclids []string
}

func (c *clickStore) Click(_ context.Context, _, fbclid string, _ time.Time) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fbclids = append(c.fbclids, fbclid)
	return "code_" + string(rune('a'+len(c.fbclids)-1)), nil
}

// GET /go/telegram stores the ad's click and sends the visitor into the bot
// with its code; a visitor without a usable click id, or past the minute's
// budget, still reaches the bot, with nothing stored.
func TestGoTelegram(t *testing.T) {
	t.Parallel()
	clicks := &clickStore{}
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	srv := httptest.NewServer(web.Handler(web.Config{SalonID: "demo", Clock: clock, AdClicks: clicks, TelegramBot: "studio_anna_bot",
		Ready: func(context.Context) error { return nil }, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}))
	t.Cleanup(srv.Close)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(query string) string {
		t.Helper()
		resp, err := c.Get(srv.URL + "/go/telegram" + query)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		return resp.Header.Get("Location")
	}
	require.Equal(t, "https://t.me/studio_anna_bot?start=code_a", get("?fbclid=IwAR2x_y-z"))
	require.Equal(t, "https://t.me/studio_anna_bot", get(""))
	require.Equal(t, "https://t.me/studio_anna_bot", get("?fbclid=a.b%20c"))
	require.Equal(t, []string{"IwAR2x_y-z"}, clicks.fbclids)
	for range web.ClicksPerAddr - 1 {
		get("?fbclid=x")
	}
	require.Equal(t, "https://t.me/studio_anna_bot", get("?fbclid=x"), "past the address's budget: no code")
	require.Len(t, clicks.fbclids, web.ClicksPerAddr)

	head, err := http.NewRequest(http.MethodHead, srv.URL+"/go/telegram?fbclid=y", nil)
	require.NoError(t, err)
	clock.T = clock.T.Add(10 * time.Minute)
	resp, err := c.Do(head)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Len(t, clicks.fbclids, web.ClicksPerAddr, "a HEAD (a link checker) stores nothing")
	require.Contains(t, get("?fbclid=x"), "?start=", "a new window")
}

// Behind a trusted reverse proxy every visitor is the proxy's address: the
// limit per address goes by the client's (X-Forwarded-For from the proxy),
// and a refusal is logged without it. The limit is configurable, or off.
func TestGoTelegramBehindAProxy(t *testing.T) {
	t.Parallel()
	clicks := &clickStore{}
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	var log syncLog
	srv := httptest.NewServer(web.Handler(web.Config{SalonID: "demo", Clock: clock, AdClicks: clicks, TelegramBot: "studio_anna_bot",
		Ready: func(context.Context) error { return nil }, Logger: slog.New(slog.NewTextHandler(&log, nil)),
		ClicksPerAddr: 3, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}}))
	t.Cleanup(srv.Close)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(client string) string {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/go/telegram?fbclid=IwAR2x", nil)
		require.NoError(t, err)
		req.Header.Set("X-Forwarded-For", "198.51.100.77, "+client)
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		return resp.Header.Get("Location")
	}
	for i := range 10 {
		require.Contains(t, get("203.0.113."+strconv.Itoa(i+1)), "?start=", "visitor %d has a budget of its own", i)
	}
	for range 3 {
		require.Contains(t, get("203.0.113.200"), "?start=")
	}
	require.NotContains(t, get("203.0.113.200"), "?start=", "past its budget of 3")
	require.Contains(t, log.String(), "ad clicks not stored")
	require.Contains(t, log.String(), "per_address=1")
	require.NotContains(t, log.String(), "203.0.113.200")
	require.Len(t, clicks.fbclids, 13)

	off := &clickStore{}
	srv2 := httptest.NewServer(web.Handler(web.Config{SalonID: "demo", Clock: clock, AdClicks: off, TelegramBot: "studio_anna_bot",
		Ready: func(context.Context) error { return nil }, Logger: slog.New(slog.DiscardHandler), ClicksPerAddr: -1}))
	t.Cleanup(srv2.Close)
	for range web.ClicksPerAddr + 5 {
		resp, err := c.Get(srv2.URL + "/go/telegram?fbclid=IwAR2x")
		require.NoError(t, err)
		resp.Body.Close()
	}
	require.Len(t, off.fbclids, web.ClicksPerAddr+5, "no limit per address")
}

type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
