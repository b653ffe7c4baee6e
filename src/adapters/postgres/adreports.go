package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
	"salonbook/src/core/adreport"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

var (
	_ adreport.Store = (*AdReports)(nil)
	_ messaging.Ads  = (*AdReports)(nil)
)

// ClickLife is how long a click's code from GET /go/telegram waits for its
// /start (a visitor taps Start within moments; a day is ample); an older one
// names no click, and goes.
const ClickLife = 24 * time.Hour

// ChatClickLife is how long a chat counts as coming from its ad click (Meta
// attributes at most 28 days after a click): its bookings after that record
// nothing, and the click is forgotten when another chat's is noted.
const ChatClickLife = 28 * 24 * time.Hour

// AdReports keeps what bookings are reported to Meta with (migration 0030):
// the clicks of the salon's ad link, the click each chat came from, and the
// events recorded for bookings of those chats.
type AdReports struct{ pool *pgxpool.Pool }

// NewAdReports returns AdReports over pool (the main pool).
func NewAdReports(pool *pgxpool.Pool) *AdReports { return &AdReports{pool: pool} }

// Click stores an ad click (its fbclid, at at) under a fresh random code of 16
// URL-safe characters and returns the code. Codes older than ClickLife go.
func (a *AdReports) Click(ctx context.Context, salonID, fbclid string, at time.Time) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", core.Errorf(core.EInternal, "error.internal", "postgres: ad click code: %w", err)
	}
	code := base64.RawURLEncoding.EncodeToString(b)
	_, err := a.pool.Exec(ctx, `
		WITH old AS (DELETE FROM meta_clicks WHERE clicked_at < $4)
		INSERT INTO meta_clicks (code, salon_id, fbclid, clicked_at) VALUES ($1, $2, $3, $5)`,
		code, salonID, fbclid, at.Add(-ClickLife), at)
	if err != nil {
		return "", mapErr(err, "insert ad click")
	}
	return code, nil
}

// Clicked implements messaging.Ads: the chat came from click. A code
// (Telegram) is looked up among the salon's clicks not older than ClickLife
// at at, and taken; a click id (WhatsApp's ctwa_clid) is kept as it is. The
// latest click wins.
func (a *AdReports) Clicked(ctx context.Context, key dialog.ChatKey, click messaging.AdClick, at time.Time) error {
	var err error
	switch {
	case click.Code != "":
		_, err = a.pool.Exec(ctx, `
			WITH c AS (DELETE FROM meta_clicks WHERE code = $4 AND salon_id = $1 AND clicked_at >= $6 RETURNING fbclid, clicked_at)
			INSERT INTO meta_chats (salon_id, channel, chat_id, fbclid, clicked_at, noted_at)
			SELECT $1, $2, $3, fbclid, clicked_at, $5 FROM c
			ON CONFLICT (salon_id, channel, chat_id) DO UPDATE
			SET fbclid = excluded.fbclid, clicked_at = excluded.clicked_at, ctwa_clid = NULL, noted_at = excluded.noted_at`,
			key.SalonID, key.Channel, key.ChatID, click.Code, at, at.Add(-ClickLife))
	case click.ClickID != "":
		_, err = a.pool.Exec(ctx, `
			INSERT INTO meta_chats (salon_id, channel, chat_id, ctwa_clid, noted_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (salon_id, channel, chat_id) DO UPDATE
			SET ctwa_clid = excluded.ctwa_clid, fbclid = NULL, clicked_at = NULL, noted_at = excluded.noted_at`,
			key.SalonID, key.Channel, key.ChatID, click.ClickID, at)
	}
	return mapErr(err, "note ad click")
}

// PruneChats deletes the salon's chat clicks noted more than ChatClickLife
// before at (Record no longer counts them), and returns how many; serve runs
// it hourly rather than on every click, which would scan the salon's rows.
func (a *AdReports) PruneChats(ctx context.Context, salonID string, at time.Time) (int64, error) {
	tag, err := a.pool.Exec(ctx, `DELETE FROM meta_chats WHERE salon_id = $1 AND noted_at < $2`, salonID, at.Add(-ChatClickLife))
	if err != nil {
		return 0, mapErr(err, "prune ad chats")
	}
	return tag.RowsAffected(), nil
}

// Record records, in the change's transaction, the events a booking change
// reports: a booking confirmed (booking.Booked) is a Schedule, and a Purchase
// too when its deposit is paid; the deposit of a booking the salon confirmed
// before it was paid (booking.DepositPaid) is a Purchase. Only a booking of a
// chat that came from an ad click (meta_chats) noted within ChatClickLife
// records any; an event recorded before (a replay) is not again. It returns
// the ids of the events recorded now, whose jobs the caller inserts in tx.
func (a *AdReports) Record(ctx context.Context, tx pgx.Tx, c booking.Change, now time.Time) ([]string, error) {
	b := c.Booking
	if (c.Kind != booking.Booked && c.Kind != booking.DepositPaid) || b.Block || b.ClientID == 0 {
		return nil, nil
	}
	channel, chat, ok := strings.Cut(b.Source, ":")
	if !ok || chat == "" {
		return nil, nil
	}
	var names []string
	if c.Kind == booking.Booked {
		names = append(names, adreport.Schedule)
	}
	if b.DepositState == core.DepositPaid && b.Deposit.Minor > 0 {
		names = append(names, adreport.Purchase)
	}
	if len(names) == 0 {
		return nil, nil
	}
	ids := make([]string, len(names))
	for i, n := range names {
		ids[i] = adreport.EventID(b.ID, n)
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO meta_events (event_id, salon_id, booking_id, name, occurred_at)
		SELECT e.id, $1, $2::uuid, e.name, $6 FROM unnest($3::text[], $4::text[]) AS e (id, name)
		WHERE EXISTS (SELECT 1 FROM meta_chats WHERE salon_id = $1 AND channel = $5 AND chat_id = $7 AND noted_at >= $8)
		ON CONFLICT (event_id) DO NOTHING
		RETURNING event_id`, b.SalonID, b.ID, ids, names, channel, now, chat, now.Add(-ChatClickLife))
	if err != nil {
		return nil, mapErr(err, "record ad events")
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, mapErr(err, "record ad events")
}

// Facts implements adreport.Store. ENotFound when the salon has no event with
// the id.
func (a *AdReports) Facts(ctx context.Context, salonID, eventID string) (adreport.Facts, error) {
	return facts(ctx, a.pool, salonID, eventID, "")
}

// facts reads the salon's event through q; lock "FOR UPDATE OF e" locks its
// row.
func facts(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, salonID, eventID, lock string) (adreport.Facts, error) {
	var f adreport.Facts
	var clientID pgtype.Int8
	var erased bool
	var phone, source, fbclid, ctwa pgtype.Text
	var clicked pgtype.Timestamptz
	err := q.QueryRow(ctx, `
		SELECT e.state, e.name, e.salon_id, e.booking_id::text, e.occurred_at,
		       b.price_minor, b.currency, coalesce(b.deposit_minor, 0), b.client_id,
		       c.erased_at IS NOT NULL OR b.source = 'erased', c.phone, s.ads_phone_consent, b.source,
		       m.fbclid, m.clicked_at, m.ctwa_clid
		FROM meta_events e
		JOIN bookings b ON b.booking_id = e.booking_id
		JOIN salons s ON s.salon_id = e.salon_id
		LEFT JOIN clients c ON c.client_id = b.client_id
		LEFT JOIN meta_chats m ON m.salon_id = b.salon_id AND m.channel = split_part(b.source, ':', 1)
		     AND m.chat_id = substr(b.source, strpos(b.source, ':') + 1) AND strpos(b.source, ':') > 0
		WHERE e.event_id = $1 AND e.salon_id = $2 `+lock, eventID, salonID).
		Scan(&f.State, &f.Name, &f.SalonID, &f.BookingID, &f.OccurredAt, &f.Price.Minor, &f.Price.Currency, &f.Deposit.Minor,
			&clientID, &erased, &phone, &f.Consent, &source, &fbclid, &clicked, &ctwa)
	if err != nil {
		return adreport.Facts{}, mapErr(err, "read ad event")
	}
	f.OccurredAt = f.OccurredAt.UTC()
	f.ClientID, f.Erased, f.Phone = clientID.Int64, erased, phone.String
	if f.Deposit.Minor > 0 {
		f.Deposit.Currency = f.Price.Currency
	}
	f.Channel, _, _ = strings.Cut(source.String, ":")
	f.Fbclid, f.CtwaClid = fbclid.String, ctwa.String
	if clicked.Valid {
		f.ClickedAt = clicked.Time.UTC()
	}
	return f, nil
}

// Handle implements adreport.Store: the event's row stays locked (FOR
// UPDATE) from its facts to its mark, in a transaction on the pool (the jobs'
// pool); fn makes no database call.
func (a *AdReports) Handle(ctx context.Context, salonID, eventID string, at time.Time, fn func(adreport.Facts) (string, error)) error {
	return pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		f, err := facts(ctx, tx, salonID, eventID, "FOR UPDATE OF e")
		if err != nil {
			return err
		}
		state, err := fn(f)
		if err != nil || state == "" {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE meta_events SET state = $2, done_at = $3 WHERE event_id = $1 AND state = 'pending'`,
			eventID, state, at)
		return mapErr(err, "mark ad event")
	})
}
