package whatsapp_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

// TestReminderWindowOrTemplate: a booking reminder to a client whose 24-hour
// window is open goes free-form (reply buttons, free of charge); to one whose
// window has closed, as the reminder template (a utility template, charged),
// with the reminder in its one parameter; other messages outside the window
// keep the general template.
func TestReminderWindowOrTemplate(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	ctx := context.Background()
	store := postgres.NewStore(b.pool)
	setup := pgtest.Setup(b.salonID)
	setup.Salon.Policy.Reminders = []time.Duration{24 * time.Hour}
	_, err := store.Apply(ctx, setup)
	require.NoError(t, err)
	catalog, err := i18n.Load()
	require.NoError(t, err)
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	svc := booking.New(store, clock)
	rem := pipeline.NewReminders(pipeline.RemindersConfig{Pool: b.pool, SalonID: b.salonID, Channels: []string{whatsapp.Channel},
		Clock: clock, Catalog: catalog, Salon: func(ctx context.Context) (*core.Salon, error) {
			c, err := svc.Catalog(ctx, b.salonID)
			if err != nil {
				return nil, err
			}
			return c.Salon, nil
		}})
	store.FollowChanges(rem.Record)
	boris := "4915199999999"
	for i, chat := range []string{anna.WaID, boris} {
		_, err := svc.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
			Start: time.Date(2027, 3, 3, 9+i, 0, 0, 0, time.UTC), Client: core.Client{Name: "C", Phone: "+" + chat},
			IdempotencyKey: chat, Confirm: true, Source: whatsapp.Channel + ":" + chat})
		require.NoError(t, err)
	}
	b.open(t, anna.WaID) // Anna wrote within the last 24 hours; Boris did not
	clock.T = time.Date(2027, 3, 2, 10, 0, 0, 0, time.UTC)
	n, _, err := rem.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	b.queue(t, boris, "Some other message")
	b.drainWith(t, messaging.Limits{}, b.transportWith(whatsapp.TransportConfig{
		ReminderTemplates: map[string]whatsapp.TemplateName{"en": {Name: "salon_reminder", Code: "en"}}}))

	sent := b.fake.SentTo(anna.WaID)
	require.Len(t, sent, 1)
	require.Equal(t, "interactive", sent[0].Type, "inside the window: free-form")
	require.Equal(t, "button", sent[0].Kind)
	require.Len(t, sent[0].Buttons, 3)
	require.Contains(t, sent[0].Text, "Reminder: Haircut with Anna")

	sent = b.fake.SentTo(boris)
	require.Len(t, sent, 2)
	require.Equal(t, "template", sent[0].Type, "outside the window: the reminder template")
	require.Equal(t, "salon_reminder", sent[0].Template)
	require.Len(t, sent[0].Params, 1)
	require.Contains(t, sent[0].Params[0], "Reminder: Haircut with Anna")
	require.Contains(t, sent[0].Params[0], "1. I'll be there")
	require.Equal(t, "salon_message", sent[1].Template, "anything else: the general template")
}

// TestReminderTemplateLanguage: with a reminder template in English only and
// general templates in English and Russian, a Russian chat outside its window
// gets its reminder inside the Russian general template (its text is
// Russian), not the English reminder template; the missing reminder template
// is logged once.
func TestReminderTemplateLanguage(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	ctx := context.Background()
	var logs lockedBuffer
	tr := b.transportWith(whatsapp.TransportConfig{Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		ReminderTemplates: map[string]whatsapp.TemplateName{"en": {Name: "salon_reminder", Code: "en"}}})
	ru, en := "4915155555501", "4915155555502"
	_, err := b.pool.Exec(ctx, `INSERT INTO conversations (salon_id, channel, chat_id, state) VALUES ($1, 'whatsapp', $2, '{"lang":"ru"}')`,
		b.salonID, ru)
	require.NoError(t, err)
	reply := &dialog.Reply{Text: "Напоминаем: Стрижка"}
	for range 2 {
		require.NoError(t, tr.Send(ctx, messaging.Outgoing{ChatID: ru, Reply: reply, Template: messaging.TemplateReminder}).Err)
	}
	require.NoError(t, tr.Send(ctx, messaging.Outgoing{ChatID: en, Reply: reply, Template: messaging.TemplateReminder}).Err)
	sent := b.fake.SentTo(ru)
	require.Len(t, sent, 2)
	require.Equal(t, "salon_message_ru", sent[0].Template, "the chat's language's general template")
	require.Equal(t, "ru", sent[0].Language)
	require.Equal(t, "salon_reminder", b.fake.SentTo(en)[0].Template, "an English chat: the reminder template")
	require.Equal(t, 1, strings.Count(logs.String(), "no reminder template for the chat's language"), logs.String())
}
