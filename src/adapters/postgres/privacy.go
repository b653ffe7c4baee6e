package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core/dialog"
)

var _ dialog.Privacy = (*Privacy)(nil)

// Privacy erases a chat's personal data on the client's request ("delete my
// data"). Booking rows stay, anonymous: the salon's books keep the service,
// master, time, price and status.
type Privacy struct {
	pool *pgxpool.Pool
}

// NewPrivacy returns Privacy over pool (the main pool: it writes clients,
// bookings, the wait-list and the inbox, never the conversation, whose row the
// step that calls it holds).
func NewPrivacy(pool *pgxpool.Pool) *Privacy { return &Privacy{pool: pool} }

// eraseClientsSQL blanks the name and phone of the chat's clients: the one its
// state names ($5), the chat's own (identity chat:<source>), and those of its
// bookings and wait-list entries, and deletes the salon's notes on them (the
// desk's client_notes). An owner-keyed client (the API's, and every
// client from before migration 0025, when a phone was the key) that also has
// bookings from elsewhere is someone the chat only typed the number of: left
// alone.
const eraseClientsSQL = `
	WITH mine AS (
		SELECT client_id FROM bookings WHERE salon_id = $1 AND source = $2 AND source <> ''
		UNION SELECT client_id FROM waitlist WHERE salon_id = $1 AND channel = $3 AND chat_id = $4 AND client_id IS NOT NULL
		UNION SELECT client_id FROM clients WHERE salon_id = $1 AND (client_id = $5 OR identity = 'chat:' || $2)),
	erased AS (
		UPDATE clients c SET name = '', phone = '', identity = 'erased:' || c.client_id, erased_at = $6
		FROM mine m
		WHERE c.client_id = m.client_id AND c.salon_id = $1 AND c.erased_at IS NULL
		  AND NOT (c.identity LIKE 'owner:%' AND EXISTS (
		        SELECT 1 FROM bookings b WHERE b.salon_id = $1 AND b.client_id = c.client_id AND b.source <> $2))
		RETURNING c.client_id)
	DELETE FROM client_notes n USING erased e WHERE n.client_id = e.client_id`

// Erase implements dialog.Privacy. In one transaction: the chat's clients lose
// their name and phone (identity erased:<id>, erased_at set), its wait-list
// entries go (with their offers), its bookings' source becomes "erased" (a
// chat id is personal data too: a Telegram chat is its user), and the raw
// updates the chat sent that were handled are blanked in the inbox. The
// conversation's state and events are the caller's (State.Forget). Returns
// EUnavailable when ctx ends or the database is unreachable, EInternal
// otherwise.
func (p *Privacy) Erase(ctx context.Context, key dialog.ChatKey, clientID int64, now time.Time) error {
	source := key.Channel + ":" + key.ChatID
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, eraseClientsSQL, key.SalonID, source, key.Channel, key.ChatID, clientID, now); err != nil {
			return mapErr(err, "erase clients")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM waitlist WHERE salon_id = $1 AND channel = $2 AND chat_id = $3`,
			key.SalonID, key.Channel, key.ChatID); err != nil {
			return mapErr(err, "erase wait-list entries")
		}
		if _, err := tx.Exec(ctx, `UPDATE bookings SET source = 'erased', updated_at = $3 WHERE salon_id = $1 AND source = $2 AND source <> ''`,
			key.SalonID, source, now); err != nil {
			return mapErr(err, "erase bookings' chat")
		}
		_, err := tx.Exec(ctx, `UPDATE inbox SET payload = ''::bytea
			WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND handled_at IS NOT NULL AND payload <> ''::bytea`,
			key.SalonID, key.Channel, key.ChatID)
		return mapErr(err, "erase inbox payloads")
	})
	if err != nil {
		return passCore(err, "erase chat data")
	}
	return nil
}
