package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
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

// TestBrowserReloadKeepsTheConversation: in headless Chromium against the real
// server and database, a client holds a time, reloads the page mid-flow and
// opens a second tab: both show the same conversation with the hold's buttons
// (nothing sent on load, the hold still held), and Confirm books it. Then the
// client switches to Russian in the chat: the page's own labels, its lang and
// the input's placeholder follow, also after a reload. Screenshots at phone
// width (390 px, emulated) and desktop go to SALONBOOK_SCREENSHOTS (else a
// temporary directory), named talkweb-*.png.
func TestBrowserReloadKeepsTheConversation(t *testing.T) {
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
	srv := httptest.NewServer(web.Handler(web.Config{
		Bookings: bookings, SalonID: salonID, APIToken: token, Clock: clock,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Chat:   dialog.NewService(engine, postgres.NewConversations(pool)).Transcribe("web"),
	}))
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
	dir := os.Getenv("SALONBOOK_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	// shoot saves the page at phone width (390 px, emulated: a window that
	// narrow is refused) and at desktop width.
	shoot := func(tab context.Context, name string) {
		t.Helper()
		var phone, desktop []byte
		runIn(tab,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
			chromedp.Sleep(200*time.Millisecond), // layout and smooth scroll settle
			chromedp.CaptureScreenshot(&phone),
			chromedp.EmulateViewport(1280, 800),
			chromedp.Sleep(200*time.Millisecond),
			chromedp.CaptureScreenshot(&desktop),
		)
		for suffix, img := range map[string][]byte{"phone": phone, "desktop": desktop} {
			path := fmt.Sprintf("%s/talkweb-%s-%s.png", dir, name, suffix)
			require.NoError(t, os.WriteFile(path, img, 0o644))
			t.Logf("screenshot: %s", path)
		}
	}
	var bubbles, greetings int
	var texts []string // every bubble's text, in order: what a reload must draw again
	count := chromedp.Tasks{
		chromedp.Evaluate(`document.querySelectorAll("p.msg").length`, &bubbles),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("p.msg")).map(function (p) { return p.className + ": " + p.textContent })`, &texts),
	}
	countGreetings := chromedp.Evaluate(`Array.from(document.querySelectorAll("p.msg.bot")).filter(function (p) {
		return p.textContent.indexOf("Hello!") === 0 }).length`, &greetings)
	holdQuestion := `//p[contains(@class,"bot")][contains(., "Shall I confirm the booking?")]`

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
	)
	before, beforeTexts := bubbles, texts
	require.Greater(t, len(beforeTexts), 10)
	holdStatus := func() string {
		var s string
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT status FROM bookings WHERE salon_id = $1`, salonID).Scan(&s))
		return s
	}
	// hold: the held booking and until when; a reload must not hold again nor extend it.
	hold := func() string {
		var id string
		var until time.Time
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT booking_id::text, hold_expires_at FROM bookings
			WHERE salon_id = $1 AND status = 'held'`, salonID).Scan(&id, &until))
		return id + " " + until.UTC().Format(time.RFC3339Nano)
	}
	require.Equal(t, "held", holdStatus())
	held := hold()

	// The reload: the same bubbles, the hold's buttons, no second greeting.
	var confirmLabel string
	run(
		chromedp.Reload(),
		chromedp.WaitVisible(holdQuestion, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"choices")]/button[.="Confirm"]`, chromedp.BySearch),
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		count, countGreetings,
		chromedp.Text(`(//div[contains(@class,"choices")]/button)[1]`, &confirmLabel, chromedp.BySearch),
	)
	require.Equal(t, before, bubbles, "the transcript is drawn again, whole")
	require.Equal(t, beforeTexts, texts, "the same bubbles, word for word, the client's and the bot's")
	require.Equal(t, 1, greetings, "no /start on load: one greeting")
	require.Equal(t, "Confirm", confirmLabel)
	require.Equal(t, "held", holdStatus(), "the reload kept the hold")
	require.Equal(t, held, hold(), "the same hold, not extended nor made again")
	shoot(bctx, "reloaded")

	// A second tab of the same browser is the same conversation.
	tab, cancelTab := chromedp.NewContext(bctx)
	defer cancelTab()
	require.NoError(t, chromedp.Run(tab)) // the tab opens here, not under a step's short context
	var tabBubbles int
	runIn(tab,
		chromedp.Navigate(srv.URL+"/chat"),
		chromedp.WaitVisible(holdQuestion, chromedp.BySearch),
		chromedp.Evaluate(`document.querySelectorAll("p.msg").length`, &tabBubbles),
	)
	require.Equal(t, before, tabBubbles, "the second tab shows the same conversation")
	cancelTab()

	run(
		press("Confirm"),
		chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "You're booked")]`, chromedp.BySearch),
	)
	require.Equal(t, "confirmed", holdStatus())

	// Language: the page's own words follow the conversation's.
	var htmlLang, placeholder, sendLabel, title, docTitle, restartLabel, inputLabel string
	labels := chromedp.Tasks{
		chromedp.Evaluate(`document.documentElement.lang`, &htmlLang),
		chromedp.AttributeValue("#text", "placeholder", &placeholder, nil, chromedp.ByQuery),
		chromedp.Text("#send", &sendLabel, chromedp.ByQuery),
		chromedp.Text("#title", &title, chromedp.ByQuery),
		chromedp.Evaluate(`document.title`, &docTitle),
		chromedp.Text("#restart", &restartLabel, chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("text-label").textContent`, &inputLabel), // screen readers' name of the input
	}
	page := func() []string {
		return []string{htmlLang, placeholder, sendLabel, title, docTitle, restartLabel, inputLabel}
	}
	english := []string{"en", "Type a message", "Send", "Book an appointment", "Book an appointment", "Start over", "Message"}
	russian := []string{"ru", "Напишите сообщение", "Отправить", "Запись онлайн", "Запись онлайн", "Начать заново", "Сообщение"}
	run(labels)
	require.Equal(t, english, page())
	run(
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		press("Language"), press("Русский"),
		chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "по-русски")]`, chromedp.BySearch),
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		labels,
	)
	require.Equal(t, russian, page())
	run(
		chromedp.Reload(),
		chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "по-русски")]`, chromedp.BySearch),
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		labels,
	)
	require.Equal(t, russian, page(), "after a reload the page speaks the conversation's language, not the browser's")
	shoot(bctx, "russian")

	// And back: English chosen in the chat turns every label back, also after a reload.
	run(
		press("Язык"), press("English"),
		chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "English")]`, chromedp.BySearch),
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		labels,
	)
	require.Equal(t, english, page(), "switching back to English")
	run(
		chromedp.Reload(),
		chromedp.WaitVisible(`//p[contains(@class,"bot")][contains(., "English")]`, chromedp.BySearch),
		chromedp.WaitEnabled("#send", chromedp.ByQuery),
		labels,
	)
	require.Equal(t, english, page(), "English after a reload too")
}
