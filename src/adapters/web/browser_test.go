package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// TestBrowserBooksByClicking drives the web chat in headless Chromium against the
// real server, dialog and database: a client books a haircut by clicking and
// typing, the page shows the confirmation, and the booking is in the database.
// `make test` installs Debian's chromium when it is missing (as root).
func TestBrowserBooksByClicking(t *testing.T) {
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
		Catalog: cat, Clock: clock})
	srv := httptest.NewServer(web.Handler(web.Config{
		Bookings: bookings, SalonID: salonID, APIToken: token, Clock: clock,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Chat:   dialog.NewService(engine, postgres.NewConversations(pool)),
	}))
	defer srv.Close()

	// Not t.TempDir: Chromium's helpers may still write to the profile for a moment
	// after the browser is told to close, which fails the testing package's cleanup.
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
		chromedp.Flag("lang", "en-US"), chromedp.UserDataDir(profile), chromedp.WindowSize(480, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	// This Chromium speaks a newer DevTools protocol than the client's types know;
	// the events it cannot decode (new enum values) do not matter to this test.
	quiet := func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "could not unmarshal event") {
			t.Log(msg)
		}
	}
	bctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(quiet))
	defer cancel()
	// Each action gets its own deadline, so that a failure names the step and
	// the page as it was, instead of one timeout for the whole run.
	// The browser starts with the first Run on bctx itself: a Run on a derived
	// context would tie the browser's life to that short context.
	require.NoError(t, chromedp.Run(bctx))
	run := func(actions ...chromedp.Action) {
		t.Helper()
		for i, a := range actions {
			actx, cancel := context.WithTimeout(bctx, 20*time.Second)
			err := chromedp.Run(actx, a)
			cancel()
			if err != nil {
				var page string
				pctx, cancel := context.WithTimeout(bctx, 5*time.Second)
				_ = chromedp.Run(pctx, chromedp.Text("#app", &page, chromedp.ByQuery))
				cancel()
				t.Fatalf("browser step %d (%T) failed: %v\npage:\n%s", i, a, err, page)
			}
		}
	}

	firstButton := `(//div[contains(@class,"choices")]/button)[1]`
	// press clicks the enabled choice with that label from inside the page, once it
	// is there: a mouse click at coordinates can miss while the log scrolls.
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
	var shot []byte
	var last string
	run(
		chromedp.Navigate(srv.URL+"/chat"),
		press("Book"),
		press("Haircut"),
		press("Boris"),
		press("Tue 2 Mar"),
		press("10:00"),
		// Wait for the new question itself, and for the page to be idle: the old
		// buttons stay on screen (disabled) until the answer arrives.
		chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "What's your name?")]`, chromedp.BySearch),
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		chromedp.SendKeys("#text", "Olga", chromedp.ByQuery), send(),
		chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "phone number")]`, chromedp.BySearch),
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		chromedp.SendKeys("#text", "+49 151 23456789", chromedp.ByQuery), send(),
		press("Confirm"),
		chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "You're booked")]`, chromedp.BySearch),
		chromedp.WaitVisible(firstButton, chromedp.BySearch),
		chromedp.Text(`(//p[contains(@class,"bot")])[last()]`, &last, chromedp.BySearch),
		chromedp.FullScreenshot(&shot, 100), // quality 100 means PNG
	)
	require.Contains(t, last, "You're booked: Haircut with Boris, Tuesday, 2 March, 10:00–10:45, €35.")
	require.Greater(t, len(shot), 1000)
	dir := os.Getenv("SALONBOOK_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "chat-booked.png")
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot: %s", path)

	var status, master string
	var start time.Time
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT status, master_id, starts_at FROM bookings WHERE salon_id = $1`, salonID).Scan(&status, &master, &start))
	require.Equal(t, "confirmed", status)
	require.Equal(t, "boris", master)
	require.True(t, start.Equal(time.Date(2027, 3, 2, 10, 0, 0, 0, pgtest.Berlin)), "booked %v", start)
}
