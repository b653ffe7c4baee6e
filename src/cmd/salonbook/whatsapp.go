package main

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/adapters/metrics"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

// whatsAppSpec is the WhatsApp channel but for its webhook and transport
// (startWhatsApp sets them).
func whatsAppSpec(wa WhatsAppConfig) channelSpec {
	return channelSpec{Name: whatsapp.Channel, Workers: wa.Workers, Decoder: whatsapp.Decoder{},
		SendsReadPool: true, // each send reads the chat's 24-hour window, and its Done takes a transaction (a wamid)
		Limits: messaging.Limits{
			// Global burst 1: never more than Rate in any one second (Meta counts per second).
			Global: messaging.Rate{Count: wa.Rate, Per: time.Second, Burst: 1},
			// Meta's pair limit is about 10 a minute with short bursts: a burst of
			// 10 lets a client tapping through a booking go unthrottled.
			PerChat: messaging.Rate{Count: wa.ChatRate, Per: time.Minute, Burst: min(10, wa.ChatRate)},
		},
	}
}

// cloudAPIClient is the Cloud API client the WhatsApp channel sends with, on
// the channel's send client (channelSpec.sendClient).
func cloudAPIClient(wa WhatsAppConfig) *whatsapp.Client {
	return whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: wa.APIURL, Version: wa.APIVersion, PhoneNumberID: wa.PhoneNumberID,
		Token: wa.Token, HTTP: whatsAppSpec(wa).sendClient()})
}

// startWhatsApp runs the WhatsApp channel (see startChannel): the webhook at
// /whatsapp/webhook (verification, signature, into the inbox, the client's
// 24-hour window and delivery statuses) and the sender (within the number's
// throughput and the per-client limit, templates outside the 24-hour window).
func startWhatsApp(ctx, bg context.Context, wg *sync.WaitGroup, mux *http.ServeMux, wa WhatsAppConfig,
	dbURL, salonID string, chat *dialog.Service, catalog *i18n.Catalog, bookings *booking.Service, log *slog.Logger, m *metrics.Metrics, ads messaging.Ads) (func(), error) {
	cat, err := bookings.Catalog(ctx, salonID)
	if err != nil {
		return nil, err
	}
	defaultLang := wa.DefaultLang
	if _, ok := wa.Templates[catalog.Match("", cat.Salon.Locales)]; ok {
		defaultLang = catalog.Match("", cat.Salon.Locales) // the salon's first language, when it has a template
	}
	printer := func(lang string) *i18n.Printer {
		return catalog.Printer(catalog.Match(lang, catalog.Languages()), time.UTC)
	}
	client := cloudAPIClient(wa)
	spec := whatsAppSpec(wa)
	spec.Ads = ads
	spec.Webhook = func(pool *pgxpool.Pool, gc *pipeline.GroupCommit) http.Handler {
		return whatsapp.NewWebhook(whatsapp.WebhookConfig{
			Inbox: gc, Windows: pipeline.NewChatWindows(pool, salonID, whatsapp.Channel),
			Deliveries: pipeline.NewDeliveries(pool, salonID, whatsapp.Channel),
			AppSecret:  wa.AppSecret, VerifyToken: wa.VerifyToken, PhoneNumberID: wa.PhoneNumberID, Log: log,
		})
	}
	spec.Transport = func(pool *pgxpool.Pool) messaging.Transport {
		return whatsapp.NewTransport(whatsapp.TransportConfig{
			Client: client, Windows: pipeline.NewChatWindows(pool, salonID, whatsapp.Channel), Templates: wa.Templates,
			ReminderTemplates: wa.ReminderTemplates, DefaultLang: defaultLang, Log: log, TagKey: whatsapp.TagKey(wa.AppSecret),
			Labels: func(lang string) whatsapp.Labels {
				p := printer(lang)
				return whatsapp.Labels{Choose: p.T("btn.choose"), SharePhone: p.T("btn.share_phone")}
			},
		})
	}
	closeWhatsApp, err := startChannel(ctx, bg, wg, mux, dbURL, salonID, chat, catalog, log, spec, m)
	if err != nil {
		return nil, err
	}
	if len(wa.Templates) == 0 {
		log.Warn("whatsapp: WHATSAPP_TEMPLATES is empty: messages outside the 24-hour window will be given up")
	}
	log.Info("whatsapp is on", slog.Int("workers", wa.Workers), slog.Int("rate", wa.Rate), slog.Int("templates", len(wa.Templates)))
	return closeWhatsApp, nil
}
