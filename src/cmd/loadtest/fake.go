package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"salonbook/src/adapters/meta/metatest"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/adapters/whatsapp/whatsapptest"
)

// runFakeTelegram serves the fake Bot API (telegramtest) on addr until ctx
// ends (SIGINT, SIGTERM), for demos: point salonbook's TELEGRAM_API_URL and
// TELEGRAM_BOT_TOKEN at what it prints. limits is "telegram" (Telegram's flood
// limits) or "off".
func runFakeTelegram(ctx context.Context, addr, limits string, out io.Writer) error {
	var opts telegramtest.Options
	switch limits {
	case "telegram":
	case "off":
		opts.Limits = &telegramtest.Limits{}
	default:
		return errors.New("fake-telegram: -limits must be telegram or off")
	}
	fake := telegramtest.New(opts)
	defer fake.Close()
	mux := http.NewServeMux()
	newPerson(newTelegramPerson(fake)).routes(mux)
	mux.Handle("/", fake)
	return serveFake(ctx, addr, mux, fake.Close, func(url string) {
		// The fake's token is a fixed test token, not a secret: printing it is the point.
		fmt.Fprintf(out, "fake Telegram Bot API on %s (limits: %s)\nTELEGRAM_API_URL=%s\nTELEGRAM_BOT_TOKEN=%s\n"+
			"be a client: curl %s/person/1001/say -d /start; curl %s/person/1001/press -d Book; curl %s/person/1001\n",
			url, limits, url, fake.Token(), url, url, url)
	})
}

// runFakeWhatsApp serves the fake Graph API (whatsapptest) on addr until ctx
// ends, for demos: point salonbook's WHATSAPP_* settings at what it prints.
// limits is "whatsapp" (Meta's throughput and pair limits) or "off".
//
// webhook is salonbook's WhatsApp webhook, where what a person says at
// /person/{wa_id} is delivered.
func runFakeWhatsApp(ctx context.Context, addr, limits, webhook string, out io.Writer) error {
	var opts whatsapptest.Options
	switch limits {
	case "whatsapp":
	case "off":
		opts.Limits = &whatsapptest.Limits{}
	default:
		return errors.New("fake-whatsapp: -limits must be whatsapp or off")
	}
	fake := whatsapptest.New(opts)
	fake.SetWebhook(webhook)
	mux := http.NewServeMux()
	newPerson(whatsappPerson{fake}).routes(mux)
	mux.Handle("/", fake)
	return serveFake(ctx, addr, mux, func() {}, func(url string) {
		// A fake's random token and secret, made for this run: printing them is the point.
		fmt.Fprintf(out, "fake WhatsApp Graph API on %s (limits: %s), delivering to %s\nWHATSAPP_API_URL=%s\nWHATSAPP_TOKEN=%s\nWHATSAPP_APP_SECRET=%s\nWHATSAPP_PHONE_NUMBER_ID=%s\n"+
			"be a client: curl %s/person/4915112345678/say -d hi; curl %s/person/4915112345678\n",
			url, limits, webhook, url, fake.Token(), fake.AppSecret(), fake.PhoneNumberID(), url, url)
	})
}

// runFakeMeta serves the fake Conversions API (metatest) on addr until ctx
// ends, for demos: point salonbook's META_* settings at what it prints; GET
// /received lists the events it took.
func runFakeMeta(ctx context.Context, addr string, out io.Writer) error {
	fake := metatest.Unstarted(metatest.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /received", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(fake.Events())
	})
	mux.Handle("/", fake)
	return serveFake(ctx, addr, mux, func() {}, func(url string) {
		o := fake.Options()
		fmt.Fprintf(out, "fake Meta Conversions API on %s\nMETA_API_URL=%s\nMETA_PIXEL_ID=%s\nMETA_CAPI_TOKEN=%s\nevents received: curl %s/received\n",
			url, url, o.DatasetID, o.Token, url)
	})
}

// serveFake serves h on addr until ctx ends, telling its URL to announce once
// it listens; before shutting down, it calls closing (which ends long polls).
func serveFake(ctx context.Context, addr string, h http.Handler, closing func(), announce func(url string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-addr %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	announce("http://" + ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	closing()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}
