package messaging

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core/dialog"
)

// recordingChat keeps the events it is given.
type recordingChat struct{ got []dialog.Inbound }

func (c *recordingChat) Handle(_ context.Context, _ dialog.ChatKey, in dialog.Inbound) ([]dialog.Reply, error) {
	c.got = append(c.got, in)
	return []dialog.Reply{{Text: "paid"}}, nil
}

// A payment reported by a hosted page's webhook, stored in a chat's inbox,
// reaches the conversation as KindPaid, ahead of the channel's decoder, and
// is never absorbed by the flood guard: money was taken.
func TestWorkerHandsOnAPaymentReport(t *testing.T) {
	t.Parallel()
	payload, err := EncodePayment(PaymentReport{EventID: "stripe:evt_1", BookingID: "b-1", Provider: "stripe", ChargeID: "pi_1",
		SessionID: "cs_1", Provided: "evt_1", Amount: 1000, Currency: "EUR"})
	require.NoError(t, err)
	chat := &recordingChat{}
	w := &Worker{SalonID: "s", Channel: "whatsapp", Decoder: textDecoder{}, Chat: chat, Log: slog.New(slog.DiscardHandler)}
	now := time.Now()
	flood := make([]time.Time, 30) // a chat far over its flood limit
	for i := range flood {
		flood[i] = now
	}
	h, err := w.step(Pending{ChatID: "4915", Payload: payload, Received: now, Earlier: flood})
	require.NoError(t, err)
	require.Empty(t, h.Dead)
	require.Len(t, chat.got, 1)
	in := chat.got[0]
	require.Equal(t, dialog.KindPaid, in.Kind)
	require.Equal(t, "stripe:evt_1", in.ID)
	require.Equal(t, "b-1", in.Paid.BookingID)
	require.Equal(t, "pi_1", in.Paid.ChargeID)
	require.Equal(t, "cs_1", in.Paid.SessionID)
	require.Equal(t, "evt_1", in.Paid.EventID)
	require.EqualValues(t, 1000, in.Paid.Amount.Minor)
	require.Equal(t, []Outgoing{{ChatID: "4915", Reply: &dialog.Reply{Text: "paid"}}}, h.Out)

	// Anything else is the channel's: a payload that only mentions the key.
	_, ok := DecodePayment([]byte(`{"text":"\"salonbook_payment\""}`))
	require.False(t, ok)
	_, err = EncodePayment(PaymentReport{EventID: "x"})
	require.Error(t, err)
}
