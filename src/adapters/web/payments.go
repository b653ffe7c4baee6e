package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"salonbook/src/core"
)

// Deposits in the API: every booking answer carries its deposit and where it
// stands; /api/v1/payments/refunds lists the payments to be given back (the
// owner makes Telegram's in the payment provider's dashboard, by the charge
// ids; Stripe's are made by serve unless Stripe refused), and
// POST /api/v1/payments/{id}/refunded records one the owner made.

// Payments is what the API reads and settles of deposits paid.
type Payments interface {
	// RefundsDue lists the salon's payments to be refunded, oldest first.
	RefundsDue(ctx context.Context, salonID string) ([]Refund, error)
	// Refunded records that the owner refunded the payment; false when it
	// was not to be refunded (unknown, or settled already).
	Refunded(ctx context.Context, salonID string, paymentID int64) (bool, error)
}

// Refund is a payment to be given back.
type Refund struct {
	PaymentID        int64
	BookingID        string
	Provider         string // telegram, stripe
	ChargeID         string // telegram_payment_charge_id; Stripe's payment intent
	ProviderChargeID string // Telegram: the payment provider's charge id
	Amount           core.Money
	Reason           string // late, cancelled, salon, duplicate, unpaid, amount
	Since            time.Time
	Failed           string // Stripe refused it (type and code): the owner's to make
}

// depositJSON is a booking's deposit in an answer.
type depositJSON struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
	// State: due (awaiting payment until hold_expires_at, or lapsed unpaid),
	// paid (kept on a no-show, counted toward the price on arrival),
	// refund_due, refunded, kept (cancelled by the client after the refund
	// cutoff).
	State string `json:"state"`
}

func depositOf(b *core.Booking) *depositJSON {
	if b.DepositState == "" {
		return nil
	}
	return &depositJSON{Amount: amount(b.Deposit), Currency: b.Deposit.Currency, State: string(b.DepositState)}
}

type refundJSON struct {
	ID               int64  `json:"id"`
	Booking          string `json:"booking"`
	Provider         string `json:"provider"`
	ChargeID         string `json:"charge_id"`
	ProviderChargeID string `json:"provider_charge_id,omitempty"`
	Amount           string `json:"amount"`
	Currency         string `json:"currency"`
	Reason           string `json:"reason"`
	DueSince         string `json:"due_since"` // RFC 3339, UTC
	RefusedBy        string `json:"refused_by_provider,omitempty"`
}

func (a *api) refunds(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Payments == nil {
		writeJSON(w, http.StatusOK, map[string]any{"refunds": []refundJSON{}})
		return
	}
	due, err := a.cfg.Payments.RefundsDue(r.Context(), a.cfg.SalonID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]refundJSON, 0, len(due))
	for _, x := range due {
		out = append(out, refundJSON{ID: x.PaymentID, Booking: x.BookingID, Provider: x.Provider, ChargeID: x.ChargeID,
			ProviderChargeID: x.ProviderChargeID, Amount: amount(x.Amount), Currency: x.Amount.Currency, Reason: x.Reason,
			DueSince: x.Since.UTC().Format(time.RFC3339), RefusedBy: x.Failed})
	}
	writeJSON(w, http.StatusOK, map[string]any{"refunds": out})
}

func (a *api) refunded(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 || a.cfg.Payments == nil {
		a.fail(w, r, core.Errorf(core.ENotFound, "error.not_found", "web: no payment %q", r.PathValue("id")))
		return
	}
	done, err := a.cfg.Payments.Refunded(r.Context(), a.cfg.SalonID, id)
	switch {
	case err != nil:
		a.fail(w, r, err)
	case !done:
		a.fail(w, r, core.Errorf(core.ENotFound, "error.not_found", "web: payment %d is not to be refunded", id))
	default:
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "state": "refunded"})
	}
}
