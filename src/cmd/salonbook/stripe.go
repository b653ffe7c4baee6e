package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/stripe"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// Stripe Checkout takes the deposits of the web chat and WhatsApp: the
// dialog's Payments makes a session per booking awaiting its deposit,
// /stripe/webhook hands its events on (a payment into the chat's inbox, so it
// is answered in order, once), and a loop refunds what is to be refunded.

// stripeCheckout is the dialog's Payments: Telegram chats get an invoice (""),
// the others a Checkout Session's page. The first session made for a booking
// is kept (checkout_sessions) and its page given again: asking anew in
// another language would reuse the idempotency key with other parameters,
// which Stripe refuses.
type stripeCheckout struct {
	client    *stripe.Client
	payments  *postgres.Payments
	salonID   string
	publicURL string
}

func (s *stripeCheckout) Checkout(ctx context.Context, key dialog.ChatKey, b core.Booking, title, lang string) (string, error) {
	if key.Channel == telegram.Channel {
		return "", nil
	}
	done := s.publicURL + "/stripe/done"
	if key.Channel == webChannel {
		done = s.publicURL + "/chat" // back to the chat, which the browser keeps
	}
	if kept, ok, err := s.payments.CheckoutSessionOf(ctx, s.salonID, b.ID); err != nil || ok {
		return kept.URL, err
	}
	// From the booking, so asking again makes the same request (the booking
	// id is the idempotency key): Stripe's page lives at least 30 minutes; it
	// is closed through the API once the booking lapses (closeSessions).
	expires := b.HoldExpiresAt.Add(stripe.MinSessionLife)
	url, id, err := s.client.Checkout(ctx, stripe.Session{
		BookingID: b.ID, SalonID: s.salonID, Title: title, Amount: b.Deposit, ExpiresAt: expires,
		Locale: lang, SuccessURL: done, CancelURL: done,
	})
	if err != nil {
		return "", err
	}
	kept, err := s.payments.KeepCheckoutSession(ctx, s.salonID, postgres.CheckoutSession{BookingID: b.ID, ID: id, URL: url}, expires)
	return kept.URL, err
}

// stripeEvents hands Stripe's verified events on: a payment goes into its
// chat's inbox (a channel that is on), or, for the web chat (which has no
// inbox), through its conversation at once; a payment whose chat no channel
// serves is recorded directly. An expired session lets its booking go.
type stripeEvents struct {
	salonID  string
	bookings *booking.Service
	chat     *dialog.Service
	inbox    messaging.Inbox
	channels map[string]bool // the pipeline channels that are on
}

func (e *stripeEvents) Paid(ctx context.Context, p stripe.Paid) error {
	charge := p.PaymentIntent
	if charge == "" {
		charge = p.SessionID
	}
	r := messaging.PaymentReport{EventID: "stripe:" + p.EventID, BookingID: p.BookingID, Provider: "stripe", ChargeID: charge,
		SessionID: p.SessionID, Provided: p.EventID, Amount: p.Amount.Minor, Currency: p.Amount.Currency}
	// The chat is the booking's (Stripe is sent only ids): an unknown booking
	// is recorded directly below, which acknowledges it.
	var source string
	if b, err := e.bookings.Get(ctx, e.salonID, p.BookingID); err == nil {
		source = b.Source
	} else if code := core.ErrorCode(err); code != core.ENotFound && code != core.EInvalid {
		return err
	}
	channel, chatID, _ := strings.Cut(source, ":")
	switch {
	case e.channels[channel] && chatID != "":
		payload, err := messaging.EncodePayment(r)
		if err != nil {
			return err
		}
		return e.inbox.Add(ctx, channel, r.EventID, chatID, payload, "")
	case channel == webChannel && chatID != "":
		d, ok := messaging.DecodePayment(mustEncode(r))
		if !ok {
			return errors.New("stripe: payment report does not decode")
		}
		_, err := e.chat.Handle(ctx, dialog.ChatKey{SalonID: e.salonID, Channel: webChannel, ChatID: chatID}, d.Inbound)
		return err
	}
	_, err := e.bookings.Paid(ctx, e.salonID, p.BookingID, booking.Payment{Provider: "stripe", ChargeID: charge,
		SessionID: p.SessionID, EventID: p.EventID, Amount: p.Amount})
	if code := core.ErrorCode(err); code == core.ENotFound || code == core.EInvalid || code == core.EConflict {
		return nil // nothing to pay for: acknowledged, Stripe's dashboard shows the payment
	}
	return err
}

func (e *stripeEvents) Expired(ctx context.Context, x stripe.Expired) error {
	_, err := e.bookings.PaymentExpired(ctx, e.salonID, x.BookingID)
	return err
}

func mustEncode(r messaging.PaymentReport) []byte {
	b, _ := messaging.EncodePayment(r)
	return b
}

// newStripeCheckout is the dialog's Payments through Stripe.
func newStripeCheckout(cfg Config, pool *pgxpool.Pool, salonID string) (*stripeCheckout, error) {
	client, err := stripe.New(stripe.Config{SecretKey: cfg.Stripe.SecretKey, APIURL: cfg.Stripe.APIURL})
	if err != nil {
		return nil, err
	}
	return &stripeCheckout{client: client, payments: postgres.NewPayments(pool), salonID: salonID, publicURL: strings.TrimRight(cfg.PublicURL, "/")}, nil
}

// startStripe mounts /stripe/webhook and /stripe/done and runs the refund
// loop until bg ends.
func startStripe(bg context.Context, wg *sync.WaitGroup, mux *http.ServeMux, cfg Config, pool *pgxpool.Pool, salonID string,
	checkout *stripeCheckout, bookings *booking.Service, chat *dialog.Service, log *slog.Logger) {
	client := checkout.client
	payments := postgres.NewPayments(pool)
	channels := map[string]bool{}
	if cfg.WhatsApp.Token != "" {
		channels[whatsapp.Channel] = true
	}
	if cfg.Telegram.Token != "" {
		channels[telegram.Channel] = true
	}
	events := &stripeEvents{salonID: salonID, bookings: bookings, chat: chat, inbox: pipeline.NewInbox(pool, salonID), channels: channels}
	mux.Handle("/stripe/webhook", stripe.NewWebhook(cfg.Stripe.WebhookSecret, salonID, events, payments, log))
	mux.HandleFunc("GET /stripe/done", stripeDone)
	wg.Add(1)
	go func() { defer wg.Done(); runRefunds(bg, payments, client, salonID, log) }()
	log.Info("stripe checkout is on: deposits of the web chat and WhatsApp")
}

// stripeDone is where Stripe's page sends a client of WhatsApp once paid (or
// back): the answer comes in the chat.
func stripeDone(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = fmt.Fprint(w, `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">`+
		`<title>Salon</title></head><body><p>Thank you. You can go back to the chat: the answer is there.</p>`+
		`<p lang="ru">Спасибо. Вернитесь, пожалуйста, в чат: ответ придёт туда.</p></body></html>`)
}

// refundEvery is how often the refund loop looks for refunds to make.
const refundEvery = 5 * time.Second

// runRefunds gives back, through Stripe's Refunds API, the Stripe payments to
// be refunded (a late payment, a cancel before the refund cutoff, the salon's
// cancel, a second payment), oldest first, until ctx ends. Each refund's
// idempotency key is its payment's, so a refund made twice (a crash before it
// was marked, two replicas) is made once. A refusal for good (Stripe says the
// request is wrong) is recorded for the owner and not tried again; a passing
// failure is tried at the next look. Telegram's refunds are the owner's: they
// stay due, with the charge ids, in GET /api/v1/payments.
func runRefunds(ctx context.Context, payments *postgres.Payments, client *stripe.Client, salonID string, log *slog.Logger) {
	tick := time.NewTicker(refundEvery)
	defer tick.Stop()
	for {
		refundOnce(ctx, payments, client, salonID, log)
		closeSessions(ctx, payments, client, salonID, log)
		if _, err := payments.PruneDeliveries(ctx, time.Now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
			log.Warn("prune stripe deliveries", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// closeSessions expires, through Stripe's API, the open Checkout Sessions of
// bookings that no longer await their deposit (lapsed, expired, cancelled),
// at most 20 a look: the page closes within one look (refundEvery) of the
// booking, not 30 minutes later. A session Stripe says is not open (400) or
// unknown (404) is closed already; a passing failure is tried at the next look.
func closeSessions(ctx context.Context, payments *postgres.Payments, client *stripe.Client, salonID string, log *slog.Logger) {
	due, err := payments.SessionsToClose(ctx, salonID, time.Now(), 20)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("read checkout sessions to close", slog.String("error", err.Error()))
		}
		return
	}
	for _, s := range due {
		err := client.Expire(ctx, s.ID)
		var se *stripe.Error
		if err != nil && !(errors.As(err, &se) && (se.Status == http.StatusBadRequest || se.Status == http.StatusNotFound)) {
			log.Warn("checkout session not closed; tried again", slog.String("booking", s.BookingID), slog.String("error", err.Error()))
			return
		}
		if err := payments.SessionClosed(ctx, salonID, s.ID); err != nil {
			log.Warn("checkout session closed, not marked", slog.String("booking", s.BookingID), slog.String("error", err.Error()))
			continue
		}
		log.Info("checkout page closed", slog.String("booking", s.BookingID))
	}
}

// refundOnce makes the refunds due now, at most 20.
func refundOnce(ctx context.Context, payments *postgres.Payments, client *stripe.Client, salonID string, log *slog.Logger) {
	due, err := payments.RefundsDue(ctx, salonID, "stripe", true, 20)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("read refunds due", slog.String("error", err.Error()))
		}
		return
	}
	for _, r := range due {
		id, err := client.Refund(ctx, r.ChargeID, r.Amount.Minor, fmt.Sprintf("refund-%s-%d", salonID, r.PaymentID))
		var se *stripe.Error
		switch {
		case err == nil, errors.As(err, &se) && se.AlreadyRefunded():
			if _, err := payments.Refunded(ctx, salonID, r.PaymentID, id); err != nil {
				log.Warn("refund made, not marked: marked at the next look", slog.Int64("payment", r.PaymentID), slog.String("error", err.Error()))
				continue
			}
			log.Info("deposit refunded", slog.Int64("payment", r.PaymentID), slog.String("booking", r.BookingID), slog.String("reason", r.Reason))
		case errors.As(err, &se) && !se.Retryable():
			if err := payments.RefundFailed(ctx, salonID, r.PaymentID, se.Type+" "+se.Code); err != nil {
				log.Warn("record refund failure", slog.Int64("payment", r.PaymentID), slog.String("error", err.Error()))
			}
			log.Error("stripe refused a refund: the owner must refund it in the Stripe dashboard",
				slog.Int64("payment", r.PaymentID), slog.String("booking", r.BookingID), slog.String("error", se.Error()))
		default:
			log.Warn("refund not made; tried again", slog.Int64("payment", r.PaymentID), slog.String("error", err.Error()))
			return // Stripe or the network is failing: the next look
		}
	}
}
