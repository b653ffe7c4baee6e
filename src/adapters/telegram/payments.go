package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// Telegram payments: the deposit is an invoice (sendInvoice, with the payment
// provider's token from BotFather); Telegram asks once more before it charges
// (pre_checkout_query, to be answered within 10 seconds: answered in the
// webhook request itself, never through the inbox, whose queue may be longer
// than that), then reports the payment as a successful_payment message of the
// chat, which goes through the inbox like any message (Decoder: KindPaid).

// PreCheckoutTimeout bounds the answer to a pre-checkout query: Telegram
// gives 10 seconds, and an answer that comes later is lost.
const PreCheckoutTimeout = 8 * time.Second

// PreCheckoutDecideTimeout bounds the decision: what is left of
// PreCheckoutTimeout is the answer's own, so a slow decision is still
// answered (a refusal) in time.
const PreCheckoutDecideTimeout = 5 * time.Second

// Telegram's limits on an invoice.
const (
	maxInvoiceTitle       = 32
	maxInvoiceDescription = 255
	maxErrorMessage       = 255
)

// PreCheckoutQuery is Telegram's last question before it charges an invoice.
type PreCheckoutQuery struct {
	ID       string
	UpdateID string
	ChatID   string // the user's id, which is the private chat the invoice went to
	Payload  string // the invoice's payload (dialog.InvoicePrefix + booking id)
	Currency string
	Amount   int64 // minor units
	LangHint string
}

// PreCheckout decides a pre-checkout query: ok, or the reason shown to the
// client. It must be quick (a read, no waits): the answer is due within
// PreCheckoutTimeout. dialog.Service.PreCheckout is what serve wires.
type PreCheckout func(ctx context.Context, q PreCheckoutQuery) (ok bool, reason string)

// preCheckoutShape is the part of an update preCheckoutOf reads.
type preCheckoutShape struct {
	UpdateID         int64                    `json:"update_id"`
	PreCheckoutQuery *models.PreCheckoutQuery `json:"pre_checkout_query"`
}

// preCheckoutOf reads a pre_checkout_query update; false for any other update
// (or one without an id, a sender or a payload).
func preCheckoutOf(raw []byte) (PreCheckoutQuery, bool) {
	if !strings.Contains(string(raw), `"pre_checkout_query"`) {
		return PreCheckoutQuery{}, false
	}
	var u preCheckoutShape
	if json.Unmarshal(raw, &u) != nil || u.UpdateID <= 0 || u.PreCheckoutQuery == nil {
		return PreCheckoutQuery{}, false
	}
	q := u.PreCheckoutQuery
	if q.ID == "" || q.From == nil || q.From.ID == 0 {
		return PreCheckoutQuery{}, false
	}
	return PreCheckoutQuery{ID: q.ID, UpdateID: strconv.FormatInt(u.UpdateID, 10), ChatID: strconv.FormatInt(q.From.ID, 10),
		Payload: q.InvoicePayload, Currency: q.Currency, Amount: int64(q.TotalAmount), LangHint: q.From.LanguageCode}, true
}

// checkout answers pre-checkout queries with answerPreCheckoutQuery.
type checkout struct {
	bot    *bot.Bot
	decide PreCheckout
}

// answer decides q within PreCheckoutDecideTimeout (no decision by then: a
// refusal), then answers Telegram on a context of its own, within what is
// left of PreCheckoutTimeout. A refusal carries its reason (at most 255
// characters); a failed answer is an error, which the webhook answers 500 so
// that Telegram delivers the query again.
func (c *checkout) answer(ctx context.Context, q PreCheckoutQuery) (bool, error) {
	start := time.Now()
	ok, reason := c.decideInTime(ctx, q)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), PreCheckoutTimeout-time.Since(start))
	defer cancel()
	p := &bot.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: q.ID, OK: ok}
	if !ok {
		if reason == "" {
			reason = "The payment cannot be accepted."
		}
		p.ErrorMessage = fitUTF16(reason, maxErrorMessage)
	}
	_, err := c.bot.AnswerPreCheckoutQuery(ctx, p)
	if err != nil {
		class, _ := classify(err)
		return ok, errors.New("telegram: answerPreCheckoutQuery: " + class)
	}
	return ok, nil
}

// decideInTime is decide's verdict within PreCheckoutDecideTimeout; false
// when it does not come in time (whatever it says later).
func (c *checkout) decideInTime(ctx context.Context, q PreCheckoutQuery) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, PreCheckoutDecideTimeout)
	defer cancel()
	type verdict struct {
		ok     bool
		reason string
	}
	done := make(chan verdict, 1)
	go func() {
		ok, reason := c.decide(ctx, q)
		done <- verdict{ok, reason}
	}()
	select {
	case v := <-done:
		if ctx.Err() != nil {
			return false, ""
		}
		return v.ok, v.reason
	case <-ctx.Done():
		return false, ""
	}
}

// WebhookOption configures a Webhook.
type WebhookOption func(*Webhook)

// AnswerPreCheckout makes the webhook answer pre_checkout_query updates itself,
// in the request, with decide's verdict through b; without it they are kept as
// dead letters (no invoices are sent without a provider token).
func AnswerPreCheckout(b *bot.Bot, decide PreCheckout) WebhookOption {
	return func(h *Webhook) { h.checkout = &checkout{bot: b, decide: decide} }
}

// WithPaymentToken sets the payment provider token (from BotFather) invoices
// are sent with; without it a reply's invoice goes as its text alone.
func WithPaymentToken(token string) TransportOption {
	return func(t *Transport) { t.paymentToken = token }
}

// sendInvoice sends a reply's invoice (sendInvoice): its title, its text as
// the description, one price line in the currency's minor units.
func (t *Transport) sendInvoice(ctx context.Context, chat string, r *dialog.Reply) messaging.Result {
	chatID, err := strconv.ParseInt(chat, 10, 64)
	if err != nil || chatID == 0 {
		return messaging.Result{Err: errors.New("telegram: sendInvoice: chat id is not a Telegram chat id")}
	}
	inv := r.Invoice
	description := strings.TrimSpace(r.Text)
	if description == "" {
		description = inv.Title
	}
	_, err = t.bot.SendInvoice(ctx, &bot.SendInvoiceParams{
		ChatID:        chatID,
		Title:         fitUTF16(inv.Title, maxInvoiceTitle),
		Description:   fitUTF16(description, maxInvoiceDescription),
		Payload:       inv.Payload,
		ProviderToken: t.paymentToken,
		Currency:      inv.Currency,
		Prices:        []models.LabeledPrice{{Label: inv.Label, Amount: int(inv.Amount)}},
	})
	return result("sendInvoice", err)
}

// fitUTF16 cuts s to n UTF-16 units, ending it with "…" when it had to.
func fitUTF16(s string, n int) string {
	units := 0
	for _, r := range s {
		units += utf16.RuneLen(r)
	}
	if units <= n {
		return s
	}
	units = 0
	for i, r := range s {
		units += utf16.RuneLen(r)
		if units > n-1 {
			return s[:i] + "…"
		}
	}
	return s
}

// paidOf decodes a successful_payment message into the payment it reports.
func paidOf(sp *models.SuccessfulPayment) *dialog.Paid {
	p := &dialog.Paid{BookingID: dialog.InvoiceBooking(sp.InvoicePayload)}
	p.Provider = Channel
	p.ChargeID, p.ProviderChargeID = sp.TelegramPaymentChargeID, sp.ProviderPaymentChargeID
	p.Amount.Minor, p.Amount.Currency = int64(sp.TotalAmount), sp.Currency
	return p
}
