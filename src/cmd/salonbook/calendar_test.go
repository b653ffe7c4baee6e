package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/gcal/gcaltest"
	"salonbook/src/adapters/postgres/pgtest"
)

// TestCalendarEndToEnd serves the demo salon with calendar sync pointed at the
// fake Google: a booking made over the API appears in Anna's calendar, a
// cancel removes it, and Boris's calendar, which Google does not know, shows on
// /readyz without making the service unready.
func TestCalendarEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := gcaltest.New("anna@example.com")
	defer fake.Close()
	demo, err := os.ReadFile(filepath.Join("..", "..", "..", "scripts", "demo-salon.yaml"))
	require.NoError(t, err)
	salon := strings.Replace(string(demo), "  id: demo", "  id: gcal-e2e", 1)
	salon = strings.Replace(salon, "    name: {en: Boris, ru: Борис}\n", "    name: {en: Boris, ru: Борис}\n    calendar: ghost@example.com\n", 1)
	file := filepath.Join(t.TempDir(), "salon.yaml")
	require.NoError(t, os.WriteFile(file, []byte(salon), 0o600))
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "e2e-token-0123456789",
		"SALONBOOK_SALON": "gcal-e2e", "GOOGLE_CALENDAR_ENDPOINT": fake.URL()}
	require.NoError(t, run(ctx, []string{"migrate"}, env(vars), &bytes.Buffer{}, nil))
	require.NoError(t, run(ctx, []string{"apply", file}, env(vars), &bytes.Buffer{}, nil))

	serveCtx, stop := context.WithCancel(ctx)
	ready, done := make(chan string, 1), make(chan error, 1)
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
	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer e2e-token-0123456789")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}

	// Anna works Monday to Wednesday from 09:00: the first such day two or
	// more days ahead, at 10:00 in Berlin.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	day := time.Now().In(berlin).AddDate(0, 0, 2)
	for day.Weekday() < time.Monday || day.Weekday() > time.Wednesday {
		day = day.AddDate(0, 0, 1)
	}
	start := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, berlin)
	status, b := call("POST", "/api/v1/bookings", `{"service":"haircut","master":"anna","start":"`+start.Format(time.RFC3339)+
		`","client":{"name":"Maria Schmidt","phone":"+49 151 5550001"},"idempotency_key":"cal-1","confirm":true}`)
	require.Equal(t, http.StatusCreated, status, "%v", b)
	id, _ := b["id"].(string)
	require.NotEmpty(t, id)
	require.Eventually(t, func() bool {
		evs := fake.Events("anna@example.com")
		return len(evs) == 1 && evs[0].Start.DateTime == start.Format(time.RFC3339) && evs[0].ExtendedProperties.Private["salonbook_booking"] == id
	}, 15*time.Second, 50*time.Millisecond)

	require.Eventually(t, func() bool {
		status, r := call("GET", "/readyz", "")
		cal, _ := r["calendars"].(map[string]any)
		problems, _ := cal["problems"].([]any)
		if status != http.StatusOK || cal["sync"] != "on" || len(problems) != 1 {
			return false
		}
		p := problems[0].(map[string]any)
		return p["master"] == "boris" && !strings.Contains(p["problem"].(string), "ghost@")
	}, 15*time.Second, 100*time.Millisecond)

	status, _ = call("POST", "/api/v1/bookings/"+id+"/cancel", "")
	require.Equal(t, http.StatusOK, status)
	require.Eventually(t, func() bool { return len(fake.Events("anna@example.com")) == 0 }, 15*time.Second, 50*time.Millisecond)

	stop()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
	require.Contains(t, logs.String(), "google calendar sync is on")
	require.NotContains(t, logs.String(), "5550001", "no phone number in the log")
}

func TestGoogleConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"type":"authorized_user","private_key":"SECRET"}`), 0o600))
	good := filepath.Join(dir, "sa.json")
	require.NoError(t, os.WriteFile(good, []byte(`{"type":"service_account","client_email":"sb@p.iam.gserviceaccount.com","private_key":"k"}`), 0o600))
	base := map[string]string{"DATABASE_URL": "x", "SALONBOOK_API_TOKEN": "0123456789abcdef"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		vars map[string]string
		want string
	}{
		{with("GOOGLE_CREDENTIALS_FILE", filepath.Join(dir, "missing.json")), "GOOGLE_CREDENTIALS_FILE"},
		{with("GOOGLE_CREDENTIALS_FILE", bad), "GOOGLE_CREDENTIALS_FILE"},
		{with("GOOGLE_CALENDAR_ENDPOINT", "ftp://x"), "GOOGLE_CALENDAR_ENDPOINT"},
		{with("GOOGLE_IMPERSONATE", "owner@salon.example"), "GOOGLE_IMPERSONATE"},
		{with("GOOGLE_CREDENTIALS_FILE", good, "GOOGLE_REFRESH", "1s"), "GOOGLE_REFRESH"},
	} {
		_, err := loadConfig(env(c.vars), need{database: true, api: true})
		require.Error(t, err)
		require.Contains(t, err.Error(), c.want)
		require.NotContains(t, err.Error(), "SECRET")
	}
	cfg, err := loadConfig(env(base), need{database: true, api: true})
	require.NoError(t, err)
	require.False(t, cfg.Google.On(), "no credentials, no endpoint: sync is off")
	cfg, err = loadConfig(env(with("GOOGLE_CREDENTIALS_FILE", good, "GOOGLE_IMPERSONATE", "owner@salon.example", "GOOGLE_REFRESH", "2m")), need{database: true, api: true})
	require.NoError(t, err)
	require.True(t, cfg.Google.On())
	require.Equal(t, 2*time.Minute, cfg.Google.Refresh)
}
