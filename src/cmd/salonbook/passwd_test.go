package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

// TestPasswdThenLogInOnServe: `salonbook passwd owner` with the password on
// stdin, then `serve`: the owner logs in at /admin and sees the day; neither
// the password nor the session reaches the log. An unknown login, a short
// password and a password on the command line are refused.
func TestPasswdThenLogInOnServe(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "e2e-token-0123456789"}
	ctx := context.Background()
	applyDemo(t, vars, "d"+pgtest.RandomID()[:8], nil)
	const password = "a-long-random-password"
	var out bytes.Buffer
	require.NoError(t, runPasswd(ctx, []string{"Owner"}, env(vars), strings.NewReader(password+"\n"), &out, io.Discard))
	require.Contains(t, out.String(), "password set for owner")
	err := runPasswd(ctx, []string{"nobody"}, env(vars), strings.NewReader(password+"\n"), &out, io.Discard)
	require.ErrorContains(t, err, `"nobody" is not a staff login`)
	err = runPasswd(ctx, []string{"anna"}, env(vars), strings.NewReader("short\n"), &out, io.Discard)
	require.ErrorContains(t, err, "10 to 256 characters")
	err = run(ctx, []string{"passwd", "anna", password}, env(vars), &out, nil)
	require.ErrorContains(t, err, "usage: salonbook passwd LOGIN")

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
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}
	resp, err := c.Get("http://" + addr + "/admin/day")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "/admin/login", resp.Request.URL.Path, "sent to the login page")
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	require.NotNil(t, token)
	resp, err = c.PostForm("http://"+addr+"/admin/login", url.Values{"login": {"owner"}, "password": {password},
		"csrf": {string(token[1])}, "next": {"/admin/day"}})
	require.NoError(t, err)
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "/admin/day", resp.Request.URL.Path)
	require.Contains(t, string(page), "owner (owner)")
	require.Contains(t, string(page), "Boris")

	stop()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not shut down")
	}
	require.Contains(t, logs.String(), `"route":"GET /admin/day"`)
	require.NotContains(t, logs.String(), password)
	require.NotContains(t, logs.String(), "csrf")
}
