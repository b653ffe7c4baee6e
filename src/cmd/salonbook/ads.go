package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"salonbook/src/adapters/jobs"
	"salonbook/src/adapters/meta"
	"salonbook/src/adapters/metrics"
	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/core"
	"salonbook/src/core/adreport"
	"salonbook/src/core/booking"
)

// adChannels are the channels whose bookings are reported to Meta: Telegram
// when its bot's username makes the ad link (GET /go/telegram) possible,
// WhatsApp (click-to-WhatsApp ads); none when reporting is off.
func adChannels(cfg Config) []string {
	if !cfg.Meta.On() {
		return nil
	}
	var out []string
	if cfg.Telegram.Token != "" && cfg.Telegram.BotUsername != "" {
		out = append(out, telegram.Channel)
	}
	if cfg.WhatsApp.Token != "" {
		out = append(out, whatsapp.Channel)
	}
	return out
}

// adsWorkers is how many reports are sent at once (river workers), each one
// request to Meta at a time: as many idle connections are kept.
const adsWorkers = 2

// metaOptions is the Conversions API client's: a connection kept for each
// report sent at once (adsWorkers).
func metaOptions(mc MetaConfig) meta.Options {
	return meta.Options{URL: mc.APIURL, Version: mc.APIVersion, DatasetID: mc.PixelID, Token: mc.Token,
		TestEventCode: mc.TestEventCode, WhatsAppBusinessAccountID: mc.WABAID, HTTPClient: providerClient(adreport.DefaultSendLimit, adsWorkers),
		// One try per job run: the event's row is locked while it sends
		// (an erase skips it); the job's retries space the next ones.
		Tries: 1}
}

// startAds reports bookings from ad clicks to Meta's Conversions API: every
// booking confirmed in a chat that came from a click records its events and
// inserts their jobs in its own transaction (store.FollowChanges); river
// workers send them on a pool of their own. It returns the store the
// channels' workers note clicks in and the web adapter stores /go/telegram's
// clicks in, and what closes the pool.
func startAds(bg context.Context, wg *sync.WaitGroup, cfg Config, salonID string, store *postgres.Store,
	ads *postgres.AdReports, clock core.Clock, log *slog.Logger, m *metrics.Metrics) (func(), error) {
	mc := cfg.Meta
	client, err := meta.New(metaOptions(mc))
	if err != nil {
		return nil, err
	}
	jobPool, err := postgres.OpenSized(bg, cfg.DatabaseURL, 4)
	if err != nil {
		return nil, err
	}
	m.AddPool("ads", jobPool)
	rep := &adreport.Reporter{Store: postgres.NewAdReports(jobPool), API: client, Clock: clock, Log: log}
	runner, err := jobs.NewReports(jobPool, jobs.ReportsConfig{Reporter: rep, SalonID: salonID, Log: log, Workers: adsWorkers})
	if err != nil {
		jobPool.Close()
		return nil, err
	}
	store.FollowChanges(func(ctx context.Context, tx pgx.Tx, c booking.Change) error {
		ids, err := ads.Record(ctx, tx, c, clock.Now())
		if err != nil || len(ids) == 0 {
			return err
		}
		return runner.Insert(ctx, tx, c.Booking.SalonID, ids)
	})
	if n, err := runner.Adopt(bg); err != nil {
		jobPool.Close()
		return nil, err
	} else if n > 0 {
		log.Info("ad report jobs moved to the salon's queue", slog.Int64("jobs", n))
	}
	if err := runner.Start(bg); err != nil {
		jobPool.Close()
		return nil, err
	}
	wg.Go(func() {
		<-bg.Done()
		stop, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := runner.Stop(stop); err != nil {
			log.Warn("ad report jobs did not stop in time", slog.String("error", err.Error()))
		}
	})
	wg.Go(func() { pruneAdChats(bg, ads, salonID, clock, log) })
	log.Info("meta conversions api is on", slog.Bool("test_events", mc.TestEventCode != ""), slog.String("version", mc.APIVersion))
	return jobPool.Close, nil
}

// pruneAdChats deletes, every hour, the chats' ad clicks too old to count
// (postgres.AdReports.PruneChats).
func pruneAdChats(ctx context.Context, ads *postgres.AdReports, salonID string, clock core.Clock, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if n, err := ads.PruneChats(ctx, salonID, clock.Now()); err != nil && ctx.Err() == nil {
			log.Warn("prune ad chats", slog.String("error", err.Error()))
		} else if n > 0 {
			log.Info("pruned ad chats", slog.Int64("chats", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
