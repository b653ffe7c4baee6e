package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf16"
)

// Payments, as the Bot API documents them: sendInvoice (with a payment
// provider's token; an empty one only for Telegram Stars, currency XTR);
// the user's payment, which Pay plays: a pre_checkout_query update the bot
// must answer with answerPreCheckoutQuery within 10 seconds, then, when it
// said ok, a message with successful_payment in the user's private chat.

// PreCheckoutLimit is how long Telegram waits for answerPreCheckoutQuery; a
// later answer is refused as for an expired callback query, and the user is
// told the bot did not respond.
const PreCheckoutLimit = 10 * time.Second

// Telegram's limits on sendInvoice.
const (
	maxInvoiceTitle       = 32
	maxInvoiceDescription = 255
	maxInvoicePayload     = 128 // bytes
	maxErrorMessage       = 255
)

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// Invoice is an invoice the bot sent (SentMessage.Invoice).
type Invoice struct {
	Title       string
	Description string
	Payload     string
	Currency    string
	Prices      []LabeledPrice
	TotalAmount int64 // the prices' sum, in the currency's smallest units
}

// LabeledPrice is one line of an invoice.
type LabeledPrice struct {
	Label  string `json:"label"`
	Amount int64  `json:"amount"`
}

type invoiceJSON struct {
	Title          string `json:"title"`
	Description    string `json:"description"`
	StartParameter string `json:"start_parameter"`
	Currency       string `json:"currency"`
	TotalAmount    int64  `json:"total_amount"`
}

type successfulPaymentJSON struct {
	Currency                string `json:"currency"`
	TotalAmount             int64  `json:"total_amount"`
	InvoicePayload          string `json:"invoice_payload"`
	TelegramPaymentChargeID string `json:"telegram_payment_charge_id"`
	ProviderPaymentChargeID string `json:"provider_payment_charge_id"`
}

type preCheckoutJSON struct {
	ID             string   `json:"id"`
	From           userJSON `json:"from"`
	Currency       string   `json:"currency"`
	TotalAmount    int64    `json:"total_amount"`
	InvoicePayload string   `json:"invoice_payload"`
}

// preCheckout is a pre-checkout query the server sent.
type preCheckout struct {
	at       time.Time
	answered bool
	ok       bool
	message  string
	done     chan struct{} // closed when answered
}

func (s *Server) sendInvoice(_ context.Context, p params) reply {
	chatID, rep := p.chatID()
	if rep.status != 0 {
		return rep
	}
	inv := Invoice{Title: p["title"], Description: p["description"], Payload: p["payload"], Currency: p["currency"]}
	switch n := len(utf16.Encode([]rune(inv.Title))); {
	case n == 0:
		return badRequest("Bad Request: TITLE_EMPTY")
	case n > maxInvoiceTitle:
		return badRequest("Bad Request: TITLE_TOO_LONG")
	}
	switch n := len(utf16.Encode([]rune(inv.Description))); {
	case n == 0:
		return badRequest("Bad Request: DESCRIPTION_EMPTY")
	case n > maxInvoiceDescription:
		return badRequest("Bad Request: DESCRIPTION_TOO_LONG")
	}
	if n := len(inv.Payload); n < 1 || n > maxInvoicePayload {
		return badRequest("Bad Request: INVOICE_PAYLOAD_INVALID")
	}
	if !currencyCode.MatchString(inv.Currency) {
		return badRequest("Bad Request: CURRENCY_INVALID")
	}
	token := p["provider_token"]
	switch {
	case inv.Currency == "XTR" && token != "":
		return badRequest("Bad Request: PAYMENT_PROVIDER_INVALID") // Stars take no provider
	case inv.Currency != "XTR" && (token == "" || (s.paymentToken != "" && token != s.paymentToken)):
		return badRequest("Bad Request: PAYMENT_PROVIDER_INVALID")
	}
	if json.Unmarshal([]byte(p["prices"]), &inv.Prices) != nil || len(inv.Prices) == 0 {
		return badRequest("Bad Request: can't parse prices JSON object")
	}
	for _, pr := range inv.Prices {
		if pr.Label == "" {
			return badRequest("Bad Request: LABEL_EMPTY")
		}
		inv.TotalAmount += pr.Amount
	}
	if inv.TotalAmount <= 0 {
		return badRequest("Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID")
	}
	kb, markup, desc := parseMarkup(p["reply_markup"])
	if desc != "" {
		return badRequest(desc)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if chatID < 0 {
		return badRequest("Bad Request: PAYMENT_UNSUPPORTED") // invoices are sent to private chats here
	}
	if rep, blocked := s.blockedLocked(chatID); blocked {
		return rep
	}
	now := s.now()
	c := s.chatLocked(chatID)
	if rep, ok := s.admitLocked(c, now); !ok {
		return rep
	}
	c.lastID++
	m := &storedMessage{id: c.lastID, fromBot: true, markup: markup, date: now.Unix()}
	c.messages[m.id] = m
	s.recordLocked(c, SentMessage{Method: "sendInvoice", ChatID: chatID, MessageID: m.id, Keyboard: kb, Time: now, Invoice: &inv})
	s.stats.Sent++
	s.stats.Invoices++
	msg := s.messageLocked(c, m)
	msg.Invoice = &invoiceJSON{Title: inv.Title, Description: inv.Description, Currency: inv.Currency, TotalAmount: inv.TotalAmount}
	return okReply(msg)
}

func (s *Server) answerPreCheckoutQuery(_ context.Context, p params) reply {
	id := p["pre_checkout_query_id"]
	ok := p.bool("ok")
	message := p["error_message"]
	switch {
	case !ok && message == "":
		return badRequest("Bad Request: ERROR_TEXT_EMPTY")
	case len(utf16.Encode([]rune(message))) > maxErrorMessage:
		return badRequest("Bad Request: MESSAGE_TOO_LONG")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.preCheckouts[id]
	if q == nil || q.answered || s.now().Sub(q.at) > PreCheckoutLimit {
		return badRequest(queryInvalid)
	}
	q.answered, q.ok, q.message = true, ok, message
	close(q.done)
	s.stats.PreCheckoutsAnswered++
	return okReply(true)
}

// registerPreCheckoutLocked makes a pre-checkout query seen in an update
// answerable for PreCheckoutLimit.
func (s *Server) registerPreCheckoutLocked(id string, now time.Time) *preCheckout {
	q := s.preCheckouts[id]
	if q == nil {
		q = &preCheckout{at: now, done: make(chan struct{})}
		s.preCheckouts[id] = q
	}
	return q
}

// PreCheckoutUpdate is the update Telegram sends when from confirms paying an
// invoice of currency and amount whose payload the bot set: the bot must
// answer queryID within PreCheckoutLimit.
func PreCheckoutUpdate(updateID int64, from User, queryID, currency string, amount int64, payload string) []byte {
	return mustJSON(updateJSON{UpdateID: updateID, PreCheckoutQuery: &preCheckoutJSON{
		ID: queryID, From: from.json(), Currency: currency, TotalAmount: amount, InvoicePayload: payload,
	}})
}

// SuccessfulPaymentUpdate is the service message Telegram puts in the user's
// private chat once a payment went through: messageID is its place in the
// chat, and the charge ids are Telegram's and the payment provider's.
func SuccessfulPaymentUpdate(updateID, messageID int64, from User, currency string, amount int64, payload, chargeID, providerChargeID string) []byte {
	f := from.json()
	return mustJSON(updateJSON{UpdateID: updateID, Message: &messageJSON{
		MessageID: messageID, From: &f, Chat: chatFor(from.ID, from), Date: time.Now().Unix(),
		SuccessfulPayment: &successfulPaymentJSON{Currency: currency, TotalAmount: amount, InvoicePayload: payload,
			TelegramPaymentChargeID: chargeID, ProviderPaymentChargeID: providerChargeID},
	}})
}

// PayResult is what became of a payment Pay played.
type PayResult struct {
	Answered bool          // the bot answered the pre-checkout query in time
	OK       bool          // it said ok, and the payment went through
	Message  string        // its error_message when it refused
	Latency  time.Duration // from the query's delivery to the answer
	// ChargeID and ProviderChargeID are the successful payment's ids (OK only).
	ChargeID, ProviderChargeID string
	// Status is the webhook's answer to the pre-checkout query (0 when polling).
	Status int
}

var chargeSeq atomic.Int64

// Pay plays from paying an invoice the bot sent to their private chat, as
// Telegram does it: a pre_checkout_query update (updateID) is delivered to the
// webhook (or queued for getUpdates when none is set); Pay waits for
// answerPreCheckoutQuery, at most PreCheckoutLimit (in real time) or until ctx
// ends; when the answer is ok, a message with successful_payment (updateID+1)
// follows in the chat, with fresh charge ids. A replayed successful payment
// can be sent with SuccessfulPaymentUpdate and the returned ids.
func (s *Server) Pay(ctx context.Context, from User, invoice SentMessage, updateID int64) (PayResult, error) {
	if invoice.Invoice == nil {
		return PayResult{}, errors.New("telegramtest: pay: not an invoice")
	}
	if invoice.ChatID != from.ID {
		return PayResult{}, errors.New("telegramtest: pay: the invoice was sent to another chat")
	}
	inv := invoice.Invoice
	queryID := strconv.FormatInt(from.ID, 10) + "_" + strconv.FormatInt(chargeSeq.Add(1), 10)
	s.mu.Lock()
	q := s.registerPreCheckoutLocked(queryID, s.now())
	s.mu.Unlock()
	start := time.Now()
	var res PayResult
	status, err := s.deliverOrQueue(ctx, PreCheckoutUpdate(updateID, from, queryID, inv.Currency, inv.TotalAmount, inv.Payload))
	if err != nil {
		return res, fmt.Errorf("telegramtest: pay: %w", err)
	}
	res.Status = status
	timer := time.NewTimer(PreCheckoutLimit)
	defer timer.Stop()
	select {
	case <-q.done:
	case <-timer.C:
	case <-ctx.Done():
		return res, fmt.Errorf("telegramtest: pay: %w", ctx.Err())
	}
	s.mu.Lock()
	res.Answered, res.OK, res.Message = q.answered, q.ok, q.message
	if res.Answered {
		res.Latency = time.Since(start)
	}
	s.mu.Unlock()
	if !res.OK {
		return res, nil
	}
	n := chargeSeq.Add(1)
	res.ChargeID = fmt.Sprintf("%d_%d_%d", s.bot.ID, from.ID, n)
	res.ProviderChargeID = fmt.Sprintf("ch_fake%016d", n)
	s.mu.Lock()
	c := s.chatLocked(from.ID)
	messageID := c.lastID + 1
	s.stats.Payments++
	s.mu.Unlock()
	update := SuccessfulPaymentUpdate(updateID+1, messageID, from, inv.Currency, inv.TotalAmount, inv.Payload, res.ChargeID, res.ProviderChargeID)
	if _, err := s.deliverOrQueue(ctx, update); err != nil {
		return res, fmt.Errorf("telegramtest: pay: %w", err)
	}
	return res, nil
}

// deliverOrQueue hands an update over as Telegram would: to the webhook, or
// to getUpdates when none is set. A webhook's non-2xx answer is returned as
// its status, not an error.
func (s *Server) deliverOrQueue(ctx context.Context, update []byte) (int, error) {
	s.mu.Lock()
	hooked := s.webhook.url != ""
	s.mu.Unlock()
	if hooked {
		return s.Deliver(ctx, update)
	}
	return http.StatusOK, s.Enqueue(update)
}
