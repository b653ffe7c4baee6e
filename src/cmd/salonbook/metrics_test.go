package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/telegram/telegramtest"
)

const metricsToken = "metrics-token-0123456789"

// startServe runs serve with vars until the test ends; it returns the main
// address and the logs.
func startServe(t *testing.T, vars map[string]string) (string, *syncBuffer) {
	t.Helper()
	serveCtx, stop := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- run(serveCtx, []string{"serve"}, env(vars), logs, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(60 * time.Second):
			t.Error("serve did not shut down")
		}
		require.NotContains(t, logs.String(), metricsToken, "the metrics token never reaches the log")
	})
	return addr, logs
}

// scrape GETs url with the header auth (none when "") and returns the status and body.
func scrape(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// value is the sample of series (name{labels} as exposed, labels sorted) in a
// scrape, or -1 when it is not there.
func value(body, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestMetricsCountWhatHappened serves the demo salon with Telegram (the fake
// Bot API) and METRICS_TOKEN: after a booking, a conflict for the same time, a
// cancel and a reply sent to a chat, a scrape shows those counters moved; the
// scrape needs the token; paths no route matches count as one series.
func TestMetricsCountWhatHappened(t *testing.T) {
	t.Parallel()
	fake, fakeURL := telegramtest.Start(t, telegramtest.Options{})
	const secret = "metrics-webhook-secret-0123456789"
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "e2e-token-0123456789",
		"TELEGRAM_BOT_TOKEN": fake.Token(), "TELEGRAM_WEBHOOK_SECRET": secret, "TELEGRAM_API_URL": fakeURL, "METRICS_TOKEN": metricsToken}
	require.NoError(t, run(context.Background(), []string{"migrate"}, env(vars), &bytes.Buffer{}, nil))
	applyDemo(t, vars, "metricsdemo", nil)
	addr, _ := startServe(t, vars)
	base := "http://" + addr

	status, body := scrape(t, base+"/metrics", "")
	require.Equal(t, http.StatusUnauthorized, status, "no token: %s", body)
	status, _ = scrape(t, base+"/metrics", "Bearer "+metricsToken+"x")
	require.Equal(t, http.StatusUnauthorized, status, "a wrong token")
	status, _ = scrape(t, base+"/metrics", "Bearer e2e-token-0123456789")
	require.Equal(t, http.StatusUnauthorized, status, "the API's token is not the metrics token")
	status, before := scrape(t, base+"/metrics", "Bearer "+metricsToken)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, -1.0, value(before, `salonbook_booking_requests_total{op="book",result="ok"}`), "nothing booked yet")

	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer e2e-token-0123456789")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	day := time.Now().In(berlin).AddDate(0, 0, 2)
	for day.Weekday() < time.Monday || day.Weekday() > time.Wednesday { // Anna's days
		day = day.AddDate(0, 0, 1)
	}
	start := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, berlin).Format(time.RFC3339)
	book := func(key, phone string) (int, map[string]any) {
		return call("POST", "/api/v1/bookings", `{"service":"haircut","master":"anna","start":"`+start+
			`","client":{"name":"Maria","phone":"`+phone+`"},"idempotency_key":"`+key+`","confirm":true}`)
	}
	status, b := book("m-1", "+49 151 5550001")
	require.Equal(t, http.StatusCreated, status, "%v", b)
	status, _ = book("m-2", "+49 151 5550002")
	require.Equal(t, http.StatusConflict, status, "the time is taken")
	status, _ = call("POST", "/api/v1/bookings/"+b["id"].(string)+"/cancel", "")
	require.Equal(t, http.StatusOK, status)
	status, _ = call("GET", "/api/v1/slots?service=haircut&master=any&from="+day.Format("2006-01-02")+"&days=1", "")
	require.Equal(t, http.StatusOK, status)
	for _, path := range []string{"/no/such/path", "/no/other/path?x=1", "/api/v1/nothing-here"} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		resp.Body.Close()
	}

	// A reply sent to a Telegram chat.
	resp, err := http.PostForm(fakeURL+"/bot"+fake.Token()+"/setWebhook",
		url.Values{"url": {base + "/telegram/webhook"}, "secret_token": {secret}})
	require.NoError(t, err)
	resp.Body.Close()
	const chat = 777000111
	got, err := fake.Deliver(context.Background(), telegramtest.CommandUpdate(600000001, chat,
		telegramtest.User{ID: chat, FirstName: "Olga", LanguageCode: "en"}, "/start"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got)
	require.Eventually(t, func() bool { return len(fake.SentTo(chat)) > 0 }, 20*time.Second, 20*time.Millisecond)

	var after string
	require.Eventually(t, func() bool { // the sender counts a send once the provider answered
		_, after = scrape(t, base+"/metrics", "Bearer "+metricsToken)
		return value(after, `salonbook_sends_total{channel="telegram",outcome="sent"}`) >= 1
	}, 10*time.Second, 50*time.Millisecond)
	for series, want := range map[string]float64{
		`salonbook_booking_requests_total{op="book",result="ok"}`:                      1,
		`salonbook_booking_requests_total{op="book",result="taken"}`:                   1,
		`salonbook_booking_requests_total{op="cancel",result="ok"}`:                    1,
		`salonbook_booking_requests_total{op="slots",result="ok"}`:                     1,
		`salonbook_booking_request_duration_seconds_count{op="slots"}`:                 1,
		`salonbook_http_requests_total{code="201",route="POST /api/v1/bookings"}`:      1,
		`salonbook_http_requests_total{code="409",route="POST /api/v1/bookings"}`:      1,
		`salonbook_http_requests_total{code="404",route="unmatched"}`:                  2,
		`salonbook_http_requests_total{code="401",route="/api/v1/"}`:                   1,
		`salonbook_http_requests_total{code="200",route="/telegram/webhook"}`:          1,
		`salonbook_http_request_duration_seconds_count{route="POST /api/v1/bookings"}`: 2,
		`salonbook_http_requests_total{code="401",route="GET /metrics"}`:               3,
		`salonbook_inbox_waiting{channel="telegram"}`:                                  0,
		`salonbook_metrics_read_ok{read="backlog"}`:                                    1,
		`salonbook_metrics_read_ok{read="jobs"}`:                                       1,
		`salonbook_db_pool_max_connections{pool="main"}`:                               32,
		`salonbook_db_pool_max_connections{pool="conversations"}`:                      16,
	} {
		require.Equal(t, want, value(after, series), "%s in\n%s", series, after)
	}
	require.GreaterOrEqual(t, value(after, `salonbook_db_pool_acquires_total{pool="telegram"}`), 1.0)
	require.GreaterOrEqual(t, value(after, `salonbook_outbox_waiting{channel="telegram"}`), 0.0, "a second reply may still wait")
	require.GreaterOrEqual(t, value(after, `salonbook_river_jobs{state="completed"}`), 0.0, "river's table is the package's: other tests' jobs are there")
	require.NotContains(t, after, "/no/", "a requested path is never a label")
	require.NotContains(t, after, strconv.Itoa(chat), "nor a chat id")
	require.NotContains(t, after, "5550001", "nor a phone number")
}

// TestMetricsOnTheirOwnListener: with METRICS_ADDR, /metrics is served there
// (here without a token) and the main listener has none.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "e2e-token-0123456789",
		"METRICS_ADDR": "127.0.0.1:0"}
	require.NoError(t, run(context.Background(), []string{"migrate"}, env(vars), &bytes.Buffer{}, nil))
	applyDemo(t, vars, "metricsaddr", nil)
	addr, logs := startServe(t, vars)
	m := regexp.MustCompile(`"msg":"serving metrics","addr":"([^"]+)"`).FindStringSubmatch(logs.String())
	require.NotNil(t, m, "the metrics address is logged: %s", logs.String())
	require.NotEqual(t, addr, m[1])

	status, body := scrape(t, "http://"+m[1]+"/metrics", "")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "salonbook_db_pool_max_connections{pool=\"main\"} 32")
	require.Contains(t, body, "go_goroutines")
	status, _ = scrape(t, "http://"+addr+"/metrics", "")
	require.Equal(t, http.StatusNotFound, status, "the main listener has no /metrics")
	status, _ = scrape(t, "http://"+addr+"/metrics", "Bearer "+metricsToken)
	require.Equal(t, http.StatusNotFound, status)
	status, _ = scrape(t, "http://"+m[1]+"/healthz", "")
	require.Equal(t, http.StatusNotFound, status, "the metrics listener serves nothing else")
}

func TestMetricsConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "x", "SALONBOOK_API_TOKEN": "0123456789abcdef"}
	with := func(k, v string) map[string]string {
		out := map[string]string{k: v}
		for k, v := range base {
			out[k] = v
		}
		return out
	}
	for _, c := range []struct{ k, v, want string }{
		{"METRICS_TOKEN", "short", "METRICS_TOKEN"},
		{"METRICS_ADDR", "9090", "METRICS_ADDR"},
		{"METRICS_ADDR", "127.0.0.1:8080", "differ from HTTP_ADDR"},
	} {
		_, err := loadConfig(env(with(c.k, c.v)), need{database: true, api: true})
		require.ErrorContains(t, err, c.want, "%s=%s", c.k, c.v)
		require.NotContains(t, err.Error(), "short")
	}
	cfg, err := loadConfig(env(with("METRICS_TOKEN", metricsToken)), need{database: true, api: true})
	require.NoError(t, err)
	require.Equal(t, metricsToken, cfg.MetricsToken)
	require.Empty(t, cfg.MetricsAddr)
}
