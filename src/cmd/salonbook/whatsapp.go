package main

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

// startWhatsApp runs the WhatsApp channel on the shared pipeline, as
// startTelegram does Telegram: the webhook at /whatsapp/webhook (verification,
// signature, into the inbox), workers (one dialog step per message) and the
// sender (within the number's throughput and the per-client limit, templates
// outside the 24-hour window). It uses a pool of its own for the inbox.
func startWhatsApp(ctx, bg context.Context, wg *sync.WaitGroup, mux *http.ServeMux, wa WhatsAppConfig,
	dbURL, salonID string, chat *dialog.Service, catalog *i18n.Catalog, bookings *booking.Service, log *slog.Logger) (func(), error) {
	cat, err := bookings.Catalog(ctx, salonID)
	if err != nil {
		return nil, err
	}
	defaultLang := wa.DefaultLang
	if _, ok := wa.Templates[catalog.Match("", cat.Salon.Locales)]; ok {
		defaultLang = catalog.Match("", cat.Salon.Locales) // the salon's first language, when it has a template
	}
	// The webhook's rows are group-committed as Telegram's are, and the pool is
	// sized as Telegram's is, the sender's leader lock included (see startTelegram).
	gcOpts := pipeline.GroupCommitOptions{Flushers: webhookFlushers}
	pool, err := pipeline.Open(ctx, dbURL, int32(wa.Workers+senderParallel+1+2+gcOpts.Flushers))
	if err != nil {
		return nil, err
	}
	inbox, outbox := pipeline.NewInbox(pool, salonID), pipeline.NewOutbox(pool, salonID)
	gc := pipeline.NewGroupCommit(pool, salonID, gcOpts)
	windows := pipeline.NewChatWindows(pool, salonID, whatsapp.Channel)
	mux.Handle("/whatsapp/webhook", whatsapp.NewWebhook(whatsapp.WebhookConfig{
		Inbox: gc, Windows: windows, Deliveries: pipeline.NewDeliveries(pool, salonID, whatsapp.Channel),
		AppSecret: wa.AppSecret, VerifyToken: wa.VerifyToken, PhoneNumberID: wa.PhoneNumberID, Log: log,
	}))
	printer := func(lang string) *i18n.Printer {
		return catalog.Printer(catalog.Match(lang, catalog.Languages()), time.UTC)
	}
	worker := &messaging.Worker{
		SalonID: salonID, Channel: whatsapp.Channel, Inbox: inbox, Decoder: whatsapp.Decoder{}, Chat: chat, Log: log,
		Busy:        func() bool { return gc.Pending() > webhookBusy },
		FloodNotice: func(hint string) string { return printer(hint).T("flood.notice") },
	}
	client := whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: wa.APIURL, Version: wa.APIVersion, PhoneNumberID: wa.PhoneNumberID,
		Token: wa.Token, HTTP: &http.Client{Timeout: 30 * time.Second}})
	sender := &messaging.Sender{Parallel: senderParallel,
		Channel: whatsapp.Channel, Outbox: outbox, Log: log,
		Transport: whatsapp.NewTransport(whatsapp.TransportConfig{
			Client: client, Windows: windows, Templates: wa.Templates, DefaultLang: defaultLang, Log: log,
			TagKey: whatsapp.TagKey(wa.AppSecret),
			Labels: func(lang string) whatsapp.Labels {
				p := printer(lang)
				return whatsapp.Labels{Choose: p.T("btn.choose"), SharePhone: p.T("btn.share_phone")}
			},
		}),
		Limits: messaging.Limits{
			// Global burst 1: never more than Rate in any one second (Meta counts per second).
			Global: messaging.Rate{Count: wa.Rate, Per: time.Second, Burst: 1},
			// Meta's pair limit is about 10 a minute with short bursts: a burst of
			// 10 lets a client tapping through a booking go unthrottled.
			PerChat: messaging.Rate{Count: wa.ChatRate, Per: time.Minute, Burst: min(10, wa.ChatRate)},
		},
	}
	// One process at a time sends for the number (see startTelegram).
	leader := pipeline.NewLeader(pool, salonID, whatsapp.Channel, log)
	wg.Go(func() { worker.Run(bg, wa.Workers) })
	wg.Go(func() { leader.Run(bg, sender.Run) })
	if len(wa.Templates) == 0 {
		log.Warn("whatsapp: WHATSAPP_TEMPLATES is empty: messages outside the 24-hour window will be given up")
	}
	log.Info("whatsapp is on", slog.Int("workers", wa.Workers), slog.Int("rate", wa.Rate), slog.Int("templates", len(wa.Templates)))
	return func() { gc.Close(); pool.Close() }, nil
}
