package stripe_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/stripe"
	"salonbook/src/adapters/stripe/stripetest"
	"salonbook/src/core"
)

func newClient(t *testing.T, srv *stripetest.Server, url string) *stripe.Client {
	t.Helper()
	c, err := stripe.New(stripe.Config{SecretKey: srv.Key(), APIURL: url})
	require.NoError(t, err)
	return c
}

func session(booking string) stripe.Session {
	return stripe.Session{BookingID: booking, SalonID: "demo", Title: "Deposit: Haircut",
		Amount: core.Money{Minor: 1000, Currency: "EUR"}, ExpiresAt: time.Now().Add(45 * time.Minute).Truncate(time.Second),
		Locale: "ru", SuccessURL: "https://salon.example/stripe/done", CancelURL: "https://salon.example/stripe/done"}
}

func TestCheckoutSessionOncePerBooking(t *testing.T) {
	t.Parallel()
	srv, url := stripetest.Start(t, stripetest.Options{})
	c := newClient(t, srv, url)
	s := session("b-1")
	page, id, err := c.Checkout(t.Context(), s)
	require.NoError(t, err)
	require.Regexp(t, `^https://checkout\.stripe\.com/c/pay/cs_test_`, page)
	obj := srv.Session(id)
	require.Equal(t, "checkout.session", obj["object"])
	require.EqualValues(t, 1000, obj["amount_total"])
	require.Equal(t, "eur", obj["currency"], "Stripe's currencies are lower case")
	require.Equal(t, "b-1", obj["client_reference_id"])
	// Only ids go to Stripe: never the chat (a phone number, a web chat's session).
	require.Equal(t, map[string]string{"booking": "b-1", "salon": "demo"}, obj["metadata"])
	require.Equal(t, map[string]string{"booking": "b-1", "salon": "demo"}, srv.IntentMetadata(id))
	require.Equal(t, "ru", obj["locale"])
	require.EqualValues(t, s.ExpiresAt.Unix(), obj["expires_at"])

	again, id2, err := c.Checkout(t.Context(), s)
	require.NoError(t, err)
	require.Equal(t, id, id2, "the booking id is the idempotency key: the same page")
	require.Equal(t, page, again)
	require.Len(t, srv.Sessions(), 1)

	// The same booking asked with other parameters: Stripe refuses the key.
	other := s
	other.Amount.Minor = 2000
	_, _, err = c.Checkout(t.Context(), other)
	var se *stripe.Error
	require.True(t, errors.As(err, &se), "%v", err)
	require.Equal(t, "idempotency_error", se.Type)
	require.False(t, se.Retryable())

	// Stripe's rules on the page's life.
	short := session("b-2")
	short.ExpiresAt = time.Now().Add(10 * time.Minute)
	_, _, err = c.Checkout(t.Context(), short)
	require.True(t, errors.As(err, &se))
	require.Equal(t, http.StatusBadRequest, se.Status)
	require.Equal(t, "invalid_request_error", se.Type)
	require.NotContains(t, err.Error(), srv.Key())

	// A wrong key is Stripe's 401, and the key is not in the error.
	bad, err := stripe.New(stripe.Config{SecretKey: "sk_test_wrongwrongwrong", APIURL: url})
	require.NoError(t, err)
	_, _, err = bad.Checkout(t.Context(), session("b-3"))
	require.True(t, errors.As(err, &se))
	require.Equal(t, http.StatusUnauthorized, se.Status)
	require.NotContains(t, err.Error(), "wrongwrong")
}

func TestRefundOncePerKey(t *testing.T) {
	t.Parallel()
	srv, url := stripetest.Start(t, stripetest.Options{})
	c := newClient(t, srv, url)
	_, id, err := c.Checkout(t.Context(), session("b-1"))
	require.NoError(t, err)
	_, err = srv.Pay(t.Context(), id) // no webhook set: the event is only made
	require.NoError(t, err)
	pi, _ := srv.Session(id)["payment_intent"].(string)
	require.NotEmpty(t, pi)

	r1, err := c.Refund(t.Context(), pi, 1000, "refund-1")
	require.NoError(t, err)
	r2, err := c.Refund(t.Context(), pi, 1000, "refund-1")
	require.NoError(t, err, "the same key: the first refund again")
	require.Equal(t, r1, r2)
	require.EqualValues(t, 1000, srv.Refunded(pi))
	require.Equal(t, 1, srv.Refunds())

	_, err = c.Refund(t.Context(), pi, 1000, "refund-2")
	var se *stripe.Error
	require.True(t, errors.As(err, &se))
	require.True(t, se.AlreadyRefunded())
	require.False(t, se.Retryable())
	_, err = c.Refund(t.Context(), "pi_nosuchintent", 1000, "refund-3")
	require.True(t, errors.As(err, &se))
	require.Equal(t, "resource_missing", se.Code)
}

// fakeEvents records what the webhook hands on.
type fakeEvents struct {
	mu      sync.Mutex
	paid    []stripe.Paid
	expired []stripe.Expired
	fail    error
}

func (f *fakeEvents) Paid(_ context.Context, p stripe.Paid) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paid = append(f.paid, p)
	return f.fail
}

func (f *fakeEvents) Expired(_ context.Context, e stripe.Expired) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expired = append(f.expired, e)
	return f.fail
}

// memDeliveries is Deliveries in memory (postgres.Payments in serve).
type memDeliveries struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (m *memDeliveries) Fresh(_ context.Context, id string, at time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.seen[id]; ok && !prev.Before(at) {
		return false, nil
	}
	m.seen[id] = at
	return true, nil
}

type hookWorld struct {
	srv    *stripetest.Server
	client *stripe.Client
	events *fakeEvents
	seen   *memDeliveries
	logs   *bytes.Buffer
}

func newHookWorld(t *testing.T) *hookWorld {
	t.Helper()
	w := &hookWorld{events: &fakeEvents{}, seen: &memDeliveries{seen: map[string]time.Time{}}, logs: &bytes.Buffer{}}
	var url string
	w.srv, url = stripetest.Start(t, stripetest.Options{})
	w.client = newClient(t, w.srv, url)
	hook := httptest.NewServer(stripe.NewWebhook(w.srv.WebhookSecret(), "demo", w.events, w.seen, slog.New(slog.NewTextHandler(w.logs, nil))))
	t.Cleanup(hook.Close)
	w.srv.SetWebhook(hook.URL)
	return w
}

func TestWebhookHandsOnVerifiedEvents(t *testing.T) {
	t.Parallel()
	w := newHookWorld(t)
	_, id, err := w.client.Checkout(t.Context(), session("b-1"))
	require.NoError(t, err)
	ev, err := w.srv.Pay(t.Context(), id)
	require.NoError(t, err)
	pi, _ := w.srv.Session(id)["payment_intent"].(string)
	require.Equal(t, []stripe.Paid{{EventID: ev, SessionID: id, PaymentIntent: pi, BookingID: "b-1",
		Amount: core.Money{Minor: 1000, Currency: "EUR"}}}, w.events.paid)

	// Stripe's retry (minutes later) is signed anew: handed on again (the
	// payment is recorded once downstream).
	body, sig, err := w.srv.Signed(ev, time.Now().Add(2*time.Second))
	require.NoError(t, err)
	status, err := w.srv.Post(t.Context(), body, sig, ev)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, w.events.paid, 2)

	_, id2, err := w.client.Checkout(t.Context(), session("b-2"))
	require.NoError(t, err)
	_, err = w.srv.Expire(t.Context(), id2)
	require.NoError(t, err)
	require.Len(t, w.events.expired, 1)
	require.Equal(t, "b-2", w.events.expired[0].BookingID)

	// A failure downstream answers 500: Stripe delivers again.
	w.events.fail = core.Errorf(core.EUnavailable, "error.unavailable", "test: down")
	body, sig, err = w.srv.Signed(ev, time.Now().Add(4*time.Second))
	require.NoError(t, err)
	status, err = w.srv.Post(t.Context(), body, sig, ev)
	require.NoError(t, err)
	require.Equal(t, http.StatusInternalServerError, status)
	require.NotContains(t, w.logs.String(), w.srv.WebhookSecret())
}

func TestWebhookRefusesForgedOldAndReplayedDeliveries(t *testing.T) {
	t.Parallel()
	w := newHookWorld(t)
	_, id, err := w.client.Checkout(t.Context(), session("b-1"))
	require.NoError(t, err)
	w.srv.SetWebhook("") // make the event without sending it
	_, err = w.srv.Pay(t.Context(), id)
	require.NoError(t, err)
	events := w.srv.Events()
	ev := events[len(events)-1]
	hook := httptest.NewServer(stripe.NewWebhook(w.srv.WebhookSecret(), "demo", w.events, w.seen, nil))
	t.Cleanup(hook.Close)
	w.srv.SetWebhook(hook.URL)

	post := func(body []byte, sig string) int {
		t.Helper()
		status, err := w.srv.Post(t.Context(), body, sig, ev.ID)
		require.NoError(t, err)
		return status
	}
	now := time.Now()
	require.Equal(t, http.StatusBadRequest, post(ev.Body, ""), "not signed")
	require.Equal(t, http.StatusBadRequest, post(ev.Body, "v1=abc"), "no timestamp")
	require.Equal(t, http.StatusBadRequest, post(ev.Body, stripetest.Sign(ev.Body, now, "whsec_someoneelse0000")), "another secret")
	forged := bytes.Replace(ev.Body, []byte(`"amount_total":1000`), []byte(`"amount_total":1`), 1)
	require.Equal(t, http.StatusBadRequest, post(forged, stripetest.Sign(ev.Body, now, w.srv.WebhookSecret())), "a changed body")
	require.Equal(t, http.StatusBadRequest, post(ev.Body, stripetest.Sign(ev.Body, now.Add(-stripe.Tolerance-time.Second), w.srv.WebhookSecret())),
		"signed more than 300 s ago")
	require.Empty(t, w.events.paid, "nothing handed on")
	require.Empty(t, w.seen.seen, "nothing stored before the signature is good")

	sig := stripetest.Sign(ev.Body, now, w.srv.WebhookSecret())
	require.Equal(t, http.StatusOK, post(ev.Body, sig))
	require.Equal(t, http.StatusBadRequest, post(ev.Body, sig), "the same signed delivery again: a replay")
	// The replay with a later t= put first: stripe-go checks the signature
	// against the last t=, so it is good; a second t= is refused.
	require.Equal(t, http.StatusBadRequest, post(ev.Body, fmt.Sprintf("t=%d,%s", now.Unix()+60, sig)), "two t=: a replay in disguise")
	// Signed in the future (beyond the tolerance): refused, it would outlive every replay check.
	require.Equal(t, http.StatusBadRequest, post(ev.Body, stripetest.Sign(ev.Body, now.Add(stripe.Tolerance+time.Minute), w.srv.WebhookSecret())),
		"signed more than 300 s ahead")
	require.Len(t, w.events.paid, 1)

	// Another salon's session on the same Stripe account: acknowledged, not handed on.
	other := httptest.NewServer(stripe.NewWebhook(w.srv.WebhookSecret(), "other", w.events, &memDeliveries{seen: map[string]time.Time{}}, nil))
	t.Cleanup(other.Close)
	w.srv.SetWebhook(other.URL)
	require.Equal(t, http.StatusOK, post(ev.Body, stripetest.Sign(ev.Body, now, w.srv.WebhookSecret())))
	require.Len(t, w.events.paid, 1)

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, hook.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
