package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/i18n"
)

// reminderBacklogSeconds is how many seconds of a channel's sending the
// reminders waiting in its outbox may hold (RemindersConfig.Backlog): enough
// to keep its sender busy between the scheduler's looks, little enough that a
// live reply waits behind at most that long.
const reminderBacklogSeconds = 5

// startReminders wires the chat reminders: store records them in each booking
// change's transaction (call before anything books), bookings records a change
// for them only when the source is a chat that can be reminded, and a loop on
// bg queues them into the outbox of the chat channels that are on (Telegram,
// WhatsApp), where those channels' senders take them. With no chat channel on,
// nothing is recorded and no loop runs. It returns the reminders (for the API,
// which reads them with main, the serve pool) and the closer of the loop's pool.
func startReminders(ctx, bg context.Context, wg *sync.WaitGroup, cfg Config, store *postgres.Store, main *pgxpool.Pool,
	bookings *booking.Service, salonID string, catalog *i18n.Catalog, clock core.Clock, log *slog.Logger) (*pipeline.Reminders, func(), error) {
	var channels []string
	backlog := map[string]int{}
	if cfg.Telegram.Token != "" {
		channels = append(channels, telegram.Channel)
		backlog[telegram.Channel] = cfg.Telegram.Rate * reminderBacklogSeconds
	}
	if cfg.WhatsApp.Token != "" {
		channels = append(channels, whatsapp.Channel)
		backlog[whatsapp.Channel] = cfg.WhatsApp.Rate * reminderBacklogSeconds
	}
	rcfg := pipeline.RemindersConfig{
		SalonID: salonID, Channels: channels, Clock: clock, Catalog: catalog, Log: log, Backlog: backlog, Reads: main,
		Salon: func(ctx context.Context) (*core.Salon, error) {
			c, err := bookings.Catalog(ctx, salonID)
			if err != nil {
				return nil, err
			}
			return c.Salon, nil
		},
	}
	if len(channels) == 0 {
		rem := pipeline.NewReminders(rcfg)
		bookings.RemindChats(rem.Remindable)
		return rem, func() {}, nil
	}
	pool, err := pipeline.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return nil, nil, err
	}
	rcfg.Pool = pool
	rem := pipeline.NewReminders(rcfg)
	store.FollowChanges(rem.Record)
	bookings.RemindChats(rem.Remindable)
	wg.Go(func() { rem.Run(bg) })
	return rem, pool.Close, nil
}
