package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
)

// steppingClock reads one second later at every call: the web chat's flood
// guard (20 messages per 10 s a session) then never slows the clicks down,
// which a person could not make this fast.
type steppingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *steppingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// clickJS presses a button of the newest choices in the page, as a person
// would, and measures in the page from the click to the bot's reply drawn (the
// new bubble appended and the next frame painted); the time lands in
// window.__took, with the request's own time (the POST sent to its answer
// read: the server, the database and the loopback) beside it. which is "first" (a day, on the page of days) or "back" (the
// button before Menu: "Another day", on the page of times).
const clickJS = `(function (which) {
	window.__took = null;
	var log = document.getElementById("log");
	var boxes = log.querySelectorAll(".choices");
	if (!boxes.length) return false;
	var bs = Array.from(boxes[boxes.length - 1].querySelectorAll("button"));
	if (bs.length < 2 || bs.some(function (b) { return b.disabled; })) return false;
	var b = which === "first" ? bs[0] : bs[bs.length - 2];
	var bots = log.querySelectorAll("p.msg.bot").length;
	var t0 = 0;
	var seen = new MutationObserver(function () {
		if (log.querySelectorAll("p.msg.bot").length <= bots) return;
		seen.disconnect();
		requestAnimationFrame(function () {
			var total = performance.now() - t0;
			var req = performance.getEntriesByType("resource").filter(function (e) { return e.name.indexOf("chat/api/messages") >= 0; });
			window.__took = [total, req.length ? req[req.length - 1].responseEnd - req[req.length - 1].startTime : -1];
		});
	});
	seen.observe(log, { childList: true });
	performance.clearResourceTimings(); // the buffer holds 250
	t0 = performance.now();
	b.click();
	return true;
})(%q)`

// BenchmarkBrowserClickToReply: in headless Chromium, against the real web
// chat, dialog engine and PostgreSQL, a client presses a button and waits for
// the bot's answer drawn in the page, over and over: a day on the page of
// days (free times computed), then "Another day" (the days again). Reports
// the click-to-reply time measured in the page, p50, p90 and p99 over b.N
// clicks (the target: p90 < 200 ms). Run with at least 100 clicks:
//
//	go test ./src/adapters/web/ -run '^$' -bench BrowserClickToReply -benchtime 200x
func BenchmarkBrowserClickToReply(b *testing.B) {
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		b.Skip("no chromium on this machine")
	}
	pool := pgtest.Pool(b)
	store, salonID := pgtest.Salon(b)
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	cat, err := i18n.Load()
	if err != nil {
		b.Fatal(err)
	}
	bookings := booking.New(store, clock)
	engine := dialog.NewEngine(dialog.Config{SalonID: salonID, Bookings: bookings, Waitlist: postgres.NewWaitlist(pool),
		Privacy: postgres.NewPrivacy(pool), Catalog: cat, Clock: clock, NoOffers: []string{"web"}})
	srv := httptest.NewServer(web.Handler(web.Config{
		Bookings: bookings, SalonID: salonID, APIToken: token, Clock: &steppingClock{t: clock.T},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Chat:   dialog.NewService(engine, postgres.NewConversations(pool)).Transcribe("web"),
	}))
	defer srv.Close()

	profile, err := os.MkdirTemp("", "salonbook-chromium-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
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
			b.Log(msg)
		}
	}
	bctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(quiet))
	defer cancel()
	if err := chromedp.Run(bctx); err != nil { // the browser starts here, not under a step's short context
		b.Fatal(err)
	}
	run := func(actions ...chromedp.Action) {
		b.Helper()
		ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Run(ctx, actions...); err != nil {
			var page string
			pctx, cancel := context.WithTimeout(bctx, 5*time.Second)
			_ = chromedp.Run(pctx, chromedp.Text("#app", &page, chromedp.ByQuery))
			cancel()
			b.Fatalf("browser: %v\npage:\n%s", err, page)
		}
	}
	// click presses and returns the click-to-reply time the page measured,
	// and the request's part of it.
	click := func(which string) (total, request time.Duration) {
		b.Helper()
		var pressed bool
		var took []float64
		run(chromedp.Poll(fmt.Sprintf(clickJS, which), &pressed, chromedp.WithPollingInterval(5*time.Millisecond)),
			chromedp.Poll(`window.__took`, &took, chromedp.WithPollingInterval(5*time.Millisecond)))
		if len(took) != 2 || took[1] < 0 {
			b.Fatalf("the page measured %v", took)
		}
		return time.Duration(took[0] * float64(time.Millisecond)), time.Duration(took[1] * float64(time.Millisecond))
	}
	// To the page of days: Book, the first service, the first master.
	run(chromedp.Navigate(srv.URL + "/chat"))
	for range 3 {
		_, _ = click("first")
	}
	var took, requests []time.Duration
	which := "first"
	for b.Loop() {
		total, request := click(which)
		took, requests = append(took, total), append(requests, request)
		if which == "first" {
			which = "back"
		} else {
			which = "first"
		}
	}
	var bubbles int
	run(chromedp.Evaluate(`document.querySelectorAll("p.msg.bot").length`, &bubbles))
	if bubbles < len(took) {
		b.Fatalf("%d answers drawn for %d clicks", bubbles, len(took))
	}
	slices.Sort(took)
	slices.Sort(requests)
	at := func(d []time.Duration, q int) float64 { return float64(d[(len(d)-1)*q/100].Microseconds()) / 1000 }
	b.ReportMetric(at(took, 50), "p50-ms")
	b.ReportMetric(at(took, 90), "p90-ms")
	b.ReportMetric(at(took, 99), "p99-ms")
	b.ReportMetric(at(requests, 50), "request-p50-ms")
	b.ReportMetric(at(requests, 90), "request-p90-ms")
	b.ReportMetric(float64(len(took)), "clicks")
}
