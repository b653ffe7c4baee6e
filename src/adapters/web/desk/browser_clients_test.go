package desk_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

// chromium starts a headless Chromium with a viewport of width × height and
// returns a runner of its actions (each bounded, the page's text shown on a
// failure); it skips the test when there is no Chromium.
func chromium(t *testing.T, width, height int) func(actions ...chromedp.Action) {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no chromium on this machine: `make test` installs Debian's chromium package when run as root")
	}
	// Not t.TempDir: Chromium's helpers may still write to the profile for a
	// moment after the browser is told to close.
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
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"), chromedp.UserDataDir(profile), chromedp.WindowSize(width, height))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	quiet := func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "could not unmarshal event") {
			t.Log(msg)
		}
	}
	bctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(quiet))
	t.Cleanup(func() { cancel(); cancelAlloc() })
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
				_ = chromedp.Run(pctx, chromedp.Text("body", &page, chromedp.ByQuery))
				cancel()
				t.Fatalf("browser step %d (%T) failed: %v\npage:\n%s", i, a, err, page)
			}
		}
	}
	// Headless Chromium keeps windows at least 500 px wide: emulate the phone's viewport.
	run(chromedp.EmulateViewport(int64(width), int64(height)))
	return run
}

// clickJS clicks the element selector names from inside the page.
func clickJS(selector string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false; el.click(); return true; })()`, selector), nil)
}

// TestBrowserClientsFeedsJobs drives the clients, feeds and jobs pages in
// headless Chromium at a 390 px phone width and a desktop width: the owner
// searches a client (by name from a link, by phone from the box: the
// address keeps no number), writes a note, makes a master's feed link and
// looks at the jobs; no page scrolls sideways. Screenshots (deskcli-*.png) go to
// $SALONBOOK_SCREENSHOTS, else a temporary directory, to be looked at.
func TestBrowserClientsFeedsJobs(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	b.book(t, "anna", "haircut", berlin(2027, 3, 3, 10, 0), "Alice Annaclient", "+49 151 1111111")
	b.book(t, "anna", "manicure", berlin(2027, 3, 5, 14, 0), "Alice Annaclient", "+49 151 1111111")
	b.book(t, "boris", "haircut", berlin(2027, 3, 3, 11, 0), "Alina Müller-Lüdenscheidt", "+49 160 3333333")
	b.book(t, "chloe", "haircut", berlin(2027, 3, 4, 9, 0), "Bob Borisclient", "+49 151 2222222")
	_, err := pgtest.Pool(t).Exec(ctx, `
		INSERT INTO river_job (state, kind, queue, max_attempts, attempt, args, errors, attempted_at, scheduled_at)
		VALUES ('retryable', 'calendar_push', $2, 25, 3, jsonb_build_object('salon_id', $1::text, 'booking_id', gen_random_uuid()),
		        ARRAY[jsonb_build_object('at', now(), 'attempt', 3, 'error', 'calendar answered 503 backendError: the service is unavailable', 'trace', '')],
		        now(), now() + interval '4 minutes')`, b.salonID, "desk_"+pgtest.RandomID())
	require.NoError(t, err)

	dir := os.Getenv("SALONBOOK_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, size := range []struct {
		name          string
		width, height int
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		t.Run(size.name, func(t *testing.T) {
			run := chromium(t, size.width, size.height)
			shots := map[string]*[]byte{}
			shot := func(name string) chromedp.Action {
				var buf []byte
				shots[name] = &buf
				return chromedp.FullScreenshot(&buf, 100)
			}
			wide := func(page string) chromedp.Action {
				return chromedp.ActionFunc(func(ctx context.Context) error {
					var scrollWidth, clientWidth int
					if err := chromedp.Evaluate(`document.documentElement.scrollWidth`, &scrollWidth).Do(ctx); err != nil {
						return err
					}
					if err := chromedp.Evaluate(`document.documentElement.clientWidth`, &clientWidth).Do(ctx); err != nil {
						return err
					}
					if scrollWidth > clientWidth {
						return fmt.Errorf("%s: the page is %d px wide in a %d px window", page, scrollWidth, clientWidth)
					}
					return nil
				})
			}
			var note, feedURL, jobs, phoneURL string
			var phoneFound []string
			run(
				chromedp.Navigate(b.srv.URL+"/admin/clients?q=ali"),
				chromedp.WaitVisible("#login", chromedp.ByQuery),
				chromedp.SendKeys("#login", "olga", chromedp.ByQuery),
				chromedp.SendKeys("#password", passwords["olga"], chromedp.ByQuery),
				chromedp.Submit("#password", chromedp.ByQuery),
				chromedp.WaitVisible(`//a[@class="client"][contains(., "Alina")]`, chromedp.BySearch),
				wide("clients"),
				shot("clients"),
				clickJS(`a.client`),
				chromedp.WaitVisible("#note", chromedp.ByQuery),
				chromedp.Evaluate(`document.querySelector("#note").value = ""`, nil), // the other size wrote it already
				chromedp.SendKeys("#note", "Prefers mornings; allergic to latex.", chromedp.ByQuery),
				clickJS(`.clientnote button[type=submit]`),
				chromedp.WaitVisible(`.clientnote .ok`, chromedp.ByQuery),
				chromedp.Value("#note", &note, chromedp.ByQuery),
				wide("client"),
				shot("client"),
				// A phone search through the box: answered, the address without the number.
				chromedp.Navigate(b.srv.URL+"/admin/clients"),
				chromedp.WaitVisible("#q", chromedp.ByQuery),
				chromedp.SendKeys("#q", "0151 2222", chromedp.ByQuery),
				chromedp.Submit("#q", chromedp.ByQuery),
				// The answer: the box's value attribute is the search (typing
				// set only the property of the page before).
				chromedp.WaitVisible(`#q[value="0151 2222"]`, chromedp.ByQuery),
				chromedp.Location(&phoneURL),
				chromedp.Evaluate(`Array.from(document.querySelectorAll("a.client"), a => a.textContent)`, &phoneFound),
				chromedp.Navigate(b.srv.URL+"/admin/feeds"),
				chromedp.WaitVisible(`tr[data-master="anna"]`, chromedp.ByQuery),
				clickJS(`tr[data-master="anna"] button`),
				chromedp.WaitVisible(`.newfeed .url`, chromedp.ByQuery),
				chromedp.Value(`.newfeed .url`, &feedURL, chromedp.ByQuery),
				wide("feeds"),
				shot("feeds"),
				chromedp.Navigate(b.srv.URL+"/admin/jobs"),
				chromedp.WaitVisible(`li[data-job]`, chromedp.ByQuery),
				chromedp.Text("main", &jobs, chromedp.ByQuery),
				wide("jobs"),
				shot("jobs"),
			)
			require.Equal(t, "Prefers mornings; allergic to latex.", note)
			require.Equal(t, b.srv.URL+"/admin/clients", phoneURL, "the number is in no address")
			require.Equal(t, []string{"Bob Borisclient"}, phoneFound)
			require.Regexp(t, `^http://127\.0\.0\.1:\d+/calendar/[A-Za-z0-9_-]{43}\.ics$`, feedURL)
			require.Contains(t, jobs, "calendar answered 503 backendError")
			for name, buf := range shots {
				require.Greater(t, len(*buf), 1000)
				path := filepath.Join(dir, fmt.Sprintf("deskcli-%s-%s.png", name, size.name))
				require.NoError(t, os.WriteFile(path, *buf, 0o644))
				t.Logf("screenshot: %s", path)
			}
		})
	}
}
