// Package stripe takes deposits on Stripe Checkout's hosted payment page, for
// the chats that cannot take a payment themselves (the web chat, WhatsApp):
// Client makes a Checkout Session per booking awaiting its deposit (the
// booking id is the idempotency key, so asking again gives the same page) and
// refunds through the Refunds API (idempotency key per payment); Webhook is
// /stripe/webhook, which checks Stripe-Signature (HMAC-SHA256 of "t.payload"
// with the endpoint's secret, within Stripe's 300 s tolerance) before anything
// is stored, refuses a delivery replayed with the same signature, and hands
// checkout.session.completed and .expired on.
//
// The official client, github.com/stripe/stripe-go, sends the requests
// (pointed at a fake in tests: stripetest). Errors and logs carry Stripe's
// error type and code and the HTTP status, never the key, a secret, a
// session's URL or Stripe's message text.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v82"

	"salonbook/src/core"
)

// DefaultAPIURL is Stripe's API.
const DefaultAPIURL = "https://api.stripe.com"

// Tolerance is how old a webhook's signature may be: Stripe's documented
// default (its libraries' DefaultTolerance).
const Tolerance = stripego.WebhookDefaultTolerance

// Stripe's bounds on a Checkout Session's expires_at, from its creation.
const (
	MinSessionLife = 30 * time.Minute
	MaxSessionLife = 24 * time.Hour
)

// Config sets up a Client.
type Config struct {
	SecretKey  string       // sk_… or rk_…; never logged
	APIURL     string       // DefaultAPIURL when empty
	HTTPClient *http.Client // nil: a client with a 20 s timeout
}

// Client talks to Stripe's API.
type Client struct {
	sc *stripego.Client
}

// New returns a Client. It makes no request.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.SecretKey) == "" {
		return nil, errors.New("stripe: the secret key is empty")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	backend := stripego.GetBackendWithConfig(stripego.APIBackend, &stripego.BackendConfig{
		URL:               stripego.String(strings.TrimRight(cfg.APIURL, "/")),
		HTTPClient:        cfg.HTTPClient,
		MaxNetworkRetries: stripego.Int64(2), // with the same idempotency key: safe
		// The library's logger prints request details: none.
		LeveledLogger:   &stripego.LeveledLogger{Level: stripego.LevelNull},
		EnableTelemetry: stripego.Bool(false),
	})
	backends := &stripego.Backends{API: backend, Connect: backend, Uploads: backend, MeterEvents: backend}
	return &Client{sc: stripego.NewClient(cfg.SecretKey, stripego.WithBackends(backends))}, nil
}

// Session asks for a Checkout Session: one deposit of one booking.
type Session struct {
	BookingID string
	SalonID   string
	Title     string // the line item's name, shown on the page
	Amount    core.Money
	// ExpiresAt is when the page closes: it must lie MinSessionLife to
	// MaxSessionLife after its creation (Stripe's rule). Derive it from the
	// booking, not from now, so that asking again makes the same request.
	ExpiresAt  time.Time
	Locale     string // the client's language ("en", "ru"); "" lets Stripe choose
	SuccessURL string // where the client goes once paid
	CancelURL  string // where the client goes on "back"
}

// Metadata keys a session carries (and its payment intent), read back from
// its events: only ids. The booking's chat (a phone number, a web chat's
// session token) is never sent to Stripe: the paid handler reads it from the
// booking.
const (
	MetaBooking = "booking"
	MetaSalon   = "salon"
)

// Checkout makes the Checkout Session of s, once per booking (the booking id
// is the idempotency key: asking again within Stripe's 24 hours returns the
// same session), and returns its page's address and its id.
func (c *Client) Checkout(ctx context.Context, s Session) (url, id string, err error) {
	meta := map[string]string{MetaBooking: s.BookingID, MetaSalon: s.SalonID}
	p := &stripego.CheckoutSessionCreateParams{
		Mode:              stripego.String(string(stripego.CheckoutSessionModePayment)),
		ClientReferenceID: stripego.String(s.BookingID),
		SuccessURL:        stripego.String(s.SuccessURL),
		CancelURL:         stripego.String(s.CancelURL),
		ExpiresAt:         stripego.Int64(s.ExpiresAt.Unix()),
		Metadata:          meta,
		LineItems: []*stripego.CheckoutSessionCreateLineItemParams{{
			Quantity: stripego.Int64(1),
			PriceData: &stripego.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripego.String(strings.ToLower(s.Amount.Currency)),
				UnitAmount:  stripego.Int64(s.Amount.Minor),
				ProductData: &stripego.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripego.String(s.Title)},
			},
		}},
		PaymentIntentData: &stripego.CheckoutSessionCreatePaymentIntentDataParams{Metadata: meta},
	}
	if s.Locale != "" {
		p.Locale = stripego.String(s.Locale)
	}
	p.SetIdempotencyKey("checkout-" + s.BookingID)
	p.Context = ctx
	cs, err := c.sc.V1CheckoutSessions.Create(ctx, p)
	if err != nil {
		return "", "", failed("create checkout session", err)
	}
	return cs.URL, cs.ID, nil
}

// Expire closes the open Checkout Session id (POST
// /v1/checkout/sessions/{id}/expire): its page can no longer be paid. A
// session that is not open (expired, completed) is refused by Stripe with a
// request error (not Retryable): there is nothing left to close.
func (c *Client) Expire(ctx context.Context, id string) error {
	p := &stripego.CheckoutSessionExpireParams{}
	p.Context = ctx
	if _, err := c.sc.V1CheckoutSessions.Expire(ctx, id, p); err != nil {
		return failed("expire checkout session", err)
	}
	return nil
}

// Refund gives back amount of the payment intent paymentIntent, once per key
// (the idempotency key: a repeat returns the first refund). It returns the
// refund's id. An error says whether trying again may help (Retryable).
func (c *Client) Refund(ctx context.Context, paymentIntent string, amount int64, key string) (string, error) {
	p := &stripego.RefundCreateParams{PaymentIntent: stripego.String(paymentIntent), Amount: stripego.Int64(amount),
		Reason: stripego.String(string(stripego.RefundReasonRequestedByCustomer))}
	p.SetIdempotencyKey(key)
	r, err := c.sc.V1Refunds.Create(ctx, p)
	if err != nil {
		return "", failed("create refund", err)
	}
	return r.ID, nil
}

// Error is a failed call, in Stripe's terms: its error type and code and
// the HTTP status; Stripe's message is not kept (it may quote the request).
type Error struct {
	Op     string
	Status int    // 0: no answer (network)
	Type   string // api_error, card_error, idempotency_error, invalid_request_error, …
	Code   string // resource_missing, charge_already_refunded, …
}

func (e *Error) Error() string {
	return fmt.Sprintf("stripe: %s: status %d, %s %s", e.Op, e.Status, e.Type, e.Code)
}

// Retryable reports whether the same call may go through later: no answer, a
// 429, a 5xx, an api_error; not a request Stripe refused for what it is.
func (e *Error) Retryable() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500 || e.Type == string(stripego.ErrorTypeAPI)
}

// AlreadyRefunded reports whether Stripe says there is nothing left to refund.
func (e *Error) AlreadyRefunded() bool {
	return e.Code == string(stripego.ErrorCodeChargeAlreadyRefunded)
}

// failed maps the client's error to an *Error.
func failed(op string, err error) error {
	var se *stripego.Error
	if errors.As(err, &se) {
		return &Error{Op: op, Status: se.HTTPStatusCode, Type: string(se.Type), Code: string(se.Code)}
	}
	return &Error{Op: op}
}
