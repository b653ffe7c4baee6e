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
)

// TestBrowserLogsInAndSeesTheDay drives the desk in headless Chromium: the
// owner logs in through the form and sees the day with a booking, at a 390 px
// phone width and at a desktop width; screenshots are saved (to
// $SALONBOOK_SCREENSHOTS, else a temporary directory) to be looked at.
func TestBrowserLogsInAndSeesTheDay(t *testing.T) {
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
	b := newBundle(t)
	b.book(t, "boris", "haircut", berlin(2027, 3, 1, 10, 0), "Olga Client", "+49 151 2345678")
	b.book(t, "anna", "manicure", berlin(2027, 3, 1, 14, 30), "Maria Musterfrau", "+49 151 7654321")

	dir := os.Getenv("SALONBOOK_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, size := range []struct {
		name          string
		width, height int
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		t.Run(size.name, func(t *testing.T) {
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
				chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
				chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
				chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
				chromedp.Flag("lang", "en-US"), chromedp.UserDataDir(profile), chromedp.WindowSize(size.width, size.height))
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
			var login, day []byte
			var header, cell string
			var scrollWidth, clientWidth int
			run(
				// Headless Chromium keeps windows at least 500 px wide: emulate the phone's viewport.
				chromedp.EmulateViewport(int64(size.width), int64(size.height)),
				chromedp.Navigate(b.srv.URL+"/admin/day"),
				chromedp.WaitVisible("#login", chromedp.ByQuery),
				chromedp.SendKeys("#login", "olga", chromedp.ByQuery),
				chromedp.SendKeys("#password", passwords["olga"], chromedp.ByQuery),
				chromedp.FullScreenshot(&login, 100),
				chromedp.Submit("#password", chromedp.ByQuery),
				chromedp.WaitVisible(`//span[@class="client"][contains(., "Olga Client")]`, chromedp.BySearch),
				chromedp.Text("header h1", &header, chromedp.ByQuery),
				chromedp.Text(`//tr[th[normalize-space(.)="10:00"]]/td[2]`, &cell, chromedp.BySearch),
				chromedp.Evaluate(`document.documentElement.scrollWidth`, &scrollWidth),
				chromedp.Evaluate(`document.documentElement.clientWidth`, &clientWidth),
				chromedp.FullScreenshot(&day, 100),
			)
			require.Contains(t, header, "Mon 1 Mar 2027")
			require.Contains(t, cell, "10:00–10:45")
			require.Contains(t, cell, "Olga Client")
			require.Contains(t, cell, "+491512345678")
			// The page itself never scrolls sideways; a wide table scrolls in its box.
			require.Equal(t, size.width, clientWidth)
			require.LessOrEqual(t, scrollWidth, clientWidth, "page wider than the %d px window", size.width)
			for name, shot := range map[string][]byte{"login": login, "day": day} {
				require.Greater(t, len(shot), 1000)
				path := filepath.Join(dir, fmt.Sprintf("desk-%s-%s.png", name, size.name))
				require.NoError(t, os.WriteFile(path, shot, 0o644))
				t.Logf("screenshot: %s", path)
			}
		})
	}
}
