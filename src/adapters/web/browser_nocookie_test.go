package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
)

// cookieless is what a browser that keeps no cookie for the chat sees (an
// embed in Safari, third-party cookies blocked, SameSite=Lax over http
// behind a TLS proxy): no Set-Cookie reaches it and no Cookie comes back.
type cookieless struct {
	next   http.Handler
	bodies atomic.Int64 // messages that named their session in the body
}

func (c *cookieless) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Header.Del("Cookie")
	if r.Method == http.MethodPost && r.Body != nil {
		raw, _ := io.ReadAll(r.Body)
		if strings.Contains(string(raw), `"session"`) {
			c.bodies.Add(1)
		}
		r.Body = io.NopCloser(strings.NewReader(string(raw)))
	}
	c.next.ServeHTTP(noSetCookie{w}, r)
}

type noSetCookie struct{ http.ResponseWriter }

func (w noSetCookie) WriteHeader(code int) {
	w.Header().Del("Set-Cookie")
	w.ResponseWriter.WriteHeader(code)
}

func (w noSetCookie) Write(b []byte) (int, error) {
	w.Header().Del("Set-Cookie")
	return w.ResponseWriter.Write(b)
}

// TestBrowserWithoutCookies: in headless Chromium, with the session cookie
// never reaching the browser, the chat still works: the first message is
// refused for want of a session (no_session), the page makes a session of
// its own in sessionStorage and sends it in the body, the client books a
// hold; a reload of the tab draws the conversation again (the page reads it
// with its session in a header), and another tab starts a conversation of
// its own. Before, every message answered "no chat session" and the page
// showed nothing but that.
func TestBrowserWithoutCookies(t *testing.T) {
	t.Parallel()
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		t.Skip("no chromium on this machine: `make test` installs Debian's chromium package when run as root")
	}

	pool := pgtest.Pool(t)
	store, salonID := pgtest.Salon(t)
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	cat, err := i18n.Load()
	require.NoError(t, err)
	bookings := booking.New(store, clock)
	engine := dialog.NewEngine(dialog.Config{SalonID: salonID, Bookings: bookings, Waitlist: postgres.NewWaitlist(pool),
		Privacy: postgres.NewPrivacy(pool), Catalog: cat, Clock: clock, NoOffers: []string{"web"}})
	handler := &cookieless{next: web.Handler(web.Config{
		Bookings: bookings, SalonID: salonID, APIToken: token, Clock: clock,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Chat:   dialog.NewService(engine, postgres.NewConversations(pool)).Transcribe("web"),
	})}
	srv := httptest.NewServer(handler)
	defer srv.Close()

	profile, err := os.MkdirTemp("", "salonbook-chromium-")
	require.NoError(t, err)
	t.Cleanup(func() {
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"), chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	quiet := func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "could not unmarshal event") {
			t.Log(msg)
		}
	}
	bctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(quiet))
	defer cancel()
	require.NoError(t, chromedp.Run(bctx))
	runIn := func(tab context.Context, actions ...chromedp.Action) {
		t.Helper()
		for i, a := range actions {
			actx, cancel := context.WithTimeout(tab, 20*time.Second)
			err := chromedp.Run(actx, a)
			cancel()
			if err != nil {
				var page string
				pctx, cancel := context.WithTimeout(tab, 5*time.Second)
				_ = chromedp.Run(pctx, chromedp.Text("#app", &page, chromedp.ByQuery))
				cancel()
				t.Fatalf("browser step %d (%T) failed: %v\npage:\n%s", i, a, err, page)
			}
		}
	}
	run := func(actions ...chromedp.Action) { t.Helper(); runIn(bctx, actions...) }
	press := func(label string) chromedp.Action {
		js := fmt.Sprintf(`(function () {
			var b = Array.from(document.querySelectorAll(".choices button")).find(function (x) {
				return x.textContent.trim() === %q && !x.disabled;
			});
			if (!b) return false;
			b.click();
			return true;
		})()`, label)
		var clicked bool
		return chromedp.Poll(js, &clicked, chromedp.WithPollingInterval(50*time.Millisecond))
	}
	send := func() chromedp.Action {
		var sent bool
		return chromedp.Poll(`(function () {
			var s = document.getElementById("send");
			if (s.disabled) return false;
			s.click();
			return true;
		})()`, &sent, chromedp.WithPollingInterval(50*time.Millisecond))
	}
	var bubbles, notes int
	count := chromedp.Evaluate(`document.querySelectorAll("p.msg").length`, &bubbles)
	holdQuestion := `//p[contains(@class,"bot")][contains(., "Shall I confirm the booking?")]`
	var stored string

	run(
		chromedp.Navigate(srv.URL+"/chat"),
		press("Book"), press("Haircut"), press("Boris"), press("Tue 2 Mar"), press("10:00"),
		chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "What's your name?")]`, chromedp.BySearch),
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		chromedp.SendKeys("#text", "Olga", chromedp.ByQuery), send(),
		chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "phone number")]`, chromedp.BySearch),
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		chromedp.SendKeys("#text", "+49 151 23456789", chromedp.ByQuery), send(),
		chromedp.WaitVisible(holdQuestion, chromedp.BySearch),
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		count,
		chromedp.Evaluate(`document.querySelectorAll("#note:not([hidden])").length`, &notes),
		chromedp.Evaluate(`sessionStorage.getItem("salonbook-chat-session") || ""`, &stored),
	)
	require.Zero(t, notes, "no error shown")
	require.Regexp(t, `^[A-Za-z0-9_-]{32}$`, stored, "a session of the page's own, 192 bits")
	require.Positive(t, handler.bodies.Load(), "messages named their session in the body")
	var status, source string
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT status, source FROM bookings WHERE salon_id = $1`, salonID).Scan(&status, &source))
	require.Equal(t, []string{"held", "web:" + stored}, []string{status, source})
	before := bubbles

	// A reload of the tab goes on with the same conversation.
	run(
		chromedp.Reload(),
		chromedp.WaitVisible(holdQuestion, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"choices")]/button[.="Confirm"]`, chromedp.BySearch),
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		count,
	)
	require.Equal(t, before, bubbles, "the transcript is drawn again, whole")
	run(press("Confirm"), chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "You're booked")]`, chromedp.BySearch))
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT status FROM bookings WHERE salon_id = $1`, salonID).Scan(&status))
	require.Equal(t, "confirmed", status)

	// Another tab has no sessionStorage of this one: a conversation of its own.
	tab, cancelTab := chromedp.NewContext(bctx)
	defer cancelTab()
	require.NoError(t, chromedp.Run(tab))
	var other string
	runIn(tab,
		chromedp.Navigate(srv.URL+"/chat"),
		chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "Hello!")]`, chromedp.BySearch),
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		chromedp.Evaluate(`sessionStorage.getItem("salonbook-chat-session") || ""`, &other),
	)
	require.Regexp(t, `^[A-Za-z0-9_-]{32}$`, other)
	require.NotEqual(t, stored, other)
}
