package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// payments is web.Payments over the real table (serve's webPayments).
type payments struct{ p *postgres.Payments }

func (w payments) RefundsDue(ctx context.Context, salonID string) ([]web.Refund, error) {
	due, err := w.p.RefundsDue(ctx, salonID, "", false, 100)
	out := make([]web.Refund, len(due))
	for i, r := range due {
		out[i] = web.Refund{PaymentID: r.PaymentID, BookingID: r.BookingID, Provider: r.Provider, ChargeID: r.ChargeID,
			ProviderChargeID: r.ProviderChargeID, Amount: r.Amount, Reason: r.Reason, Since: r.Since, Failed: r.Failed}
	}
	return out, err
}

func (w payments) Refunded(ctx context.Context, salonID string, id int64) (bool, error) {
	return w.p.RefundedByOwner(ctx, salonID, id)
}

// TestDepositOnTheBookingAndRefundsForTheOwner: a booking answer carries its
// deposit and state; a Telegram deposit the salon cancels is listed for the
// owner with its charge ids until the owner marks it refunded.
func TestDepositOnTheBookingAndRefundsForTheOwner(t *testing.T) {
	t.Parallel()
	store, salonID := pgtest.Salon(t)
	setup := pgtest.Setup(salonID)
	setup.Services = slices.Clone(setup.Services)
	setup.Salon.Policy.DepositWhen = core.DepositAlways
	setup.Services[0].Deposit = core.Deposit{Percent: 20}
	_, err := store.Apply(context.Background(), setup)
	require.NoError(t, err)
	b := &bundle{salonID: salonID, clock: &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}}
	b.svc = booking.New(store, b.clock)
	b.srv = httptest.NewServer(web.Handler(web.Config{Bookings: b.svc, SalonID: salonID, APIToken: token,
		Ready: func(context.Context) error { return nil }, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Clock: b.clock,
		Payments: payments{postgres.NewPayments(pgtest.Pool(t))}}))
	t.Cleanup(b.srv.Close)

	held, err := b.svc.Book(context.Background(), booking.BookRequest{SalonID: salonID, ServiceID: "haircut", MasterID: "anna",
		Start: time.Date(2027, 3, 5, 9, 0, 0, 0, time.UTC), Client: core.Client{Name: "Olga", Phone: "+49 151 23456789"},
		IdempotencyKey: "tg:1", Source: "telegram:42"})
	require.NoError(t, err)
	_, err = b.svc.Confirm(context.Background(), salonID, held.ID)
	require.NoError(t, err)
	status, got := b.call(t, http.MethodGet, "/api/v1/bookings/"+held.ID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "awaiting_payment", got["status"])
	require.Equal(t, map[string]any{"amount": "7.00", "currency": "EUR", "state": "due"}, got["deposit"], "20% of 35.00")
	require.Equal(t, "2027-03-01T08:15:00+01:00", got["hold_expires_at"], "the payment window, in the salon's zone")

	res, err := b.svc.Paid(context.Background(), salonID, held.ID, booking.Payment{Provider: "telegram", ChargeID: salonID + "-tg-1",
		ProviderChargeID: "ch_provider_1", Amount: core.Money{Minor: 700, Currency: "EUR"}})
	require.NoError(t, err)
	require.Equal(t, booking.PaidConfirmed, res.Outcome)
	status, got = b.call(t, http.MethodGet, "/api/v1/bookings/"+held.ID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "confirmed", got["status"])
	require.Equal(t, "paid", got["deposit"].(map[string]any)["state"])
	require.Nil(t, got["hold_expires_at"])

	status, _ = b.call(t, http.MethodPost, "/api/v1/bookings/"+held.ID+"/cancel", nil)
	require.Equal(t, http.StatusOK, status)
	status, got = b.call(t, http.MethodGet, "/api/v1/payments/refunds", nil)
	require.Equal(t, http.StatusOK, status)
	refunds := got["refunds"].([]any)
	require.Len(t, refunds, 1)
	r := refunds[0].(map[string]any)
	require.Equal(t, held.ID, r["booking"])
	require.Equal(t, "telegram", r["provider"])
	require.Equal(t, salonID+"-tg-1", r["charge_id"])
	require.Equal(t, "ch_provider_1", r["provider_charge_id"])
	require.Equal(t, "7.00", r["amount"])
	require.Equal(t, "salon", r["reason"], "the salon cancelled: refunded")

	id := fmt.Sprint(int64(r["id"].(float64)))
	status, got = b.call(t, http.MethodPost, "/api/v1/payments/"+id+"/refunded", nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "refunded", got["state"])
	status, _ = b.call(t, http.MethodPost, "/api/v1/payments/"+id+"/refunded", nil)
	require.Equal(t, http.StatusNotFound, status, "once")
	status, _ = b.call(t, http.MethodPost, "/api/v1/payments/x/refunded", nil)
	require.Equal(t, http.StatusNotFound, status)
	_, got = b.call(t, http.MethodGet, "/api/v1/payments/refunds", nil)
	require.Empty(t, got["refunds"])
	_, got = b.call(t, http.MethodGet, "/api/v1/bookings/"+held.ID, nil)
	require.Equal(t, "refunded", got["deposit"].(map[string]any)["state"])
	status, _ = b.callAs(t, "", http.MethodGet, "/api/v1/payments/refunds", nil)
	require.Equal(t, http.StatusUnauthorized, status)
}
