package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

// TestServeLimits: serve caps headers and the connections one address holds
// open (slow clients cannot pile up memory).
func TestServeLimits(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "limits-token-0123456789",
		"HTTP_MAX_CONNS_PER_ADDR": "2"}
	applyDemo(t, vars, "hardlimits", nil)
	ctx, stop := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(vars), &syncBuffer{}, ready) }()
	t.Cleanup(func() { stop(); <-done })
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}

	req, err := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
	require.NoError(t, err)
	req.Header.Set("X-Padding", strings.Repeat("p", 64<<10))
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode, "64 KB of headers is refused")

	// Two silent connections from this address are held; a third is closed at once.
	for range 2 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
	}
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer c.Close()
		_, _ = c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(c)
		return buf.Len() == 0 // closed without an answer
	}, 20*time.Second, 100*time.Millisecond, "a third connection from one address is closed")
}

func TestConnLimitsConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "x", "SALONBOOK_API_TOKEN": "0123456789abcdef"}
	cfg, err := loadConfig(env(base), need{database: true, api: true})
	require.NoError(t, err)
	require.Equal(t, 2048, cfg.MaxConns)
	require.Equal(t, 256, cfg.MaxConnsPerAddr)
	for _, bad := range []map[string]string{{"HTTP_MAX_CONNS": "0"}, {"HTTP_MAX_CONNS_PER_ADDR": "many"}, {"HTTP_MAX_CONNS": "10", "HTTP_MAX_CONNS_PER_ADDR": "20"}} {
		vars := map[string]string{}
		for k, v := range base {
			vars[k] = v
		}
		for k, v := range bad {
			vars[k] = v
		}
		_, err := loadConfig(env(vars), need{database: true, api: true})
		require.ErrorContains(t, err, "HTTP_MAX_CONNS", "%v", bad)
	}
	// A total alone below the per-address default: per address follows it.
	vars := map[string]string{"HTTP_MAX_CONNS": "100"}
	for k, v := range base {
		vars[k] = v
	}
	cfg, err = loadConfig(env(vars), need{database: true, api: true})
	require.NoError(t, err)
	require.Equal(t, 100, cfg.MaxConns)
	require.Equal(t, 100, cfg.MaxConnsPerAddr)
}

// TestServePrunesAnonymousChats: serve drops the web chat's anonymous
// conversations idle for over a week, with their events, and keeps the rest.
func TestServePrunesAnonymousChats(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "prune-token-0123456789"}
	applyDemo(t, vars, "hardprune", nil)
	pool := pgtest.Pool(t)
	ctx := context.Background()
	for chat, state := range map[string]string{"anon": `{"step":"menu"}`, "named": `{"name":"Olga","phone":"+7 912 0000001","client":1}`} {
		_, err := pool.Exec(ctx, `INSERT INTO conversations (salon_id, channel, chat_id, state, updated_at) VALUES ('hardprune', 'web', $1, $2::jsonb, now() - interval '8 days')`, chat, state)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO dialog_events (salon_id, channel, chat_id, event_id, replies) VALUES ('hardprune', 'web', $1, $1, '[]')`, chat)
		require.NoError(t, err)
	}
	serveCtx, stop := context.WithCancel(ctx)
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(serveCtx, []string{"serve"}, env(vars), &syncBuffer{}, ready) }()
	t.Cleanup(func() { stop(); <-done })
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	left := func() (chats []string) {
		rows, err := pool.Query(ctx, `SELECT chat_id FROM conversations WHERE salon_id = 'hardprune' ORDER BY 1`)
		require.NoError(t, err)
		for rows.Next() {
			var c string
			require.NoError(t, rows.Scan(&c))
			chats = append(chats, c)
		}
		require.NoError(t, rows.Err())
		return chats
	}
	require.Eventually(t, func() bool { return len(left()) == 1 }, 30*time.Second, 100*time.Millisecond, "the anonymous chat is pruned at start")
	require.Equal(t, []string{"named"}, left())
	var events int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM dialog_events WHERE salon_id = 'hardprune'`).Scan(&events))
	require.Equal(t, 1, events)
}

// TestServeNewChatsPerMinute: WEB_CHAT_NEW_PER_MINUTE reaches the web chat: at 1,
// a second new session, from another address, waits.
func TestServeNewChatsPerMinute(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "newchats-token-0123456789",
		"WEB_CHAT_NEW_PER_MINUTE": "1"}
	applyDemo(t, vars, "hardnewchats", nil)
	ctx, stop := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(vars), &syncBuffer{}, ready) }()
	t.Cleanup(func() { stop(); <-done })
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	start := func(from, session string) (int, string) {
		client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext}}
		resp, err := client.Post("http://"+addr+"/chat/api/messages", "application/json",
			strings.NewReader(`{"session":"`+session+`","id":"m1","command":"start"}`))
		require.NoError(t, err)
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.String()
	}
	status, body := start("127.0.0.1", "newchats-session-000001")
	require.Equal(t, http.StatusOK, status, body)
	status, body = start("127.0.0.2", "newchats-session-000002")
	require.Equal(t, http.StatusTooManyRequests, status, body)
	require.Contains(t, body, "too many new chats at the moment")
}

// TestServeNewChatsPerAddrOff: WEB_CHAT_NEW_PER_ADDR=0 reaches the web chat
// (behind a reverse proxy every visitor is one address): one address starts more
// than the default ten chats.
func TestServeNewChatsPerAddrOff(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "perAddr-off-token-0123456789",
		"WEB_CHAT_NEW_PER_ADDR": "0"}
	applyDemo(t, vars, "hardperaddr", nil)
	ctx, stop := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(vars), &syncBuffer{}, ready) }()
	t.Cleanup(func() { stop(); <-done })
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range 12 {
		resp, err := client.Post("http://"+addr+"/chat/api/messages", "application/json",
			strings.NewReader(fmt.Sprintf(`{"session":"peraddr-session-%06d","id":"m1","command":"start"}`, i)))
		require.NoError(t, err)
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "session %d: %s", i, buf.String())
	}
}

// TestConfigNewChatsPerAddr: WEB_CHAT_NEW_PER_ADDR defaults to 10; 0 turns the
// limit off; anything else but a count is refused.
func TestConfigNewChatsPerAddr(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "x", "SALONBOOK_API_TOKEN": "0123456789abcdef"}
	with := func(v string) map[string]string {
		m := map[string]string{"WEB_CHAT_NEW_PER_ADDR": v}
		for k, x := range base {
			m[k] = x
		}
		return m
	}
	for v, want := range map[string]int{"": 10, "0": 0, "25": 25} {
		cfg, err := loadConfig(env(with(v)), need{database: true, api: true})
		require.NoError(t, err, v)
		require.Equal(t, want, cfg.WebChatNewPerAddr, v)
	}
	for _, bad := range []string{"-1", "many", "100001"} {
		_, err := loadConfig(env(with(bad)), need{database: true, api: true})
		require.ErrorContains(t, err, "WEB_CHAT_NEW_PER_ADDR", bad)
	}
}

func TestConfigTrustedProxies(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "x", "SALONBOOK_API_TOKEN": "0123456789abcdef"}
	with := func(v string) map[string]string {
		m := map[string]string{"TRUSTED_PROXIES": v}
		for k, x := range base {
			m[k] = x
		}
		return m
	}
	cfg, err := loadConfig(env(with("")), need{database: true, api: true})
	require.NoError(t, err)
	require.Empty(t, cfg.TrustedProxies)
	cfg, err = loadConfig(env(with("10.1.2.3/8, 127.0.0.1,fd00::/8")), need{database: true, api: true})
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("fd00::/8")}, cfg.TrustedProxies)
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0", "fe80::1%eth0"} {
		_, err := loadConfig(env(with(bad)), need{database: true, api: true})
		require.ErrorContains(t, err, "TRUSTED_PROXIES", bad)
	}
}

// TestWarnWithoutPublicURL: serving on a non-loopback address without
// PUBLIC_URL is warned of at start (behind a TLS proxy the desk's cookies
// would not be Secure), and so is the web chat served there without an https
// PUBLIC_URL (its session cookie is the plain "chat": session fixation from a
// sibling host); on loopback, or with an https PUBLIC_URL, neither is.
func TestWarnWithoutPublicURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		addr, public string
		desk, chat   bool
	}{{"0.0.0.0:8080", "", true, true}, {":8080", "", true, true}, {"10.0.0.5:8080", "", true, true},
		{"127.0.0.1:8080", "", false, false}, {"localhost:8080", "", false, false}, {"[::1]:8080", "", false, false},
		{"0.0.0.0:8080", "http://salon.example", false, true},
		{"0.0.0.0:8080", "https://salon.example", false, false}} {
		var out bytes.Buffer
		startWarnings(Config{HTTPAddr: c.addr, PublicURL: c.public}, slog.New(slog.NewJSONHandler(&out, nil)))
		if c.desk {
			require.Contains(t, out.String(), "PUBLIC_URL is empty", "%+v", c)
		} else {
			require.NotContains(t, out.String(), "PUBLIC_URL is empty", "%+v", c)
		}
		if c.chat {
			require.Contains(t, out.String(), "the web chat is served without an https PUBLIC_URL", "%+v", c)
		} else {
			require.NotContains(t, out.String(), "web chat", "%+v", c)
		}
		if !c.desk && !c.chat {
			require.Empty(t, out.String(), "%+v", c)
		}
	}
}

// TestWarnMetaWithoutBotUsername: Meta reporting on with Telegram on but no
// bot username (no ad link, so no Telegram booking is ever reported) is
// warned of at start; with the username, or Meta off, it is not.
func TestWarnMetaWithoutBotUsername(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pixel, user string
		warn        bool
	}{{"1234567890", "", true}, {"1234567890", "salon_bot", false}, {"", "", false}} {
		var out bytes.Buffer
		cfg := Config{HTTPAddr: "127.0.0.1:8080", Meta: MetaConfig{PixelID: c.pixel, Token: "t"}}
		cfg.Telegram.Token, cfg.Telegram.BotUsername = "123:abc", c.user
		startWarnings(cfg, slog.New(slog.NewJSONHandler(&out, nil)))
		if c.warn {
			require.Contains(t, out.String(), "TELEGRAM_BOT_USERNAME", "%+v", c)
		} else {
			require.Empty(t, out.String(), "%+v", c)
		}
	}
}
