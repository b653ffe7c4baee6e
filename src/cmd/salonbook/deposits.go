package main

import (
	"context"
	"fmt"
	"strings"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/web"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

// Deposits: which chats can pay them (booking.Service.PayChats), and the
// start-up check that a salon asking deposits has a payment provider for
// every channel that is on: Telegram's own payments, Stripe Checkout for the
// web chat and WhatsApp.

// webChannel is the web chat's channel (web.Handler's conversations).
const webChannel = "web"

// payableChats says which booking sources can pay a deposit with cfg.
func payableChats(cfg Config) func(source string) bool {
	return func(source string) bool {
		channel, _, _ := strings.Cut(source, ":")
		switch channel {
		case telegram.Channel:
			return cfg.Telegram.Token != "" && cfg.Telegram.PaymentToken != ""
		case whatsapp.Channel, webChannel:
			return cfg.Stripe.On()
		}
		return false
	}
}

// checkDeposits refuses to start when the salon asks deposits and a channel
// that is on has no way to take them, naming the variable to set. The web
// chat is always on.
func checkDeposits(cat *booking.Catalog, cfg Config) error {
	if !asksDeposits(cat) {
		return nil
	}
	if cfg.Telegram.Token != "" && cfg.Telegram.PaymentToken == "" {
		return fmt.Errorf("deposits: policy.deposit_when is %s but TELEGRAM_PAYMENT_PROVIDER_TOKEN (or _FILE) is not set: "+
			"Telegram takes deposits with the payment provider token from BotFather", cat.Salon.Policy.DepositWhen)
	}
	if !cfg.Stripe.On() {
		return fmt.Errorf("deposits: policy.deposit_when is %s but STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or _FILE) are not set: "+
			"the web chat and WhatsApp take deposits through Stripe Checkout", cat.Salon.Policy.DepositWhen)
	}
	return nil
}

// asksDeposits reports whether the salon asks any client for a deposit.
func asksDeposits(cat *booking.Catalog) bool {
	if !cat.Salon.Policy.AsksDeposits() {
		return false
	}
	for _, s := range cat.Services {
		if s.DepositAmount().Minor > 0 {
			return true
		}
	}
	return false
}

// preCheckout answers Telegram's pre-checkout queries with the conversation's
// verdict (dialog.Service.PreCheckout): the query's user is the private chat
// the invoice went to.
func preCheckout(chat *dialog.Service, salonID string) telegram.PreCheckout {
	return func(ctx context.Context, q telegram.PreCheckoutQuery) (bool, string) {
		return chat.PreCheckout(ctx, dialog.ChatKey{SalonID: salonID, Channel: telegram.Channel, ChatID: q.ChatID}, q.Payload,
			core.Money{Minor: q.Amount, Currency: q.Currency}, q.LangHint)
	}
}

// webPayments is the API's view of the payments table.
type webPayments struct{ p *postgres.Payments }

func (w webPayments) RefundsDue(ctx context.Context, salonID string) ([]web.Refund, error) {
	due, err := w.p.RefundsDue(ctx, salonID, "", false, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]web.Refund, len(due))
	for i, r := range due {
		out[i] = web.Refund{PaymentID: r.PaymentID, BookingID: r.BookingID, Provider: r.Provider, ChargeID: r.ChargeID,
			ProviderChargeID: r.ProviderChargeID, Amount: r.Amount, Reason: r.Reason, Since: r.Since, Failed: r.Failed}
	}
	return out, nil
}

func (w webPayments) Refunded(ctx context.Context, salonID string, paymentID int64) (bool, error) {
	return w.p.RefundedByOwner(ctx, salonID, paymentID)
}
