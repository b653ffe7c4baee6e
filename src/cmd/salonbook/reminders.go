package main

import (
	"context"
	"log/slog"
	"sync"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/i18n"
)

// startReminders wires the chat reminders: store records them in each booking
// change's transaction (call before anything books), and a loop on bg queues
// them into the outbox of the chat channels that are on (Telegram, WhatsApp),
// where those channels' senders take them. It returns the reminders (for the
// API) and the closer of its pool.
func startReminders(ctx, bg context.Context, wg *sync.WaitGroup, cfg Config, store *postgres.Store,
	bookings *booking.Service, salonID string, catalog *i18n.Catalog, clock core.Clock, log *slog.Logger) (*pipeline.Reminders, func(), error) {
	var channels []string
	if cfg.Telegram.Token != "" {
		channels = append(channels, telegram.Channel)
	}
	if cfg.WhatsApp.Token != "" {
		channels = append(channels, whatsapp.Channel)
	}
	pool, err := pipeline.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return nil, nil, err
	}
	rem := pipeline.NewReminders(pipeline.RemindersConfig{
		Pool: pool, SalonID: salonID, Channels: channels, Clock: clock, Catalog: catalog, Log: log,
		Salon: func(ctx context.Context) (*core.Salon, error) {
			c, err := bookings.Catalog(ctx, salonID)
			if err != nil {
				return nil, err
			}
			return c.Salon, nil
		},
	})
	store.FollowChanges(rem.Record)
	wg.Go(func() { rem.Run(bg) })
	return rem, pool.Close, nil
}
