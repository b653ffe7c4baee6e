// Command salonbook is the booking engine's one binary.
//
//	salonbook migrate [up | down [N] | version]   manage the database schema
//	salonbook apply FILE                          make the database match a salon file
//	salonbook serve                               serve the web chat and the HTTP API
//	salonbook passwd LOGIN                        set a desk password (read from the terminal or stdin)
//	salonbook feed MASTER                         a new calendar feed link for a master (the old one stops)
//
// The load harness and the fake chat platforms are a command of their own,
// src/cmd/loadtest, so that this binary carries no test code.
//
// Configuration comes from environment variables only (see Config); a bad or
// missing one stops the program at start-up with the variable's name.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // salon zones work on hosts without a zoneinfo database

	"github.com/go-telegram/bot"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/adapters/jobs"
	"salonbook/src/adapters/metrics"
	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/salonfile"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/web"
	"salonbook/src/adapters/web/desk"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/cmd/internal/keepalive"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
	"salonbook/src/core/waitlist"
)

const usage = `usage:
  salonbook migrate [up | down [N] | version]
  salonbook apply FILE
  salonbook serve
  salonbook passwd LOGIN
  salonbook feed MASTER
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "salonbook:", err)
		os.Exit(1)
	}
}

// run executes one subcommand. ready, when not nil, receives the address the
// server listens on (tests start the real main on :0).
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer, ready chan<- string) error {
	if len(args) == 0 {
		return errors.New(strings.TrimSpace(usage))
	}
	switch args[0] {
	case "migrate":
		return runMigrate(args[1:], getenv, out)
	case "apply":
		return runApply(ctx, args[1:], getenv, out)
	case "serve":
		return runServe(ctx, getenv, out, ready)
	case "passwd":
		return runPasswd(ctx, args[1:], getenv, os.Stdin, out, os.Stderr)
	case "feed":
		return runFeed(ctx, args[1:], getenv, out)
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], strings.TrimSpace(usage))
}

func runMigrate(args []string, getenv func(string) string, out io.Writer) error {
	cfg, err := loadConfig(getenv, need{database: true})
	if err != nil {
		return err
	}
	m, err := postgres.NewMigrator(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer m.Close()
	action := "up"
	if len(args) > 0 {
		action = args[0]
	}
	switch action {
	case "up":
		if err := m.Up(); err != nil {
			return err
		}
	case "down":
		n := 1
		if len(args) > 1 {
			if n, err = strconv.Atoi(args[1]); err != nil || n < 1 {
				return fmt.Errorf("migrate down: N must be a positive number")
			}
		}
		if err := m.Down(n); err != nil {
			return err
		}
	case "version":
	default:
		return fmt.Errorf("migrate: unknown action %q\n%s", action, strings.TrimSpace(usage))
	}
	v, dirty, err := m.Version()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "schema version %d%s\n", v, map[bool]string{true: " (dirty: a migration failed half-way)"}[dirty])
	return nil
}

func runApply(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New(strings.TrimSpace(usage))
	}
	cfg, err := loadConfig(getenv, need{database: true})
	if err != nil {
		return err
	}
	f, err := salonfile.Load(args[0])
	if err != nil {
		return err
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := postgres.NewStore(pool).Apply(ctx, postgres.SalonSetup{
		Salon: f.Salon, Services: f.Services, Masters: f.Masters, StaffChats: f.StaffChats, Staff: f.Staff,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "salon %s applied: %d services, %d masters, %d rows changed\n", f.Salon.ID, len(f.Services), len(f.Masters), n)
	return nil
}

func runServe(ctx context.Context, getenv func(string) string, out io.Writer, ready chan<- string) error {
	cfg, err := loadConfig(getenv, need{database: true, api: true})
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: cfg.LogLevel}))
	startWarnings(cfg, log)
	pool, err := postgres.OpenSized(ctx, cfg.DatabaseURL, 32)
	if err != nil {
		return err
	}
	defer pool.Close()
	salonID, err := pickSalon(ctx, pool, cfg.SalonID)
	if err != nil {
		return err
	}
	latest, err := postgres.Latest()
	if err != nil {
		return err
	}
	var clock core.Timer = core.SystemClock{}
	if cfg.Clock.On() {
		fc := newFastClock(cfg.Clock, time.Now)
		clock = fc
		log.Warn("the clock is moved, for load tests only (LOADTEST_CLOCK_*): never set these in production",
			slog.Time("now", fc.Now()), slog.Float64("rate", fc.rate))
	}
	catalog, err := i18n.Load()
	if err != nil {
		return err
	}
	// Conversations get a pool of their own: a chat step holds one of its
	// connections (the conversation row lock) while it books through the main
	// pool, so sharing one pool would let a burst of chats take every connection
	// and wait on each other for ever. (Pools are taken in one order: inbox,
	// conversations, main; none waits on one earlier in that order.)
	convPool, err := postgres.OpenSized(ctx, cfg.DatabaseURL, 16)
	if err != nil {
		return err
	}
	defer convPool.Close()
	store := postgres.NewStore(pool)
	bookings := booking.New(store, clock)
	// Deposits: only chats whose channel has a payment provider are asked
	// (PayChats), and a salon asking deposits needs one for every channel on.
	bookings.PayChats(payableChats(cfg))
	if cat, err := bookings.Catalog(ctx, salonID); err != nil {
		return err
	} else if err := checkDeposits(cat, cfg); err != nil {
		return err
	}
	m := newMetrics(cfg, pool, salonID)
	m.AddPool("conversations", convPool)
	bookings.Observe(m)
	// Wait-list: a cancel or a move wakes the matcher in its own transaction;
	// an offer's message is queued in its hold's. Only channels that can be
	// written to unasked get offers; the web chat does not offer the wait-list.
	wl := postgres.NewWaitlist(pool)
	defer wl.Close() // the matcher's lock connection, after background work stops
	store.FollowChanges(wl.Record)
	store.FollowOffers(pipeline.NewOffers(func(s *core.Salon, o dialog.Offer) dialog.Reply { return dialog.OfferReply(catalog, s, o) }, clock, log).Record)
	privacy := postgres.NewPrivacy(pool) // "delete my data"; calendar sync follows its erases
	dcfg := dialog.Config{SalonID: salonID, Bookings: bookings, Waitlist: wl, Pushed: pipeline.NewPushed(pool),
		Privacy: privacy, Catalog: catalog, Clock: clock, NoOffers: []string{"web"},
		References: postgres.NewReferences(pool),
		// The privacy note says bookings are reported to Meta where they are.
		AdChannels: adChannels(cfg)}
	if cfg.PublicURL != "" { // the booked message's "Add to calendar" link, served below
		dcfg.CalendarURL = func(token string) string { return web.BookingFileURL(cfg.PublicURL, token) }
	}
	var checkout *stripeCheckout
	if cfg.Stripe.On() {
		// Deposits of the web chat and WhatsApp: a Stripe Checkout page.
		if checkout, err = newStripeCheckout(cfg, pool, salonID); err != nil {
			return err
		}
		dcfg.Payments = checkout
	}
	engine := dialog.NewEngine(dcfg)
	conversations := postgres.NewConversations(convPool)
	go pruneEvents(ctx, conversations, salonID, log)
	// The web chat's page is drawn again after a reload: its events keep
	// what the client said (the other channels keep no copy).
	chat := dialog.NewService(engine, conversations).Transcribe("web")
	// Background work (chat pipelines, calendar jobs) stops after the HTTP
	// server: updates acknowledged before SIGTERM are still handled and their
	// replies sent.
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	var closers []func()
	defer func() {
		stopBackground()
		// Steps and sends in hand finish (a bounded wait), then their pools close.
		finished := make(chan struct{})
		go func() { background.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(40 * time.Second):
			log.Warn("background work did not finish within 40 s; exiting anyway")
		}
		for _, c := range closers {
			c()
		}
	}()
	calendarDetails := func(context.Context) map[string]any {
		return map[string]any{"calendars": map[string]any{"sync": "off"}}
	}
	if cfg.Google.On() {
		closeCalendar, details, err := startCalendar(ctx, bg, &background, cfg.Google, cfg.DatabaseURL, salonID, store, privacy, clock, log, m)
		if err != nil {
			return err
		}
		closers, calendarDetails = append(closers, closeCalendar), details
	} else {
		log.Info("google calendar sync is off: GOOGLE_CREDENTIALS_FILE is not set")
		if err := calendarOff(ctx, postgres.NewCalendars(pool), salonID, log); err != nil {
			return err
		}
	}
	// Chat reminders: recorded with each booking change, queued by a loop.
	reminders, closeReminders, err := startReminders(ctx, bg, &background, cfg, store, pool, bookings, salonID, catalog, clock, log)
	if err != nil {
		return err
	}
	closers = append(closers, closeReminders)
	// Meta's Conversions API: bookings from ad clicks recorded with each
	// change, sent by jobs; set before any worker can book.
	var ads *postgres.AdReports
	if cfg.Meta.On() {
		ads = postgres.NewAdReports(pool)
		closeAds, err := startAds(bg, &background, cfg, salonID, store, ads, clock, log, m)
		if err != nil {
			return err
		}
		closers = append(closers, closeAds)
	} else {
		log.Info("meta conversions api is off: META_PIXEL_ID is not set")
	}
	adsOf := func(channel string) messaging.Ads {
		if ads == nil || !slices.Contains(adChannels(cfg), channel) {
			return nil // a nil interface: the worker keeps nothing of ad clicks
		}
		return ads
	}
	var adClicks web.AdClicks
	if a := adsOf(telegram.Channel); a != nil {
		adClicks = ads
	}
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler(web.Config{
		Bookings: bookings,
		SalonID:  salonID,
		APIToken: cfg.APIToken,
		Ready:    func(ctx context.Context) error { return postgres.Ready(ctx, pool, latest) },
		Details:  calendarDetails,
		Logger:   log,
		Clock:    clock,
		Chat:     chat,
		// The web chat's session cookie is Secure when this is https.
		PublicURL: cfg.PublicURL,
		// The booking answers' "reminders".
		Reminders: reminders,
		// Deposits to refund (Telegram's are the owner's to make).
		Payments: webPayments{postgres.NewPayments(pool)},
		// The booked message's calendar files.
		BookingFiles: postgres.NewReferences(pool),
		// New web-chat sessions, from all addresses together.
		NewChatsPerMinute: cfg.WebChatNewPerMinute,
		NewChatsPerAddr:   newChatsPerAddr(cfg.WebChatNewPerAddr),
		// GET /go/telegram: an ad's clicks into the bot, when reported to Meta.
		AdClicks: adClicks, TelegramBot: cfg.Telegram.BotUsername,
		// Its clicks per client address (behind the trusted proxies, the client's).
		ClicksPerAddr: newChatsPerAddr(cfg.Meta.ClicksPerAddr), TrustedProxies: cfg.TrustedProxies,
	}))
	if checkout != nil {
		startStripe(bg, &background, mux, cfg, pool, salonID, checkout, bookings, chat, log)
	}
	// The owner's desk (/admin): staff pages with sessions of their own.
	// Its actions change bookings through the same use cases as the chat and the API.
	deskStore := postgres.NewDesk(pool)
	deskCfg := desk.Config{SalonID: salonID, Store: deskStore, Catalog: bookings,
		Clock: clock, Logger: log, PublicURL: cfg.PublicURL, TrustedProxies: cfg.TrustedProxies,
		Bookings: bookings, Records: deskStore, Clients: deskStore, Feeds: deskStore, Jobs: jobs.NewBoard(pool)}
	deskHandler := desk.Handler(deskCfg)
	mux.Handle("/admin", deskHandler)
	mux.Handle("/admin/", deskHandler)
	// The masters' calendar feeds (read-only iCalendar, by a secret link).
	mux.Handle("GET /calendar/", desk.FeedHandler(deskCfg))
	if tg := cfg.Telegram; tg.Token != "" {
		// Staff notices go out through Telegram, queued in each change's own
		// transaction; set before any worker can book.
		cat, err := bookings.Catalog(ctx, salonID)
		if err != nil {
			return err
		}
		store.FollowChanges(pipeline.NewStaffNotices(telegram.Channel, dialog.StaffText(catalog, cat.Salon), log).Record)
		closeTelegram, err := startTelegram(ctx, bg, &background, mux, tg, cfg.DatabaseURL, salonID, chat, catalog, log, m, adsOf(telegram.Channel))
		if err != nil {
			return err
		}
		closers = append(closers, closeTelegram)
		// Morning summaries to the masters' staff chats (policy.staff_summary),
		// once per master and day whichever replica queues them.
		summaries := pipeline.NewStaffSummaries(pool, salonID, telegram.Channel, func(ctx context.Context) (*core.Salon, error) {
			c, err := bookings.Catalog(ctx, salonID)
			if err != nil {
				return nil, err
			}
			return c.Salon, nil
		}, catalog, clock, log)
		background.Add(1)
		go func() { defer background.Done(); summaries.Run(bg) }()
	} else {
		log.Info("telegram is off: TELEGRAM_BOT_TOKEN is not set")
	}
	if wa := cfg.WhatsApp; wa.Token != "" {
		closeWhatsApp, err := startWhatsApp(ctx, bg, &background, mux, wa, cfg.DatabaseURL, salonID, chat, catalog, bookings, log, m, adsOf(whatsapp.Channel))
		if err != nil {
			return err
		}
		closers = append(closers, closeWhatsApp)
	}
	// The matcher's searches and holds are the salon's own work, not clients'
	// activity: it books through a copy the metrics do not observe.
	matcher := &waitlist.Matcher{SalonID: salonID, Store: wl, Bookings: bookings.Unobserved(), Clock: clock,
		Concurrency: matcherConcurrency}
	if cfg.Telegram.Token != "" {
		matcher.Channels = append(matcher.Channels, telegram.Channel)
	}
	if cfg.WhatsApp.Token != "" {
		matcher.Channels = append(matcher.Channels, whatsapp.Channel)
	}
	background.Add(1)
	go func() { defer background.Done(); runWaitlist(bg, wl, matcher, clock, log) }()
	stopMetrics, err := serveMetrics(ctx, cfg, m, mux, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := stopMetrics(); err != nil {
			log.Warn("metrics listener", slog.String("error", err.Error()))
		}
	}()
	handler := m.Instrument(mux) // requests by route and status
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	limited := limitConns(ln, cfg.MaxConns, cfg.MaxConnsPerAddr)
	ln = limited
	// Requests get their deadlines from the handlers (web.DefaultRequestTimeout,
	// the chat's step timeout), all below WriteTimeout, so an answer is written.
	// ConnState tells the listener which connections it may close when full.
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: maxHeaderBytes, ConnState: limited.ConnState}
	log.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("salon", salonID))
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// SIGTERM: stop accepting, let requests in flight finish, then close the pool.
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}

// telegramSpec is the Telegram channel but for what uses its bot (Transport,
// Poll, Webhook, Started: startTelegram sets them).
func telegramSpec(tg TelegramConfig) channelSpec {
	return channelSpec{Name: "telegram", Workers: tg.Workers, Decoder: telegram.Decoder{},
		Limits: messaging.Limits{
			// Global burst 1: never more than Rate in any one second.
			Global:  messaging.Rate{Count: tg.Rate, Per: time.Second, Burst: 1},
			PerChat: messaging.Rate{Count: tg.ChatRate, Per: time.Second, Burst: 3},
			Group:   messaging.Rate{Count: 20, Per: time.Minute, Burst: 3},
		},
		IsGroup:       func(chatID string) bool { return strings.HasPrefix(chatID, "-") },
		ReplyKeyboard: true,
	}
}

// telegramBot is the bot the Telegram channel sends with, on the channel's
// send client (channelSpec.sendClient).
func telegramBot(tg TelegramConfig, log *slog.Logger) (*bot.Bot, error) {
	return telegram.NewBot(tg.Token, tg.APIURL, telegramSpec(tg).sendClient(), log)
}

// startTelegram runs the Telegram channel (see startChannel): updates by the
// webhook or, with TELEGRAM_MODE=polling, by getUpdates; replies within
// Telegram's limits.
func startTelegram(ctx, bg context.Context, wg *sync.WaitGroup, mux *http.ServeMux, tg TelegramConfig,
	dbURL, salonID string, chat *dialog.Service, catalog *i18n.Catalog, log *slog.Logger, m *metrics.Metrics, ads messaging.Ads) (func(), error) {
	b, err := telegramBot(tg, log)
	if err != nil {
		return nil, err
	}
	spec := telegramSpec(tg)
	spec.Ads = ads
	spec.Transport = func(*pgxpool.Pool) messaging.Transport {
		return telegram.NewTransport(b, telegram.WithLogger(log), telegram.WithPaymentToken(tg.PaymentToken),
			telegram.WithLabels(func(lang string) telegram.Labels {
				p := catalog.Printer(catalog.Match(lang, catalog.Languages()), time.UTC)
				return telegram.Labels{ShareContact: label(p, "btn.share_contact")}
			}))
	}
	registered := tg.WebhookURL != "" && tg.Mode == "webhook"
	if tg.Mode == "polling" {
		spec.Poll = func(pool *pgxpool.Pool, inbox *pipeline.Inbox) func(context.Context) error {
			p := telegram.NewPoller(tg.APIURL, tg.Token, &http.Client{}, inbox, pipeline.NewOffsets(pool, salonID), log)
			if tg.PaymentToken != "" {
				p.AnswerPreCheckout(b, preCheckout(chat, salonID))
			}
			return p.Run
		}
	} else {
		spec.Webhook = func(_ *pgxpool.Pool, gc *pipeline.GroupCommit) http.Handler {
			var opts []telegram.WebhookOption
			if tg.PaymentToken != "" {
				// Pre-checkout queries are answered in the webhook request:
				// Telegram waits 10 s at most, whatever the inbox's queue.
				opts = append(opts, telegram.AnswerPreCheckout(b, preCheckout(chat, salonID)))
			}
			return telegram.NewWebhook(gc, tg.WebhookSecret, log, opts...)
		}
	}
	if registered {
		spec.Started = func(ctx context.Context) error {
			if err := telegram.RegisterWebhook(ctx, b, tg.WebhookURL, tg.WebhookSecret); err != nil {
				return fmt.Errorf("telegram: register the webhook: %w", err)
			}
			return nil
		}
	}
	closeTelegram, err := startChannel(ctx, bg, wg, mux, dbURL, salonID, chat, catalog, log, spec, m)
	if err != nil {
		return nil, err
	}
	log.Info("telegram is on", slog.String("mode", tg.Mode), slog.Int("workers", tg.Workers), slog.Bool("webhook_registered", registered))
	return closeTelegram, nil
}

// maxHeaderBytes caps a request's headers (net/http's default is 1 MB); no
// client of this server sends more than a few hundred bytes.
const maxHeaderBytes = 32 << 10

// senderParallel is how many sends a channel's sender has in flight at once
// (channelSpec.sendsInFlight).
// Their Done calls are committed together (pipeline.Outbox.Done), so they hold
// few connections; 8 in flight capped the conversational burst of issue 17 (a
// send is a round trip to the provider and one to the database).
const senderParallel = 32

// providerClient is the HTTP client of one provider's API, with a transport of
// its own (keepalive.Transport: http.DefaultTransport's proxy from the
// environment, dial, TLS and idle timeouts) keeping conns idle connections to
// the provider, as many as the requests it has in flight. The default
// transport keeps 2 per host: with 32 sends in flight over HTTP/1.1 nearly
// every send opened a connection and closed it after (6.9% of serve's CPU in
// issue 17's conversational burst, and as much again in the provider's
// accepts and the kernel).
func providerClient(timeout time.Duration, conns int) *http.Client {
	return &http.Client{Timeout: timeout, Transport: keepalive.Transport(conns)}
}

// senderConns is how many connections of the channel's pool the sender's sends
// are counted for: their Done calls write together (one at a time).
const senderConns = 8

// webhookAckWait bounds how long a worker lets the webhook deliveries waiting
// at the time be committed before its next step (Worker.AwaitAcks). Acks
// first was measured with src/cmd/loadtest on 2 cores (p99 at half the burst
// rate 17–40 ms without, 15–16 ms with); waiting for those deliveries only,
// rather than for a moment with none, keeps that while steps go on (issue 17).
const webhookAckWait = 10 * time.Millisecond

// workerBatch is how many chats' updates a worker takes in one inbox
// transaction at most (messaging.Worker.Batch, pipeline.Inbox.NextBatch):
// their steps run one after another and commit together, so the
// transaction's own statements and its commit are paid once for up to this
// many steps; only as many as are waiting are taken. A step is about 1 ms, and
// the first chat's replies wait for the batch's other steps: 8 keeps that
// under about 10 ms (issue 17, measured with src/cmd/loadtest).
const workerBatch = 8

// webhookFlushers is how many group-commit batches of webhook rows may be in
// flight at once (see pipeline.GroupCommit; measured with src/cmd/loadtest).
const webhookFlushers = 4

// pruneEvents drops, every hour, the replay records of chat events older than a
// week: redeliveries come within minutes, so older ones only take space. It also
// drops the web chat's anonymous conversations idle for anonymousRetention (see
// postgres.Conversations.PruneAnonymous: never one with a client or a hold).
func pruneEvents(ctx context.Context, c *postgres.Conversations, salonID string, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		n, err := c.PruneEvents(ctx, time.Now().Add(-7*24*time.Hour))
		if err != nil && ctx.Err() == nil {
			log.Warn("prune chat events", slog.String("error", err.Error()))
		} else if n > 0 {
			log.Info("pruned chat events", slog.Int64("rows", n))
		}
		// "web": the web chat's channel (web.Handler's conversations).
		n, err = c.PruneAnonymous(ctx, salonID, "web", time.Now().Add(-anonymousRetention))
		if err != nil && ctx.Err() == nil {
			log.Warn("prune anonymous web chats", slog.String("error", err.Error()))
		} else if n > 0 {
			log.Info("pruned anonymous web chats", slog.Int64("conversations", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// anonymousRetention is how long an anonymous web-chat conversation (no client,
// no hold, no wait-list entry) is kept after its last message.
const anonymousRetention = 7 * 24 * time.Hour

// pickSalon returns the salon to serve: the configured one, or the only one there is.
func pickSalon(ctx context.Context, pool *pgxpool.Pool, want string) (string, error) {
	ids, err := postgres.SalonIDs(ctx, pool)
	if err != nil {
		return "", err
	}
	if want != "" {
		for _, id := range ids {
			if id == want {
				return id, nil
			}
		}
		return "", fmt.Errorf("config: SALONBOOK_SALON %q is not in the database (run salonbook apply FILE first)", want)
	}
	switch len(ids) {
	case 0:
		return "", errors.New("no salon in the database: run `salonbook apply FILE` first")
	case 1:
		return ids[0], nil
	}
	return "", fmt.Errorf("config: SALONBOOK_SALON must name one of the %d salons in the database", len(ids))
}

// label is p's text for key, or "" when p's language lacks it (Printer.T
// then returns the key itself): "" makes the Transport use its default.
func label(p *i18n.Printer, key string) string {
	if s := p.T(key); s != key {
		return s
	}
	return ""
}

// newChatsPerAddr turns WEB_CHAT_NEW_PER_ADDR into web.Config.NewChatsPerAddr,
// where 0 is the default and a negative number turns the limit off.
func newChatsPerAddr(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
