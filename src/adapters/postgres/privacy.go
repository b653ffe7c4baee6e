package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

var _ dialog.Privacy = (*Privacy)(nil)

// Privacy erases a chat's personal data on the client's request ("delete my
// data"). Booking rows stay, anonymous: the salon's books keep the service,
// master, time, price and status.
type Privacy struct {
	pool *pgxpool.Pool
	// changed are told, in the erase's transaction, of each booking whose
	// calendar event carries the erased client's name (booking.Erased): the
	// calendar job writes it again without it.
	changed []func(ctx context.Context, tx pgx.Tx, c booking.Change) error
}

// NewPrivacy returns Privacy over pool (the main pool: it writes clients,
// bookings, the wait-list, the inbox and the outbox, never the conversation,
// whose row the step that calls it holds).
func NewPrivacy(pool *pgxpool.Pool) *Privacy { return &Privacy{pool: pool} }

// FollowChanges makes Erase call record, in its transaction, with a
// booking.Erased change for every booking of an erased client that has a
// calendar event (src/cmd inserts the calendar push job there). Add them
// before Erase is used.
func (p *Privacy) FollowChanges(record func(ctx context.Context, tx pgx.Tx, c booking.Change) error) {
	p.changed = append(p.changed, record)
}

// namedSQL names the clients of the chat ($1 salon, $2 source
// "<channel>:<chat>", $3 channel, $4 chat id, $5 the client id its state
// names): the one its state names, its own (identity chat:<source>), and
// those of its bookings and wait-list entries; kept says which one an erase
// leaves alone. An owner-keyed client (the API's or the desk's, and one from
// before migration 0025 that more than one source booked for) that also has
// bookings from elsewhere is the salon's record of a number the chat only
// typed: kept. A verified number's client (phone:) is the person asking,
// whichever of their chats booked: erased, with all its bookings.
const namedSQL = `
	mine AS (
		SELECT client_id FROM bookings WHERE salon_id = $1 AND source = $2 AND source <> '' AND client_id IS NOT NULL
		UNION SELECT client_id FROM waitlist WHERE salon_id = $1 AND channel = $3 AND chat_id = $4 AND client_id IS NOT NULL
		UNION SELECT client_id FROM clients WHERE salon_id = $1 AND (client_id = $5 OR identity = 'chat:' || $2)),
	named AS (
		SELECT c.client_id, c.identity LIKE 'owner:%' AND EXISTS (
		        SELECT 1 FROM bookings b WHERE b.salon_id = $1 AND b.client_id = c.client_id AND b.source <> $2) AS kept
		FROM clients c JOIN mine m USING (client_id)
		WHERE c.salon_id = $1 AND c.erased_at IS NULL)`

// Upcoming implements dialog.Privacy: the live bookings (confirmed, or held
// and unexpired) not ended at now of the chat and of every client Erase
// would erase, by start. Returns EUnavailable when ctx ends or the database is
// unreachable, EInternal otherwise.
func (p *Privacy) Upcoming(ctx context.Context, key dialog.ChatKey, clientID int64, now time.Time) ([]core.Booking, error) {
	rows, err := p.pool.Query(ctx, `WITH `+namedSQL+`
		SELECT `+bookingColumns+` FROM bookings
		WHERE salon_id = $1 AND kind = 'appointment' AND ends_at > $6
		  AND (status = 'confirmed' OR (status IN ('held', 'awaiting_payment') AND hold_expires_at > $6))
		  AND (source = $2 OR client_id IN (SELECT client_id FROM named WHERE NOT kept))
		ORDER BY starts_at, booking_id`,
		key.SalonID, key.Channel+":"+key.ChatID, key.Channel, key.ChatID, clientID, now)
	if err != nil {
		return nil, mapErr(err, "select bookings to erase")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Booking, error) {
		b, err := scanBooking(r)
		if err != nil {
			return core.Booking{}, err
		}
		return *b, nil
	})
	return out, mapErr(err, "select bookings to erase")
}

// Erase implements dialog.Privacy, in one transaction:
//   - the chat's clients are locked (a booking that found one waits, then no
//     longer finds it: its identity is gone);
//   - the chat's wait-list entries and the erased clients' go (with their
//     offers), then the live holds of the chat and of the erased clients are
//     released (an offer the matcher made before the entries went included):
//     no offer is made to them from here;
//   - a confirmed booking of the chat or of an erased client not ended at now
//     (one made after the caller cancelled what Upcoming listed) stops it:
//     EConflict "privacy.live", nothing changed;
//   - the erased clients lose name and phone (identity erased:<id>,
//     erased_at), their bookings and the chat's lose the chat's id (source
//     "erased": a chat id is personal data too, a WhatsApp one is the number);
//   - the raw updates the chat sent that were handled are blanked in the
//     inbox (the one being handled is blanked when its step commits:
//     Reply.Forget); the chat's messages in the outbox and the staff notices
//     about the erased clients' bookings are blanked, those not yet sent once
//     they are (the outbox_forget trigger, migration 0025);
//   - the calendar events of the erased clients' bookings are marked for a
//     rewrite (written without the name by the calendar job: FollowChanges);
//   - the chat's ad click is deleted and the ad events not yet sent of its
//     bookings and the erased clients' are dropped (nothing reaches Meta).
//
// The conversation's own state and events are the caller's (State.Forget).
// Returns EUnavailable when ctx ends or the database is unreachable, EInternal
// otherwise.
func (p *Privacy) Erase(ctx context.Context, key dialog.ChatKey, clientID int64, now time.Time) (dialog.Erased, error) {
	source := key.Channel + ":" + key.ChatID
	var out dialog.Erased
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		out = dialog.Erased{}
		rows, err := tx.Query(ctx, `WITH `+namedSQL+`
			SELECT c.client_id, n.kept FROM clients c JOIN named n USING (client_id)
			ORDER BY c.client_id FOR UPDATE OF c`, key.SalonID, source, key.Channel, key.ChatID, clientID)
		if err != nil {
			return mapErr(err, "lock clients to erase")
		}
		var ids []int64
		var id int64
		var kept bool
		if _, err := pgx.ForEachRow(rows, []any{&id, &kept}, func() error {
			if kept {
				out.Kept++
			} else {
				ids = append(ids, id)
			}
			return nil
		}); err != nil {
			return mapErr(err, "lock clients to erase")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM waitlist WHERE salon_id = $1 AND (channel = $2 AND chat_id = $3 OR client_id = ANY ($4))`,
			key.SalonID, key.Channel, key.ChatID, ids); err != nil {
			return mapErr(err, "erase wait-list entries")
		}
		if _, err := tx.Exec(ctx, `
			WITH r AS (
				UPDATE bookings SET status = 'cancelled', hold_expires_at = NULL, updated_at = $4
				WHERE salon_id = $1 AND status IN ('held', 'awaiting_payment') AND hold_expires_at > $4 AND (source = $2 OR client_id = ANY ($3))
				RETURNING booking_id, starts_at),
			a AS (INSERT INTO booking_changes (booking_id, salon_id, at, actor, action, starts_at)
			      SELECT booking_id, $1, $4, $5, 'released', starts_at FROM r)
			INSERT INTO waitlist_wakes (salon_id) SELECT $1 WHERE EXISTS (SELECT 1 FROM r)`,
			key.SalonID, source, ids, now, booking.ActorChat); err != nil {
			return mapErr(err, "release holds to erase")
		}
		var live bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM bookings
			WHERE salon_id = $1 AND status = 'confirmed' AND ends_at > $4 AND (source = $2 OR client_id = ANY ($3)))`,
			key.SalonID, source, ids, now).Scan(&live); err != nil {
			return mapErr(err, "check bookings to erase")
		}
		if live {
			return core.Errorf(core.EConflict, "privacy.live", "postgres: erase: a booking of the chat or its client is live")
		}
		if _, err := tx.Exec(ctx, `UPDATE clients SET name = '', phone = '', identity = 'erased:' || client_id, erased_at = $3
			WHERE salon_id = $1 AND client_id = ANY ($2) AND erased_at IS NULL`, key.SalonID, ids, now); err != nil {
			return mapErr(err, "erase clients")
		}
		// The desk's private notes on them go too (client_notes).
		if _, err := tx.Exec(ctx, `DELETE FROM client_notes WHERE client_id = ANY ($1)`, ids); err != nil {
			return mapErr(err, "erase client notes")
		}
		// Nothing more is reported to the ad platform for them: the chat's ad
		// click goes, and the events not yet sent of the chat's bookings and
		// the erased clients' are dropped (migration 0030). An event being
		// sent (locked by AdReports.Handle for its request) is skipped, not
		// waited for: it has left already; should its send fail, the retry
		// reads the client erased and drops it.
		if _, err := tx.Exec(ctx, `
			WITH c AS (DELETE FROM meta_chats WHERE salon_id = $1 AND channel = $4 AND chat_id = $5)
			UPDATE meta_events SET state = 'dropped', done_at = $6
			WHERE event_id IN (SELECT event_id FROM meta_events
				WHERE state = 'pending' AND booking_id IN (SELECT booking_id FROM bookings
					WHERE salon_id = $1 AND (source = $2 AND source <> '' OR client_id = ANY ($3)))
				FOR UPDATE SKIP LOCKED)`,
			key.SalonID, source, ids, key.Channel, key.ChatID, now); err != nil {
			return mapErr(err, "drop ad events")
		}
		rows, err = tx.Query(ctx, `SELECT booking_id::text FROM bookings WHERE salon_id = $1 AND client_id = ANY ($2)`, key.SalonID, ids)
		if err != nil {
			return mapErr(err, "read erased bookings")
		}
		theirs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return mapErr(err, "read erased bookings")
		}
		if _, err := tx.Exec(ctx, `UPDATE bookings SET source = 'erased', updated_at = $4
			WHERE salon_id = $1 AND (source = $2 AND source <> '' OR client_id = ANY ($3)) AND source <> 'erased'`,
			key.SalonID, source, ids, now); err != nil {
			return mapErr(err, "erase bookings' chat")
		}
		if _, err := tx.Exec(ctx, `UPDATE inbox SET payload = ''::bytea
			WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND handled_at IS NOT NULL AND payload <> ''::bytea`,
			key.SalonID, key.Channel, key.ChatID); err != nil {
			return mapErr(err, "erase inbox payloads")
		}
		// One pass over the salon's outbox (no index by chat or booking: an
		// erase is rare, an index would cost every message): the chat's
		// messages and the staff notices about the erased bookings
		// (messaging.Outgoing.Booking). Sent or given up: blanked now. The
		// chat's pushed messages still waiting (a reminder, an offer) are
		// given up and blanked; other messages still to send (the steps'
		// answers, notices of the cancellations just made) are marked, and
		// blanked once sent or given up (the outbox_forget trigger).
		if _, err := tx.Exec(ctx, `
			WITH x AS (
				SELECT id, sent_at IS NULL AND failed IS NULL AS waiting,
				       sent_at IS NULL AND failed IS NULL AND pushed_at IS NOT NULL AND channel = $2 AND chat_id = $3
				       AND (leased_until IS NULL OR leased_until < now()) AS drop
				FROM outbox
				WHERE salon_id = $1 AND (channel = $2 AND chat_id = $3 OR body->>'booking' = ANY ($4))
				  AND NOT body ? 'erased' AND NOT body ? 'forget')
			UPDATE outbox o SET failed = CASE WHEN x.drop THEN 'erased' ELSE o.failed END,
			       body = CASE WHEN x.waiting AND NOT x.drop THEN o.body || '{"forget": true}' ELSE '{"erased": true}' END
			FROM x WHERE o.id = x.id`,
			key.SalonID, key.Channel, key.ChatID, theirs); err != nil {
			return mapErr(err, "erase outbox messages")
		}
		// The calendar events of the erased bookings say "Service · Name":
		// their written time is forgotten, so the push writes them again
		// (now without the name), and so would a later repair (Stale).
		rows, err = tx.Query(ctx, `UPDATE calendar_events SET starts_at = NULL
			WHERE salon_id = $1 AND booking_id = ANY ($2::uuid[]) AND NOT deleted
			RETURNING booking_id::text`, key.SalonID, theirs)
		if err != nil {
			return mapErr(err, "mark calendar events")
		}
		events, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return mapErr(err, "mark calendar events")
		}
		for _, id := range events {
			for _, record := range p.changed {
				if err := record(ctx, tx, booking.Change{Kind: booking.Erased, Booking: core.Booking{ID: id, SalonID: key.SalonID}}); err != nil {
					return err
				}
			}
		}
		out.Clients = len(ids)
		return nil
	})
	if err != nil {
		return dialog.Erased{}, passCore(err, "erase chat data")
	}
	return out, nil
}
