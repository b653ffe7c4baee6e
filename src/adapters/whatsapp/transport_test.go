package whatsapp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/whatsapp"
	"salonbook/src/adapters/whatsapp/whatsapptest"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

func (b *bundle) transport() *whatsapp.Transport { return b.transportWith(whatsapp.TransportConfig{}) }

// transportWith is a transport to the bundle's fake, with cfg's pauses, clock and log.
func (b *bundle) transportWith(cfg whatsapp.TransportConfig) *whatsapp.Transport {
	cfg.Client = whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: b.fakeURL, Version: "v21.0", PhoneNumberID: b.fake.PhoneNumberID(), Token: b.fake.Token()})
	cfg.Windows, cfg.DefaultLang = b.windows, "en"
	cfg.Templates = map[string]whatsapp.TemplateName{"en": {Name: "salon_message", Code: "en"}, "ru": {Name: "salon_message_ru", Code: "ru"}}
	return whatsapp.NewTransport(cfg)
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
	b.drainWith(t, limits, b.transport())
}

func (b *bundle) drainWith(t *testing.T, limits messaging.Limits, tr *whatsapp.Transport) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s := &messaging.Sender{Channel: whatsapp.Channel, Outbox: b.outbox, Transport: tr, Limits: limits, Log: slog.New(slog.DiscardHandler)}
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
	// WhatsApp cannot edit a message: a reply meant to replace one goes as new.
	require.NoError(t, tr.Send(ctx, messaging.Outgoing{ChatID: anna.WaID, Reply: reply, Edit: "wamid.x"}).Err)
	require.Len(t, b.fake.SentTo(anna.WaID), 2)

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
	var logs lockedBuffer
	bad := whatsapp.NewTransport(whatsapp.TransportConfig{
		Client:  whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: b.fakeURL, Version: "v21.0", PhoneNumberID: b.fake.PhoneNumberID(), Token: "wrong-token"}),
		Windows: b.windows, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	res := bad.Send(ctx, messaging.Outgoing{ChatID: anna.WaID, Reply: &dialog.Reply{Text: "hi"}})
	require.Error(t, res.Err)
	require.Equal(t, time.Minute, res.RetryAfter, "a refused token pauses the channel: the outbox waits for a new token")
	require.True(t, res.Unauthorized, "counted as unauthorized, not as a 429")
	require.False(t, res.Retry || res.ChatRetryAfter > 0)
	require.NotContains(t, res.Err.Error(), "wrong-token")
	require.NotContains(t, res.Err.Error(), anna.WaID)
	require.Contains(t, logs.String(), `"level":"ERROR"`, "logged loudly")
	require.Contains(t, logs.String(), "WHATSAPP_TOKEN")
	require.NotContains(t, logs.String(), "wrong-token", "without the token")
	requireNoNumber(t, logs.String(), anna.WaID)

	down := whatsapp.NewTransport(whatsapp.TransportConfig{
		Client:  whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: "http://127.0.0.1:1", Version: "v21.0", PhoneNumberID: "1", Token: "t"}),
		Windows: b.windows,
	})
	res = down.Send(ctx, messaging.Outgoing{ChatID: anna.WaID, Reply: &dialog.Reply{Text: "hi"}})
	require.True(t, res.Retry, "no answer is retried")
	require.NotContains(t, res.Err.Error(), "127.0.0.1")
}

// TestSenderPairLimit: the fake allows one message per 300 ms to a recipient;
// the sender's own chat limit is raised so the fake's 131056 decides, and its
// pause after one is the fake's 300 ms. Every message arrives once and in
// order; none is given up, and none is sent early: each is refused at most once
// (a sender that came back before the pause ended would be refused again).
func TestSenderPairLimit(t *testing.T) {
	t.Parallel()
	b := newBundle(t, &whatsapptest.Limits{PairEvery: 300 * time.Millisecond, PairBurst: 1})
	b.open(t, anna.WaID)
	b.open(t, "4915100000001")
	for i := range 4 {
		b.queue(t, anna.WaID, fmt.Sprint("to anna ", i))
	}
	b.queue(t, "4915100000001", "to the other")
	b.drainWith(t, messaging.Limits{Global: messaging.Rate{Count: 1000, Per: time.Second, Burst: 1000},
		PerChat: messaging.Rate{Count: 100, Per: time.Second, Burst: 100}},
		b.transportWith(whatsapp.TransportConfig{PairPause: 300 * time.Millisecond}))
	var texts []string
	for _, m := range b.fake.SentTo(anna.WaID) {
		texts = append(texts, m.Text)
	}
	require.Equal(t, []string{"to anna 0", "to anna 1", "to anna 2", "to anna 3"}, texts, "each once, in order")
	require.Len(t, b.fake.SentTo("4915100000001"), 1)
	refused := b.fake.Stats()[whatsapp.ErrorPairLimit]
	require.Positive(t, refused, "the fake's pair limit was hit")
	require.LessOrEqual(t, refused, 3, "and respected: each of anna's later messages refused at most once")
}

// TestTransportPausesGrow: Meta's limit errors in a row pause for longer each
// time (doubled, capped), per chat for the pair limit; a message that goes
// resets them; errors of sends already under way do not count twice.
func TestTransportPausesGrow(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	b := newBundleWith(t, whatsapptest.Options{Now: clock, Limits: &whatsapptest.Limits{PairEvery: time.Hour, PairBurst: 1}})
	ctx := context.Background()
	tr := b.transportWith(whatsapp.TransportConfig{Now: clock, PairPause: time.Second, MaxPause: 5 * time.Second})
	send := func(chat string) messaging.Result {
		return tr.Send(ctx, messaging.Outgoing{ChatID: chat, Reply: &dialog.Reply{Text: "hi"}})
	}
	boris := "4915199999999"
	for _, c := range []string{anna.WaID, boris} {
		b.fake.SetInbound(c, now)
		require.NoError(t, b.windows.Inbound(ctx, c, now))
		require.NoError(t, send(c).Err)
	}
	var got []time.Duration
	for range 5 {
		got = append(got, send(anna.WaID).ChatRetryAfter)
	}
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}, got)
	require.Equal(t, time.Second, send(boris).ChatRetryAfter, "another chat's count is its own")
	advance(time.Hour)
	require.NoError(t, send(anna.WaID).Err)
	require.Equal(t, time.Second, send(anna.WaID).ChatRetryAfter, "a message that went starts the count afresh")

	// The number's throughput (the fake's clock stands still: it refuses all
	// after the first): sends under way together count once.
	frozen := now
	b2 := newBundleWith(t, whatsapptest.Options{Now: func() time.Time { return frozen }, Limits: &whatsapptest.Limits{Throughput: 1}})
	tr2 := b2.transportWith(whatsapp.TransportConfig{Now: clock, ThroughputPause: time.Second, MaxPause: 3 * time.Second})
	b2.fake.SetInbound(anna.WaID, frozen)
	require.NoError(t, b2.windows.Inbound(ctx, anna.WaID, clock()))
	send2 := func() time.Duration {
		res := tr2.Send(ctx, messaging.Outgoing{ChatID: anna.WaID, Reply: &dialog.Reply{Text: "hi"}})
		require.True(t, res.Err == nil || res.RetryAfter > 0)
		return res.RetryAfter
	}
	require.Zero(t, send2())
	require.Equal(t, time.Second, send2())
	require.Equal(t, time.Second, send2(), "started during the pause: not another error in a row")
	got = nil
	for d := time.Second; len(got) < 3; got = append(got, d) {
		advance(d) // the pause is over
		d = send2()
	}
	require.Equal(t, []time.Duration{2 * time.Second, 3 * time.Second, 3 * time.Second}, got)
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

// TestSenderWindowClosedInStatus: as Meta mostly does, the fake accepts a
// free-form message outside the window (200 and a wamid) and fails it in a
// `failed` status webhook with 131047, before or after the send's answer (so
// before or, usually, after Outbox.Done records the wamid). Through the real
// sender, Outbox.Done and webhook, the message then goes as the template,
// exactly once, also when Meta redelivers the status.
func TestSenderWindowClosedInStatus(t *testing.T) {
	t.Parallel()
	for name, mode := range map[string]whatsapptest.WindowClosed{
		"StatusFirst": whatsapptest.WindowClosedStatusFirst,
		"StatusAfter": whatsapptest.WindowClosedStatusAfter,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, whatsapptest.Options{WindowClosed: mode, Limits: &whatsapptest.Limits{}})
			ctx := context.Background()
			// Our record says the window is open; Meta's says it is not.
			require.NoError(t, b.windows.Inbound(ctx, anna.WaID, time.Now().Add(-time.Hour)))
			b.queue(t, anna.WaID, "Your haircut moved to 11:00.")
			templates := func() (n int) {
				for _, m := range b.fake.SentTo(anna.WaID) {
					if m.Type == "template" {
						n++
					}
				}
				return n
			}
			run := func() {
				sctx, cancel := context.WithCancel(ctx)
				done := make(chan struct{})
				s := &messaging.Sender{Channel: whatsapp.Channel, Outbox: b.outbox, Transport: b.transport(), Log: slog.New(slog.DiscardHandler)}
				go func() { s.Run(sctx); close(done) }()
				require.Eventually(t, func() bool {
					b.fake.Settle() // the fake's status webhooks are in
					return templates() > 0 &&
						b.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL`) == 0
				}, 30*time.Second, 10*time.Millisecond)
				cancel()
				<-done
			}
			run()
			sent := b.fake.SentTo(anna.WaID)
			require.Len(t, sent, 2, "the free-form message, then the template")
			require.Equal(t, whatsapp.ErrorWindowClosed, sent[0].Failed)
			require.Equal(t, "template", sent[1].Type)
			require.Equal(t, []string{"Your haircut moved to 11:00."}, sent[1].Params)

			b.deliver(t, b.fake.StatusUpdate(sent[0].ID, anna.WaID, "failed", whatsapp.ErrorWindowClosed, time.Now())) // redelivered
			run()
			require.Equal(t, 1, templates(), "exactly once")
			require.Equal(t, 1, b.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND resent_of IS NOT NULL`))
			requireNoNumber(t, b.logs.String(), anna.WaID)
		})
	}
}

// TestTransportLogs: a template in the default language instead of the chat's
// is logged, and so is an accepted send without a wamid (its statuses cannot be
// matched); neither log names the number.
func TestTransportLogs(t *testing.T) {
	t.Parallel()
	b := newBundle(t, &whatsapptest.Limits{})
	ctx := context.Background()
	var logs lockedBuffer
	tr := b.transportWith(whatsapp.TransportConfig{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	_, err := b.pool.Exec(ctx, `INSERT INTO conversations (salon_id, channel, chat_id, state) VALUES ($1, 'whatsapp', $2, '{"lang":"de"}')`, b.salonID, anna.WaID)
	require.NoError(t, err)
	res := tr.Send(ctx, messaging.Outgoing{ChatID: anna.WaID, Reply: &dialog.Reply{Text: "Termin verschoben"}})
	require.NoError(t, res.Err)
	require.Equal(t, "salon_message", b.fake.SentTo(anna.WaID)[0].Template)
	require.Contains(t, logs.String(), "no template for the chat's language")
	require.Contains(t, logs.String(), `"lang":"de"`)

	noID := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"messaging_product":"whatsapp","messages":[]}`)
	}))
	defer noID.Close()
	tr = whatsapp.NewTransport(whatsapp.TransportConfig{Windows: b.windows, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Templates: map[string]whatsapp.TemplateName{"de": {Name: "salon_message_de", Code: "de"}},
		Client:    whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: noID.URL, Version: "v21.0", PhoneNumberID: "1", Token: "t"})})
	res = tr.Send(ctx, messaging.Outgoing{ChatID: anna.WaID, Reply: &dialog.Reply{Text: "Termin verschoben"}})
	require.NoError(t, res.Err, "accepted all the same")
	require.Empty(t, res.ProviderID)
	require.Contains(t, logs.String(), "accepted without a wamid")
	requireNoNumber(t, logs.String(), anna.WaID)
}

// TestTags: the chat and message tags in logs are keyed (HMAC) with a key from
// the app secret: stable for one secret, different for another, and never the
// number.
func TestTags(t *testing.T) {
	t.Parallel()
	k1, k2 := whatsapp.TagKey("app-secret-0123456789"), whatsapp.TagKey("another-secret-012345")
	require.Equal(t, whatsapp.ChatTag(k1, anna.WaID), whatsapp.ChatTag(whatsapp.TagKey("app-secret-0123456789"), anna.WaID))
	require.NotEqual(t, whatsapp.ChatTag(k1, anna.WaID), whatsapp.ChatTag(k2, anna.WaID), "keyed: a list of numbers hashed without the key finds nothing")
	require.NotEqual(t, whatsapp.ChatTag(k1, anna.WaID), whatsapp.ChatTag(k1, "4915112345679"))
	require.NotEqual(t, whatsapp.ChatTag(k1, "x"), whatsapp.MessageTag(k1, "x"))
	require.NotContains(t, whatsapp.MessageTag(k1, "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"), "wamid")
	require.NotEqual(t, whatsapp.TagKey(""), whatsapp.TagKey(""), "no secret: a random key")
}
