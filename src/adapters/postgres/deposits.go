package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// NoShows is Desk.NoShows inside a booking's transaction (the deposit
// rule after_no_show): the same statement, noShowsSQL, so the deposit asked
// and the count the desk shows are one number: the person's no-shows, over
// every client with the client's phone (one person may be a chat's client, a
// verified number's and the salon's own), read through bookings_no_shows.
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
// deposit at $3, records it as expired by the system and wakes the matcher,
// as the expiry loop does.
const expirePaymentSQL = `
	WITH e AS (
		UPDATE bookings SET status = 'expired', updated_at = $3
		WHERE salon_id = $1 AND booking_id = $2 AND status = 'awaiting_payment'
		RETURNING booking_id, starts_at),
	ended AS MATERIALIZED (SELECT booking_id, $3::timestamptz AS ended_at FROM e),` + giveUpOffersSQL + `,
	a AS (INSERT INTO booking_changes (booking_id, salon_id, at, actor, action, starts_at)
	      SELECT booking_id, $1, $3, 'system', 'expired', starts_at FROM e),
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

// Payments reads and settles the payments table outside a booking change:
// the refund loop's work, the owner's list, and Stripe's deliveries.
type Payments struct {
	pool *pgxpool.Pool
}

// NewPayments returns Payments over pool.
func NewPayments(pool *pgxpool.Pool) *Payments { return &Payments{pool: pool} }

// Fresh records a signed webhook delivery of eventID (stripe.Deliveries): false
// when one of it signed at signedAt or later was recorded: a replay.
func (p *Payments) Fresh(ctx context.Context, eventID string, signedAt time.Time) (bool, error) {
	var one int
	err := p.pool.QueryRow(ctx, `
		INSERT INTO stripe_deliveries AS d (event_id, signed_at) VALUES ($1, $2)
		ON CONFLICT (event_id) DO UPDATE SET signed_at = excluded.signed_at, received_at = now()
		WHERE d.signed_at < excluded.signed_at
		RETURNING 1`, eventID, signedAt).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, mapErr(err, "record stripe delivery")
}

// PruneDeliveries drops the deliveries received before before.
func (p *Payments) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	tag, err := p.pool.Exec(ctx, `DELETE FROM stripe_deliveries WHERE received_at < $1`, before)
	return tag.RowsAffected(), mapErr(err, "prune stripe deliveries")
}

// Refund is a payment to be given back.
type Refund struct {
	PaymentID        int64
	BookingID        string
	Provider         string
	ChargeID         string // Telegram's charge id; Stripe's payment intent
	ProviderChargeID string // Telegram: the payment provider's charge id, which the owner refunds by
	Amount           core.Money
	Reason           string
	Since            time.Time // when it became due
	Failed           string    // why the provider refused it, for good: the owner's to make
}

// RefundsDue lists up to n payments of the salon to be refunded, oldest
// first: of provider ("" for any), and only those not refused for good when
// open is set (the refund loop's work).
func (p *Payments) RefundsDue(ctx context.Context, salonID, provider string, open bool, n int) ([]Refund, error) {
	rows, err := p.pool.Query(ctx, `
		SELECT payment_id, booking_id::text, provider, charge_id, provider_charge_id, amount_minor, currency,
		       coalesce(refund_reason, ''), updated_at, coalesce(refund_failed, '')
		FROM payments
		WHERE salon_id = $1 AND state = 'refund_due' AND ($2 = '' OR provider = $2) AND NOT ($3 AND refund_failed IS NOT NULL)
		ORDER BY payment_id LIMIT $4`, salonID, provider, open, n)
	if err != nil {
		return nil, mapErr(err, "select refunds due")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Refund, error) {
		var x Refund
		err := r.Scan(&x.PaymentID, &x.BookingID, &x.Provider, &x.ChargeID, &x.ProviderChargeID, &x.Amount.Minor, &x.Amount.Currency,
			&x.Reason, &x.Since, &x.Failed)
		x.Since = x.Since.UTC()
		return x, err
	})
	return out, mapErr(err, "select refunds due")
}

// Refunded marks the payment refunded with the provider's refund id (""
// when the owner refunded it), and its booking's deposit refunded once none
// of its payments is left to refund. A payment not due is left alone; it
// reports whether this one was.
func (p *Payments) Refunded(ctx context.Context, salonID string, paymentID int64, refundID string) (bool, error) {
	return p.refunded(ctx, salonID, paymentID, refundID, false)
}

// RefundedByOwner is Refunded for a refund the owner made by hand: only of a
// payment the refund loop does not make, a Telegram one or one the provider
// refused (refund_failed); a Stripe payment the loop is to refund is left
// alone (false), or it would be marked refunded and never refunded.
func (p *Payments) RefundedByOwner(ctx context.Context, salonID string, paymentID int64) (bool, error) {
	return p.refunded(ctx, salonID, paymentID, "", true)
}

func (p *Payments) refunded(ctx context.Context, salonID string, paymentID int64, refundID string, byOwner bool) (bool, error) {
	var n int
	err := p.pool.QueryRow(ctx, `
		WITH r AS (
			UPDATE payments SET state = 'refunded', refund_id = nullif($3, ''), refund_failed = NULL, updated_at = now()
			WHERE salon_id = $1 AND payment_id = $2 AND state = 'refund_due'
			  AND (NOT $4 OR provider = 'telegram' OR refund_failed IS NOT NULL)
			RETURNING booking_id),
		b AS (
			UPDATE bookings k SET deposit_state = 'refunded', updated_at = now()
			FROM r WHERE k.booking_id = r.booking_id AND k.deposit_state = 'refund_due'
			  AND NOT EXISTS (SELECT 1 FROM payments x WHERE x.booking_id = r.booking_id AND x.state = 'refund_due'
			                  AND x.payment_id <> $2))
		SELECT count(*) FROM r`, salonID, paymentID, refundID, byOwner).Scan(&n)
	return n == 1, mapErr(err, "mark refunded")
}

// RefundFailed records that the provider refused the payment's refund for
// good (why: its error's type and code): the refund loop leaves it, and the
// owner's list shows it.
func (p *Payments) RefundFailed(ctx context.Context, salonID string, paymentID int64, why string) error {
	_, err := p.pool.Exec(ctx, `UPDATE payments SET refund_failed = $3, updated_at = now()
		WHERE salon_id = $1 AND payment_id = $2 AND state = 'refund_due'`, salonID, paymentID, why)
	return mapErr(err, "record refund failure")
}

// CheckoutSession is a Stripe Checkout Session kept for a booking.
type CheckoutSession struct {
	BookingID string
	ID        string
	URL       string
}

// CheckoutSessionOf returns the session kept for the booking, if any and not
// closed.
func (p *Payments) CheckoutSessionOf(ctx context.Context, salonID, bookingID string) (CheckoutSession, bool, error) {
	s := CheckoutSession{BookingID: bookingID}
	err := p.pool.QueryRow(ctx, `SELECT session_id, url FROM checkout_sessions
		WHERE salon_id = $1 AND booking_id = $2::uuid AND closed_at IS NULL`, salonID, bookingID).Scan(&s.ID, &s.URL)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, false, nil
	}
	return s, err == nil, mapErr(err, "select checkout session")
}

// KeepCheckoutSession keeps the booking's session (the first one made: a
// second is ignored) and returns the one kept.
func (p *Payments) KeepCheckoutSession(ctx context.Context, salonID string, s CheckoutSession, expiresAt time.Time) (CheckoutSession, error) {
	kept := CheckoutSession{BookingID: s.BookingID}
	err := p.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO checkout_sessions (booking_id, salon_id, session_id, url, expires_at) VALUES ($2::uuid, $1, $3, $4, $5)
			ON CONFLICT (booking_id) DO NOTHING
			RETURNING session_id, url)
		SELECT session_id, url FROM ins
		UNION ALL
		SELECT session_id, url FROM checkout_sessions WHERE booking_id = $2::uuid AND salon_id = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
		salonID, s.BookingID, s.ID, s.URL, expiresAt).Scan(&kept.ID, &kept.URL)
	return kept, mapErr(err, "keep checkout session")
}

// SessionsToClose lists up to n of the salon's open sessions whose booking no
// longer awaits its deposit at now: cancelled, expired, or its payment window
// lapsed. A paid (confirmed) booking's page completed already.
func (p *Payments) SessionsToClose(ctx context.Context, salonID string, now time.Time, n int) ([]CheckoutSession, error) {
	rows, err := p.pool.Query(ctx, `
		SELECT s.booking_id::text, s.session_id, s.url
		FROM checkout_sessions s JOIN bookings k ON k.booking_id = s.booking_id
		WHERE s.salon_id = $1 AND s.closed_at IS NULL AND s.expires_at > $2
		  AND (k.status IN ('cancelled', 'expired') OR (k.status = 'awaiting_payment' AND k.hold_expires_at <= $2))
		ORDER BY s.expires_at LIMIT $3`, salonID, now, n)
	if err != nil {
		return nil, mapErr(err, "select sessions to close")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CheckoutSession, error) {
		var s CheckoutSession
		return s, r.Scan(&s.BookingID, &s.ID, &s.URL)
	})
	return out, mapErr(err, "select sessions to close")
}

// SessionClosed records that the session's page is closed.
func (p *Payments) SessionClosed(ctx context.Context, salonID, sessionID string) error {
	_, err := p.pool.Exec(ctx, `UPDATE checkout_sessions SET closed_at = now()
		WHERE salon_id = $1 AND session_id = $2 AND closed_at IS NULL`, salonID, sessionID)
	return mapErr(err, "close checkout session")
}
