package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

const providerToken = "284685063:TEST:ZmFrZVByb3ZpZGVyVG9rZW4"

// paymentWorld is the fake Bot API with its webhook pointed at a real
// Webhook that answers pre-checkout queries with decide, storing the rest in
// an inbox recorder; and a Transport that sends invoices with the provider
// token.
type paymentWorld struct {
	srv     *telegramtest.Server
	tr      *telegram.Transport
	inbox   *inboxRecorder
	mu      sync.Mutex
	asked   []telegram.PreCheckoutQuery
	verdict func(telegram.PreCheckoutQuery) (bool, string)
	stall   atomic.Bool // the decision waits until its context ends
}

func newPaymentWorld(t *testing.T) *paymentWorld {
	t.Helper()
	w := &paymentWorld{inbox: &inboxRecorder{}, verdict: func(telegram.PreCheckoutQuery) (bool, string) { return true, "" }}
	var u string
	w.srv, u = telegramtest.Start(t, telegramtest.Options{PaymentProviderToken: providerToken})
	b, err := telegram.NewBot(w.srv.Token(), u, nil, nil)
	require.NoError(t, err)
	w.tr = telegram.NewTransport(b, telegram.WithPaymentToken(providerToken))
	hook := httptest.NewServer(telegram.NewWebhook(w.inbox, secret, slog.New(slog.DiscardHandler),
		telegram.AnswerPreCheckout(b, func(ctx context.Context, q telegram.PreCheckoutQuery) (bool, string) {
			if w.stall.Load() {
				<-ctx.Done()
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			w.asked = append(w.asked, q)
			return w.verdict(q)
		})))
	t.Cleanup(hook.Close)
	require.NoError(t, telegram.RegisterWebhook(t.Context(), b, hook.URL, secret))
	return w
}

// invoice sends the deposit invoice of booking to anna and returns it as the
// fake recorded it.
func (w *paymentWorld) invoice(t *testing.T, booking string) telegramtest.SentMessage {
	t.Helper()
	res := w.tr.Send(t.Context(), messaging.Outgoing{ChatID: strconv.FormatInt(anna.ID, 10), Reply: &dialog.Reply{
		Text:    "Haircut with Anna, Tue 2 Mar, 10:00. The deposit counts toward the price of 35.00 EUR.",
		Invoice: &dialog.Invoice{Payload: dialog.InvoicePrefix + booking, Title: "Deposit: Haircut", Label: "Deposit", Amount: 1000, Currency: "EUR"},
	}})
	require.NoError(t, res.Err)
	sent := w.srv.SentTo(anna.ID)
	require.NotEmpty(t, sent)
	return sent[len(sent)-1]
}

func TestTransportSendsTheInvoice(t *testing.T) {
	t.Parallel()
	w := newPaymentWorld(t)
	m := w.invoice(t, "b-1")
	require.Equal(t, "sendInvoice", m.Method)
	require.Equal(t, &telegramtest.Invoice{
		Title: "Deposit: Haircut", Description: "Haircut with Anna, Tue 2 Mar, 10:00. The deposit counts toward the price of 35.00 EUR.",
		Payload: "dep:b-1", Currency: "EUR", Prices: []telegramtest.LabeledPrice{{Label: "Deposit", Amount: 1000}}, TotalAmount: 1000,
	}, m.Invoice, "amounts in the currency's smallest units")

	// A wrong provider token is Telegram's 400: given up, not retried.
	srv, u := telegramtest.Start(t, telegramtest.Options{PaymentProviderToken: "other:TEST:token"})
	bot2, err := telegram.NewBot(srv.Token(), u, nil, nil)
	require.NoError(t, err)
	res := telegram.NewTransport(bot2, telegram.WithPaymentToken(providerToken)).Send(t.Context(), messaging.Outgoing{
		ChatID: strconv.FormatInt(anna.ID, 10),
		Reply:  &dialog.Reply{Text: "x", Invoice: &dialog.Invoice{Payload: "dep:b", Title: "T", Label: "L", Amount: 1000, Currency: "EUR"}}})
	require.Error(t, res.Err)
	require.False(t, res.Retry)
	require.NotContains(t, res.Err.Error(), providerToken)

	// Without a provider token the invoice's text goes as a message.
	res = telegram.NewTransport(bot2).Send(t.Context(), messaging.Outgoing{ChatID: strconv.FormatInt(anna.ID, 10),
		Reply: &dialog.Reply{Text: "pay", Invoice: &dialog.Invoice{Payload: "dep:b", Title: "T", Label: "L", Amount: 1000, Currency: "EUR"}}})
	require.NoError(t, res.Err)
	require.Equal(t, "sendMessage", srv.SentTo(anna.ID)[0].Method)
}

func TestPreCheckoutIsAnsweredInTheWebhookRequest(t *testing.T) {
	t.Parallel()
	w := newPaymentWorld(t)
	m := w.invoice(t, "b-2")

	res, err := w.srv.Pay(t.Context(), anna, m, 500)
	require.NoError(t, err)
	require.True(t, res.Answered, "answered within Telegram's 10 s")
	require.True(t, res.OK)
	require.Equal(t, http.StatusOK, res.Status)
	require.Less(t, res.Latency, telegramtest.PreCheckoutLimit)
	w.mu.Lock()
	require.Len(t, w.asked, 1)
	q := w.asked[0]
	w.mu.Unlock()
	require.Equal(t, telegram.PreCheckoutQuery{ID: q.ID, UpdateID: "500", ChatID: strconv.FormatInt(anna.ID, 10), Payload: "dep:b-2",
		Currency: "EUR", Amount: 1000, LangHint: anna.LanguageCode}, q)

	// The query is not stored; the successful payment is, as a message of the chat.
	rows := w.inbox.stored()
	require.Len(t, rows, 1)
	require.Equal(t, "501", rows[0].updateID)
	require.Equal(t, strconv.FormatInt(anna.ID, 10), rows[0].chatID)
	d, err := telegram.Decoder{}.Decode(rows[0].payload)
	require.NoError(t, err)
	require.Equal(t, dialog.KindPaid, d.Inbound.Kind)
	require.Equal(t, "b-2", d.Inbound.Paid.BookingID)
	require.Equal(t, "telegram", d.Inbound.Paid.Provider)
	require.Equal(t, res.ChargeID, d.Inbound.Paid.ChargeID)
	require.Equal(t, res.ProviderChargeID, d.Inbound.Paid.ProviderChargeID)
	require.EqualValues(t, 1000, d.Inbound.Paid.Amount.Minor)
	require.Equal(t, "EUR", d.Inbound.Paid.Amount.Currency)

	// A refusal carries its reason to the client; nothing is charged.
	w.verdict = func(telegram.PreCheckoutQuery) (bool, string) { return false, "This time is no longer kept for you." }
	res, err = w.srv.Pay(t.Context(), anna, m, 600)
	require.NoError(t, err)
	require.True(t, res.Answered)
	require.False(t, res.OK)
	require.Equal(t, "This time is no longer kept for you.", res.Message)
	require.Len(t, w.inbox.stored(), 1, "no payment followed")
}

func TestPreCheckoutAnswerThatFailsIsAskedAgain(t *testing.T) {
	t.Parallel()
	w := newPaymentWorld(t)
	m := w.invoice(t, "b-3")
	w.srv.FailNext("answerPreCheckoutQuery", http.StatusInternalServerError, 1)
	status, err := w.srv.Deliver(t.Context(), telegramtest.PreCheckoutUpdate(700, anna, "q-700", "EUR", 1000, m.Invoice.Payload))
	require.NoError(t, err)
	require.Equal(t, http.StatusInternalServerError, status, "Telegram delivers the query again")
	status, err = w.srv.Deliver(t.Context(), telegramtest.PreCheckoutUpdate(700, anna, "q-700", "EUR", 1000, m.Invoice.Payload))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1, w.srv.Stats().PreCheckoutsAnswered)
	require.Empty(t, w.inbox.stored())
}

// TestPreCheckoutDecisionThatStallsIsRefusedInTime: a decision that takes
// too long (a slow database) leaves time to answer: a refusal, within
// Telegram's 10 s, not a lost answer.
func TestPreCheckoutDecisionThatStallsIsRefusedInTime(t *testing.T) {
	t.Parallel()
	w := newPaymentWorld(t)
	m := w.invoice(t, "b-5")
	w.stall.Store(true)
	res, err := w.srv.Pay(t.Context(), anna, m, 900)
	require.NoError(t, err)
	require.True(t, res.Answered, "answered within Telegram's 10 s")
	require.False(t, res.OK, "refused: no decision in time")
	require.Equal(t, http.StatusOK, res.Status)
	require.Less(t, res.Latency, telegramtest.PreCheckoutLimit)
	require.Empty(t, w.inbox.stored(), "nothing charged")
}

func TestFakeRefusesALatePreCheckoutAnswer(t *testing.T) {
	t.Parallel()
	clock := telegramtest.NewClock(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC))
	srv, u := telegramtest.Start(t, telegramtest.Options{Now: clock.Now})
	b, err := telegram.NewBot(srv.Token(), u, nil, nil)
	require.NoError(t, err)
	require.NoError(t, srv.Enqueue(telegramtest.PreCheckoutUpdate(1, anna, "q-1", "EUR", 1000, "dep:x")))
	clock.Advance(telegramtest.PreCheckoutLimit + time.Second)
	answered, err := b.AnswerPreCheckoutQuery(t.Context(), &bot.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: "q-1", OK: true})
	require.Error(t, err, "past the 10 s Telegram waits")
	require.False(t, answered)
	require.Contains(t, err.Error(), "query is too old")
}

func TestWebhookWithoutPaymentsKeepsPreCheckoutAsDeadLetter(t *testing.T) {
	t.Parallel()
	b := setupWebhook(t)
	rec := b.post(t, secret, telegramtest.PreCheckoutUpdate(9, anna, "q-9", "EUR", 1000, "dep:x"))
	require.Equal(t, http.StatusOK, rec.Code)
	rows := b.inbox.stored()
	require.Len(t, rows, 1)
	require.Equal(t, "undecodable", rows[0].dead)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rows[0].payload, &raw))
	require.Contains(t, raw, "pre_checkout_query")
	require.True(t, bytes.Contains(rows[0].payload, []byte("q-9")))
}
