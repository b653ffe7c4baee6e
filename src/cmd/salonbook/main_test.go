package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// applyDemo applies scripts/demo-salon.yaml as salon id (the package's tests
// share a database: each test applies a salon of its own), edited by edit when
// it is set, and has serve use it.
func applyDemo(t testing.TB, vars map[string]string, id string, edit func([]byte) []byte) {
	t.Helper()
	demo, err := os.ReadFile(filepath.Join("..", "..", "..", "scripts", "demo-salon.yaml"))
	require.NoError(t, err)
	demo = regexp.MustCompile(`(?m)^(\s*id:\s*)demo\b`).ReplaceAll(demo, []byte("${1}"+id))
	if edit != nil {
		demo = edit(demo)
	}
	salonFile := filepath.Join(t.TempDir(), "salon.yaml")
	require.NoError(t, os.WriteFile(salonFile, demo, 0o600))
	require.NoError(t, run(context.Background(), []string{"apply", salonFile}, env(vars), &bytes.Buffer{}, nil))
	vars["SALONBOOK_SALON"] = id
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestEndToEnd runs the real subcommands against a fresh database: migrate (twice),
// apply the demo salon (twice: the second changes nothing), serve on :0, book over
// HTTP, and shut down cleanly when the context ends, as on SIGTERM.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "e2e-token-0123456789", "SALONBOOK_SALON": "demo"}
	ctx := context.Background()
	latest, err := postgres.Latest()
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"migrate"}, env(vars), &out, nil))
	require.NoError(t, run(ctx, []string{"migrate", "up"}, env(vars), &out, nil))
	require.Contains(t, out.String(), fmt.Sprintf("schema version %d\n", latest))

	demo := filepath.Join("..", "..", "..", "scripts", "demo-salon.yaml")
	out.Reset()
	require.NoError(t, run(ctx, []string{"apply", demo}, env(vars), &out, nil))
	require.NotContains(t, out.String(), " 0 rows changed")
	out.Reset()
	require.NoError(t, run(ctx, []string{"apply", demo}, env(vars), &out, nil))
	require.Contains(t, out.String(), " 0 rows changed")

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
	resp, err := http.Get("http://" + addr + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/services", nil)
	req.Header.Set("Authorization", "Bearer e2e-token-0123456789")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var services struct {
		Services []struct{ ID string } `json:"services"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&services))
	resp.Body.Close()
	require.NotEmpty(t, services.Services)

	stop()
	select {
	case err := <-done:
		require.NoError(t, err, "a SIGTERM-style stop is a clean exit")
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not shut down")
	}
	require.NotContains(t, logs.String(), "e2e-token", "the token never reaches the log")

	out.Reset()
	require.NoError(t, run(ctx, []string{"migrate", "version"}, env(vars), &out, nil))
	require.Contains(t, out.String(), fmt.Sprintf("schema version %d\n", latest))
}

func TestBadInputFailsAtStartWithTheName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"migrate"}, map[string]string{}, "DATABASE_URL"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x"}, "SALONBOOK_API_TOKEN"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "SALONBOOK_API_TOKEN": "short"}, "SALONBOOK_API_TOKEN"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "SALONBOOK_API_TOKEN": "a", "SALONBOOK_API_TOKEN_FILE": "/x"}, "not both"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "SALONBOOK_API_TOKEN_FILE": "/nonexistent/token"}, "SALONBOOK_API_TOKEN_FILE"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "x", "SALONBOOK_API_TOKEN": "0123456789abcdef", "HTTP_ADDR": "8080"}, "HTTP_ADDR"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "x", "SALONBOOK_API_TOKEN": "0123456789abcdef", "LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": "x", "SALONBOOK_API_TOKEN": "0123456789abcdef", "WEB_CHAT_NEW_PER_MINUTE": "0"}, "WEB_CHAT_NEW_PER_MINUTE"},
		{[]string{"migrate", "sideways"}, map[string]string{"DATABASE_URL": pgtest.URL(t)}, "unknown action"},
		{[]string{"apply", filepath.Join("..", "..", "adapters", "salonfile", "testdata", "nope.yaml")}, map[string]string{"DATABASE_URL": pgtest.URL(t)}, "nope.yaml"},
		{[]string{"dance"}, map[string]string{}, "unknown command"},
	}
	for _, c := range cases {
		err := run(ctx, c.args, env(c.vars), &bytes.Buffer{}, nil)
		require.Error(t, err, "%v", c.args)
		require.Contains(t, err.Error(), c.want, "%v", c.args)
	}
}

func TestTokenFromFile(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(f, []byte("from-a-file-0123456789\n"), 0o600))
	cfg, err := loadConfig(env(map[string]string{"DATABASE_URL": "x", "SALONBOOK_API_TOKEN_FILE": f}), need{database: true, api: true})
	require.NoError(t, err)
	require.Equal(t, "from-a-file-0123456789", cfg.APIToken)
	require.Equal(t, "127.0.0.1:8080", cfg.HTTPAddr)
}

// syncBuffer is a strings.Builder safe for the server goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
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
