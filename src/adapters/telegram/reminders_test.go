package telegram_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

// realWaits tells the time of a fixed clock and waits on the real one (the
// sender paces itself with it).
type realWaits struct{ *core.FixedClock }

func (realWaits) After(d time.Duration) <-chan time.Time { return time.After(d) }

// reminderWorld is a salon with reminders [24h, 2h] whose reminders go to the
// fake Bot API through the real scheduler, outbox, sender and transport.
type reminderWorld struct {
	salonID string
	clock   *core.FixedClock
	svc     *booking.Service
	rem     *pipeline.Reminders
	fake    *telegramtest.Server
	bot     *bot.Bot
}

func newReminderWorld(t *testing.T) *reminderWorld {
	t.Helper()
	ctx := context.Background()
	store, salonID := pgtest.Salon(t)
	setup := pgtest.Setup(salonID)
	setup.Salon.Policy.Reminders = []time.Duration{24 * time.Hour, 2 * time.Hour}
	_, err := store.Apply(ctx, setup)
	require.NoError(t, err)
	catalog, err := i18n.Load()
	require.NoError(t, err)
	w := &reminderWorld{salonID: salonID, clock: &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}}
	w.svc = booking.New(store, w.clock)
	w.rem = pipeline.NewReminders(pipeline.RemindersConfig{Pool: pgtest.Pool(t), SalonID: salonID, Channels: []string{telegram.Channel},
		Clock: w.clock, Catalog: catalog, Salon: func(ctx context.Context) (*core.Salon, error) {
			c, err := w.svc.Catalog(ctx, salonID)
			if err != nil {
				return nil, err
			}
			return c.Salon, nil
		}})
	store.FollowChanges(w.rem.Record)
	w.svc.RemindChats(w.rem.Remindable)
	fake, url := telegramtest.Start(t, telegramtest.Options{})
	w.fake = fake
	w.bot, err = telegram.NewBot(fake.Token(), url, &http.Client{Timeout: 10 * time.Second}, nil)
	require.NoError(t, err)
	return w
}

func (w *reminderWorld) book(t *testing.T, chat string, start time.Time) *core.Booking {
	t.Helper()
	bk, err := w.svc.Book(context.Background(), booking.BookRequest{SalonID: w.salonID, ServiceID: "haircut", MasterID: "anna",
		Start: start, Client: core.Client{Name: "C", Phone: "+4915100000" + chat}, IdempotencyKey: chat, Confirm: true,
		Source: telegram.Channel + ":" + chat})
	require.NoError(t, err)
	return bk
}

func (w *reminderWorld) tick(t *testing.T) int {
	t.Helper()
	n, _, err := w.rem.Tick(context.Background())
	require.NoError(t, err)
	return n
}

// drain runs the real sender until the outbox has nothing left to send.
func (w *reminderWorld) drain(t *testing.T) {
	t.Helper()
	pool := pgtest.Pool(t)
	sender := &messaging.Sender{Channel: telegram.Channel, Outbox: pipeline.NewOutbox(pool, w.salonID),
		Transport: telegram.NewTransport(w.bot), Clock: realWaits{w.clock}, Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sender.Run(ctx); close(done) }()
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL`,
			w.salonID).Scan(&n))
		return n == 0
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	<-done
}

func (w *reminderWorld) failed(t *testing.T) []string {
	t.Helper()
	var out []string
	require.NoError(t, pgtest.Pool(t).QueryRow(context.Background(),
		`SELECT coalesce(array_agg(failed ORDER BY id), '{}') FROM outbox WHERE salon_id = $1 AND failed IS NOT NULL`, w.salonID).Scan(&out))
	return out
}

// TestReminderQueuedThenMovedSendsOnlyTheNewTime: a reminder queued for 10:00,
// then the booking moved to 15:00 before any sender took it: the client gets
// the 15:00 reminder only.
func TestReminderQueuedThenMovedSendsOnlyTheNewTime(t *testing.T) {
	t.Parallel()
	w := newReminderWorld(t)
	bk := w.book(t, "7001", time.Date(2027, 3, 4, 9, 0, 0, 0, time.UTC)) // 10:00 Berlin
	w.clock.T = time.Date(2027, 3, 3, 9, 0, 0, 0, time.UTC)
	require.Equal(t, 1, w.tick(t), "10:00's 24h reminder is queued")
	_, err := w.svc.Reschedule(context.Background(), w.salonID, bk.ID, time.Date(2027, 3, 4, 14, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	w.clock.T = time.Date(2027, 3, 3, 14, 0, 0, 0, time.UTC)
	require.Equal(t, 1, w.tick(t), "15:00's 24h reminder is queued")
	w.drain(t)
	sent := w.fake.SentTo(7001)
	require.Len(t, sent, 1, "only the new time's reminder")
	require.Contains(t, sent[0].Text, "15:00")
	require.Equal(t, []string{"reminder superseded"}, w.failed(t))
}

// TestReminderNotSentOnceStarted: a queued reminder whose appointment has
// begun before a sender takes it is never sent.
func TestReminderNotSentOnceStarted(t *testing.T) {
	t.Parallel()
	w := newReminderWorld(t)
	w.book(t, "7002", time.Date(2027, 3, 4, 9, 0, 0, 0, time.UTC))
	w.clock.T = time.Date(2027, 3, 4, 7, 0, 0, 0, time.UTC)
	require.Equal(t, 2, w.tick(t), "the 2h reminder queued, the 24h one dropped")
	w.clock.T = time.Date(2027, 3, 4, 9, 0, 0, 0, time.UTC) // the sender comes back at the start
	w.drain(t)
	require.Empty(t, w.fake.SentTo(7002))
	require.Equal(t, []string{"too late: past its not-after time"}, w.failed(t))
}
