package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
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
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
)

// rmOptions configure one reminder load run (loadtest reminders).
type rmOptions struct {
	DatabaseURL string
	ServerBin   string
	Bookings    int           // -bookings: confirmed bookings, one chat each, default 10,000
	Window      time.Duration // -window: they start within this much after the run's start, default 48h
	Speed       int           // -speed: the server's clock runs this many times faster than real time
	Parallel    int           // -parallel: writers seeding the bookings
	Kill        bool          // -kill: SIGKILL the server at KillAt of the reminders' span and start it again
	KillAt      float64       // -kill-at: 0..1, default 0.5
	Log         io.Writer     // progress lines; nil for none
}

// rmOffsets are the load salon's policy.reminders, longest first.
var rmOffsets = []time.Duration{24 * time.Hour, 2 * time.Hour}

// rmStep is the load salon's slot step, and the grid bookings start on.
const rmStep = 5 * time.Minute

// rmResult is what a reminder run measured.
type rmResult struct {
	Bookings, Masters       int
	Speed                   int
	Window                  time.Duration
	Seeded                  time.Duration // the bookings' seeding, real time
	Expected                int           // reminders due after their booking was made
	ExpectedBy              []int         // of Expected, by offset (rmOffsets' order)
	NotDue                  int           // reminders already due when their booking was made: never to be sent
	Received                int           // reminder messages the fake accepted
	Lost, Doubled           int           // expected and not received; received beyond one per booking and offset
	DoubledAcrossKill       int           // of Doubled, a first copy before the SIGKILL and another after the restart
	Early, Unexpected       int           // sent before their due time; sent for a due time before the booking
	Stray                   int           // reminders naming no seeded booking (or another start)
	Other                   int           // messages that are not reminders
	LateP50, LateP99        time.Duration // lateness against the due time mapped to real time (first copies)
	LateMax                 time.Duration
	LateOver1s, LateOver10s int
	Peak1s, PeakChat1s      int // most messages the fake accepted in any 1 s, overall and in one chat
	TooMany                 int // 429s from the fake
	Span                    time.Duration
	UnsentOutbox            int
	ServerErrors            int
	Killed                  bool
	KilledAt                time.Duration // after the clock's start, real time
	Down                    time.Duration // SIGKILL to answering again
	CountedAfter            time.Duration // SIGKILL to counting
	ServerPeakKB            int
	Elapsed                 time.Duration
}

// verdict fails the run when a reminder was lost, doubled (outside a kill's
// at-least-once window), sent early, sent though due before its booking, or
// refused by the fake as above Telegram's limits.
func (r *rmResult) verdict() error {
	var failed []string
	add := func(n int, what string) {
		if n > 0 {
			failed = append(failed, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(r.Lost, "reminders lost")
	add(r.Doubled-r.DoubledAcrossKill, "reminders doubled")
	add(r.Early, "reminders sent before their due time")
	add(r.Unexpected, "reminders sent though due before their booking was made")
	add(r.Stray, "reminders of no seeded booking")
	// The fake judges the rate as Telegram does, forgiving 25 ms of arrival
	// jitter (telegramtest): a send it refused was above the limit. The peak
	// in 1 s of arrival times is reported; a 31st inside that jitter is not a
	// refusal.
	add(r.TooMany, "sends refused with 429 (above Telegram's limits)")
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("reminders: failed: %s", strings.Join(failed, ", "))
}

// rmBooking is a seeded booking: its start, and the chat it was made in.
type rmBooking struct {
	start time.Time
	chat  int64
}

// reminderLoad runs one reminder load run: a salon open round the clock with
// reminders [24h, 2h], o.Bookings confirmed bookings seeded through the real
// booking use case (each from a Telegram chat of its own) at the clock's start,
// then salonbook serve on the fake Bot API with Telegram's limits and its
// clock running o.Speed times faster, until every due reminder has had its
// time; what the fake received is counted per booking and offset.
func reminderLoad(ctx context.Context, o rmOptions) (*rmResult, error) {
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, "loadtest reminders: "+format+"\n", args...)
		}
	}
	began := time.Now()
	res := &rmResult{Bookings: o.Bookings, Speed: o.Speed, Window: o.Window, ExpectedBy: make([]int, len(rmOffsets))}
	grid := int(o.Window / rmStep) // starts a booking may take
	perStart := (o.Bookings + grid - 1) / grid
	// A 5-minute service on a 5-minute grid (every start fits the day, up to
	// 23:55): the bookings of one start take perStart masters, free again at the
	// next start.
	res.Masters = perStart

	fake := telegramtest.New(telegramtest.Options{}) // Telegram's limits
	defer fake.Close()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	secret := "loadtest-secret-" + randomHex(8)
	salonID := "lr" + randomHex(5)
	vars := map[string]string{
		"DATABASE_URL": o.DatabaseURL, "HTTP_ADDR": "127.0.0.1:0", "LOG_LEVEL": "warn",
		"SALONBOOK_API_TOKEN": "loadtest-" + randomHex(8), "SALONBOOK_SALON": salonID,
		"TELEGRAM_BOT_TOKEN": fake.Token(), "TELEGRAM_WEBHOOK_SECRET": secret, "TELEGRAM_API_URL": srv.URL,
	}
	if err := applyReminderSalon(ctx, o.ServerBin, vars, salonID, res.Masters); err != nil {
		return nil, err
	}
	pool, err := postgres.OpenSized(ctx, o.DatabaseURL, int32(o.Parallel+2))
	if err != nil {
		return nil, err
	}
	defer pool.Close()

	// The clock's start: a minute past the 5-minute grid, so that no reminder
	// falls due in the instant its booking is made.
	t0 := time.Now().UTC().Truncate(rmStep).Add(time.Minute)
	first := t0.Truncate(rmStep).Add(rmStep)
	bookings, err := seedReminderBookings(ctx, pool, salonID, t0, first, grid, perStart, o, logf)
	if err != nil {
		return nil, err
	}
	res.Seeded = time.Since(began)

	// What is due, and when.
	var lastDue time.Time
	for _, b := range bookings {
		for k, off := range rmOffsets {
			if due := b.start.Add(-off); due.After(t0) {
				res.Expected++
				res.ExpectedBy[k]++
				if due.After(lastDue) {
					lastDue = due
				}
			} else {
				res.NotDue++
			}
		}
	}
	if res.Expected == 0 {
		return nil, errors.New("loadtest reminders: no reminder falls due: book more or over a longer -window")
	}
	// The server's clock reads t0 at the real instant anchor.
	anchor := time.Now()
	realAt := func(sim time.Time) time.Time { // the real instant the server's clock reads sim at
		return anchor.Add(time.Duration(float64(sim.Sub(t0)) / float64(o.Speed)))
	}
	vars["LOADTEST_CLOCK_START"] = t0.Format(time.RFC3339Nano)
	vars["LOADTEST_CLOCK_AT"] = anchor.UTC().Format(time.RFC3339Nano)
	vars["LOADTEST_CLOCK_RATE"] = strconv.Itoa(o.Speed)
	res.Span = realAt(lastDue).Sub(anchor)
	logf("%d reminders due (%v by offset %v), %d not (due before their booking); the last due in %s at %d× (two days in %s)",
		res.Expected, res.ExpectedBy, rmOffsets, res.NotDue, res.Span.Round(time.Second), o.Speed,
		(48 * time.Hour / time.Duration(o.Speed)).Round(time.Second))

	serverLog := &capped{}
	server, err := newChild(o.ServerBin, vars, serverLog)
	if err != nil {
		return nil, err
	}
	if err := server.start(ctx); err != nil {
		return nil, err
	}
	defer server.kill()
	if err := setWebhook(srv.URL, fake.Token(), "http://"+server.addr+"/telegram/webhook", secret); err != nil {
		return nil, err
	}

	var killedAt time.Time
	notBefore := realAt(lastDue).Add(5 * time.Second)
	if o.Kill {
		at := anchor.Add(time.Duration(o.KillAt * float64(res.Span)))
		if err := sleepUntil(ctx, at, fake, anchor, logf); err != nil {
			return nil, err
		}
		t := time.Now()
		server.kill()
		killedAt = time.Now()
		res.Killed, res.KilledAt = true, killedAt.Sub(anchor)
		logf("SIGKILL %s into the run (%d reminders received); starting the server again", res.KilledAt.Round(time.Millisecond), countReminders(fake))
		if err := server.start(ctx); err != nil {
			return nil, err
		}
		res.Down = time.Since(t)
		notBefore = later(notBefore, killedAt.Add(killSettle))
	}
	if err := sleepUntil(ctx, notBefore, fake, anchor, logf); err != nil {
		return nil, err
	}
	// Then until the outbox is sent (the last due has had 5 s, and a kill's
	// leases have run out), three minutes at most.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL`,
			salonID).Scan(&res.UnsentOutbox); err != nil {
			return nil, err
		}
		if res.UnsentOutbox == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	time.Sleep(time.Second)
	if o.Kill {
		res.CountedAfter = time.Since(killedAt)
	}
	countReminderRun(res, fake.Sent(), bookings, t0, realAt, killedAt)
	res.TooMany = fake.Stats().TooManyRequests
	if err := server.stop(); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	res.ServerErrors = serverLog.errors
	res.ServerPeakKB = int(server.peakKB.Load())
	res.Elapsed = time.Since(began)
	return res, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sleepUntil waits for at, logging progress every 30 s.
func sleepUntil(ctx context.Context, at time.Time, fake *telegramtest.Server, anchor time.Time, logf func(string, ...any)) error {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		d := time.Until(at)
		if d <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		case <-tick.C:
			logf("%s: %d reminders received", time.Since(anchor).Round(time.Second), countReminders(fake))
		}
	}
}

// reminderBooking is the booking a reminder message is of, from its "I'll
// come" button (dialog.ReminderReply: "ok:<booking id>:<start, Unix
// seconds>"): the id and the start, or "".
func reminderBooking(m telegramtest.SentMessage) (id, start string) {
	for _, row := range m.Keyboard {
		for _, b := range row {
			if rest, ok := strings.CutPrefix(b.CallbackData, "ok:"); ok {
				id, start, _ = strings.Cut(rest, ":")
				return id, start
			}
		}
	}
	return "", ""
}

func countReminders(fake *telegramtest.Server) int {
	n := 0
	for _, m := range fake.Sent() {
		if id, _ := reminderBooking(m); m.Method == "sendMessage" && id != "" {
			n++
		}
	}
	return n
}

// countReminderRun counts what the fake received against what was due. Each
// reminder of a booking is matched to the offset whose due time (on the
// server's clock) is the latest one at or before the clock's reading when the
// fake accepted it (the reminder's text names the booking, not the offset;
// the two offsets' due times are 22 h of the clock apart, far more than any
// lateness). Lateness is the first copy's real send time against its due time
// mapped to real time.
func countReminderRun(res *rmResult, sent []telegramtest.SentMessage, bookings map[string]rmBooking, t0 time.Time,
	realAt func(time.Time) time.Time, killedAt time.Time) {
	type key struct {
		id  string
		off int
	}
	copies := map[key][]time.Time{}
	var times []time.Time
	perChat := map[int64][]time.Time{}
	for _, m := range sent {
		times = append(times, m.Time)
		perChat[m.ChatID] = append(perChat[m.ChatID], m.Time)
		id, at := reminderBooking(m)
		if m.Method != "sendMessage" || id == "" {
			res.Other++
			continue
		}
		res.Received++
		b, ok := bookings[id]
		if !ok || (at != "" && at != strconv.FormatInt(b.start.Unix(), 10)) {
			res.Stray++
			continue
		}
		off := -1
		for k := len(rmOffsets) - 1; k >= 0; k-- { // the latest due time first
			// 50 ms of real time: the fake stamps a message after the sender read the clock.
			if !realAt(b.start.Add(-rmOffsets[k])).After(m.Time.Add(50 * time.Millisecond)) {
				off = k
				break
			}
		}
		if off < 0 {
			res.Early++
			continue
		}
		if !b.start.Add(-rmOffsets[off]).After(t0) {
			res.Unexpected++
			continue
		}
		copies[key{id, off}] = append(copies[key{id, off}], m.Time)
	}
	var late []time.Duration
	for k, ts := range copies {
		l := ts[0].Sub(realAt(bookings[k.id].start.Add(-rmOffsets[k.off])))
		late = append(late, l)
		if l > time.Second {
			res.LateOver1s++
		}
		if l > 10*time.Second {
			res.LateOver10s++
		}
		res.Doubled += len(ts) - 1
		if len(ts) > 1 && !killedAt.IsZero() && ts[0].Before(killedAt) {
			for _, t := range ts[1:] {
				if t.After(killedAt) {
					res.DoubledAcrossKill++
				}
			}
		}
	}
	res.Lost = res.Expected - len(copies)
	if n := len(late); n > 0 {
		slices.Sort(late)
		res.LateP50, res.LateP99, res.LateMax = late[n/2], late[min(n-1, n*99/100)], late[n-1]
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	res.Peak1s = peakWindow(times, time.Second)
	for _, ts := range perChat {
		res.PeakChat1s = max(res.PeakChat1s, peakWindow(ts, time.Second))
	}
}

// seedReminderBookings books o.Bookings confirmed times through the booking use
// case at the clock's start t0, each from a Telegram chat of its own, on a
// store whose changes are followed as serve follows them; booking i starts at
// first + (i·grid/o.Bookings) steps, so they spread evenly over the window.
func seedReminderBookings(ctx context.Context, pool *pgxpool.Pool, salonID string, t0, first time.Time, grid, perStart int,
	o rmOptions, logf func(string, ...any)) (map[string]rmBooking, error) {
	store := postgres.NewStore(pool)
	catalog, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	service := booking.New(store, &core.FixedClock{T: t0})
	cat, err := service.Catalog(ctx, salonID)
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	followLikeServe(store, pool, salonID, service, catalog, cat.Salon, &core.FixedClock{T: t0}, quiet)

	bookings := make(map[string]rmBooking, o.Bookings)
	var mu sync.Mutex
	var next atomic.Int64
	var firstErr error
	var wg sync.WaitGroup
	t := time.Now()
	for range o.Parallel {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= o.Bookings || ctx.Err() != nil {
					return
				}
				j := i * grid / o.Bookings              // the start's index
				rank := i - ceilDiv(j*o.Bookings, grid) // its place among that start's bookings
				master := rank
				chat := int64(7_000_000_000 + i)
				b, err := service.Book(ctx, booking.BookRequest{
					SalonID: salonID, ServiceID: "visit", MasterID: fmt.Sprintf("m%03d", master),
					Start:          first.Add(time.Duration(j) * rmStep),
					Client:         core.Client{Name: clientName(i), Phone: fmt.Sprintf("+49 151 %08d", i)},
					IdempotencyKey: "seed-" + strconv.Itoa(i), Confirm: true,
					Source: telegram.Channel + ":" + strconv.FormatInt(chat, 10),
				})
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("loadtest reminders: booking %d (master m%03d, start %d): %w", i, master, j, err)
					}
					mu.Unlock()
					return
				}
				bookings[b.ID] = rmBooking{start: b.Start, chat: chat}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	logf("seeded %d confirmed bookings (%d masters) through booking.Service.Book in %s (%.0f/s)", len(bookings), perStart,
		time.Since(t).Round(time.Millisecond), float64(len(bookings))/time.Since(t).Seconds())
	return bookings, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// followLikeServe makes store and bookings follow booking changes as
// salonbook serve's do with Telegram on (runServe, startReminders), in its
// order: the wait-list, its offers, the reminders (what is already due by
// clock; bookings record the changes of remindable chats), then the staff
// notice.
func followLikeServe(store *postgres.Store, pool *pgxpool.Pool, salonID string, bookings *booking.Service, catalog *i18n.Catalog,
	salon *core.Salon, clock core.Clock, log *slog.Logger) {
	store.FollowChanges(postgres.NewWaitlist(pool).Record)
	store.FollowOffers(pipeline.NewOffers(func(s *core.Salon, o dialog.Offer) dialog.Reply { return dialog.OfferReply(catalog, s, o) }, clock, log).Record)
	rem := pipeline.NewReminders(pipeline.RemindersConfig{
		Pool: pool, Reads: pool, SalonID: salonID, Channels: []string{telegram.Channel}, Clock: clock, Catalog: catalog, Log: log,
		Salon: func(ctx context.Context) (*core.Salon, error) {
			c, err := bookings.Catalog(ctx, salonID)
			if err != nil {
				return nil, err
			}
			return c.Salon, nil
		},
	})
	store.FollowChanges(rem.Record)
	bookings.RemindChats(rem.Remindable)
	store.FollowChanges(pipeline.NewStaffNotices(telegram.Channel, dialog.StaffText(catalog, salon), log).Record)
}

// applyReminderSalon migrates the database and applies the load salon under
// salonID: open round the clock every day, masters m000…, one 5-minute
// service on a 5-minute grid, reminders [24h, 2h], no notice, no staff chats
// (their notices would share the bot's 30/s with the reminders).
func applyReminderSalon(ctx context.Context, bin string, vars map[string]string, salonID string, masters int) error {
	var b strings.Builder
	fmt.Fprintf(&b, `salon:
  id: %s
  name: Reminder Load
  timezone: Europe/Berlin
  locales: [en, ru]
  address: "Torstraße 1, 10119 Berlin"
policy:
  slot_step: 5m
  min_notice: 0m
  horizon: 7d
  cancel_cutoff: 12h
  reminders: [24h, 2h]
  staff_summary: off
services:
  - id: visit
    name: {en: Visit, ru: Визит}
    duration: 5m
    price: "10.00"
    currency: EUR
masters:
`, salonID)
	for i := range masters {
		fmt.Fprintf(&b, "  - id: m%03d\n    name: Master %d\n    services: [visit]\n    hours:\n", i, i)
		for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			fmt.Fprintf(&b, "      %s: [\"00:00-24:00\"]\n", d)
		}
	}
	dir, err := os.MkdirTemp("", "salonbook-reminders")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "salon.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		return err
	}
	if err := salonbookDo(ctx, bin, vars, "migrate"); err != nil {
		return err
	}
	return salonbookDo(ctx, bin, vars, "apply", file)
}

func (r *rmResult) print(out io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	sec := func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
	p("== salonbook loadtest reminders: %d confirmed bookings over %s, %d masters, reminders %v, %d CPUs (%s)",
		r.Bookings, r.Window, r.Masters, rmOffsets, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	p("   salonbook serve as a process of its own, its clock %d× real time (LOADTEST_CLOCK_*); the fake Bot API enforces Telegram's limits (30/s per bot, 1/s per chat burst 3); the sender at its defaults (TELEGRAM_RATE 30, TELEGRAM_CHAT_RATE 1)", r.Speed)
	p("seeding: %s (migrate, apply, %d bookings through booking.Service.Book)", r.Seeded.Round(100*time.Millisecond), r.Bookings)
	p("reminders due after their booking was made: %d (%v by offset %v); already due when booked (not to be sent): %d", r.Expected, r.ExpectedBy, rmOffsets, r.NotDue)
	p("the last due %s of real time after the clock's start", r.Span.Round(time.Second))
	p("received: %d reminders; lost %d; doubled %d; early %d; due before their booking %d; of no seeded booking %d; other messages %d",
		r.Received, r.Lost, r.Doubled, r.Early, r.Unexpected, r.Stray, r.Other)
	p("lateness against the due time (real time, first copies): p50 %s, p99 %s, max %s; over 1 s: %d, over 10 s: %d",
		sec(r.LateP50), sec(r.LateP99), sec(r.LateMax), r.LateOver1s, r.LateOver10s)
	p("peak messages in any 1 s of arrival at the fake: %d overall, %d in one chat; refused with 429 (the fake enforces Telegram's limits, forgiving 25 ms of jitter): %d",
		r.Peak1s, r.PeakChat1s, r.TooMany)
	if r.Killed {
		p("SIGKILL %s into the run; answering again %s later; counted %s after the SIGKILL (the outbox lease, %s, plus 10 s at least)",
			r.KilledAt.Round(time.Millisecond), r.Down.Round(time.Millisecond), r.CountedAfter.Round(time.Second), outboxLease)
		p("doubled across the SIGKILL (the at-least-once window: a first copy before it, another after the restart): %d of %d", r.DoubledAcrossKill, r.Doubled)
	}
	p("left: outbox %d unsent; server error log lines: %d; server peak memory (VmHWM) %d MB", r.UnsentOutbox, r.ServerErrors, r.ServerPeakKB/1024)
	p("elapsed: %s", r.Elapsed.Round(100*time.Millisecond))
}
