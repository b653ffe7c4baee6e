package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

var printedFeed = regexp.MustCompile(`(?m)^(https://salon\.example/calendar/([A-Za-z0-9_-]{43})\.ics)$`)

// TestFeedCommandOnServe: `salonbook feed anna` prints a new feed link under
// PUBLIC_URL; `serve` answers it with an iCalendar feed; a second `feed anna`
// (while serving) makes the first link answer 404. The secret never reaches
// the log. An unknown master and a wrong usage are refused.
func TestFeedCommandOnServe(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0",
		"SALONBOOK_API_TOKEN": "e2e-token-0123456789", "PUBLIC_URL": "https://salon.example"}
	ctx := context.Background()
	applyDemo(t, vars, "f"+pgtest.RandomID()[:8], nil)
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"feed", "anna"}, env(vars), &out, nil))
	first := printedFeed.FindStringSubmatch(out.String())
	require.NotNil(t, first, out.String())
	require.ErrorContains(t, runFeed(ctx, []string{"nobody"}, env(vars), io.Discard), `"nobody" is not an active master`)
	require.ErrorContains(t, runFeed(ctx, nil, env(vars), io.Discard), "usage: salonbook feed MASTER")

	serveCtx, stop := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs syncBuffer
	go func() { done <- run(serveCtx, []string{"serve"}, env(vars), &logs, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	get := func(u string) (int, string, http.Header) {
		resp, err := http.Get("http://" + addr + strings.TrimPrefix(u, "https://salon.example"))
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body), resp.Header
	}
	status, body, h := get(first[1])
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "text/calendar; charset=utf-8", h.Get("Content-Type"))
	require.True(t, strings.HasPrefix(body, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"), body)
	require.Contains(t, body, "X-WR-CALNAME:Anna")

	out.Reset()
	require.NoError(t, run(ctx, []string{"feed", "anna"}, env(vars), &out, nil))
	second := printedFeed.FindStringSubmatch(out.String())
	require.NotNil(t, second, out.String())
	status, _, _ = get(first[1])
	require.Equal(t, http.StatusNotFound, status, "the old link stops working")
	status, _, _ = get(second[1])
	require.Equal(t, http.StatusOK, status)

	stop()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not shut down")
	}
	require.Contains(t, logs.String(), `"route":"GET /calendar/{file}"`)
	require.NotContains(t, logs.String(), first[2])
	require.NotContains(t, logs.String(), second[2])
}
