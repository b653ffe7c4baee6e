package messaging

import (
	"bytes"
	"encoding/json"
	"errors"

	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

// PaymentReport is a deposit paid on a hosted payment page, reported by the
// provider's webhook rather than by the chat's channel. The webhook stores it
// in the chat's inbox (EncodePayment, under an update id of its own such as
// "stripe:<event id>", so a redelivery is stored once): its answer then comes
// in order with the chat's messages, and the booking change and the answer
// are made exactly once, as for any update. The Worker reads it before the
// channel's Decoder (DecodePayment).
type PaymentReport struct {
	EventID   string `json:"event"`   // the inbox update id; the dialog's event id
	BookingID string `json:"booking"` // what was paid for
	Provider  string `json:"provider"`
	ChargeID  string `json:"charge"`
	SessionID string `json:"session,omitempty"`
	Provided  string `json:"provider_event,omitempty"` // the provider's own id of its report
	Amount    int64  `json:"amount"`                   // minor units
	Currency  string `json:"currency"`
}

// paymentEnvelope is a PaymentReport's inbox payload. Its one key is none a
// provider's update has at its top level.
type paymentEnvelope struct {
	Payment *PaymentReport `json:"salonbook_payment"`
}

var paymentKey = []byte(`"salonbook_payment"`)

// EncodePayment is the inbox payload of r.
func EncodePayment(r PaymentReport) ([]byte, error) {
	if r.EventID == "" || r.BookingID == "" || r.Provider == "" || r.ChargeID == "" || r.Amount <= 0 || r.Currency == "" {
		return nil, errors.New("messaging: a payment report needs an event, booking, provider, charge and amount")
	}
	return json.Marshal(paymentEnvelope{Payment: &r})
}

// DecodePayment reads an inbox payload made by EncodePayment; false for any
// other payload (a channel's own update).
func DecodePayment(payload []byte) (Decoded, bool) {
	if !bytes.Contains(payload, paymentKey) {
		return Decoded{}, false
	}
	var e paymentEnvelope
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Payment == nil || e.Payment.EventID == "" {
		return Decoded{}, false
	}
	r := e.Payment
	return Decoded{Inbound: dialog.Inbound{ID: r.EventID, Kind: dialog.KindPaid, Paid: &dialog.Paid{
		BookingID: r.BookingID,
		Payment: booking.Payment{Provider: r.Provider, ChargeID: r.ChargeID, SessionID: r.SessionID, EventID: r.Provided,
			Amount: core.Money{Minor: r.Amount, Currency: r.Currency}},
	}}}, true
}
