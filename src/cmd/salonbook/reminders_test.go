package main

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/i18n"
)

// TestRemindersOffWithoutChatChannels: with no chat channel on, serve opens
// no scheduler pool and runs no loop (the database URL is not even used), and
// bookings record no change for reminders; the API's reads use the serve pool.
func TestRemindersOffWithoutChatChannels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, salonID := pgtest.Salon(t)
	setup := pgtest.Setup(salonID)
	setup.Salon.Policy.Reminders = []time.Duration{2 * time.Hour}
	_, err := store.Apply(ctx, setup)
	require.NoError(t, err)
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	bookings := booking.New(store, clock)
	catalog, err := i18n.Load()
	require.NoError(t, err)
	changes := 0
	store.FollowChanges(func(context.Context, pgx.Tx, booking.Change) error { changes++; return nil })
	var wg sync.WaitGroup
	cfg := Config{DatabaseURL: "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"}
	rem, closer, err := startReminders(ctx, ctx, &wg, cfg, store, pgtest.Pool(t), bookings, salonID, catalog, clock, slog.New(slog.DiscardHandler))
	require.NoError(t, err, "no pool is opened")
	closer()
	wg.Wait() // returns at once: no loop runs
	require.False(t, rem.Remindable("telegram:1"))
	_, err = bookings.Book(ctx, booking.BookRequest{SalonID: salonID, ServiceID: "haircut", MasterID: "anna",
		Start: time.Date(2027, 3, 3, 9, 0, 0, 0, time.UTC), Client: core.Client{Name: "C", Phone: "+4915100000001"},
		IdempotencyKey: "k", Confirm: true, Source: "telegram:1"})
	require.NoError(t, err)
	require.Zero(t, changes, "nobody to tell: no change recorded")
	due, err := rem.Scheduled(ctx, salonID, "00000000-0000-0000-0000-000000000001", clock.T)
	require.NoError(t, err, "the API reads through the serve pool")
	require.Empty(t, due)
}
