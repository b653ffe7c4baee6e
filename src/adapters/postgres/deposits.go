package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// noShowsSQL counts a client's no-shows since $3: the desk's attendance mark
// (bookings.attendance = 'no_show'), read through bookings_client_upcoming
// (salon, client, start): a client has few bookings.
const noShowsSQL = `
	SELECT count(*) FROM bookings
	WHERE salon_id = $1 AND client_id = $2 AND starts_at >= $3 AND attendance = 'no_show'`

func (t *storeTx) NoShows(ctx context.Context, salonID string, clientID int64, since time.Time) (int, error) {
	var n int
	err := t.q.QueryRow(ctx, noShowsSQL, salonID, clientID, since).Scan(&n)
	return n, mapErr(err, "count no-shows")
}

// recordPaymentSQL stores a payment once: a charge, session or event id the
// provider reported before conflicts and nothing is written.
const recordPaymentSQL = `
	INSERT INTO payments (salon_id, booking_id, provider, charge_id, provider_charge_id, session_id, event_id,
	                      amount_minor, currency, state, refund_reason)
	VALUES ($1, $2::uuid, $3, $4, $5, nullif($6, ''), nullif($7, ''), $8, $9,
	        CASE WHEN $10::text = '' THEN 'paid' ELSE 'refund_due' END, nullif($10::text, ''))
	ON CONFLICT DO NOTHING
	RETURNING payment_id`

// storedPaymentSQL reads the payment a repeated report conflicted with, and
// whether it is of the booking $5.
const storedPaymentSQL = `
	SELECT state, coalesce(refund_reason, ''), booking_id = $5::uuid FROM payments
	WHERE provider = $1 AND (charge_id = $2 OR session_id = nullif($3, '') OR event_id = nullif($4, ''))
	ORDER BY payment_id LIMIT 1`

func (t *storeTx) RecordPayment(ctx context.Context, salonID, bookingID string, p booking.Payment, reason string) (bool, booking.StoredPayment, error) {
	var id int64
	err := t.q.QueryRow(ctx, recordPaymentSQL, salonID, bookingID, p.Provider, p.ChargeID, p.ProviderChargeID, p.SessionID,
		p.EventID, p.Amount.Minor, p.Amount.Currency, reason).Scan(&id)
	if err == nil {
		return true, booking.StoredPayment{}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, booking.StoredPayment{}, mapErr(err, "insert payment")
	}
	var st booking.StoredPayment
	var same bool
	err = t.q.QueryRow(ctx, storedPaymentSQL, p.Provider, p.ChargeID, p.SessionID, p.EventID, bookingID).Scan(&st.State, &st.Reason, &same)
	if err != nil {
		return false, st, mapErr(err, "select stored payment")
	}
	if !same {
		return false, st, core.Errorf(core.EConflict, "payment.other_booking", "postgres: a payment of another booking has these ids")
	}
	return false, st, nil
}

func (t *storeTx) RefundPayments(ctx context.Context, salonID, bookingID, reason string) (int64, error) {
	tag, err := t.q.Exec(ctx, `
		UPDATE payments SET state = 'refund_due', refund_reason = $3, updated_at = now()
		WHERE booking_id = $2::uuid AND salon_id = $1 AND state = 'paid'`, salonID, bookingID, reason)
	return tag.RowsAffected(), mapErr(err, "refund payments")
}

// expirePaymentSQL expires the booking $2 of salon $1 still awaiting its
// deposit at $3, and wakes the matcher, as the expiry loop does.
const expirePaymentSQL = `
	WITH e AS (
		UPDATE bookings SET status = 'expired', updated_at = $3
		WHERE salon_id = $1 AND booking_id = $2 AND status = 'awaiting_payment'
		RETURNING booking_id),
	ended AS MATERIALIZED (SELECT booking_id, $3::timestamptz AS ended_at FROM e),` + giveUpOffersSQL + `,
	w AS (INSERT INTO waitlist_wakes (salon_id) SELECT $1 WHERE EXISTS (SELECT 1 FROM e))
	SELECT count(*) FROM e`

func (t *storeTx) ExpirePayment(ctx context.Context, salonID, bookingID string, now time.Time) (bool, error) {
	var id pgtype.UUID
	if err := id.Scan(bookingID); err != nil {
		return false, nil // not a booking id: nothing awaits
	}
	var n int
	err := t.q.QueryRow(ctx, expirePaymentSQL, salonID, id, now).Scan(&n)
	return n == 1, mapErr(err, "expire payment")
}
