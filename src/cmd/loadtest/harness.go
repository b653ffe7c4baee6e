package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/adapters/postgres"
)

// ltOptions configure one load-test run (loadtest run reads them from its flags).
type ltOptions struct {
	DatabaseURL  string
	Channel      string        // -channel: telegram (default) or whatsapp
	SalonFile    string        // the demo salon, applied under a fresh id
	Clients      int           // -clients, default 1000
	Parallel     int           // -parallel: client goroutines at once, default 200
	Limits       string        // -limits: raised (the fake's limits off) or the platform's (telegram, whatsapp)
	Timeout      time.Duration // -timeout: the whole conversation phase, default 4m (the platform's limits: 8m, kill: 10m)
	ReplyTimeout time.Duration // -reply-timeout: a client waiting longer is stuck (lost), default 90s
	Workers      int           // the server's TELEGRAM_WORKERS / WHATSAPP_WORKERS, default 4 (serve's)
	Seed         uint64        // -seed
	Log          io.Writer     // progress lines; nil for none
	// ServerBin is the salonbook binary: the harness runs its migrate and
	// apply, then its serve as a process of its own, as in production, where
	// the chat platform is not in the server's process (the load generator and
	// the fake do not share the server's Go scheduler and heap).
	ServerBin string
	// Kill (-kill) SIGKILLs the server once KillAt updates are acknowledged and
	// starts it again; deliveries that fail meanwhile are redelivered, as
	// Telegram and Meta do.
	Kill   bool
	KillAt int // -kill-at, default 5 per client: about the middle of the run
	// Converse (-converse) is the conversational burst of issue 17: every
	// client at once (Parallel = Clients), each thinking Think (on average;
	// 0.5 to 1.5 of it) after a reply before its next step; no paced phase.
	Converse bool
	Think    time.Duration
	// Targets checked by the verdict when set (0: not checked): dialog steps
	// (replies) per second, the acknowledgements' p99, the server's peak memory.
	MinStepsPerSec float64
	MaxAckP99      time.Duration
	MaxServerMB    int
}

// ltResult is what a run measured.
type ltResult struct {
	Channel                         string
	Clients, Parallel               int
	Limits                          string
	Updates, Acked, NotAcked        int // Deliver calls (redeliveries and double taps included), 200s, others
	BurstUpdates                    int
	BurstAcksPerSec                 float64
	BurstP50, BurstP99              time.Duration
	PacedUpdates                    int
	PacedAcksPerSec                 float64
	PacedP50, PacedP99              time.Duration
	AcksPerSec, PeakAcks1s          float64
	P50, P99, Max                   time.Duration
	CeilingAcksPerSec               float64
	AllFinal                        time.Duration // start to the last client's final reply
	Processed                       time.Duration // first update received to last handled (inbox)
	Replies                         int           // new messages and edits: an edit of the pressed message is the reply to that press
	Edits                           int           // of Replies, edits (Telegram's editMessageText)
	NotModified                     int           // edits repeating what the message showed: nothing new on screen, not a reply
	RepliesPerSec                   float64
	PeakReplies1s, PeakChatReplies1 int
	TooMany                         int // rate-limit refusals from the fake (429s; 130429/131056)
	Booked, Taken, Full, Unexpected int
	Stuck, Unfinished               int // no reply within ReplyTimeout / cut off by Timeout
	Duplicates                      int // replies beyond one per update (new messages and edits), non-flooders
	FloodReplies                    int // most replies a flooder got to its 30 texts
	Flooders, DoubleTaps, Redeliver int
	Notices                         int // flood notices to clients that were not flooding
	PendingInbox, UnsentOutbox      int
	DoubleBookings, BookingsMade    int
	ClientsBookedTwice              int
	PeakRSSKB, PeakSysMB            int // the harness and the fake
	ServerPeakKB                    int // the server process
	ServerErrors                    int
	LostUpdates                     int // acknowledged, then not in the inbox or dead-lettered there
	DeadLettered                    int // of LostUpdates, those dead-lettered (given up after failed attempts)
	Killed                          bool
	KilledAfter                     int           // acknowledgements before the SIGKILL
	KilledAt                        time.Time     // when the killed process was gone
	CountedAfter                    time.Duration // SIGKILL to counting (at least killSettle)
	Down                            time.Duration // SIGKILL to answering again
	Redelivered                     int           // deliveries that failed (server down) and were made again
	LongestWait                     time.Duration // longest a client waited for a reply
	SlowWaits                       int           // clients that waited more than 60 s for a reply
	Example                         string        // an unexpected reply (or the fake's refusals), for the report
	// /metrics scraped every scrapeEvery from the server's start to the end of
	// the conversations (not in a kill run): how long each took, and the
	// largest backlog one showed.
	Scrapes, ScrapeErrors, ScrapeSeries int
	ScrapeP50, ScrapeP99, ScrapeMax     time.Duration
	ScrapeInboxMax, ScrapeOutboxMax     float64
	ScrapeBookRequests                  int
	Elapsed                             time.Duration
	// Converse runs: the think time, the dialog steps the clients took (updates
	// that deserve one reply each) and the replies' rate over the conversations.
	Converse            bool
	Think               time.Duration
	Steps               int
	StepsPerSec         float64
	ConvFirst, ConvLast time.Time     // first and last reply of the conversation phase
	ConvP50, ConvP99    time.Duration // acknowledgements after the first messages' burst
	MinStepsPerSec      float64
	MaxAckP99           time.Duration
	MaxServerMB         int
	// CPU used from the first messages to the server's stop: the server
	// process (all its runs), the database cluster (0 when not local), the
	// harness with the fake.
	ServerCPU, PostgresCPU, HarnessCPU time.Duration
}

// verdict fails the run (an error naming each failure) when an acknowledged
// update was lost or dead-lettered, a time or a client was booked twice, or a
// client got no reply. Replies sent twice fail it too, except across a SIGKILL:
// there they are the at-least-once window being measured, and only reported.
func (r *ltResult) verdict() error {
	var failed []string
	add := func(n int, what string) {
		if n > 0 {
			failed = append(failed, fmt.Sprintf("%d %s", n, what))
		}
	}
	if r.LostUpdates > 0 {
		failed = append(failed, fmt.Sprintf("%d lost updates (%d dead-lettered)", r.LostUpdates, r.DeadLettered))
	}
	add(r.DoubleBookings, "double bookings")
	add(r.ClientsBookedTwice, "clients booked twice")
	add(r.Stuck, "stuck clients")
	if !r.Killed {
		add(r.Duplicates, "duplicate replies")
	}
	if r.MinStepsPerSec > 0 && r.StepsPerSec < r.MinStepsPerSec {
		failed = append(failed, fmt.Sprintf("%.0f dialog steps/s, below -min-steps %.0f", r.StepsPerSec, r.MinStepsPerSec))
	}
	if p99 := r.ackP99(); r.MaxAckP99 > 0 && p99 > r.MaxAckP99 {
		failed = append(failed, fmt.Sprintf("ack p99 %v over -max-ack-p99 %v", p99, r.MaxAckP99))
	}
	if r.MaxServerMB > 0 && r.ServerPeakKB/1024 >= r.MaxServerMB {
		failed = append(failed, fmt.Sprintf("server peak memory %d MB, not under -max-server-mb %d", r.ServerPeakKB/1024, r.MaxServerMB))
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("loadtest: failed: %s", strings.Join(failed, ", "))
}

// ackP99 is the p99 the target is checked on: in a converse run, the
// conversations' acknowledgements (after the first messages, all posted at
// the same instant, whose latency is the burst's: reported apart).
func (r *ltResult) ackP99() time.Duration {
	if r.Converse {
		return r.ConvP99
	}
	return r.P99
}

// findUp looks for rel in the working directory and its parents.
func findUp(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("loadtest: %s not found here or above", rel)
		}
		dir = parent
	}
}

// capped keeps the first 64 KiB written to it and counts error lines.
type capped struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	errors int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errors += bytes.Count(p, []byte(`"level":"ERROR"`))
	if c.buf.Len() < 64<<10 {
		c.buf.Write(p)
	}
	return len(p), nil
}

// update is one delivery: its body and the id the inbox keys it by (Telegram's
// update_id, WhatsApp's wamid; "" when it need not be traced).
type update struct {
	body []byte
	id   string
}

// sendFunc delivers a body to the server's webhook through a fake and returns
// the webhook's status.
type sendFunc func(ctx context.Context, body []byte) (int, error)

// acks records webhook acknowledgements.
type acks struct {
	mu       sync.Mutex
	lat      []time.Duration
	at       []time.Time
	ok, fail int
	ids      []string // update ids acknowledged
	// redeliver: a failed delivery is made again until acknowledged (within
	// two minutes), as Telegram and Meta do; retried counts those failures.
	redeliver bool
	retried   int
	total     *atomic.Int64 // when set, counts acknowledgements across recorders
}

func (a *acks) deliver(ctx context.Context, send sendFunc, u update) error {
	first := time.Now()
	for {
		t0 := time.Now()
		status, err := send(ctx, u.body)
		t1 := time.Now()
		if err == nil && status == 200 {
			a.mu.Lock()
			a.ok++
			a.lat = append(a.lat, t1.Sub(t0))
			a.at = append(a.at, t1)
			if u.id != "" {
				a.ids = append(a.ids, u.id)
			}
			a.mu.Unlock()
			if a.total != nil {
				a.total.Add(1)
			}
			return nil
		}
		if err == nil {
			err = fmt.Errorf("webhook answered %d", status)
		}
		if !a.redeliver || ctx.Err() != nil || time.Since(first) > 2*time.Minute {
			a.mu.Lock()
			a.fail++
			a.mu.Unlock()
			return err
		}
		a.mu.Lock()
		a.retried++
		a.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (a *acks) summary() (n int, perSec float64, p50, p99, maxLat time.Duration, peak1s int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n = len(a.lat)
	if n == 0 {
		return
	}
	lat := slices.Clone(a.lat)
	slices.Sort(lat)
	p50, p99, maxLat = lat[n/2], lat[min(n-1, n*99/100)], lat[n-1]
	at := slices.Clone(a.at)
	slices.SortFunc(at, func(x, y time.Time) int { return x.Compare(y) })
	if span := at[n-1].Sub(at[0]); span > 0 {
		perSec = float64(n-1) / span.Seconds()
	}
	return n, perSec, p50, p99, maxLat, peakWindow(at, time.Second)
}

// peakWindow is the most instants in any window of length w.
func peakWindow(at []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range at {
		for at[i].Sub(at[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// fireAll delivers every update with at most parallel in flight.
func fireAll(ctx context.Context, send sendFunc, a *acks, updates []update, parallel int) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range min(parallel, len(updates)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(updates) || ctx.Err() != nil {
					return
				}
				_ = a.deliver(ctx, send, updates[i])
			}
		})
	}
	wg.Wait()
}

// ltClient is one simulated user; the channel makes its identity on the
// platform from its number i.
type ltClient struct {
	i             int
	rnd           *rand.Rand
	dayIdx, tIdx  int
	doubleTapStep int // the step at which it double-taps (0: never)
	redeliverStep int // the step whose update it redelivers (0: never)
	flooder       bool
	retries       int // alternatives tried after "just taken"
	notices       int // flood notices received during the conversation
	steps         int // updates sent that each deserve one reply
	seen          int
	longestWait   time.Duration // the longest it waited for a reply
	think         time.Duration // thinks 0.5 to 1.5 of this before each step after the first
	outcome       string
	final         time.Time
}

// loadtest runs the whole harness once; see runLoadtest.
func loadtest(ctx context.Context, o ltOptions) (*ltResult, error) {
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, "loadtest: "+format+"\n", args...)
		}
	}
	if o.Limits == "" {
		o.Limits = "raised"
	}
	ch, err := newChannel(o.Channel, o.Limits, max(o.Parallel, o.Clients))
	if err != nil {
		return nil, err
	}
	defer ch.close()
	began := time.Now()
	if o.Converse {
		o.Parallel = o.Clients
	}
	res := &ltResult{Channel: ch.name(), Clients: o.Clients, Parallel: o.Parallel, Limits: o.Limits,
		Converse: o.Converse, Think: o.Think, MinStepsPerSec: o.MinStepsPerSec, MaxAckP99: o.MaxAckP99, MaxServerMB: o.MaxServerMB}

	// Peak memory of this process (harness and fake).
	peakSys, stopWatch := watchMemory()
	defer stopWatch()

	salonID := "l" + ch.name()[:1] + randomHex(5)
	vars := ch.env(o.Limits == "raised", o.Workers)
	vars["DATABASE_URL"], vars["HTTP_ADDR"], vars["LOG_LEVEL"] = o.DatabaseURL, "127.0.0.1:0", "warn"
	vars["SALONBOOK_API_TOKEN"] = "loadtest-" + randomHex(8)
	vars["METRICS_TOKEN"] = "loadtest-metrics-" + randomHex(8)
	if err := applyLoadSalon(ctx, o.ServerBin, vars, o.SalonFile, salonID); err != nil {
		return nil, err
	}
	vars["SALONBOOK_SALON"] = salonID
	pool, err := postgres.OpenSized(ctx, o.DatabaseURL, 8)
	if err != nil {
		return nil, err
	}
	defer pool.Close()

	// The ceiling first, on a quiet machine: as many Deliver calls as the burst (500 at least).
	if res.CeilingAcksPerSec, err = measureCeiling(ctx, pool, max(o.Clients, 500), o.Parallel); err != nil {
		return nil, err
	}
	logf("ceiling (insert-only handler): %.0f acks/s", res.CeilingAcksPerSec)

	// The server is a process of its own (so that it can be killed).
	serverLog := &capped{}
	server, err := newChild(o.ServerBin, vars, serverLog)
	if err != nil {
		return nil, err
	}
	if err := server.start(ctx); err != nil {
		return nil, err
	}
	defer server.kill()
	if err := ch.hook(server.addr); err != nil {
		return nil, err
	}
	stopScrapes := make(chan struct{})
	var scrapes <-chan scraped
	if !o.Kill && !o.Converse { // (the address changes with the restart; a converse run measures steps, not scrapes)
		scrapes = scrapeMetrics(server.addr, vars["METRICS_TOKEN"], stopScrapes)
	}

	clients := make([]*ltClient, o.Clients)
	for i := range clients {
		r := rand.New(rand.NewPCG(o.Seed, uint64(i)))
		c := &ltClient{i: i, rnd: r, dayIdx: r.IntN(7), tIdx: r.IntN(8), think: o.Think}
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
	var acked atomic.Int64
	a := acks{redeliver: o.Kill, total: &acked}
	killed, ended := make(chan error, 1), make(chan struct{})
	if o.Kill {
		// SIGKILL once KillAt updates are acknowledged, then start it again at
		// once; deliveries in between fail and are redelivered.
		go func() {
			for acked.Load() < int64(o.KillAt) {
				select {
				case <-ended: // the run ended first: no kill
					killed <- nil
					return
				case <-time.After(time.Millisecond):
				}
			}
			res.Killed, res.KilledAfter = true, int(acked.Load())
			t0 := time.Now()
			server.kill()
			res.KilledAt = time.Now()
			logf("SIGKILL after %d acknowledgements; starting the server again", res.KilledAfter)
			err := server.start(ctx)
			res.Down = time.Since(t0)
			killed <- err
		}()
	} else {
		killed <- nil
	}
	w := wordsOf(ch.name())

	// CPU from here to the server's stop: the server's, the database's, ours.
	pgCPU0, pgOK := postgresCPU(ctx, pool)
	selfCPU0 := selfCPU()

	// The burst: every client's first message at once (redeliveries of step 1 included).
	start := time.Now()
	var burst []update
	for _, c := range clients {
		u := ch.first(c.i)
		burst = append(burst, u)
		if c.redeliverStep == 1 {
			burst = append(burst, u)
		}
		c.steps = 1
	}
	ba := acks{redeliver: o.Kill, total: &acked}
	fireAll(ctx, ch.deliver, &ba, burst, o.Parallel)
	_, res.BurstAcksPerSec, res.BurstP50, res.BurstP99, _, _ = ba.summary()
	res.BurstUpdates = len(burst)
	logf("burst of %d %s: %.0f acks/s, p50 %v, p99 %v", len(burst), w.first, res.BurstAcksPerSec, res.BurstP50, res.BurstP99)

	// Paced: first messages from other chats at half the burst's acknowledgement
	// rate, for the latency at that rate.
	if rate := res.BurstAcksPerSec / 2; rate > 0 && !o.Kill && !o.Converse { // (a restart in it would say nothing of latency)
		n := min(o.Clients, 1000)
		interval := time.Duration(float64(time.Second) / rate)
		var pa acks
		var pwg sync.WaitGroup
		t0 := time.Now()
		for i := range n {
			if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
			u := ch.paced(i)
			pwg.Go(func() { _ = pa.deliver(ctx, ch.deliver, u) })
		}
		pwg.Wait()
		_, res.PacedAcksPerSec, res.PacedP50, res.PacedP99, _, _ = pa.summary()
		res.PacedUpdates = n
		logf("paced %d %s at %.0f/s: p50 %v, p99 %v", n, w.first, rate, res.PacedP50, res.PacedP99)
		a.mu.Lock()
		a.ok, a.fail = a.ok+pa.ok, a.fail+pa.fail
		a.mu.Unlock()
	}

	// The conversations, each client answering the bot's replies.
	convEnd := time.Now().Add(o.Timeout)
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
				if example := converse(convCtx, ch, &a, clients[i], o.ReplyTimeout); example != "" {
					mu.Lock()
					res.Example = example
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	cancelConv()
	close(ended)
	close(stopScrapes)
	if scrapes != nil {
		s := <-scrapes
		res.Scrapes, res.ScrapeErrors, res.ScrapeSeries = len(s.took), s.errors, s.series
		res.ScrapeP50, res.ScrapeP99, res.ScrapeMax = percentiles(s.took)
		res.ScrapeInboxMax, res.ScrapeOutboxMax, res.ScrapeBookRequests = s.inbox, s.outbox, s.bookings
	}
	if err := <-killed; err != nil {
		return nil, err
	}

	// Let what is in the pipeline settle (bounded), then count.
	if res.Killed {
		// Messages the killed sender had leased are sent again only after its
		// lease: wait that out (killSettle after the SIGKILL) and for an empty
		// inbox and outbox, whichever is later; give up on the latter at
		// the conversations' timeout after they began (30 s past the lease at least).
		notBefore := res.KilledAt.Add(killSettle)
		deadline := convEnd
		if d := notBefore.Add(30 * time.Second); d.After(deadline) {
			deadline = d
		}
		if wait := time.Until(notBefore); wait > 0 {
			logf("settling: %s more, until the killed sender's outbox lease has run out", wait.Round(time.Second))
		}
		if err := res.settleUntil(ctx, pool, salonID, notBefore, deadline); err != nil {
			return nil, err
		}
		res.CountedAfter = time.Since(res.KilledAt)
	} else if err := res.settle(ctx, pool, salonID); err != nil {
		return nil, err
	}

	for _, c := range clients {
		res.count(c.outcome)
		if !c.final.IsZero() && c.final.Sub(start) > res.AllFinal {
			res.AllFinal = c.final.Sub(start)
		}
		got, _ := ch.latest(c.i)
		if k, ok := ch.(interface{ keyboardGone(i int) int }); ok {
			got -= k.keyboardGone(c.i) // a message of its own after the phone, not a reply to an update
		}
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
	res.Redelivered = ba.retried + a.retried
	for _, c := range clients {
		res.LongestWait = max(res.LongestWait, c.longestWait)
		if c.longestWait > time.Minute {
			res.SlowWaits++
		}
	}
	if o.Converse { // the conversations' acknowledgements alone (not the first messages' burst)
		_, _, res.ConvP50, res.ConvP99, _, _ = a.summary()
	}
	// Acknowledgements over the whole run, burst and conversations together.
	a.mu.Lock()
	a.lat, a.at = append(a.lat, ba.lat...), append(a.at, ba.at...)
	a.ids = append(a.ids, ba.ids...)
	ackedIDs := slices.Clone(a.ids)
	a.mu.Unlock()
	// Lost: acknowledged, yet not in the inbox or dead-lettered there.
	if res.LostUpdates, res.DeadLettered, err = lostUpdates(ctx, pool, salonID, ch.name(), ackedIDs); err != nil {
		return nil, err
	}
	var peak int
	_, res.AcksPerSec, res.P50, res.P99, res.Max, peak = a.summary()
	res.PeakAcks1s = float64(peak)

	times, perChat := ch.sent()
	res.Replies = len(times)
	slices.SortFunc(times, func(x, y time.Time) int { return x.Compare(y) })
	if n := len(times); n > 1 && times[n-1].After(times[0]) {
		res.RepliesPerSec = float64(n-1) / times[n-1].Sub(times[0]).Seconds()
	}
	res.PeakReplies1s = peakWindow(times, time.Second)
	if o.Converse {
		// Dialog steps per second: the replies of the conversations, from the
		// burst's start to the last reply (the flooders' extra updates are absorbed
		// and make none but their one notice).
		for _, c := range clients {
			res.Steps += c.steps
		}
		if n := len(times); n > 0 {
			res.ConvFirst, res.ConvLast = times[0], times[n-1]
			if span := times[n-1].Sub(start); span > 0 {
				res.StepsPerSec = float64(n) / span.Seconds()
			}
		}
	}
	for _, ts := range perChat {
		res.PeakChatReplies1 = max(res.PeakChatReplies1, peakWindow(ts, time.Second))
	}
	ch.count(res)

	var processed float64
	if err := pool.QueryRow(ctx, `SELECT COALESCE(EXTRACT(EPOCH FROM max(handled_at) - min(received_at)), 0) FROM inbox WHERE salon_id = $1`,
		salonID).Scan(&processed); err != nil {
		return nil, err
	}
	res.Processed = time.Duration(processed * float64(time.Second))
	if err := pool.QueryRow(ctx, doubleBookingsSQL, salonID).Scan(&res.DoubleBookings); err != nil {
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
	if err := server.stop(); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	res.ServerErrors = serverLog.errors
	res.ServerCPU, res.HarnessCPU = time.Duration(server.cpu.Load()), selfCPU()-selfCPU0
	if pgCPU1, ok := postgresCPU(ctx, pool); ok && pgOK {
		res.PostgresCPU = pgCPU1 - pgCPU0
	}
	res.PeakSysMB = int(peakSys() >> 20)
	res.PeakRSSKB = vmHWM()
	res.ServerPeakKB = int(server.peakKB.Load())
	res.Elapsed = time.Since(began)
	return res, nil
}

// lostUpdates counts the acknowledged updates (ids; an id acknowledged twice
// counts once) that are not in salonID's inbox or ended there as dead letters
// (lost), and of those the dead letters (dead). The harness sends no update the
// server cannot read, so every dead letter is an update given up (such as
// "gave up after 8 failed attempts") and never answered.
func lostUpdates(ctx context.Context, pool *pgxpool.Pool, salonID, channel string, ids []string) (lost, dead int, err error) {
	err = pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE i.id IS NULL OR i.dead IS NOT NULL), count(*) FILTER (WHERE i.dead IS NOT NULL)
		FROM (SELECT DISTINCT id FROM unnest($3::text[]) AS u(id)) u
		LEFT JOIN inbox i ON i.salon_id = $1 AND i.channel = $2 AND i.update_id = u.id`,
		salonID, channel, ids).Scan(&lost, &dead)
	return lost, dead, err
}

// converse runs one client's booking conversation after its first message. It
// returns the text of an unexpected reply, if it got one.
func converse(ctx context.Context, ch channel, a *acks, c *ltClient, replyTimeout time.Duration) string {
	deliver := func(u update) bool {
		step := c.steps + 1
		if err := a.deliver(ctx, ch.deliver, u); err != nil {
			return false
		}
		if step == c.redeliverStep {
			_ = a.deliver(ctx, ch.deliver, u) // the platform redelivers: the same update again
		}
		c.steps = step
		return true
	}
	var last func() bool // the last action, repeated when a flood notice swallowed its answer
	act := func(make func() (update, bool)) bool {
		if c.think > 0 { // a person reads the reply and thinks before acting
			select {
			case <-ctx.Done():
				return false
			case <-time.After(time.Duration(float64(c.think) * (0.5 + c.rnd.Float64()))):
			}
		}
		last = func() bool {
			u, ok := make()
			return ok && deliver(u)
		}
		return last()
	}
	press := func(m reply, id string) bool {
		ok := act(func() (update, bool) { return ch.press(c.i, m, id) })
		if ok && c.steps == c.doubleTapStep {
			if u, ok := ch.press(c.i, m, id); ok { // a second press of the same button: a new update
				_ = a.deliver(ctx, ch.deliver, u)
			}
		}
		return ok
	}
	// pick presses the idx-th (modulo) choice whose id starts with prefix.
	pick := func(m reply, prefix string, idx int) bool {
		var ids []string
		for _, id := range m.choices {
			if strings.HasPrefix(id, prefix) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return false
		}
		return press(m, ids[idx%len(ids)])
	}
	say := func(text string) bool { return act(func() (update, bool) { return ch.text(c.i, text), true }) }
	finish := func(outcome string) {
		c.outcome = outcome
		c.final = time.Now()
	}
	lost := func() string {
		c.outcome = map[bool]string{true: "unfinished", false: "stuck"}[ctx.Err() != nil]
		return ""
	}
	phoned := false // the phone was given: a "👍 Got it" without buttons may come
	for range 30 {
		m, ok := waitReply(ctx, ch, c, replyTimeout)
		if !ok {
			return lost()
		}
		if strings.Contains(m.text, "faster than I can read") {
			// A flood notice to a client typing at a human pace: count it, and if no
			// answer follows, do the last thing again as a user would.
			c.notices++
			m2, ok := waitReply(ctx, ch, c, 3*time.Second)
			if !ok {
				if ctx.Err() != nil || last == nil || !last() {
					return lost()
				}
				continue
			}
			m = m2
		}
		if phoned && len(m.choices) == 0 && strings.HasPrefix(m.text, "👍") {
			// Telegram's message that takes the contact keyboard away, before
			// the summary (a message of its own): nothing to answer, wait on.
			phoned = false
			continue
		}
		var sent bool
		switch t := m.text; {
		case strings.Contains(t, "You're booked"):
			finish("booked")
		case strings.Contains(t, "just taken"), strings.Contains(t, "can't be booked any more"):
			// Take one of the nearest free times offered, twice at most.
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
		case strings.Contains(t, "no free times"): // left on a day, or in these days
			finish("full")
		case strings.Contains(t, "fully booked") && strings.Contains(t, "The nearest free times are"):
			// The day pressed filled up since it was offered ("Anna is fully
			// booked on …"): the nearest day's times are offered instead. Only
			// that reply: other answers naming nearest times (a time not
			// offered, a late payment) stay unexpected.
			if sent = pick(m, "t:", c.tIdx); !sent && c.outcome == "" {
				finish("full")
			}
		case strings.Contains(t, "Free times"):
			if sent = pick(m, "t:", c.tIdx); !sent && c.outcome == "" {
				finish("full")
			}
		case strings.Contains(t, "What's your name"):
			sent = say(clientName(c.i))
		case strings.Contains(t, "phone number"):
			sent = act(func() (update, bool) { return ch.phone(c.i, m) })
			phoned = sent
		case strings.Contains(t, "Shall I confirm the booking"):
			sent = press(m, "ok")
		default:
			finish("unexpected")
			return m.text
		}
		if c.outcome != "" {
			if c.flooder { // a user pasting 30 messages at once
				for i := range 30 {
					_ = a.deliver(ctx, ch.deliver, ch.text(c.i, fmt.Sprint("are you there? ", i)))
				}
			}
			return ""
		}
		if !sent {
			return lost()
		}
	}
	finish("unexpected")
	return "more than 30 steps"
}

// clientName is the first name client i gives.
func clientName(i int) string { return fmt.Sprint("Client", i) }

// waitReply waits for a message newer than the client has seen and returns the
// latest. A fake records an edit of a message like a new message: the reply to
// a press on Telegram usually replaces the pressed message, and is read the
// same way.
func waitReply(ctx context.Context, ch channel, c *ltClient, timeout time.Duration) (reply, bool) {
	began := time.Now()
	if w, ok := ch.(interface {
		waitLatest(ctx context.Context, i, n int, timeout time.Duration) (int, reply, bool)
	}); ok {
		n, m, ok := w.waitLatest(ctx, c.i, c.seen+1, timeout)
		if !ok {
			return reply{}, false
		}
		c.seen = n
		c.longestWait = max(c.longestWait, time.Since(began))
		return m, true
	}
	deadline := began.Add(timeout)
	delay := 5 * time.Millisecond
	for {
		if n, m := ch.latest(c.i); n > c.seen {
			c.seen = n
			c.longestWait = max(c.longestWait, time.Since(began))
			return m, true
		}
		if time.Now().After(deadline) {
			return reply{}, false
		}
		select {
		case <-ctx.Done():
			return reply{}, false
		case <-time.After(delay):
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

// vmHWM is this process's peak resident memory in KiB (Linux), or 0.
func vmHWM() int { return procHWM("/proc/self/status") }

// procHWM is a process's peak resident memory in KiB from its /proc status file
// (Linux), or 0.
func procHWM(status string) int {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

func (r *ltResult) print(out io.Writer) {
	w := wordsOf(r.Channel)
	p := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	p("== salonbook loadtest (%s): %d clients, %d at once, limits %s, %d CPUs (%s)", r.Channel, r.Clients, r.Parallel, r.Limits,
		runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	if r.Killed {
		p("   the server runs as a process of its own (salonbook serve), SIGKILLed mid-run and started again")
	} else {
		p("   the server runs as a process of its own (salonbook serve)")
	}
	if r.Limits == "raised" {
		p("   %s", w.raised)
	} else {
		p("   %s", w.limited)
	}
	p("ceiling, insert-only handler:      %.0f acks/s (%d deliveries)", r.CeilingAcksPerSec, max(r.Clients, 500))
	p("burst of %d %s:               %.0f acks/s (%.2f of ceiling), p50 %s, p99 %s", r.BurstUpdates, w.first, r.BurstAcksPerSec,
		r.BurstAcksPerSec/max(r.CeilingAcksPerSec, 1), ms(r.BurstP50), ms(r.BurstP99))
	if r.PacedUpdates > 0 { // not in a kill run: a restart in it would say nothing of latency
		p("paced %d %s at half the burst rate: %.0f acks/s, p50 %s, p99 %s", r.PacedUpdates, w.first, r.PacedAcksPerSec, ms(r.PacedP50), ms(r.PacedP99))
	}
	p("whole run: %s delivered %d, acknowledged %d, not acknowledged %d", w.updates, r.Updates, r.Acked, r.NotAcked)
	p("whole run acks: %.0f/s average (paced by the replies), peak %.0f in 1 s; latency p50 %s, p99 %s, max %s",
		r.AcksPerSec, r.PeakAcks1s, ms(r.P50), ms(r.P99), ms(r.Max))
	p("time to every client's final reply: %s; inbox first received to last handled: %s", r.AllFinal.Round(10*time.Millisecond), r.Processed.Round(10*time.Millisecond))
	p("replies: %d (%d of them edits of the pressed message), %.1f/s average, peak %d in 1 s overall, peak %d in 1 s in one chat; %s from the fake: %d",
		r.Replies, r.Edits, r.RepliesPerSec, r.PeakReplies1s, r.PeakChatReplies1, w.tooMany, r.TooMany)
	p("clients: booked %d, time taken %d, no free slot %d, unexpected %d, stuck (lost) %d, cut off by -timeout %d",
		r.Booked, r.Taken, r.Full, r.Unexpected, r.Stuck, r.Unfinished)
	p("noise: %d double-tappers, %d redelivered %s, %d flooders (most replies to a 30-message flood: %d)",
		r.DoubleTaps, r.Redeliver, w.updates, r.Flooders, r.FloodReplies)
	p("flood notices to clients not flooding (double taps and fast answers): %d", r.Notices)
	if r.Killed {
		p("SIGKILL after %d acknowledgements; answering again %s later; failed deliveries redelivered: %d",
			r.KilledAfter, r.Down.Round(time.Millisecond), r.Redelivered)
		p("replies sent twice (at-least-once window): %d, and %d edits made again (found not modified: nothing new on screen)",
			r.Duplicates, r.NotModified)
		p("longest a client waited for a reply: %s; clients that waited over 60 s: %d", r.LongestWait.Round(100*time.Millisecond), r.SlowWaits)
		p("counted %s after the SIGKILL (the outbox lease, %s, plus 10 s at least: replies the killed sender had leased are sent again by then)",
			r.CountedAfter.Round(time.Second), outboxLease)
	} else if r.LongestWait > 0 {
		p("longest a client waited for a reply: %s", r.LongestWait.Round(100*time.Millisecond))
	}
	p("lost %s (acknowledged, then not in the inbox or dead-lettered): %d; dead-lettered: %d", w.updates, r.LostUpdates, r.DeadLettered)
	p("duplicate replies: %d (besides, edits made again and found not modified, nothing new on screen: %d); double bookings: %d; clients booked twice: %d; bookings made: %d",
		r.Duplicates, r.NotModified, r.DoubleBookings, r.ClientsBookedTwice, r.BookingsMade)
	p("left after settling: inbox %d unhandled, outbox %d unsent; server error log lines: %d", r.PendingInbox, r.UnsentOutbox, r.ServerErrors)
	if r.Scrapes > 0 {
		p("/metrics scraped every %s during the run: %d scrapes (%d failed), p50 %s, p99 %s, max %s; %d samples; largest backlog seen: inbox %.0f, outbox %.0f; book requests counted: %d",
			scrapeEvery, r.Scrapes, r.ScrapeErrors, ms(r.ScrapeP50), ms(r.ScrapeP99), ms(r.ScrapeMax), r.ScrapeSeries, r.ScrapeInboxMax, r.ScrapeOutboxMax, r.ScrapeBookRequests)
	}
	p("peak memory: server process VmHWM %d MB (highest of its runs); harness + fake VmHWM %d MB, Go Sys %d MB",
		r.ServerPeakKB/1024, r.PeakRSSKB/1024, r.PeakSysMB)
	if r.Converse {
		p("CONVERSE: %d users at once, think %s (0.5-1.5x) between steps; %d dialog steps taken, %d replies in %s: %.0f dialog steps (replies)/s; ack p50 %s, p99 %s (after the first messages' burst; with it p99 %s)",
			r.Clients, r.Think, r.Steps, r.Replies, r.ConvLast.Sub(r.ConvFirst).Round(10*time.Millisecond), r.StepsPerSec, ms(r.ConvP50), ms(r.ConvP99), ms(r.P99))
		if n := time.Duration(max(r.Replies, 1)); r.ServerCPU > 0 {
			p("   CPU per dialog step: server %.0f µs, PostgreSQL %.0f µs (the whole cluster), harness + fake %.0f µs; in all %.2f s server, %.2f s PostgreSQL, %.2f s harness",
				float64((r.ServerCPU/n).Nanoseconds())/1000, float64((r.PostgresCPU/n).Nanoseconds())/1000, float64((r.HarnessCPU/n).Nanoseconds())/1000,
				r.ServerCPU.Seconds(), r.PostgresCPU.Seconds(), r.HarnessCPU.Seconds())
		}
		if r.Think > 0 {
			p("   (users bound the rate: with instant replies %d users thinking %s would take at most %.0f steps/s)", r.Clients, r.Think, float64(r.Clients)/r.Think.Seconds())
		}
		var targets []string
		if r.MinStepsPerSec > 0 {
			targets = append(targets, fmt.Sprintf("steps/s >= %.0f: %s", r.MinStepsPerSec, met(r.StepsPerSec >= r.MinStepsPerSec)))
		}
		if r.MaxAckP99 > 0 {
			targets = append(targets, fmt.Sprintf("ack p99 <= %v: %s", r.MaxAckP99, met(r.ackP99() <= r.MaxAckP99)))
		}
		if r.MaxServerMB > 0 {
			targets = append(targets, fmt.Sprintf("server peak < %d MB: %s", r.MaxServerMB, met(r.ServerPeakKB/1024 < r.MaxServerMB)))
		}
		if len(targets) > 0 {
			p("   targets: %s", strings.Join(targets, "; "))
		}
	}
	if r.Example != "" {
		p("an unexpected reply or refusal: %.160q", r.Example)
	}
	p("elapsed: %s", r.Elapsed.Round(100*time.Millisecond))
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// watchMemory samples this process's memory from the OS (runtime Sys) every
// 200 ms until stop; peak is the highest seen.
func watchMemory() (peak func() uint64, stop func()) {
	done := make(chan struct{})
	var top atomic.Uint64
	go func() {
		var ms runtime.MemStats
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.Sys > top.Load() {
				top.Store(ms.Sys)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return top.Load, func() { close(done) }
}

// applyLoadSalon migrates the database and applies the salon file under the id
// salonID (the file's own id, "demo", replaced), so each run has a salon of its
// own: salonbook migrate and apply, run from bin with vars as their environment.
func applyLoadSalon(ctx context.Context, bin string, vars map[string]string, salonFile, salonID string) error {
	salonbook := func(args ...string) error { return salonbookDo(ctx, bin, vars, args...) }
	if err := salonbook("migrate"); err != nil {
		return err
	}
	demo, err := os.ReadFile(salonFile)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "salonbook-loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "salon.yaml")
	demo = regexp.MustCompile(`(?m)^(\s*id:\s*)demo\b`).ReplaceAll(demo, []byte("${1}"+salonID))
	if err := os.WriteFile(file, demo, 0o600); err != nil {
		return err
	}
	return salonbook("apply", file)
}

// salonbookDo runs the salonbook binary bin with args and vars as its
// environment.
func salonbookDo(ctx context.Context, bin string, vars map[string]string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("loadtest: salonbook %s: %w: %s", args[0], err, bytes.TrimSpace(out))
	}
	return nil
}

// settle waits (at most 30 s) until the salon's inbox is handled and its outbox
// sent, and records what is left.
func (r *ltResult) settle(ctx context.Context, pool *pgxpool.Pool, salonID string) error {
	return r.settleUntil(ctx, pool, salonID, time.Time{}, time.Now().Add(30*time.Second))
}

// settleUntil waits until notBefore has passed and the salon's inbox is handled
// and its outbox sent, but not past deadline, and records what is left.
func (r *ltResult) settleUntil(ctx context.Context, pool *pgxpool.Pool, salonID string, notBefore, deadline time.Time) error {
	for {
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM inbox WHERE salon_id = $1 AND handled_at IS NULL),
			(SELECT count(*) FROM outbox WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL)`, salonID).
			Scan(&r.PendingInbox, &r.UnsentOutbox); err != nil {
			return err
		}
		now := time.Now()
		if (r.PendingInbox == 0 && r.UnsentOutbox == 0 && !now.Before(notBefore)) || !now.Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	time.Sleep(500 * time.Millisecond)
	return nil
}

// count adds one client's outcome to the tallies.
func (r *ltResult) count(outcome string) {
	switch outcome {
	case "booked":
		r.Booked++
	case "taken":
		r.Taken++
	case "full":
		r.Full++
	case "stuck":
		r.Stuck++
	case "unfinished":
		r.Unfinished++
	default:
		r.Unexpected++
	}
}

// doubleBookingsSQL counts pairs of live bookings of one master whose times
// overlap (what the exclusion constraints forbid): live is held,
// awaiting_payment (a booking awaiting its deposit holds its time) or
// confirmed.
const doubleBookingsSQL = `SELECT count(*) FROM bookings a JOIN bookings b
	ON a.salon_id = b.salon_id AND a.master_id = b.master_id AND a.booking_id < b.booking_id
	WHERE a.salon_id = $1 AND a.status IN ('held', 'awaiting_payment', 'confirmed') AND b.status IN ('held', 'awaiting_payment', 'confirmed')
	AND a.occupied && b.occupied`
