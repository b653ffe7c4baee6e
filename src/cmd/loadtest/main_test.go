package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestFakesServeForDemos: fake-telegram and fake-whatsapp print where to point
// salonbook, answer there with the printed token, and stop when the context
// ends (SIGTERM).
func TestFakesServeForDemos(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		command, urlVar, probe string
	}{
		{"fake-telegram", "TELEGRAM_API_URL", "{url}/bot{TELEGRAM_BOT_TOKEN}/getMe"},
		{"fake-whatsapp", "WHATSAPP_API_URL", "{url}/v24.0/{WHATSAPP_PHONE_NUMBER_ID}/messages"},
		{"fake-meta", "META_API_URL", "{url}/v24.0/{META_PIXEL_ID}/events"},
	} {
		t.Run(tc.command, func(t *testing.T) {
			t.Parallel()
			ctx, stop := context.WithCancel(context.Background())
			var out syncBuffer
			done := make(chan error, 1)
			args := []string{tc.command, "-addr", "127.0.0.1:0", "-limits", "off"}
			if tc.command == "fake-meta" {
				args = args[:3] // no limits to turn off
			}
			go func() { done <- run(ctx, args, &out) }()
			vars := map[string]string{}
			require.Eventually(t, func() bool {
				for _, m := range regexp.MustCompile(`(?m)^([A-Z_]+)=(\S+)$`).FindAllStringSubmatch(out.String(), -1) {
					vars[m[1]] = m[2]
				}
				return vars[tc.urlVar] != ""
			}, 10*time.Second, 10*time.Millisecond)
			url := strings.ReplaceAll(tc.probe, "{url}", vars[tc.urlVar])
			for k, v := range vars {
				url = strings.ReplaceAll(url, "{"+k+"}", v)
			}
			req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+vars["WHATSAPP_TOKEN"]+vars["META_CAPI_TOKEN"])
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.NotEqual(t, http.StatusUnauthorized, resp.StatusCode, "the printed token is the fake's")
			require.NotEqual(t, http.StatusNotFound, resp.StatusCode)
			stop()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Fatal("the fake did not stop")
			}
		})
	}
}

// TestRunRefusesBadFlags: a run without a database, or with a channel or
// limits it does not know, says so before doing anything.
func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	ctx := context.Background()
	require.ErrorContains(t, run(ctx, []string{"run"}, &out), "-db is required")
	require.ErrorContains(t, run(ctx, []string{"run", "-db", "postgres://x", "-channel", "sms", "-server", "/bin/true"}, &out), "-channel must be")
	require.ErrorContains(t, run(ctx, []string{"run", "-db", "postgres://x", "-limits", "whatsapp", "-server", "/bin/true"}, &out), "-limits must be raised or telegram")
	require.ErrorContains(t, run(ctx, []string{"salonbook"}, &out), "unknown command")
}
