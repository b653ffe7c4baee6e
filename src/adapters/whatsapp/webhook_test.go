package whatsapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/adapters/whatsapp/whatsapptest"
	"salonbook/src/core/messaging"
)

// bundle is a salon with the WhatsApp channel's stores, a webhook on them and
// a fake Graph API that delivers to it.
type bundle struct {
	pool       *pgxpool.Pool
	salonID    string
	inbox      *pipeline.Inbox
	outbox     *pipeline.Outbox
	windows    *pipeline.ChatWindows
	deliveries *pipeline.Deliveries
	fake       *whatsapptest.Server
	fakeURL    string
	hook       *httptest.Server
	logs       *lockedBuffer
}

func newBundle(t *testing.T, limits *whatsapptest.Limits) *bundle {
	t.Helper()
	return newBundleWith(t, whatsapptest.Options{Limits: limits})
}

func newBundleWith(t *testing.T, opts whatsapptest.Options) *bundle {
	t.Helper()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	b := &bundle{pool: pool, salonID: salonID, inbox: pipeline.NewInbox(pool, salonID), outbox: pipeline.NewOutbox(pool, salonID),
		windows: pipeline.NewChatWindows(pool, salonID, whatsapp.Channel), deliveries: pipeline.NewDeliveries(pool, salonID, whatsapp.Channel),
		logs: &lockedBuffer{}}
	b.fake, b.fakeURL = whatsapptest.Start(t, opts)
	b.hook = httptest.NewServer(whatsapp.NewWebhook(whatsapp.WebhookConfig{
		Inbox: b.inbox, Windows: b.windows, Deliveries: b.deliveries, AppSecret: b.fake.AppSecret(), VerifyToken: "verify-me-0123456789",
		PhoneNumberID: b.fake.PhoneNumberID(), Log: slog.New(slog.NewJSONHandler(b.logs, nil)),
	}))
	t.Cleanup(b.hook.Close)
	b.fake.SetWebhook(b.hook.URL)
	return b
}

func (b *bundle) deliver(t *testing.T, body []byte) {
	t.Helper()
	status, err := b.fake.Deliver(context.Background(), body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
}

func (b *bundle) count(t *testing.T, query string) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), query, b.salonID).Scan(&n))
	return n
}

var anna = whatsapptest.Client{WaID: "4915112345678", Name: "Anna"}

// lockedBuffer lets concurrent requests log into one buffer.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// requireNoNumber: neither the number nor a wamid (which embeds it) is in log.
func requireNoNumber(t *testing.T, log, waID string) {
	t.Helper()
	require.NotContains(t, log, waID, "the phone number never reaches the log")
	require.NotContains(t, log, "wamid.", "nor a wamid, which embeds it")
}

func TestWebhookVerification(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	get := func(q url.Values) (int, string) {
		resp, err := http.Get(b.hook.URL + "?" + q.Encode())
		require.NoError(t, err)
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.String()
	}
	status, body := get(url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"verify-me-0123456789"}, "hub.challenge": {"1158201444"}})
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "1158201444", body, "the challenge is echoed")
	for name, q := range map[string]url.Values{
		"WrongToken":   {"hub.mode": {"subscribe"}, "hub.verify_token": {"verify-me-0123456789x"}, "hub.challenge": {"1"}},
		"NoToken":      {"hub.mode": {"subscribe"}, "hub.challenge": {"1"}},
		"WrongMode":    {"hub.mode": {"unsubscribe"}, "hub.verify_token": {"verify-me-0123456789"}, "hub.challenge": {"1"}},
		"ScriptInside": {"hub.mode": {"subscribe"}, "hub.verify_token": {"verify-me-0123456789"}, "hub.challenge": {"<script>"}},
	} {
		status, body := get(q)
		require.Equal(t, http.StatusForbidden, status, name)
		require.NotContains(t, body, "<script>", name)
	}
}

func TestWebhookSignature(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	body := b.fake.TextMessage(anna, b.fake.NewWAMID(anna.WaID), "hello")
	for name, sig := range map[string]string{
		"Missing":     "",
		"WrongSecret": whatsapp.Sign([]byte("another-secret"), body),
		"NotHex":      "sha256=" + strings.Repeat("zz", 32),
		"NoPrefix":    strings.TrimPrefix(b.fake.Sign(body), "sha256="),
		"OtherBody":   b.fake.Sign(append(body, ' ')),
	} {
		status, err := b.fake.DeliverUnsigned(context.Background(), body, sig)
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, status, name)
	}
	require.Zero(t, b.count(t, `SELECT count(*) FROM inbox WHERE salon_id = $1`), "nothing stored")
	require.Zero(t, b.count(t, `SELECT count(*) FROM chat_windows WHERE salon_id = $1`), "not even the window")

	// The right signature over the same raw bytes is taken.
	b.deliver(t, body)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM inbox WHERE salon_id = $1`))
	requireNoNumber(t, b.logs.String(), anna.WaID)
}

func TestWebhookRedeliveryProcessedOnce(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	body := b.fake.TextMessage(anna, b.fake.NewWAMID(anna.WaID), "hello")
	b.deliver(t, body)
	b.deliver(t, body) // Meta redelivers
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM inbox WHERE salon_id = $1 AND channel = 'whatsapp' AND chat_id = '4915112345678'`))

	handled := 0
	step := func(p messaging.Pending) (messaging.Handled, error) {
		handled++
		d, err := whatsapp.Decoder{}.Decode(p.Payload)
		require.NoError(t, err)
		require.Equal(t, "hello", d.Inbound.Text)
		require.Equal(t, "Anna", d.Inbound.Name)
		return messaging.Handled{}, nil
	}
	ctx := context.Background()
	for range 3 {
		_, err := b.inbox.Next(ctx, whatsapp.Channel, step)
		require.NoError(t, err)
	}
	require.Equal(t, 1, handled, "processed once")
	last, _, _, err := b.windows.Window(ctx, anna.WaID)
	require.NoError(t, err)
	require.False(t, last.IsZero(), "the client's message opened the window")
}

func TestWebhookStatusesOutOfOrder(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	ctx := context.Background()
	var id int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO outbox (salon_id, channel, chat_id, body, sent_at, provider_id)
		VALUES ($1, 'whatsapp', $2, '{"chat_id":"x"}', now(), 'wamid.OUT1') RETURNING id`, b.salonID, anna.WaID).Scan(&id))
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	state := func() pipeline.Delivery {
		d, err := b.deliveries.State(ctx, id)
		require.NoError(t, err)
		return d
	}
	require.Equal(t, pipeline.Delivery{}, state())
	b.deliver(t, b.fake.StatusUpdate("wamid.OUT1", anna.WaID, "read", 0, at.Add(2*time.Second)))
	b.deliver(t, b.fake.StatusUpdate("wamid.OUT1", anna.WaID, "delivered", 0, at.Add(time.Second)))
	b.deliver(t, b.fake.StatusUpdate("wamid.OUT1", anna.WaID, "sent", 0, at))
	b.deliver(t, b.fake.StatusUpdate("wamid.OUT1", anna.WaID, "sent", 0, at)) // redelivered
	require.Equal(t, pipeline.Delivery{Status: "read"}, state(), "late sent and delivered do not regress read")
	require.Equal(t, 3, b.count(t, `SELECT count(*) FROM message_statuses WHERE salon_id = $1`))

	// A status that comes before its send is recorded counts once the send is.
	b.deliver(t, b.fake.StatusUpdate("wamid.OUT2", anna.WaID, "delivered", 0, at))
	var id2 int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO outbox (salon_id, channel, chat_id, body, sent_at, provider_id)
		VALUES ($1, 'whatsapp', $2, '{"chat_id":"x"}', now(), 'wamid.OUT2') RETURNING id`, b.salonID, anna.WaID).Scan(&id2))
	d, err := b.deliveries.State(ctx, id2)
	require.NoError(t, err)
	require.Equal(t, "delivered", d.Status)

	// Failed is recorded with its code and wins over what came before.
	b.deliver(t, b.fake.StatusUpdate("wamid.OUT2", anna.WaID, "failed", 131026, at.Add(time.Second)))
	b.deliver(t, b.fake.StatusUpdate("wamid.OUT2", anna.WaID, "sent", 0, at))
	d, err = b.deliveries.State(ctx, id2)
	require.NoError(t, err)
	require.Equal(t, pipeline.Delivery{Status: "failed", Code: 131026}, d)
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1`), "a failure other than the window queues nothing")
}

func TestWebhookWindowClosedStatusResendsOnce(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	ctx := context.Background()
	require.NoError(t, b.windows.Inbound(ctx, anna.WaID, time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)))
	_, err := b.pool.Exec(ctx, `INSERT INTO outbox (salon_id, channel, chat_id, body, sent_at, provider_id)
		VALUES ($1, 'whatsapp', $2, '{"chat_id":"4915112345678","reply":{"text":"Reminder"}}', now(), 'wamid.OUT3')`, b.salonID, anna.WaID)
	require.NoError(t, err)
	failed := b.fake.StatusUpdate("wamid.OUT3", anna.WaID, "failed", whatsapp.ErrorWindowClosed, time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
	b.deliver(t, failed)
	b.deliver(t, failed) // redelivered: not queued twice
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND sent_at IS NULL AND inbox_id IS NULL
		AND body->'reply'->>'text' = 'Reminder'`), "queued again once, to go as the template")
	last, closed, _, err := b.windows.Window(ctx, anna.WaID)
	require.NoError(t, err)
	require.True(t, closed.After(last), "the window is recorded closed")
}

func TestWebhookMalformedIsDeadLetter(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	for _, body := range [][]byte{
		[]byte(`{"object":"whatsapp_business_account","entry":[`),
		[]byte(`{"object":"page","entry":[]}`),
		[]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"text"}]}}]}]}`),
	} {
		b.deliver(t, body)
		b.deliver(t, body) // redelivered: kept once
	}
	require.Equal(t, 3, b.count(t, `SELECT count(*) FROM inbox WHERE salon_id = $1 AND dead IS NOT NULL AND chat_id = '' AND handled_at IS NOT NULL`))
	found, err := b.inbox.Next(context.Background(), whatsapp.Channel, func(messaging.Pending) (messaging.Handled, error) {
		t.Fatal("a dead letter is never handled")
		return messaging.Handled{}, nil
	})
	require.NoError(t, err)
	require.False(t, found)
}

func TestWebhookBodyTooLarge(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	body := bytes.Repeat([]byte(" "), whatsapp.MaxNotificationBytes+1)
	status, err := b.fake.Deliver(context.Background(), body)
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestEntityTooLarge, status)
	require.Zero(t, b.count(t, `SELECT count(*) FROM inbox WHERE salon_id = $1`))
}

// failingInbox refuses every row, as a database that is down does.
type failingInbox struct{}

func (failingInbox) Add(context.Context, string, string, string, []byte, string) error {
	return errors.New("database down")
}

func (failingInbox) AddInbound(context.Context, string, string, string, []byte, time.Time) error {
	return errors.New("database down")
}

// failingWindows refuses to record a client's message time by itself.
type failingWindows struct{ whatsapp.Windows }

func (failingWindows) Inbound(context.Context, string, time.Time) error {
	return errors.New("database down")
}

// deliverTo delivers one message from anna to a webhook made of cfg and b's
// fake, and returns the status it answered.
func (b *bundle) deliverTo(t *testing.T, cfg whatsapp.WebhookConfig) int {
	t.Helper()
	cfg.AppSecret, cfg.PhoneNumberID, cfg.Deliveries = b.fake.AppSecret(), b.fake.PhoneNumberID(), b.deliveries
	hook := httptest.NewServer(whatsapp.NewWebhook(cfg))
	defer hook.Close()
	b.fake.SetWebhook(hook.URL)
	status, err := b.fake.Deliver(context.Background(), b.fake.TextMessage(anna, b.fake.NewWAMID(anna.WaID), "hello"))
	require.NoError(t, err)
	return status
}

// TestWebhookStoreDownIs500: a message is acknowledged only once it is stored
// with its window; a store that fails stores neither and answers 500.
func TestWebhookStoreDownIs500(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	require.Equal(t, http.StatusInternalServerError, b.deliverTo(t, whatsapp.WebhookConfig{Inbox: failingInbox{}, Windows: b.windows}),
		"not acknowledged: Meta delivers it again")
	require.Zero(t, b.count(t, `SELECT count(*) FROM chat_windows WHERE salon_id = $1`), "nor the window: it goes with the message")
}

// TestWebhookWindowGoesWithTheMessage: the client's message time is written by
// the inbox with the message, in one statement (a group commit's batch), so a
// worker that answers the message finds the window open; never by a write of
// its own per request, which cost a commit each outside the group commit.
func TestWebhookWindowGoesWithTheMessage(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	require.Equal(t, http.StatusOK, b.deliverTo(t, whatsapp.WebhookConfig{Inbox: b.inbox, Windows: failingWindows{b.windows}}))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM inbox WHERE salon_id = $1`))
	last, _, _, err := b.windows.Window(context.Background(), anna.WaID)
	require.NoError(t, err)
	require.False(t, last.IsZero(), "the message opened the window")
}

// TestWebhookOtherNumber: one Meta app's callback can carry other business
// numbers' notifications: they are acknowledged and not stored.
func TestWebhookOtherNumber(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	ours := []byte(`"phone_number_id":"` + b.fake.PhoneNumberID() + `"`)
	other := func(body []byte) []byte {
		require.Contains(t, string(body), string(ours))
		return bytes.ReplaceAll(body, ours, []byte(`"phone_number_id":"999000111222333"`))
	}
	b.deliver(t, other(b.fake.TextMessage(anna, b.fake.NewWAMID(anna.WaID), "hello")))
	b.deliver(t, other(b.fake.StatusUpdate("wamid.OTHER", anna.WaID, "failed", whatsapp.ErrorWindowClosed, time.Now())))
	// One notification with a change for another number and one for ours.
	var mixed map[string]any
	require.NoError(t, json.Unmarshal(b.fake.TextMessage(anna, b.fake.NewWAMID(anna.WaID), "ours"), &mixed))
	var foreign map[string]any
	require.NoError(t, json.Unmarshal(other(b.fake.TextMessage(anna, b.fake.NewWAMID(anna.WaID), "theirs")), &foreign))
	entry := mixed["entry"].([]any)[0].(map[string]any)
	entry["changes"] = append(foreign["entry"].([]any)[0].(map[string]any)["changes"].([]any), entry["changes"].([]any)...)
	body, err := json.Marshal(mixed)
	require.NoError(t, err)
	b.deliver(t, body)

	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM inbox WHERE salon_id = $1`), "only our number's message")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM inbox WHERE salon_id = $1 AND convert_from(payload, 'UTF8') LIKE '%"ours"%'`))
	require.Zero(t, b.count(t, `SELECT count(*) FROM message_statuses WHERE salon_id = $1`))
	require.Zero(t, b.count(t, `SELECT count(*) FROM inbox WHERE salon_id = $1 AND dead IS NOT NULL`), "skipped, not dead letters")
}

// TestWebhookWindowClosedBeforeSendRecorded: Meta's failed-131047 status can
// arrive before Outbox.Done has stored the wamid (the status webhook beats the
// send's answer). The copy is queued when the send is recorded, once, and a
// redelivery of the status does not queue another.
func TestWebhookWindowClosedBeforeSendRecorded(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	ctx := context.Background()
	b.queue(t, anna.WaID, "Reminder")
	due, err := b.outbox.Due(ctx, whatsapp.Channel, 10, 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	wamid := b.fake.NewWAMID(anna.WaID)
	failed := b.fake.StatusUpdate(wamid, anna.WaID, "failed", whatsapp.ErrorWindowClosed, time.Now())
	b.deliver(t, failed) // before the send is recorded
	copies := func() int {
		return b.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND resent_of IS NOT NULL AND body->'reply'->>'text' = 'Reminder'`)
	}
	require.Zero(t, copies(), "nothing to copy yet")

	q := due[0]
	q.ProviderID = wamid
	require.NoError(t, b.outbox.Done(ctx, q, ""))
	require.Equal(t, 1, copies(), "recording the send queued the copy")
	b.deliver(t, failed) // redelivered
	require.NoError(t, b.outbox.Done(ctx, q, ""))
	require.Equal(t, 1, copies(), "once")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL`))
	requireNoNumber(t, b.logs.String(), anna.WaID)
}

// failingResend records statuses but cannot queue a copy.
type failingResend struct{ *pipeline.Deliveries }

func (failingResend) Resend(context.Context, string) (bool, error) {
	return false, errors.New("database down")
}

func TestWebhookResendFailureIs500(t *testing.T) {
	t.Parallel()
	b := newBundle(t, nil)
	hook := httptest.NewServer(whatsapp.NewWebhook(whatsapp.WebhookConfig{
		Inbox: b.inbox, Windows: b.windows, Deliveries: failingResend{b.deliveries}, AppSecret: b.fake.AppSecret(),
		PhoneNumberID: b.fake.PhoneNumberID(),
	}))
	defer hook.Close()
	b.fake.SetWebhook(hook.URL)
	status, err := b.fake.Deliver(context.Background(),
		b.fake.StatusUpdate(b.fake.NewWAMID(anna.WaID), anna.WaID, "failed", whatsapp.ErrorWindowClosed, time.Now()))
	require.NoError(t, err)
	require.Equal(t, http.StatusInternalServerError, status, "Meta redelivers, and the resend is tried again")
}
