package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
