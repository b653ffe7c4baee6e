package desk_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web"
	"salonbook/src/adapters/web/desk"
	"salonbook/src/core"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
)

// TestBrowserDeskActions drives the desk and the web chat of one server in
// headless Chromium, at a 390 px phone width and at a desktop width: a client
// books in the web chat; the owner logs in and sees it in the day view, moves
// it, and the chat's "My bookings" shows the new time; the owner blocks an hour
// and the chat no longer offers it; the owner cancels the booking; and marks a
// booking that has begun a no-show. Screenshots of each step are saved (to
// $SALONBOOK_SCREENSHOTS, else a temporary directory) to be looked at.
func TestBrowserDeskActions(t *testing.T) {
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
	dir := os.Getenv("SALONBOOK_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	catalog, err := i18n.Load()
	require.NoError(t, err)
	for _, size := range []struct {
		name          string
		width, height int
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		t.Run(size.name, func(t *testing.T) {
			// The desk and the chat on one server, over one salon and clock.
			var cfg *desk.Config
			b := newBundle(t, func(_ *postgres.SalonSetup, c *desk.Config) {
				c.Limits.Idle, c.Limits.Max = 72*time.Hour, 72*time.Hour // the clock moves in this test
				cfg = c
			})
			pool := pgtest.Pool(t)
			engine := dialog.NewEngine(dialog.Config{SalonID: b.salonID, Bookings: b.bookings, Waitlist: postgres.NewWaitlist(pool),
				Catalog: catalog, Clock: b.clock})
			deskHandler := desk.Handler(*cfg)
			mux := http.NewServeMux()
			mux.Handle("/", web.Handler(web.Config{Bookings: b.bookings, SalonID: b.salonID, APIToken: "browser-test-token",
				Clock: b.clock, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
				Chat: dialog.NewService(engine, postgres.NewConversations(pool))}))
			mux.Handle("/admin", deskHandler)
			mux.Handle("/admin/", deskHandler)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			// A booking of Anna's this morning, to be marked a no-show once it began.
			late := b.book(t, "anna", "haircut", berlin(2027, 3, 1, 10, 0), "Nina Late", "+49 151 7654321")

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
			shot := func(name string) chromedp.Action {
				return chromedp.ActionFunc(func(ctx context.Context) error {
					var png []byte
					if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil {
						return err
					}
					path := filepath.Join(dir, fmt.Sprintf("desk-%s-%s.png", name, size.name))
					t.Logf("screenshot: %s", path)
					return os.WriteFile(path, png, 0o644)
				})
			}
			// click clicks, from inside the page, the first element matching the
			// CSS selector whose text contains text, once it is there and enabled;
			// the step after it waits for what the click brings.
			click := func(selector, text string) chromedp.Action {
				var clicked bool
				return chromedp.Poll(fmt.Sprintf(`(function () {
					var e = Array.from(document.querySelectorAll(%q)).find(function (x) {
						return x.textContent.trim().indexOf(%q) >= 0 && !x.disabled;
					});
					if (!e) return false;
					setTimeout(function () { e.click(); }, 0); // after this answer: a click may leave the page
					return true;
				})()`, selector, text), &clicked, chromedp.WithPollingInterval(50*time.Millisecond))
			}
			press := func(label string) chromedp.Action { // a chat's choice
				var clicked bool
				return chromedp.Poll(fmt.Sprintf(`(function () {
					var b = Array.from(document.querySelectorAll(".choices button")).find(function (x) {
						return x.textContent.trim() === %q && !x.disabled;
					});
					if (!b) return false;
					b.click();
					return true;
				})()`, label), &clicked, chromedp.WithPollingInterval(50*time.Millisecond))
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
			var choices []string
			timeChoices := chromedp.Evaluate(`Array.from(document.querySelectorAll(".choices button")).map(function (b) { return b.textContent.trim(); })`, &choices)
			lastBot := `(//p[contains(@class,"bot")])[last()]`
			var text string

			// 1. A client books Boris, Tuesday 10:00, in the web chat.
			run(
				chromedp.EmulateViewport(int64(size.width), int64(size.height)),
				chromedp.Navigate(srv.URL+"/chat"),
				press("Book"), press("Haircut"), press("Boris"), press("Tue 2 Mar"), press("10:00"),
				chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "What's your name?")]`, chromedp.BySearch),
				chromedp.WaitEnabled("#send", chromedp.ByQuery),
				chromedp.SendKeys("#text", "Olga", chromedp.ByQuery), send(),
				chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "phone number")]`, chromedp.BySearch),
				chromedp.WaitEnabled("#send", chromedp.ByQuery),
				chromedp.SendKeys("#text", "+49 151 23456789", chromedp.ByQuery), send(),
				press("Confirm"),
				chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "You're booked")]`, chromedp.BySearch),
			)
			var id string
			require.NoError(t, pool.QueryRow(ctx, `SELECT booking_id::text FROM bookings WHERE salon_id = $1 AND source LIKE 'web:%'`,
				b.salonID).Scan(&id))

			// 2. The owner logs in and sees it in Tuesday's day view.
			var cell string
			run(
				chromedp.Navigate(srv.URL+"/admin/day?date=2027-03-02"),
				chromedp.WaitVisible("#login", chromedp.ByQuery),
				chromedp.SendKeys("#login", "olga", chromedp.ByQuery),
				chromedp.SendKeys("#password", passwords["olga"], chromedp.ByQuery),
				shot("login"),
				chromedp.Submit("#password", chromedp.ByQuery),
				chromedp.WaitVisible(`//span[@class="client"][contains(., "Olga")]`, chromedp.BySearch),
				chromedp.Text(`//tr[th[normalize-space(.)="10:00"]]/td[2]`, &cell, chromedp.BySearch),
				shot("day"),
			)
			require.Contains(t, cell, "10:00–10:45")
			require.Contains(t, cell, "web")

			// 3. Opens it (the card is a link) and moves it to 11:00.
			eleven := unix(berlin(2027, 3, 2, 11, 0))
			run(
				click(`[data-booking="`+id+`"] a.open`, "Open"),
				chromedp.WaitVisible(`dl.facts`, chromedp.ByQuery),
				click(`section.move button`, "Show free times"),
				chromedp.WaitVisible(`input[name="start"][value="`+eleven+`"]`, chromedp.ByQuery),
				click(`input[name="start"][value="`+eleven+`"]`, ""),
				chromedp.SendKeys(`section.move input[name="reason"]`, "asked by phone", chromedp.ByQuery),
				shot("move"),
				click(`section.move button.main`, "Move here"),
				chromedp.WaitVisible(`//p[@class="done"][contains(., "Moved.")]`, chromedp.BySearch),
				chromedp.Text(`dd.when`, &text, chromedp.ByQuery),
				shot("moved"),
			)
			require.Equal(t, "Tue 2 Mar 2027, 11:00–11:45", text)

			// 4. The chat's "My bookings" has the new time; the day still offers 12:00.
			run(
				chromedp.Navigate(srv.URL+"/chat"),
				press("My bookings"),
				chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "upcoming booking")]`, chromedp.BySearch),
				chromedp.Text(lastBot, &text, chromedp.BySearch),
				shot("chat-mine"),
			)
			require.Contains(t, text, "11:00: Haircut with Boris")
			require.NotContains(t, text, "10:00")
			run(press("Menu"), press("Book"), press("Haircut"), press("Boris"), press("Tue 2 Mar"),
				chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "Free times on")]`, chromedp.BySearch),
				timeChoices)
			require.Contains(t, choices, "12:00", "free before the block")

			// 5. The owner blocks Boris's 12:00–13:00; the chat no longer offers it.
			run(
				chromedp.Navigate(srv.URL+"/admin/day?date=2027-03-02"),
				click(`nav a.act`, "Block time"),
				chromedp.WaitVisible(`#note`, chromedp.ByQuery),
				chromedp.SetValue(`#master`, "boris", chromedp.ByQuery),
				chromedp.SetValue(`#from`, "12:00", chromedp.ByQuery),
				chromedp.SetValue(`#to`, "13:00", chromedp.ByQuery),
				chromedp.SendKeys(`#note`, "Lunch", chromedp.ByQuery),
				shot("block"),
				click(`button.main`, "Block"),
				chromedp.WaitVisible(`//p[@class="done"][contains(., "The time is blocked.")]`, chromedp.BySearch),
				chromedp.Navigate(srv.URL+"/admin/day?date=2027-03-02"),
				chromedp.WaitVisible(`div.b.blocked`, chromedp.ByQuery),
				shot("day-blocked"),
				// Another visitor (a chat session of its own: one session may send
				// 20 messages in 10 s) looks at Boris's Tuesday.
				// The chat's session is its HttpOnly cookie: a new visitor has none.
				network.DeleteCookies("chat").WithURL(srv.URL+"/chat"),
				chromedp.Navigate(srv.URL+"/chat"),
				press("Book"), press("Haircut"), press("Boris"), press("Tue 2 Mar"),
				chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "Free times on")]`, chromedp.BySearch),
				timeChoices,
				shot("chat-times"),
			)
			require.NotContains(t, choices, "12:00", "the blocked hour left the chat's free times")
			require.NotContains(t, choices, "12:30")
			require.Contains(t, choices, "13:00")

			// 6. The owner cancels the moved booking.
			run(
				chromedp.Navigate(srv.URL+"/admin/booking/"+id),
				chromedp.WaitVisible(`section.cancel`, chromedp.ByQuery),
				chromedp.SendKeys(`section.cancel input[name="reason"]`, "the client called", chromedp.ByQuery),
				click(`section.cancel button`, "Cancel the booking"),
				chromedp.WaitVisible(`//p[@class="done"][contains(., "Cancelled.")]`, chromedp.BySearch),
				shot("cancelled"),
			)
			got, err := b.bookings.Get(ctx, b.salonID, id)
			require.NoError(t, err)
			require.Equal(t, core.StatusCancelled, got.Status)

			// 7. At 10:05 on Monday, Nina has not come: a no-show.
			b.clock.T = berlin(2027, 3, 1, 10, 5).UTC()
			run(
				chromedp.Navigate(srv.URL+"/admin/day?date=2027-03-01"),
				click(`[data-booking="`+late.ID+`"] a.open`, "Open"),
				chromedp.WaitVisible(`dl.facts`, chromedp.ByQuery),
				click(`button[value="no_show"]`, "No-show"),
				chromedp.WaitVisible(`//p[@class="done"][contains(., "Marked.")]`, chromedp.BySearch),
				chromedp.Text(`.facts .s`, &text, chromedp.ByQuery),
				shot("no-show"),
			)
			require.Equal(t, "no-show", text)
			got, err = b.bookings.Get(ctx, b.salonID, late.ID)
			require.NoError(t, err)
			require.Equal(t, core.NoShow, got.Attendance)

			// 8. A client phones: the owner books Chloe, Tuesday 14:00, on the desk.
			two := unix(berlin(2027, 3, 2, 14, 0))
			run(
				chromedp.Navigate(srv.URL+"/admin/day?date=2027-03-02"),
				click(`nav a.act`, "+ Booking"),
				chromedp.WaitVisible(`#service`, chromedp.ByQuery),
				chromedp.SetValue(`#service`, "haircut", chromedp.ByQuery),
				chromedp.SetValue(`#master`, "chloe", chromedp.ByQuery),
				click(`form.pick button`, "Show free times"),
				chromedp.WaitVisible(`input[name="start"][value="`+two+`"]`, chromedp.ByQuery),
				click(`input[name="start"][value="`+two+`"]`, ""),
				chromedp.SendKeys(`#name`, "Walk In", chromedp.ByQuery),
				chromedp.SendKeys(`#phone`, "+49 151 44444444", chromedp.ByQuery),
				shot("book"),
				click(`button.main`, "Book"),
				chromedp.WaitVisible(`//p[@class="done"][contains(., "Booked.")]`, chromedp.BySearch),
				chromedp.Text(`dd.when`, &text, chromedp.ByQuery),
				shot("booked"),
			)
			require.Equal(t, "Tue 2 Mar 2027, 14:00–14:45", text)

			// The page never scrolls sideways.
			var scrollWidth, clientWidth int
			run(chromedp.Evaluate(`document.documentElement.scrollWidth`, &scrollWidth),
				chromedp.Evaluate(`document.documentElement.clientWidth`, &clientWidth))
			require.LessOrEqual(t, scrollWidth, clientWidth)
		})
	}
}
