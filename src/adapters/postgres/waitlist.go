package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/waitlist"
)

var (
	_ dialog.Waitlist = (*Waitlist)(nil)
	_ waitlist.Store  = (*Waitlist)(nil)
)

// Waitlist keeps wait-list entries, their offers and the wakes that tell the
// matcher a time may have freed.
type Waitlist struct {
	pool *pgxpool.Pool
}

// NewWaitlist returns a Waitlist over pool.
func NewWaitlist(pool *pgxpool.Pool) *Waitlist {
	return &Waitlist{pool: pool}
}

func pgDate(d core.Date) time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Join implements dialog.Waitlist: joining again for the same chat, service,
// master and day is one entry. The client is e.ClientID, else the one with
// e.Client's phone (created when new, named as typed). Returns ENotFound for
// an unknown salon, service or client, EUnavailable when ctx ends, and
// EInternal otherwise.
func (w *Waitlist) Join(ctx context.Context, e dialog.WaitlistEntry) error {
	client := pgtype.Int8{Int64: e.ClientID, Valid: e.ClientID != 0}
	_, err := w.pool.Exec(ctx, `
		WITH c AS (
			INSERT INTO clients (salon_id, name, phone) SELECT $1, $9, $10 WHERE $7::bigint IS NULL AND $10 <> ''
			ON CONFLICT (salon_id, phone) DO UPDATE SET phone = excluded.phone
			RETURNING client_id)
		INSERT INTO waitlist (salon_id, channel, chat_id, service_id, master_id, day, client_id, lang)
		VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, (SELECT client_id FROM c)), $8)
		ON CONFLICT (salon_id, channel, chat_id, service_id, master_id, day) DO UPDATE
			SET lang = excluded.lang, client_id = coalesce(excluded.client_id, waitlist.client_id)`,
		e.Key.SalonID, e.Key.Channel, e.Key.ChatID, e.ServiceID, e.MasterID, pgDate(e.Day), client, e.Lang,
		e.Client.Name, e.Client.Phone)
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "23503" {
		switch pgErr.ConstraintName {
		case "waitlist_service_fkey":
			return core.Errorf(core.ENotFound, "service.not_found", "postgres: join waitlist: no service %q", e.ServiceID)
		case "waitlist_client_fkey":
			return core.Errorf(core.ENotFound, "client.not_found", "postgres: join waitlist: no client %d", e.ClientID)
		default:
			return core.Errorf(core.ENotFound, "salon.not_found", "postgres: join waitlist: no salon %q", e.Key.SalonID)
		}
	}
	return mapErr(err, "join waitlist")
}

// Entries implements dialog.Waitlist: the chat's entries for from and later,
// by day.
func (w *Waitlist) Entries(ctx context.Context, key dialog.ChatKey, from core.Date) ([]dialog.WaitlistEntry, error) {
	rows, err := w.pool.Query(ctx, `
		SELECT id, service_id, master_id, day, coalesce(client_id, 0), lang FROM waitlist
		WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND day >= $4
		ORDER BY day, id`, key.SalonID, key.Channel, key.ChatID, pgDate(from))
	if err != nil {
		return nil, mapErr(err, "select wait-list entries")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dialog.WaitlistEntry, error) {
		e := dialog.WaitlistEntry{Key: key}
		var day time.Time
		err := r.Scan(&e.ID, &e.ServiceID, &e.MasterID, &day, &e.ClientID, &e.Lang)
		e.Day = core.DateOf(day)
		return e, err
	})
	return out, mapErr(err, "select wait-list entries")
}

// Leave implements dialog.Waitlist: it deletes the entry only if it is the
// chat's, and reports whether it did. Its offers go with it.
func (w *Waitlist) Leave(ctx context.Context, key dialog.ChatKey, id int64) (bool, error) {
	tag, err := w.pool.Exec(ctx, `DELETE FROM waitlist WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND id = $4`,
		key.SalonID, key.Channel, key.ChatID, id)
	if err != nil {
		return false, mapErr(err, "leave wait-list")
	}
	return tag.RowsAffected() == 1, nil
}

// Wake implements dialog.Waitlist: a time of the salon may have freed.
func (w *Waitlist) Wake(ctx context.Context, salonID string) error {
	_, err := w.pool.Exec(ctx, `INSERT INTO waitlist_wakes (salon_id) VALUES ($1)`, salonID)
	return mapErr(err, "wake wait-list")
}

// Record follows booking changes (postgres.Store.FollowChanges), in the
// change's transaction: a cancel or a move frees a time (a wake); a booked
// offer ends its entry.
func (w *Waitlist) Record(ctx context.Context, tx pgx.Tx, c booking.Change) error {
	var err error
	switch c.Kind {
	case booking.Cancelled, booking.Moved:
		_, err = tx.Exec(ctx, `INSERT INTO waitlist_wakes (salon_id) VALUES ($1)`, c.Booking.SalonID)
	case booking.Booked:
		_, err = tx.Exec(ctx, `DELETE FROM waitlist WHERE id = (SELECT entry_id FROM waitlist_offers WHERE booking_id = $1::uuid)`,
			c.Booking.ID)
	}
	if err != nil {
		return mapErr(err, "record wait-list change")
	}
	return nil
}

// Drop implements waitlist.Store.
func (w *Waitlist) Drop(ctx context.Context, salonID string, today core.Date) (int64, error) {
	tag, err := w.pool.Exec(ctx, `DELETE FROM waitlist WHERE salon_id = $1 AND day < $2`, salonID, pgDate(today))
	if err != nil {
		return 0, mapErr(err, "drop past wait-list entries")
	}
	return tag.RowsAffected(), nil
}

// Waiting implements waitlist.Store.
func (w *Waitlist) Waiting(ctx context.Context, salonID string, today core.Date, now time.Time, channels []string) ([]waitlist.Entry, error) {
	rows, err := w.pool.Query(ctx, `
		SELECT w.id, w.channel || ':' || w.chat_id, w.service_id, w.master_id, w.day, c.name, c.phone,
		       coalesce((SELECT array_agg(o.starts_at) FROM waitlist_offers o WHERE o.entry_id = w.id), '{}')
		FROM waitlist w JOIN clients c ON c.client_id = w.client_id
		WHERE w.salon_id = $1 AND w.day >= $2 AND w.channel = ANY($4)
		  AND NOT EXISTS (SELECT 1 FROM waitlist_offers o JOIN bookings b ON b.booking_id = o.booking_id
		                  WHERE o.entry_id = w.id AND b.status = 'held' AND b.hold_expires_at > $3)
		ORDER BY w.id`, salonID, pgDate(today), now, channels)
	if err != nil {
		return nil, mapErr(err, "select waiting entries")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (waitlist.Entry, error) {
		e := waitlist.Entry{Client: core.Client{SalonID: salonID}}
		var day time.Time
		err := r.Scan(&e.ID, &e.Source, &e.ServiceID, &e.MasterID, &day, &e.Client.Name, &e.Client.Phone, &e.Offered)
		e.Day = core.DateOf(day)
		for i := range e.Offered {
			e.Offered[i] = e.Offered[i].UTC()
		}
		return e, err
	})
	return out, mapErr(err, "select waiting entries")
}

// ExpireDue marks expired every hold of the salon past its expiry at now, at most 1,000
// (the oldest first), and records a wake for each salon that had one, in one
// statement; it says how many. Replicas share the work: rows another holds
// (a Confirm's lock) are skipped and taken at the next run, so a Confirm and
// the expiry never both win: whichever locks the row first decides, and the
// other sees its result.
func (w *Waitlist) ExpireDue(ctx context.Context, salonID string, now time.Time) (int64, error) {
	var n int64
	err := w.pool.QueryRow(ctx, `
		WITH e AS (
			UPDATE bookings SET status = 'expired', updated_at = $1
			WHERE booking_id IN (SELECT booking_id FROM bookings WHERE status = 'held' AND hold_expires_at <= $1
			                     AND salon_id = $2 ORDER BY hold_expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED)
			  AND status = 'held' AND hold_expires_at <= $1
			RETURNING salon_id),
		w AS (INSERT INTO waitlist_wakes (salon_id) SELECT DISTINCT salon_id FROM e)
		SELECT count(*) FROM e`, now, salonID).Scan(&n)
	return n, mapErr(err, "expire due holds")
}

// NextExpiry returns when the salon's next hold expires; false when none is held.
func (w *Waitlist) NextExpiry(ctx context.Context, salonID string) (time.Time, bool, error) {
	var next pgtype.Timestamptz
	err := w.pool.QueryRow(ctx, `SELECT min(hold_expires_at) FROM bookings WHERE status = 'held' AND salon_id = $1`, salonID).Scan(&next)
	if err != nil {
		return time.Time{}, false, mapErr(err, "select next hold expiry")
	}
	return next.Time.UTC(), next.Valid, nil
}

// Matching runs fn while this process is the salon's one matcher (a session
// advisory lock on a connection of the pool, held for fn), after draining the
// salon's wakes: woken says whether there were any. ran is false when another
// replica is matching (its pass will see the same wakes' effects).
func (w *Waitlist) Matching(ctx context.Context, salonID string, fn func(woken bool) error) (ran bool, err error) {
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return false, mapErr(err, "acquire matcher connection")
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended('salonbook.waitlist/' || $1, 0))`, salonID).Scan(&got); err != nil {
		return false, mapErr(err, "lock matcher")
	}
	if !got {
		return false, nil
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		if _, uerr := conn.Exec(uctx, `SELECT pg_advisory_unlock(hashtextextended('salonbook.waitlist/' || $1, 0))`, salonID); uerr != nil {
			conn.Conn().Close(uctx) // the session's lock goes with it
		}
	}()
	tag, err := conn.Exec(ctx, `DELETE FROM waitlist_wakes WHERE salon_id = $1`, salonID)
	if err != nil {
		return false, mapErr(err, "take wait-list wakes")
	}
	return true, fn(tag.RowsAffected() > 0)
}
