package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/adapters/whatsapp/whatsapptest"
)

// runLoadtestWhatsApp is `salonbook loadtest` with LOADTEST_CHANNEL=whatsapp:
// the Telegram harness's run (same LOADTEST_* settings, same figures) against
// the WhatsApp channel and the fake Graph API. LOADTEST_LIMITS is raised (the
// fake's limits off, the sender's raised) or whatsapp (Meta's: 80/s for the
// number, the pair limit per client; the sender at its defaults).
func runLoadtestWhatsApp(ctx context.Context, getenv func(string) string, out io.Writer) error {
	cfg, err := loadConfig(getenv, need{database: true})
	if err != nil {
		return err
	}
	o := ltOptions{DatabaseURL: cfg.DatabaseURL, SalonFile: getenv("LOADTEST_SALON_FILE"), Limits: getenv("LOADTEST_LIMITS"), Log: out}
	ints := []struct {
		name string
		v    *int
		def  int
	}{{"LOADTEST_CLIENTS", &o.Clients, 1000}, {"LOADTEST_PARALLEL", &o.Parallel, 200}, {"WHATSAPP_WORKERS", &o.Workers, 4}}
	for _, n := range ints {
		*n.v = n.def
		if v := getenv(n.name); v != "" {
			if *n.v, err = strconv.Atoi(v); err != nil || *n.v < 1 {
				return fmt.Errorf("config: %s must be a positive number", n.name)
			}
		}
	}
	o.Seed = 1
	if v := getenv("LOADTEST_SEED"); v != "" {
		seed, err := strconv.Atoi(v)
		if err != nil || seed < 1 {
			return fmt.Errorf("config: LOADTEST_SEED must be a positive number")
		}
		o.Seed = uint64(seed)
	}
	durs := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"LOADTEST_TIMEOUT", &o.Timeout, 4 * time.Minute}, {"LOADTEST_REPLY_TIMEOUT", &o.ReplyTimeout, 90 * time.Second}}
	for _, d := range durs {
		*d.v = d.def
		if v := getenv(d.name); v != "" {
			if *d.v, err = time.ParseDuration(v); err != nil || *d.v <= 0 {
				return fmt.Errorf("config: %s must be a duration such as 4m", d.name)
			}
		}
	}
	if o.SalonFile == "" {
		if o.SalonFile, err = findUp(filepath.Join("scripts", "demo-salon.yaml")); err != nil {
			return err
		}
	}
	r, err := loadtestWhatsApp(ctx, o)
	if err != nil {
		return err
	}
	r.printWhatsApp(out)
	return r.verdict()
}

// waDeliver posts a signed notification through the fake and records the ack.
func (a *acks) waDeliver(ctx context.Context, fake *whatsapptest.Server, body []byte) error {
	t0 := time.Now()
	status, err := fake.Deliver(ctx, body)
	t1 := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil || status != 200 {
		a.fail++
		if err != nil {
			return err
		}
		return fmt.Errorf("webhook answered %d", status)
	}
	a.ok++
	a.lat = append(a.lat, t1.Sub(t0))
	a.at = append(a.at, t1)
	return nil
}

// waFireAll delivers every body with at most parallel in flight.
func waFireAll(ctx context.Context, fake *whatsapptest.Server, a *acks, bodies [][]byte, parallel int) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range min(parallel, len(bodies)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) || ctx.Err() != nil {
					return
				}
				_ = a.waDeliver(ctx, fake, bodies[i])
			}
		})
	}
	wg.Wait()
}

// waClient is one simulated WhatsApp user.
type waClient struct {
	user          whatsapptest.Client
	rnd           *rand.Rand
	dayIdx, tIdx  int
	doubleTapStep int
	redeliverStep int
	flooder       bool
	retries       int
	notices       int
	steps         int
	seen          int
	outcome       string
	final         time.Time
}

// loadtestWhatsApp runs the harness once against WhatsApp; see runLoadtestWhatsApp.
func loadtestWhatsApp(ctx context.Context, o ltOptions) (*ltResult, error) {
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, "loadtest: "+format+"\n", args...)
		}
	}
	if o.Limits == "" {
		o.Limits = "raised"
	}
	var fakeLimits *whatsapptest.Limits
	switch o.Limits {
	case "raised":
		fakeLimits = &whatsapptest.Limits{}
	case "whatsapp":
	default:
		return nil, errors.New("config: LOADTEST_LIMITS must be raised or whatsapp")
	}
	began := time.Now()
	res := &ltResult{Clients: o.Clients, Parallel: o.Parallel, Limits: o.Limits}
	// Peak memory of this process (harness, fake and server together).
	peakSys, stopWatch := watchMemory()
	defer stopWatch()

	salonID := "lw" + randomHex(5)
	fake := whatsapptest.New(whatsapptest.Options{Limits: fakeLimits})
	fakeSrv := httptest.NewServer(fake)
	defer fakeSrv.Close()
	vars := map[string]string{"DATABASE_URL": o.DatabaseURL, "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "loadtest-" + randomHex(8),
		"WHATSAPP_TOKEN": fake.Token(), "WHATSAPP_APP_SECRET": fake.AppSecret(), "WHATSAPP_VERIFY_TOKEN": "loadtest-verify-" + randomHex(8),
		"WHATSAPP_PHONE_NUMBER_ID": fake.PhoneNumberID(), "WHATSAPP_API_URL": fakeSrv.URL, "WHATSAPP_TEMPLATES": "en=salon_message",
		"WHATSAPP_WORKERS": strconv.Itoa(o.Workers), "LOG_LEVEL": "warn"}
	if o.Limits == "raised" { // measure the pipeline, not Meta's limits
		vars["WHATSAPP_RATE"], vars["WHATSAPP_CHAT_RATE"] = "10000", "6000"
	}
	getenv := func(k string) string { return vars[k] }
	if err := applyLoadSalon(ctx, getenv, o.SalonFile, salonID); err != nil {
		return nil, err
	}
	vars["SALONBOOK_SALON"] = salonID
	pool, err := postgres.OpenSized(ctx, o.DatabaseURL, 8)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if res.CeilingAcksPerSec, err = measureCeiling(ctx, pool, max(o.Clients, 500), o.Parallel); err != nil {
		return nil, err
	}
	logf("ceiling (insert-only handler): %.0f acks/s", res.CeilingAcksPerSec)

	serverLog := &capped{}
	addr, stopServer, err := serveInProcess(ctx, getenv, serverLog)
	if err != nil {
		return nil, err
	}
	defer func() { _ = stopServer() }()
	fake.SetWebhook("http://" + addr + "/whatsapp/webhook")

	clients := make([]*waClient, o.Clients)
	for i := range clients {
		r := rand.New(rand.NewPCG(o.Seed, uint64(i)))
		c := &waClient{user: whatsapptest.Client{WaID: fmt.Sprint(49_170_000_000_000 + i), Name: fmt.Sprint("Client", i)},
			rnd: r, dayIdx: r.IntN(7), tIdx: r.IntN(8)}
		switch p := r.IntN(100); {
		case p < 5:
			c.doubleTapStep = 2 + r.IntN(4)
			res.DoubleTaps++
		case p < 10:
			c.redeliverStep = 1 + r.IntN(8)
			res.Redeliver++
		case p < 11:
			c.flooder = true
			res.Flooders++
		}
		clients[i] = c
	}
	var a acks

	// The burst: every client's first message at once (redeliveries of step 1 included).
	start := time.Now()
	var burst [][]byte
	for _, c := range clients {
		b := fake.TextMessage(c.user, fake.NewWAMID(c.user.WaID), "Hi")
		burst = append(burst, b)
		if c.redeliverStep == 1 {
			burst = append(burst, b)
		}
		c.steps = 1
	}
	var ba acks
	waFireAll(ctx, fake, &ba, burst, o.Parallel)
	_, res.BurstAcksPerSec, res.BurstP50, res.BurstP99, _, _ = ba.summary()
	res.BurstUpdates = len(burst)
	logf("burst of %d first messages: %.0f acks/s, p50 %v, p99 %v", len(burst), res.BurstAcksPerSec, res.BurstP50, res.BurstP99)

	if rate := res.BurstAcksPerSec / 2; rate > 0 {
		n := min(o.Clients, 1000)
		interval := time.Duration(float64(time.Second) / rate)
		var pa acks
		var pwg sync.WaitGroup
		t0 := time.Now()
		for i := range n {
			if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
			u := whatsapptest.Client{WaID: fmt.Sprint(49_160_000_000_000 + i), Name: "Paced"}
			b := fake.TextMessage(u, fake.NewWAMID(u.WaID), "Hi")
			pwg.Go(func() { _ = pa.waDeliver(ctx, fake, b) })
		}
		pwg.Wait()
		_, res.PacedAcksPerSec, res.PacedP50, res.PacedP99, _, _ = pa.summary()
		res.PacedUpdates = n
		logf("paced %d first messages at %.0f/s: p50 %v, p99 %v", n, rate, res.PacedP50, res.PacedP99)
		a.mu.Lock()
		a.ok, a.fail = a.ok+pa.ok, a.fail+pa.fail
		a.mu.Unlock()
	}

	convCtx, cancelConv := context.WithTimeout(ctx, o.Timeout)
	defer cancelConv()
	var mu sync.Mutex
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(o.Parallel, len(clients)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(clients) {
					return
				}
				if example := waConverse(convCtx, fake, &a, clients[i], o.ReplyTimeout); example != "" {
					mu.Lock()
					res.Example = example
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	cancelConv()

	if err := res.settle(ctx, pool, salonID); err != nil {
		return nil, err
	}

	for _, c := range clients {
		res.count(c.outcome)
		if !c.final.IsZero() && c.final.Sub(start) > res.AllFinal {
			res.AllFinal = c.final.Sub(start)
		}
		got := len(fake.SentTo(c.user.WaID))
		if c.flooder {
			res.FloodReplies = max(res.FloodReplies, got-c.steps)
		} else {
			res.Notices += c.notices
			if got > c.steps+c.notices {
				res.Duplicates += got - c.steps - c.notices
			}
		}
	}
	res.Updates = ba.ok + ba.fail + a.ok + a.fail
	res.Acked, res.NotAcked = ba.ok+a.ok, ba.fail+a.fail
	a.mu.Lock()
	a.lat, a.at = append(a.lat, ba.lat...), append(a.at, ba.at...)
	a.mu.Unlock()
	var peak int
	_, res.AcksPerSec, res.P50, res.P99, res.Max, peak = a.summary()
	res.PeakAcks1s = float64(peak)

	sent := fake.Sent()
	res.Replies = len(sent)
	times := make([]time.Time, len(sent))
	perChat := map[string][]time.Time{}
	for i, m := range sent {
		times[i] = m.Time
		perChat[m.To] = append(perChat[m.To], m.Time)
	}
	slices.SortFunc(times, func(x, y time.Time) int { return x.Compare(y) })
	if n := len(times); n > 1 && times[n-1].After(times[0]) {
		res.RepliesPerSec = float64(n-1) / times[n-1].Sub(times[0]).Seconds()
	}
	res.PeakReplies1s = peakWindow(times, time.Second)
	for _, ts := range perChat {
		res.PeakChatReplies1 = max(res.PeakChatReplies1, peakWindow(ts, time.Second))
	}
	stats := fake.Stats()
	res.TooMany = stats[whatsapp.ErrorThroughput] + stats[whatsapp.ErrorPairLimit]
	var refused int
	for code, n := range stats {
		if code != 0 && code != whatsapp.ErrorThroughput && code != whatsapp.ErrorPairLimit {
			refused += n
		}
	}
	if refused > 0 {
		res.Example = fmt.Sprintf("the fake refused %d messages: %v", refused, stats)
	}

	var processed float64
	if err := pool.QueryRow(ctx, `SELECT COALESCE(EXTRACT(EPOCH FROM max(handled_at) - min(received_at)), 0) FROM inbox WHERE salon_id = $1`,
		salonID).Scan(&processed); err != nil {
		return nil, err
	}
	res.Processed = time.Duration(processed * float64(time.Second))
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM bookings a JOIN bookings b
		ON a.salon_id = b.salon_id AND a.master_id = b.master_id AND a.booking_id < b.booking_id
		WHERE a.salon_id = $1 AND a.status IN ('held', 'confirmed') AND b.status IN ('held', 'confirmed')
		AND a.occupied && b.occupied`, salonID).Scan(&res.DoubleBookings); err != nil {
		return nil, err
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE salon_id = $1 AND status = 'confirmed'`, salonID).
		Scan(&res.BookingsMade); err != nil {
		return nil, err
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT client_id FROM bookings WHERE salon_id = $1 AND status = 'confirmed'
		GROUP BY client_id HAVING count(*) > 1) x`, salonID).Scan(&res.ClientsBookedTwice); err != nil {
		return nil, err
	}
	if err := stopServer(); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	res.ServerErrors = serverLog.errors
	res.PeakSysMB = int(peakSys() >> 20)
	res.PeakRSSKB = vmHWM()
	res.Elapsed = time.Since(began)
	return res, nil
}

// waConverse runs one client's booking conversation after its first message.
// It returns the text of an unexpected reply, if it got one.
func waConverse(ctx context.Context, fake *whatsapptest.Server, a *acks, c *waClient, replyTimeout time.Duration) string {
	deliver := func(b []byte) bool {
		step := c.steps + 1
		if err := a.waDeliver(ctx, fake, b); err != nil {
			return false
		}
		if step == c.redeliverStep {
			_ = a.waDeliver(ctx, fake, b) // Meta redelivers: the same notification again
		}
		c.steps = step
		return true
	}
	var last func() bool
	press := func(m whatsapptest.Sent, id string) bool {
		body, ok := fake.Reply(c.user, m, id)
		if !ok {
			return false
		}
		last = func() bool {
			again, _ := fake.Reply(c.user, m, id)
			return deliver(again)
		}
		ok = deliver(body)
		if ok && c.steps == c.doubleTapStep {
			again, _ := fake.Reply(c.user, m, id) // a second tap: a new message with the same id
			_ = a.waDeliver(ctx, fake, again)
		}
		return ok
	}
	pick := func(m whatsapptest.Sent, prefix string, idx int) bool {
		var ids []string
		for _, ch := range append(m.Buttons, m.Rows...) {
			if strings.HasPrefix(ch.ID, prefix) {
				ids = append(ids, ch.ID)
			}
		}
		if len(ids) == 0 {
			return false
		}
		return press(m, ids[idx%len(ids)])
	}
	say := func(text string) bool {
		last = func() bool { return deliver(fake.TextMessage(c.user, fake.NewWAMID(c.user.WaID), text)) }
		return last()
	}
	finish := func(outcome string) {
		c.outcome = outcome
		c.final = time.Now()
	}
	wait := func(timeout time.Duration) (whatsapptest.Sent, bool) {
		deadline := time.Now().Add(timeout)
		delay := 5 * time.Millisecond
		for {
			if sent := fake.SentTo(c.user.WaID); len(sent) > c.seen {
				c.seen = len(sent)
				return sent[len(sent)-1], true
			}
			if time.Now().After(deadline) {
				return whatsapptest.Sent{}, false
			}
			select {
			case <-ctx.Done():
				return whatsapptest.Sent{}, false
			case <-time.After(delay):
			}
			delay = min(delay*2, 100*time.Millisecond)
		}
	}
	for range 30 {
		m, ok := wait(replyTimeout)
		if !ok {
			c.outcome = map[bool]string{true: "unfinished", false: "stuck"}[ctx.Err() != nil]
			return ""
		}
		if strings.Contains(m.Text, "faster than I can read") {
			c.notices++
			m2, ok := wait(3 * time.Second)
			if !ok {
				if ctx.Err() != nil || last == nil || !last() {
					c.outcome = map[bool]string{true: "unfinished", false: "stuck"}[ctx.Err() != nil]
					return ""
				}
				continue
			}
			m = m2
		}
		var sent bool
		switch t := m.Text; {
		case strings.Contains(t, "You're booked"):
			finish("booked")
		case strings.Contains(t, "just taken"), strings.Contains(t, "can't be booked any more"):
			if c.retries < 2 {
				c.retries++
				if sent = pick(m, "t:", c.rnd.IntN(4)); sent {
					break
				}
			}
			finish("taken")
		case strings.Contains(t, "What would you like to do"):
			sent = press(m, "book")
		case strings.Contains(t, "Which service"):
			sent = pick(m, "s:", c.rnd.IntN(8))
		case strings.Contains(t, "Who would you like"):
			sent = press(m, "m:any")
		case strings.Contains(t, "Which day"):
			if sent = pick(m, "d:", c.dayIdx); !sent && c.outcome == "" {
				finish("full")
			}
		case strings.Contains(t, "no free times"):
			finish("full")
		case strings.Contains(t, "Free times"):
			if sent = pick(m, "t:", c.tIdx); !sent && c.outcome == "" {
				finish("full")
			}
		case strings.Contains(t, "What's your name"):
			sent = say(c.user.Name)
		case strings.Contains(t, "phone number"):
			sent = press(m, whatsapp.ContactChoiceID)
		case strings.Contains(t, "Shall I book it"):
			sent = press(m, "ok")
		default:
			finish("unexpected")
			return m.Text
		}
		if c.outcome != "" {
			if c.flooder {
				for i := range 30 {
					_ = a.waDeliver(ctx, fake, fake.TextMessage(c.user, fake.NewWAMID(c.user.WaID), fmt.Sprint("are you there? ", i)))
				}
			}
			return ""
		}
		if !sent {
			c.outcome = map[bool]string{true: "unfinished", false: "stuck"}[ctx.Err() != nil]
			return ""
		}
	}
	finish("unexpected")
	return "more than 30 steps"
}

func (r *ltResult) printWhatsApp(out io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	p("== salonbook loadtest (whatsapp): %d clients, %d at once, limits %s, %d CPUs (%s)", r.Clients, r.Parallel, r.Limits, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	if r.Limits == "raised" {
		p("   fake Graph API limits off; the server's sender raised to 10000 msg/s, 6000/min per client (WHATSAPP_RATE, WHATSAPP_CHAT_RATE)")
	} else {
		p("   fake Graph API enforces Meta's limits (80/s per number; pair limit 1 per 6 s, bursts of 45); the sender at its defaults (80/s; 10/min per client, burst 10)")
	}
	p("ceiling, insert-only handler:      %.0f acks/s (%d deliveries)", r.CeilingAcksPerSec, max(r.Clients, 500))
	p("burst of %d first messages:        %.0f acks/s (%.2f of ceiling), p50 %s, p99 %s", r.BurstUpdates, r.BurstAcksPerSec,
		r.BurstAcksPerSec/max(r.CeilingAcksPerSec, 1), ms(r.BurstP50), ms(r.BurstP99))
	p("paced %d first messages at half the burst rate: %.0f acks/s, p50 %s, p99 %s", r.PacedUpdates, r.PacedAcksPerSec, ms(r.PacedP50), ms(r.PacedP99))
	p("whole run: notifications delivered %d, acknowledged %d, not acknowledged %d", r.Updates, r.Acked, r.NotAcked)
	p("whole run acks: %.0f/s average (paced by the replies), peak %.0f in 1 s; latency p50 %s, p99 %s, max %s",
		r.AcksPerSec, r.PeakAcks1s, ms(r.P50), ms(r.P99), ms(r.Max))
	p("time to every client's final reply: %s; inbox first received to last handled: %s", r.AllFinal.Round(10*time.Millisecond), r.Processed.Round(10*time.Millisecond))
	p("replies: %d, %.1f/s average, peak %d in 1 s overall, peak %d in 1 s in one chat; 130429/131056 from the fake: %d",
		r.Replies, r.RepliesPerSec, r.PeakReplies1s, r.PeakChatReplies1, r.TooMany)
	p("clients: booked %d, time taken %d, no free slot %d, unexpected %d, stuck (lost) %d, cut off by LOADTEST_TIMEOUT %d",
		r.Booked, r.Taken, r.Full, r.Unexpected, r.Stuck, r.Unfinished)
	p("noise: %d double-tappers, %d redelivered notifications, %d flooders (most replies to a 30-message flood: %d)",
		r.DoubleTaps, r.Redeliver, r.Flooders, r.FloodReplies)
	p("flood notices to clients not flooding (double taps and fast answers): %d", r.Notices)
	p("duplicate replies: %d; double bookings: %d; clients booked twice: %d; bookings made: %d", r.Duplicates, r.DoubleBookings, r.ClientsBookedTwice, r.BookingsMade)
	p("left after settling: inbox %d unhandled, outbox %d unsent; server error log lines: %d", r.PendingInbox, r.UnsentOutbox, r.ServerErrors)
	p("peak memory (whole process: harness + fake + server): VmHWM %d MB, Go Sys %d MB", r.PeakRSSKB/1024, r.PeakSysMB)
	if r.Example != "" {
		p("an unexpected reply or refusal: %.160q", r.Example)
	}
	p("elapsed: %s", r.Elapsed.Round(100*time.Millisecond))
}
