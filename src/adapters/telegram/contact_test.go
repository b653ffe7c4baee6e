package telegram_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

// contactWorld is a salon whose conversations are stored in PostgreSQL and
// answered through the Transport to the fake Bot API. Each process (the
// conversation service and the Transport) is made anew on demand: a restart.
type contactWorld struct {
	salonID string
	store   *postgres.Store
	catalog *i18n.Catalog
	clock   *core.FixedClock
	fake    *telegramtest.Server
	url     string
	events  int
}

func newContactWorld(t *testing.T) *contactWorld {
	t.Helper()
	store, salonID := pgtest.Salon(t)
	_, err := store.Apply(context.Background(), pgtest.Setup(salonID))
	require.NoError(t, err)
	catalog, err := i18n.Load()
	require.NoError(t, err)
	fake, url := telegramtest.Start(t, telegramtest.Options{Limits: &telegramtest.Limits{}})
	return &contactWorld{salonID: salonID, store: store, catalog: catalog, fake: fake, url: url,
		clock: &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}}
}

// process is one running salonbook: its conversation service and Transport,
// with the labels wired as serve wires them. It remembers nothing of its own.
type process struct {
	chat *dialog.Service
	tr   *telegram.Transport
}

func (w *contactWorld) start(t *testing.T) *process {
	t.Helper()
	pool := pgtest.Pool(t)
	engine := dialog.NewEngine(dialog.Config{SalonID: w.salonID, Bookings: booking.New(w.store, w.clock),
		Waitlist: postgres.NewWaitlist(pool), Catalog: w.catalog, Clock: w.clock})
	b, err := telegram.NewBot(w.fake.Token(), w.url, &http.Client{Timeout: 10 * time.Second}, nil)
	require.NoError(t, err)
	tr := telegram.NewTransport(b, telegram.WithLabels(func(lang string) telegram.Labels {
		p := w.catalog.Printer(w.catalog.Match(lang, w.catalog.Languages()), time.UTC)
		return telegram.Labels{ShareContact: p.T("btn.share_contact")}
	}))
	return &process{chat: dialog.NewService(engine, postgres.NewConversations(pool)), tr: tr}
}

// say hands in to p's conversation of chat and sends the replies.
func (w *contactWorld) say(t *testing.T, p *process, chat int64, in dialog.Inbound) {
	t.Helper()
	w.events++
	in.ID, in.LangHint = strconv.Itoa(w.events), "ru-RU"
	id := strconv.FormatInt(chat, 10)
	replies, err := p.chat.Handle(t.Context(), dialog.ChatKey{SalonID: w.salonID, Channel: telegram.Channel, ChatID: id}, in)
	require.NoError(t, err)
	for i := range replies {
		require.Equal(t, messaging.Result{}, p.tr.Send(t.Context(), messaging.Outgoing{ChatID: id, Reply: &replies[i]}))
	}
}

func typed(text string) dialog.Inbound { return dialog.Inbound{Kind: dialog.KindText, Text: text} }

// untilPhone books a Russian client up to the phone question and returns it.
func (w *contactWorld) untilPhone(t *testing.T, p *process, chat int64) telegramtest.SentMessage {
	t.Helper()
	w.say(t, p, chat, typed("Запишите меня на стрижку к Анне завтра в 11 утра"))
	w.say(t, p, chat, typed("Иван"))
	sent := w.fake.SentTo(chat)
	ask := sent[len(sent)-1]
	require.Contains(t, ask.Markup, `"request_contact":true`, "the phone is asked: %q", ask.Text)
	return ask
}

// afterPhone checks what reached the chat after the phone question: the
// keyboard's removal, then the hold's summary with its buttons.
func afterPhone(t *testing.T, sent []telegramtest.SentMessage) {
	t.Helper()
	require.Len(t, sent, 2)
	require.Equal(t, "👍 Принято", sent[0].Text)
	require.True(t, sent[0].RemovesKeyboard, "the reply keyboard goes away")
	require.Nil(t, sent[0].Keyboard)
	require.Contains(t, sent[1].Text, "Подтвердить запись?")
	require.NotEmpty(t, sent[1].Keyboard, "the summary keeps its buttons")
	require.False(t, sent[1].RemovesKeyboard)
}

func TestContactKeyboard(t *testing.T) {
	t.Parallel()

	t.Run("RussianLabel", func(t *testing.T) {
		t.Parallel()
		w := newContactWorld(t)
		ask := w.untilPhone(t, w.start(t), 8101)
		require.Contains(t, ask.Markup, `"text":"📱 Отправить номер"`)
		require.NotContains(t, ask.Markup, "Share")
	})

	t.Run("RemovedAfterThePhoneIsTyped", func(t *testing.T) {
		t.Parallel()
		w := newContactWorld(t)
		p := w.start(t)
		w.untilPhone(t, p, 8102)
		n := len(w.fake.SentTo(8102))
		w.say(t, p, 8102, typed("+7 912 345 67 89"))
		afterPhone(t, w.fake.SentTo(8102)[n:])
	})

	t.Run("RemovedAfterThePhoneIsShared", func(t *testing.T) {
		t.Parallel()
		w := newContactWorld(t)
		p := w.start(t)
		w.untilPhone(t, p, 8103)
		n := len(w.fake.SentTo(8103))
		w.say(t, p, 8103, dialog.Inbound{Kind: dialog.KindContact, Contact: &dialog.Contact{Name: "Иван", Phone: "+79123456789", Own: true}})
		afterPhone(t, w.fake.SentTo(8103)[n:])
	})

	t.Run("RemovedAfterARestartBetween", func(t *testing.T) {
		t.Parallel()
		w := newContactWorld(t)
		w.untilPhone(t, w.start(t), 8104)
		n := len(w.fake.SentTo(8104))
		w.say(t, w.start(t), 8104, typed("+7 912 345 67 89")) // another process answers
		afterPhone(t, w.fake.SentTo(8104)[n:])
	})

	t.Run("RemovedWhenTheClientGoesElsewhere", func(t *testing.T) {
		t.Parallel()
		w := newContactWorld(t)
		p := w.start(t)
		w.untilPhone(t, p, 8105)
		n := len(w.fake.SentTo(8105))
		w.say(t, p, 8105, dialog.Inbound{Kind: dialog.KindCommand, Text: dialog.CommandCancel})
		sent := w.fake.SentTo(8105)[n:]
		require.Len(t, sent, 2)
		require.True(t, sent[0].RemovesKeyboard)
		require.NotEmpty(t, sent[1].Keyboard, "the menu")
		w.say(t, p, 8105, typed("привет"))
		for _, m := range w.fake.SentTo(8105)[n+2:] {
			require.False(t, m.RemovesKeyboard, "removed once")
		}
	})
}
