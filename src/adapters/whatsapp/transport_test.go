package whatsapp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/whatsapp"
	"salonbook/src/adapters/whatsapp/whatsapptest"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

func (b *bundle) transport() *whatsapp.Transport {
	return whatsapp.NewTransport(whatsapp.TransportConfig{
		Client:  whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: b.fakeURL, Version: "v21.0", PhoneNumberID: b.fake.PhoneNumberID(), Token: b.fake.Token()}),
		Windows: b.windows, DefaultLang: "en",
		Templates: map[string]whatsapp.TemplateName{"en": {Name: "salon_message", Code: "en"}, "ru": {Name: "salon_message_ru", Code: "ru"}},
	})
}

// queue puts a message to chat in the outbox, as a dialog step or a notice would.
func (b *bundle) queue(t *testing.T, chat, text string) {
	t.Helper()
	body, err := json.Marshal(messaging.Outgoing{ChatID: chat, Reply: &dialog.Reply{Text: text}})
	require.NoError(t, err)
	_, err = b.pool.Exec(context.Background(), `INSERT INTO outbox (salon_id, channel, chat_id, body) VALUES ($1, 'whatsapp', $2, $3)`,
		b.salonID, chat, body)
	require.NoError(t, err)
}

// open opens chat's window on both sides, as a message from the client does.
func (b *bundle) open(t *testing.T, chat string) {
	t.Helper()
	now := time.Now()
	b.fake.SetInbound(chat, now)
	require.NoError(t, b.windows.Inbound(context.Background(), chat, now))
}

// drain runs a sender until the outbox is empty (sent or failed).
func (b *bundle) drain(t *testing.T, limits messaging.Limits) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s := &messaging.Sender{Channel: whatsapp.Channel, Outbox: b.outbox, Transport: b.transport(), Limits: limits, Log: slog.New(slog.DiscardHandler)}
	go func() { s.Run(ctx); close(done) }()
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL`) == 0
	}, 60*time.Second, 20*time.Millisecond)
	cancel()
	<-done
	require.Zero(t, b.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND failed IS NOT NULL`), "nothing given up")
}

func TestTransportWindowAndTemplate(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	ctx := context.Background()
	tr := b.transport()
	reply := &dialog.Reply{Text: "Reminder: Haircut\ntomorrow at 10:00", Choices: []dialog.Choice{{ID: "ok", Label: "Fine"}}}

	// Inside the window: the reply as it is.
	b.open(t, anna.WaID)
	res := tr.Send(ctx, messaging.Outgoing{ChatID: anna.WaID, Reply: reply})
	require.NoError(t, res.Err)
	require.NotEmpty(t, res.ProviderID)
	require.Equal(t, "button", b.fake.SentTo(anna.WaID)[0].Kind)

	// A client who never wrote (a notice made by the salon): the template.
	boris := "4915199999999"
	res = tr.Send(ctx, messaging.Outgoing{ChatID: boris, Reply: reply})
	require.NoError(t, res.Err)
	got := b.fake.SentTo(boris)
	require.Len(t, got, 1)
	require.Equal(t, "salon_message", got[0].Template)
	require.Equal(t, "en", got[0].Language)
	require.Equal(t, []string{"Reminder: Haircut · tomorrow at 10:00 · 1. Fine"}, got[0].Params)

	// The window ended on Meta's side while our record says open (a clock, a
	// lost message): Meta answers 131047, the template goes, and the window is
	// recorded closed so the next message goes as a template at once.
	chloe := "4915177777777"
	require.NoError(t, b.windows.Inbound(ctx, chloe, time.Now()))
	b.fake.SetInbound(chloe, time.Now().Add(-25*time.Hour))
	res = tr.Send(ctx, messaging.Outgoing{ChatID: chloe, Reply: reply})
	require.NoError(t, res.Err)
	require.Equal(t, "salon_message", b.fake.SentTo(chloe)[0].Template)
	require.Equal(t, 1, b.fake.Stats()[whatsapp.ErrorWindowClosed])
	res = tr.Send(ctx, messaging.Outgoing{ChatID: chloe, Reply: reply})
	require.NoError(t, res.Err)
	require.Equal(t, 1, b.fake.Stats()[whatsapp.ErrorWindowClosed], "no second try of a free-form message")

	// The chat's language picks the template.
	_, err := b.pool.Exec(ctx, `INSERT INTO conversations (salon_id, channel, chat_id, state) VALUES ($1, 'whatsapp', '4915155555555', '{"lang":"ru"}')`, b.salonID)
	require.NoError(t, err)
	require.NoError(t, tr.Send(ctx, messaging.Outgoing{ChatID: "4915155555555", Reply: reply}).Err)
	require.Equal(t, "salon_message_ru", b.fake.SentTo("4915155555555")[0].Template)
}

func TestTransportErrorCodes(t *testing.T) {
	t.Parallel()
	b := newBundle(t, &whatsapptest.Limits{})
	ctx := context.Background()
	b.open(t, anna.WaID)
	bad := whatsapp.NewTransport(whatsapp.TransportConfig{
		Client:  whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: b.fakeURL, Version: "v21.0", PhoneNumberID: b.fake.PhoneNumberID(), Token: "wrong-token"}),
		Windows: b.windows,
	})
	res := bad.Send(ctx, messaging.Outgoing{ChatID: anna.WaID, Reply: &dialog.Reply{Text: "hi"}})
	require.Error(t, res.Err)
	require.False(t, res.Retry || res.RetryAfter > 0 || res.ChatRetryAfter > 0, "a refused token is not retried")
	require.NotContains(t, res.Err.Error(), "wrong-token")
	require.NotContains(t, res.Err.Error(), anna.WaID)

	down := whatsapp.NewTransport(whatsapp.TransportConfig{
		Client:  whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: "http://127.0.0.1:1", Version: "v21.0", PhoneNumberID: "1", Token: "t"}),
		Windows: b.windows,
	})
	res = down.Send(ctx, messaging.Outgoing{ChatID: anna.WaID, Reply: &dialog.Reply{Text: "hi"}})
	require.True(t, res.Retry, "no answer is retried")
	require.NotContains(t, res.Err.Error(), "127.0.0.1")
}

// TestSenderPairLimit: the fake allows one message per 300 ms to a recipient;
// the sender's own chat limit is raised so the fake's 131056 decides. Every
// message arrives once and in order; none is given up.
func TestSenderPairLimit(t *testing.T) {
	t.Parallel()
	b := newBundle(t, &whatsapptest.Limits{PairEvery: 300 * time.Millisecond, PairBurst: 1})
	b.open(t, anna.WaID)
	b.open(t, "4915100000001")
	for i := range 4 {
		b.queue(t, anna.WaID, fmt.Sprint("to anna ", i))
	}
	b.queue(t, "4915100000001", "to the other")
	b.drain(t, messaging.Limits{Global: messaging.Rate{Count: 1000, Per: time.Second, Burst: 1000},
		PerChat: messaging.Rate{Count: 100, Per: time.Second, Burst: 100}})
	var texts []string
	for _, m := range b.fake.SentTo(anna.WaID) {
		texts = append(texts, m.Text)
	}
	require.Equal(t, []string{"to anna 0", "to anna 1", "to anna 2", "to anna 3"}, texts, "each once, in order")
	require.Len(t, b.fake.SentTo("4915100000001"), 1)
	require.Positive(t, b.fake.Stats()[whatsapp.ErrorPairLimit], "the fake's pair limit was hit and respected")
}

// TestSenderThroughput: the fake allows 5 messages a second; the sender's own
// limit is raised so the fake's 130429 decides. Nothing is lost or doubled.
func TestSenderThroughput(t *testing.T) {
	t.Parallel()
	b := newBundle(t, &whatsapptest.Limits{Throughput: 5})
	for i := range 20 {
		chat := fmt.Sprint("49151000100", 10+i)
		b.open(t, chat)
		b.queue(t, chat, "hello")
	}
	b.drain(t, messaging.Limits{Global: messaging.Rate{Count: 1000, Per: time.Second, Burst: 1000}})
	require.Len(t, b.fake.Sent(), 20, "every message once")
	require.Positive(t, b.fake.Stats()[whatsapp.ErrorThroughput])
}
