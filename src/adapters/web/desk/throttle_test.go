package desk_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/web/desk"
)

// logBuffer is a log sink safe for the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

var regexpLoginValue = regexp.MustCompile(`name="login" value="[^"]*"`)

func withLog(l *logBuffer) func(*postgres.SalonSetup, *desk.Config) {
	return func(_ *postgres.SalonSetup, c *desk.Config) { c.Logger = slog.New(slog.NewJSONHandler(l, nil)) }
}

// postLogin posts a login from br's login page (fetched before), with extra
// headers, from any goroutine: it returns the status or the error.
func (br *browser) postLogin(ctx context.Context, csrf, login, password string, headers ...string) (*http.Response, error) {
	form := url.Values{"login": {login}, "password": {password}, "csrf": {csrf}}
	req, err := http.NewRequestWithContext(ctx, "POST", br.b.srv.URL+"/admin/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := br.c.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// TestParallelWrongLoginsAreThrottled: forty wrong passwords for one account
// at once get at most FailsPerLogin answers of 401, the rest 429 (the
// throttle once checked, then counted: all forty were tried).
func TestParallelWrongLoginsAreThrottled(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	const n = 40
	type try struct {
		br   *browser
		csrf string
	}
	tries := make([]try, n)
	for i := range tries {
		br := b.browser(t)
		tries[i] = try{br, br.csrf(br.get("/admin/login"))}
	}
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for _, tr := range tries {
		wg.Go(func() {
			resp, err := tr.br.postLogin(context.Background(), tr.csrf, "olga", "wrong-password")
			if err != nil {
				statuses <- -1
				return
			}
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	t.Logf("answers by status: %v", count)
	require.LessOrEqual(t, count[http.StatusUnauthorized], desk.DefaultFailsPerLogin, "%v", count)
	require.Equal(t, n, count[http.StatusUnauthorized]+count[http.StatusTooManyRequests], "%v", count)
}

// TestOddLoginsAreUnknownLogins: a login that cannot be one (cut at 64 bytes
// inside a character, a NUL byte, a character no login has) is answered as an
// unknown login: 401 and the same page, no error logged; and such logins are
// throttled together.
func TestOddLoginsAreUnknownLogins(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	b := newBundle(t, withLog(&logs))
	strip := func(a answer) string {
		return regexpLoginValue.ReplaceAllString(csrfField.ReplaceAllString(a.body, ""), `name="login" value="…"`)
	}
	want := b.browser(t).tryLogin("nobody", "wrong-password")
	require.Equal(t, http.StatusUnauthorized, want.status)
	odd := []string{"a" + strings.Repeat("ä", 40), "ol\x00ga", "olga\x00", "ölga", "a b"}
	for _, login := range odd {
		a := b.browser(t).tryLogin(login, "wrong-password")
		require.Equal(t, http.StatusUnauthorized, a.status, "%q", login)
		require.Equal(t, strip(want), strip(a), "%q", login)
	}
	require.NotContains(t, logs.String(), `"level":"ERROR"`)
	// Five odd logins used up their one key's allowance.
	require.Equal(t, http.StatusTooManyRequests, b.browser(t).tryLogin("ol\x00ga", "wrong-password").status)
	require.Equal(t, http.StatusSeeOther, b.browser(t).tryLogin("olga", passwords["olga"]).status)
}

// TestPasswordGateIsBounded: with every hashing slot taken, a login whose
// client gives up after 100 ms ends at once (it does not wait for a slot and
// then take one), one that waits longer than the desk's cap is answered 503
// with Retry-After, and so is one past the desk's request deadline; once the
// slots are free, logins work.
func TestPasswordGateIsBounded(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	gate := make(chan struct{}, 1)
	b := newBundle(t, withLog(&logs), func(_ *postgres.SalonSetup, c *desk.Config) {
		c.Hashing, c.HashWait = gate, time.Hour
	})
	gate <- struct{}{} // the one slot is taken

	br := b.browser(t)
	csrf := br.csrf(br.get("/admin/login"))
	cctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := br.postLogin(cctx, csrf, "olga", passwords["olga"])
	cancel()
	require.Error(t, err)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), `"route":"POST /admin/login","status":499`) },
		5*time.Second, 10*time.Millisecond, "the login ended while the slot was still taken")
	require.Len(t, gate, 1)

	for _, edit := range []func(*postgres.SalonSetup, *desk.Config){
		func(_ *postgres.SalonSetup, c *desk.Config) { c.Hashing, c.HashWait = gate, 50*time.Millisecond },
		func(_ *postgres.SalonSetup, c *desk.Config) {
			c.Hashing, c.HashWait, c.RequestTimeout = gate, time.Hour, 200*time.Millisecond
		},
	} {
		b2 := newBundle(t, edit)
		br := b2.browser(t)
		csrf := br.csrf(br.get("/admin/login"))
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := br.postLogin(cctx, csrf, "olga", passwords["olga"])
		cancel()
		require.NoError(t, err)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.NotEmpty(t, resp.Header.Get("Retry-After"))
	}

	<-gate
	require.Equal(t, http.StatusSeeOther, b.browser(t).tryLogin("olga", passwords["olga"]).status)
	require.Empty(t, gate, "every slot given back")
}

// TestTrustedProxies: behind a trusted proxy, the address throttled is the
// client's (the right-most X-Forwarded-For entry that is not a trusted proxy),
// so one client's twenty failures do not lock out the staff behind the same
// proxy; entries a client put in front are not believed. Without trusted
// proxies the header is ignored.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	b := newBundle(t, func(_ *postgres.SalonSetup, c *desk.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	for i := range 20 {
		login := []string{"olga", "anna", "boris", "nobody", "x1", "x2"}[i%6]
		// The client made up the first entry; the proxy added the second.
		xff := []string{"192.0.2." + string(rune('1'+i%9)) + ", 203.0.113.5", "203.0.113.5, 127.0.0.9"}[i%2]
		br := b.browser(t)
		resp, err := br.postLogin(context.Background(), br.csrf(br.get("/admin/login")), login, "wrong-password", "X-Forwarded-For", xff)
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "try %d", i)
	}
	br := b.browser(t)
	resp, err := br.postLogin(context.Background(), br.csrf(br.get("/admin/login")), "boris", passwords["boris"], "X-Forwarded-For", "203.0.113.5")
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the client's address is held back")
	br = b.browser(t)
	resp, err = br.postLogin(context.Background(), br.csrf(br.get("/admin/login")), "boris", passwords["boris"], "X-Forwarded-For", "198.51.100.7")
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "another client behind the same proxy is not")

	// No trusted proxies: the header is ignored, the peer is the address.
	b2 := newBundle(t)
	for i := range 20 {
		br := b2.browser(t)
		login := []string{"olga", "anna", "boris", "nobody", "x1", "x2"}[i%6]
		resp, err := br.postLogin(context.Background(), br.csrf(br.get("/admin/login")), login, "wrong-password",
			"X-Forwarded-For", "192.0.2."+string(rune('1'+i%9)))
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "try %d", i)
	}
	br = b2.browser(t)
	resp, err = br.postLogin(context.Background(), br.csrf(br.get("/admin/login")), "boris", passwords["boris"], "X-Forwarded-For", "198.51.100.7")
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
}
