package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/adapters/postgres"
	"salonbook/src/cmd/internal/keepalive"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

// The wait-list run (loadtest waitlist): a salon whose days are full, a
// wait-list for them, then many bookings cancelled at once through the API of
// salonbook serve (a process of its own, on the fake Bot API). Each freed time
// is one master's day (the master's other start stays booked), and PerTime
// entries of PerTime chats fit it, oldest first: the matcher must offer it to
// the first, and on "No, thanks" or the offer's expiry to the next, until one
// presses "Book it" or every entry was offered it. Each entry fits that one time
// only, so who should get which offer is known exactly.

// wlOptions configure one wait-list run.
type wlOptions struct {
	DatabaseURL string
	ServerBin   string
	Freed       int           // -freed: bookings cancelled, one per master and day (1000)
	PerTime     int           // -per-time: wait-list entries that fit each freed time (3)
	Masters     int           // -masters (20)
	Offer       time.Duration // -offer: policy.waitlist_offer, whole minutes (1m)
	BookPct     int           // -book: percent of offers answered "Book it" (10)
	DeclinePct  int           // -decline: percent of offers answered "No, thanks" (10)
	Parallel    int           // -parallel: fill and cancel requests in flight (16)
	Limits      string        // -limits: raised (default) or telegram
	Seed        uint64        // -seed: who presses what
	Timeout     time.Duration // -timeout: the offers phase (default PerTime offers plus 2m)
	// Lapse ends each offer nobody presses at once, as if the clock had moved
	// past its expiry (the hold's expiry set to now), instead of waiting Offer:
	// the short test's way to see every time passed on within seconds. The
	// timings of such a run say nothing.
	Lapse bool
	Log   io.Writer
}

// wlOffer is one offer as the harness saw it at the fake.
type wlOffer struct {
	booking string    // the hold
	at      time.Time // the message at the fake
	action  string    // "book", "decline" or "" (left to lapse)
	pressed time.Time
}

// wlTime is one freed time and the offers of it to its entries, by round.
type wlTime struct {
	master    string
	start     time.Time
	booking   string    // the confirmed booking cancelled
	cancelled time.Time // the cancel's answer
	offers    []*wlOffer
}

// wlResult is what a wait-list run measured.
type wlResult struct {
	Freed, Entries, Masters, Days int
	Offer                         time.Duration
	Limits                        string
	Lapse                         bool
	Filled                        int
	FillTook, JoinTook            time.Duration
	CancelTook                    time.Duration
	Offers                        int // offer messages at the fake
	FreedOffered                  int // freed times offered to their first entry
	NotPassedOn                   int // an offer ended unbooked, a fitting entry had not had it, and it got no offer
	Duplicates                    int // an entry offered a time twice
	Wrong                         int // an offer to a chat whose entry it does not fit, or not a held time of the freed master and start
	BookPressed, Declined, Lapsed int
	BookedConfirmed               int // "Book it" pressed and the hold confirmed
	LeftFree, LeftBooked          int // freed times at the end: free (every entry had it) or booked by an entry
	LeftHeld                      int // still held at the end (should be 0)
	DoubleBookings                int
	CancelToOffer                 []time.Duration // cancel answered -> first offer at the fake
	ExpiryToHold                  []time.Duration // a hold's expiry -> the next entry's hold made
	ExpiryToOffer                 []time.Duration // a hold's expiry -> the next offer at the fake
	DeclineToOffer                []time.Duration // "No, thanks" pressed -> the next offer at the fake
	PendingInbox, UnsentOutbox    int
	ServerErrors                  int
	ServerPeakKB                  int
	Example                       string
	Elapsed                       time.Duration
}

func (r *wlResult) verdict() error {
	var failed []string
	add := func(n int, what string) {
		if n > 0 {
			failed = append(failed, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(r.Freed-r.FreedOffered, "freed times never offered")
	add(r.NotPassedOn, "offers not passed on to a waiting entry")
	add(r.Duplicates, "entries offered a time twice")
	add(r.Wrong, "offers to the wrong entry or of the wrong time")
	add(r.BookPressed-r.BookedConfirmed, `"Book it" presses not booked`)
	add(r.LeftHeld, "freed times still held at the end")
	add(r.DoubleBookings, "double bookings")
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("loadtest waitlist: failed: %s", strings.Join(failed, ", "))
}

// wlSalon is the salon file of the run: masters m01… doing one 60-minute
// service from 09:00 to 11:00 every day (two starts a day), no notice or
// cutoff, offers held for offer.
func wlSalon(masters, days int, offer time.Duration) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `salon:
  id: demo
  name: Wait-list load
  timezone: Europe/Berlin
  locales: [en]
policy:
  slot_step: 60m
  min_notice: 0m
  horizon: %dd
  hold: 10m
  cancel_cutoff: 0m
  max_upcoming: 3
  reminders: []
  waitlist_offer: %dm
services:
  - id: cut
    name: {en: Haircut}
    duration: 60m
    price: "30.00"
    currency: EUR
masters:
`, days+3, int(offer/time.Minute))
	for m := range masters {
		fmt.Fprintf(&b, "  - id: %s\n    name: Master %d\n    services: [cut]\n    hours: {mon: [\"09:00-11:00\"], tue: [\"09:00-11:00\"], wed: [\"09:00-11:00\"], thu: [\"09:00-11:00\"], fri: [\"09:00-11:00\"], sat: [\"09:00-11:00\"], sun: [\"09:00-11:00\"]}\n",
			wlMaster(m), m+1)
	}
	return b.Bytes()
}

func wlMaster(m int) string { return fmt.Sprintf("m%02d", m+1) }

// loadtestWaitlist runs the wait-list harness once.
func loadtestWaitlist(ctx context.Context, o wlOptions) (*wlResult, error) {
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, "loadtest waitlist: "+format+"\n", args...)
		}
	}
	if o.Limits == "" {
		o.Limits = "raised"
	}
	if o.Timeout == 0 {
		o.Timeout = time.Duration(o.PerTime)*o.Offer + 2*time.Minute
	}
	began := time.Now()
	ch, err := newTelegram(o.Limits)
	if err != nil {
		return nil, err
	}
	defer ch.close()
	days := (o.Freed + o.Masters - 1) / o.Masters
	res := &wlResult{Freed: o.Freed, Entries: o.Freed * o.PerTime, Masters: o.Masters, Days: days, Offer: o.Offer,
		Limits: o.Limits, Lapse: o.Lapse}

	dir, err := os.MkdirTemp("", "salonbook-wlload")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	salonFile := filepath.Join(dir, "salon.yaml")
	if err := os.WriteFile(salonFile, wlSalon(o.Masters, days, o.Offer), 0o600); err != nil {
		return nil, err
	}
	salonID := "w" + randomHex(5)
	vars := ch.env(o.Limits == "raised", 4)
	token := "loadtest-" + randomHex(8)
	vars["DATABASE_URL"], vars["HTTP_ADDR"], vars["LOG_LEVEL"], vars["SALONBOOK_API_TOKEN"] = o.DatabaseURL, "127.0.0.1:0", "warn", token
	if err := applyLoadSalon(ctx, o.ServerBin, vars, salonFile, salonID); err != nil {
		return nil, err
	}
	vars["SALONBOOK_SALON"] = salonID
	pool, err := postgres.OpenSized(ctx, o.DatabaseURL, 8)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
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
	// Like http.DefaultClient (no timeout: a slow answer is measured, never cut
	// off; redirects followed), but keeping -parallel connections.
	api := &wlAPI{base: "http://" + server.addr, token: token, http: &http.Client{Transport: keepalive.Transport(o.Parallel)}}

	// The days: from tomorrow (the salon's zone), full.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return nil, err
	}
	first := core.DateOf(time.Now().In(berlin)).AddDays(1)
	at := func(d core.Date, hour int) time.Time {
		t, _ := d.At(core.ClockTime(hour*60), berlin)
		return t.UTC()
	}
	times := make([]*wlTime, o.Freed)
	type fill struct {
		master string
		start  time.Time
		freed  int // the wlTime it is, or -1 (stays booked)
	}
	var fills []fill
	for j := range o.Freed {
		m, d := j%o.Masters, j/o.Masters
		day := first.AddDays(d)
		h := 9 + j/o.Masters%2 // the freed start: 09:00 or 10:00, alternately by day
		times[j] = &wlTime{master: wlMaster(m), start: at(day, h)}
		fills = append(fills, fill{wlMaster(m), at(day, h), j}, fill{wlMaster(m), at(day, 9+10-h), -1})
	}
	t0 := time.Now()
	var fillErr error
	var fillMu sync.Mutex
	parallelDo(len(fills), o.Parallel, func(i int) {
		f := fills[i]
		id, err := api.book(ctx, f.master, f.start, i)
		fillMu.Lock()
		defer fillMu.Unlock()
		if err != nil {
			fillErr = errors.Join(fillErr, err)
			return
		}
		res.Filled++
		if f.freed >= 0 {
			times[f.freed].booking = id
		}
	})
	if fillErr != nil {
		return nil, fmt.Errorf("fill the days: %w", fillErr)
	}
	res.FillTook = time.Since(t0)
	logf("%d bookings fill %d masters' %d days (%s)", res.Filled, o.Masters, days, res.FillTook.Round(time.Millisecond))

	// The wait-list: round k's entries all join before round k+1's, so each
	// freed time's entries are oldest first in round order.
	wl := postgres.NewWaitlist(pool)
	t0 = time.Now()
	for k := range o.PerTime {
		var joinErr error
		var mu sync.Mutex
		parallelDo(o.Freed, o.Parallel, func(j int) {
			i := k*o.Freed + j
			client, err := booking.NormaliseClient(salonID, "", core.Client{Name: clientName(i), Phone: fmt.Sprintf("+49 152 %08d", i)}, false)
			if err == nil {
				err = wl.Join(ctx, dialog.WaitlistEntry{
					Key:       dialog.ChatKey{SalonID: salonID, Channel: "telegram", ChatID: strconv.FormatInt(ch.chat(i), 10)},
					ServiceID: "cut", MasterID: times[j].master, Day: core.DateOf(times[j].start.In(berlin)),
					Client: client, Lang: "en"})
			}
			if err != nil {
				mu.Lock()
				joinErr = errors.Join(joinErr, err)
				mu.Unlock()
			}
		})
		if joinErr != nil {
			return nil, fmt.Errorf("join the wait-list: %w", joinErr)
		}
	}
	res.JoinTook = time.Since(t0)
	logf("%d wait-list entries joined (%s)", res.Entries, res.JoinTook.Round(time.Millisecond))

	// Watch the fake for offers and answer some of them.
	var mu sync.Mutex
	var presses sync.WaitGroup
	var pressErrs atomic.Int64
	a := acks{}
	seen := 0
	scan := func() {
		sent := ch.fake.Sent()
		mu.Lock()
		defer mu.Unlock()
		for ; seen < len(sent); seen++ {
			m := sent[seen]
			var id string
			for _, row := range m.Keyboard {
				for _, b := range row {
					if s, ok := strings.CutPrefix(b.CallbackData, "wy:"); ok {
						id = s
					}
				}
			}
			if id == "" {
				continue
			}
			res.Offers++
			i := int(m.ChatID - ch.chat(0))
			if i < 0 || i >= o.Freed*o.PerTime {
				res.Wrong++
				continue
			}
			k, j := i/o.Freed, i%o.Freed
			t := times[j]
			for len(t.offers) <= k {
				t.offers = append(t.offers, nil)
			}
			if t.offers[k] != nil {
				res.Duplicates++
				continue
			}
			of := &wlOffer{booking: id, at: m.Time}
			t.offers[k] = of
			rnd := rand.New(rand.NewPCG(o.Seed, uint64(i)))
			switch p := rnd.IntN(100); {
			case p < o.BookPct:
				of.action = "book"
			case p < o.BookPct+o.DeclinePct:
				of.action = "decline"
			default:
				continue
			}
			data := map[string]string{"book": "wy:", "decline": "wn:"}[of.action] + id
			msg := m
			presses.Go(func() {
				u, _ := ch.press(i, reply{msg: msg}, data)
				mu.Lock()
				of.pressed = time.Now()
				mu.Unlock()
				if err := a.deliver(ctx, ch.deliver, u); err != nil {
					pressErrs.Add(1)
				}
			})
		}
	}
	// The cancels: as fast as Parallel requests go.
	t0 = time.Now()
	var cancelErr error
	parallelDo(o.Freed, o.Parallel, func(j int) {
		err := api.cancel(ctx, times[j].booking)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			cancelErr = errors.Join(cancelErr, err)
		}
		times[j].cancelled = time.Now()
	})
	if cancelErr != nil {
		return nil, fmt.Errorf("cancel: %w", cancelErr)
	}
	res.CancelTook = time.Since(t0)
	logf("%d bookings cancelled through the API (%s)", o.Freed, res.CancelTook.Round(time.Millisecond))

	// Until every freed time is booked or was offered to every entry, and the
	// last offers have ended.
	deadline := time.Now().Add(o.Timeout)
	var lastOffer time.Time
	for {
		scan()
		if o.Lapse {
			if err := lapse(ctx, pool, salonID, times, &mu); err != nil {
				return nil, err
			}
		}
		mu.Lock()
		done := 0
		for _, t := range times {
			n := len(t.offers)
			if n > 0 && t.offers[n-1] != nil && (t.offers[n-1].action == "book" || n == o.PerTime) {
				done++
				lastOffer = later(lastOffer, t.offers[n-1].at)
			}
		}
		mu.Unlock()
		if done == o.Freed || time.Now().After(deadline) {
			logf("%d of %d freed times booked or offered to every entry", done, o.Freed)
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-server.exited:
			return nil, fmt.Errorf("loadtest waitlist: serve exited mid-run (%s): %s", server.cmd.ProcessState, server.tail())
		case <-time.After(20 * time.Millisecond):
		}
	}
	// The last offers lapse (or are pressed); nothing more may come.
	end := lastOffer.Add(o.Offer + 3*time.Second)
	if o.Lapse {
		end = time.Now().Add(3 * time.Second)
	}
	for time.Now().Before(end) {
		scan()
		if o.Lapse {
			if err := lapse(ctx, pool, salonID, times, &mu); err != nil {
				return nil, err
			}
		}
		select {
		case <-server.exited:
			return nil, fmt.Errorf("loadtest waitlist: serve exited mid-run (%s): %s", server.cmd.ProcessState, server.tail())
		case <-time.After(50 * time.Millisecond):
		}
	}
	presses.Wait()
	settle := &ltResult{}
	if err := settle.settle(ctx, pool, salonID); err != nil {
		return nil, err
	}
	scan()
	res.PendingInbox, res.UnsentOutbox = settle.PendingInbox, settle.UnsentOutbox
	if n := pressErrs.Load(); n > 0 {
		res.Example = fmt.Sprintf("%d presses not acknowledged by the webhook", n)
	}
	if res.UnsentOutbox > 0 { // what keeps it: for the report
		var what string
		if err := pool.QueryRow(ctx, `SELECT format('outbox %s: created %s ago, attempts %s, not_before in %s, leased until in %s, body %s',
			id, now() - created_at, attempts, not_before - now(), leased_until - now(), left(body::text, 120))
			FROM outbox WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL ORDER BY id LIMIT 1`, salonID).Scan(&what); err == nil {
			res.Example = strings.TrimSpace(res.Example + " " + what)
		}
	}
	if err := res.count(ctx, pool, salonID, times, o); err != nil {
		return nil, err
	}
	if err := server.stop(); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	res.ServerErrors = serverLog.errors
	res.ServerPeakKB = int(server.peakKB.Load())
	res.Elapsed = time.Since(began)
	return res, nil
}

// lapse ends the offers seen more than 200 ms ago that nobody presses, as if
// the clock had moved past their expiry (Lapse).
func lapse(ctx context.Context, pool *pgxpool.Pool, salonID string, times []*wlTime, mu *sync.Mutex) error {
	var ids []string
	mu.Lock()
	for _, t := range times {
		for _, of := range t.offers {
			if of != nil && of.action == "" && time.Since(of.at) > 200*time.Millisecond {
				ids = append(ids, of.booking)
			}
		}
	}
	mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	_, err := pool.Exec(ctx, `UPDATE bookings SET hold_expires_at = now() WHERE salon_id = $1 AND booking_id = ANY($2::uuid[])
		AND status = 'held' AND hold_expires_at > now()`, salonID, ids)
	return err
}

// count reads the end state and the offers' holds from the database.
func (r *wlResult) count(ctx context.Context, pool *pgxpool.Pool, salonID string, times []*wlTime, o wlOptions) error {
	var ids []string
	for _, t := range times {
		for _, of := range t.offers {
			if of != nil {
				ids = append(ids, of.booking)
			}
		}
	}
	type hold struct {
		master          string
		start, created  time.Time
		expires         *time.Time
		status, idemKey string
	}
	holds := map[string]hold{}
	rows, err := pool.Query(ctx, `SELECT booking_id::text, master_id, starts_at, created_at, hold_expires_at, status, coalesce(idempotency_key, '')
		FROM bookings WHERE salon_id = $1 AND booking_id = ANY($2::uuid[])`, salonID, ids)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		var h hold
		if err := rows.Scan(&id, &h.master, &h.start, &h.created, &h.expires, &h.status, &h.idemKey); err != nil {
			rows.Close()
			return err
		}
		holds[id] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range times {
		if len(t.offers) > 0 && t.offers[0] != nil {
			r.FreedOffered++
			r.CancelToOffer = append(r.CancelToOffer, t.offers[0].at.Sub(t.cancelled))
		}
		for k, of := range t.offers {
			if of == nil {
				continue
			}
			h, ok := holds[of.booking]
			if !ok || h.master != t.master || !h.start.Equal(t.start) || !strings.HasPrefix(h.idemKey, booking.OfferKeyPrefix) {
				r.Wrong++
				continue
			}
			switch of.action {
			case "book":
				r.BookPressed++
				if h.status == "confirmed" {
					r.BookedConfirmed++
				}
			case "decline":
				r.Declined++
			default:
				r.Lapsed++
			}
			if of.action == "book" && h.status == "confirmed" || k+1 >= o.PerTime {
				continue
			}
			// Ended unbooked with an entry left: the next must have had it.
			var next *wlOffer
			if k+1 < len(t.offers) {
				next = t.offers[k+1]
			}
			if next == nil {
				r.NotPassedOn++
				continue
			}
			if of.action == "decline" {
				r.DeclineToOffer = append(r.DeclineToOffer, next.at.Sub(of.pressed))
			} else if h.expires != nil && !o.Lapse {
				r.ExpiryToOffer = append(r.ExpiryToOffer, next.at.Sub(*h.expires))
				if nh, ok := holds[next.booking]; ok {
					r.ExpiryToHold = append(r.ExpiryToHold, nh.created.Sub(*h.expires))
				}
			}
		}
	}
	// What the freed times are now.
	starts := make([]time.Time, len(times))
	masters := make([]string, len(times))
	for j, t := range times {
		starts[j], masters[j] = t.start, t.master
	}
	if err := pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE b.status IS NULL), count(*) FILTER (WHERE b.status = 'confirmed'),
		       count(*) FILTER (WHERE b.status IN ('held', 'awaiting_payment'))
		FROM unnest($2::text[], $3::timestamptz[]) AS f(master, start)
		LEFT JOIN bookings b ON b.salon_id = $1 AND b.master_id = f.master AND b.starts_at = f.start
		     AND b.status IN ('held', 'awaiting_payment', 'confirmed')`,
		salonID, masters, starts).Scan(&r.LeftFree, &r.LeftBooked, &r.LeftHeld); err != nil {
		return err
	}
	return pool.QueryRow(ctx, doubleBookingsSQL, salonID).Scan(&r.DoubleBookings)
}

func (r *wlResult) print(out io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	p("== salonbook loadtest waitlist: %d freed times, %d wait-list entries (%d per time), %d masters x %d days, offers held %s, limits %s, %d CPUs (%s)",
		r.Freed, r.Entries, r.Entries/max(r.Freed, 1), r.Masters, r.Days, r.Offer, r.Limits, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	p("   the server runs as a process of its own (salonbook serve) on the fake Bot API; cancels and fills through its API")
	if r.Lapse {
		p("   -lapse: offers nobody pressed were ended at once (their expiry set to now): no timing of expiry below means anything")
	}
	p("setup: %d bookings fill the days (%s), %d entries joined (%s); %d cancels answered in %s",
		r.Filled, r.FillTook.Round(time.Millisecond), r.Entries, r.JoinTook.Round(time.Millisecond), r.Freed, r.CancelTook.Round(time.Millisecond))
	p("offers at the fake: %d; freed times offered: %d of %d; passed on: every unbooked end had a next offer but %d",
		r.Offers, r.FreedOffered, r.Freed, r.NotPassedOn)
	p("answers: Book it %d (booked %d), No thanks %d, let lapse %d", r.BookPressed, r.BookedConfirmed, r.Declined, r.Lapsed)
	p("cancel answered -> offer at the fake:      %s", pcts(r.CancelToOffer))
	if !r.Lapse {
		p("hold expiry -> next entry's hold made:      %s", pcts(r.ExpiryToHold))
		p("hold expiry -> next offer at the fake:      %s", pcts(r.ExpiryToOffer))
	}
	p("No thanks pressed -> next offer at the fake: %s", pcts(r.DeclineToOffer))
	p("end: freed times booked by an entry %d, free after every entry had them %d, still held %d; double bookings: %d",
		r.LeftBooked, r.LeftFree, r.LeftHeld, r.DoubleBookings)
	p("offered twice: %d; wrong offers: %d; left after settling: inbox %d unhandled, outbox %d unsent; server error log lines: %d",
		r.Duplicates, r.Wrong, r.PendingInbox, r.UnsentOutbox, r.ServerErrors)
	p("server process VmHWM %d MB", r.ServerPeakKB/1024)
	if r.Example != "" {
		p("note: %s", r.Example)
	}
	p("elapsed: %s", r.Elapsed.Round(100*time.Millisecond))
}

// pcts formats the p50, p99 and max of ds.
func pcts(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }
	return fmt.Sprintf("p50 %s, p99 %s, max %s (%d)", ms(s[n/2]), ms(s[min(n-1, n*99/100)]), ms(s[n-1]), n)
}

// parallelDo calls fn(0..n-1) with at most parallel at once.
func parallelDo(n, parallel int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(parallel, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// wlAPI is salonbook's HTTP API as the salon's owner uses it.
type wlAPI struct {
	base, token string
	http        *http.Client // keeps -parallel connections
}

func (a *wlAPI) post(ctx context.Context, path string, body any) (map[string]any, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s: %d %.200s", path, resp.StatusCode, raw)
	}
	return out, json.Unmarshal(raw, &out)
}

// book books start with master outright, for a regular client (the owner's
// booking: no client limits).
func (a *wlAPI) book(ctx context.Context, master string, start time.Time, i int) (string, error) {
	out, err := a.post(ctx, "/api/v1/bookings", map[string]any{
		"service": "cut", "master": master, "start": start.Format(time.RFC3339),
		"client":          map[string]string{"name": fmt.Sprint("Regular", i), "phone": fmt.Sprintf("+49 30 %08d", i)},
		"idempotency_key": fmt.Sprint("fill-", i), "confirm": true,
	})
	if err != nil {
		return "", err
	}
	id, _ := out["id"].(string)
	if id == "" {
		return "", errors.New("book: no id in the answer")
	}
	return id, nil
}

func (a *wlAPI) cancel(ctx context.Context, id string) error {
	_, err := a.post(ctx, "/api/v1/bookings/"+id+"/cancel", map[string]any{})
	return err
}
