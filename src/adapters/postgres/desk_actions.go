package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"salonbook/src/core"
	"salonbook/src/core/staff"
)

// What the desk's actions read besides the schedule: one booking with its
// client, its history, and a client's no-shows. The changes themselves go
// through booking.Service (Store), never through here.

// Entry returns one booking (or block) with its client's name and phone, and
// the name the salon's own client of that phone goes by when that is another
// record under another name (staff.Entry.ClientKnownAs; found by
// clients_identity). ENotFound.
func (d *Desk) Entry(ctx context.Context, salonID, bookingID string) (staff.Entry, error) {
	var e staff.Entry
	var id pgtype.UUID
	if err := id.Scan(bookingID); err != nil {
		return e, core.Errorf(core.ENotFound, "booking.not_found", "postgres: booking id is not a UUID")
	}
	b, err := scanBooking(d.pool.QueryRow(ctx, `
		SELECT `+bookingColumns+`,
		       coalesce((SELECT c.name FROM clients c WHERE c.client_id = b.client_id), ''),
		       coalesce((SELECT c.phone FROM clients c WHERE c.client_id = b.client_id), ''),
		       coalesce((SELECT o.name FROM clients c JOIN clients o ON o.salon_id = c.salon_id AND o.identity = 'owner:' || c.phone
		                 WHERE c.client_id = b.client_id AND c.phone <> '' AND o.client_id <> c.client_id AND o.name <> c.name), '')
		FROM bookings b WHERE salon_id = $1 AND booking_id = $2`, salonID, id), &e.ClientName, &e.ClientPhone, &e.ClientKnownAs)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, core.Errorf(core.ENotFound, "booking.not_found", "postgres: no booking %s", bookingID)
	}
	if err != nil {
		return e, mapErr(err, "select booking with its client")
	}
	e.Booking = *b
	return e, nil
}

// History returns the recorded changes of a booking, oldest first (its
// primary key's order; none for an unknown id).
func (d *Desk) History(ctx context.Context, salonID, bookingID string) ([]staff.Change, error) {
	var id pgtype.UUID
	if err := id.Scan(bookingID); err != nil {
		return nil, nil
	}
	rows, err := d.pool.Query(ctx, `
		SELECT at, actor, action, reason, override, starts_at, from_starts_at FROM booking_changes
		WHERE booking_id = $1 AND salon_id = $2 ORDER BY id`, id, salonID)
	if err != nil {
		return nil, mapErr(err, "select booking history")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (staff.Change, error) {
		var c staff.Change
		var from pgtype.Timestamptz
		err := r.Scan(&c.At, &c.Actor, &c.Action, &c.Reason, &c.Override, &c.Start, &from)
		c.At, c.Start = c.At.UTC(), c.Start.UTC()
		if from.Valid {
			c.From = from.Time.UTC()
		}
		return c, err
	})
	return out, mapErr(err, "select booking history")
}

// NoShows counts the no-shows (bookings marked no-show that started at or
// after since) of the person the client is: the client's own, and those of
// every client of the salon with the same phone number. Since clients are
// found by identity (migration 0025), one person may be several clients (a
// chat's, a verified number's, the salon's own by phone: chat:, phone:,
// owner:); a client with no phone (erased) counts only its own. The read
// starts from the salon's no-shows since then (bookings_no_shows: only those
// rows) and looks each one's client up by primary key, so it needs no index on
// phones and stays as small as the salon's no-shows. Deposits (issue 16) read
// the same count.
func (d *Desk) NoShows(ctx context.Context, salonID string, clientID int64, since time.Time) (int, error) {
	var n int
	err := d.pool.QueryRow(ctx, noShowsSQL, salonID, clientID, since).Scan(&n)
	return n, mapErr(err, "count no-shows")
}

// noShowsSQL is NoShows' statement ($1 salon, $2 client, $3 since).
const noShowsSQL = `
	SELECT count(*) FROM bookings b
	LEFT JOIN clients c ON c.client_id = b.client_id
	WHERE b.salon_id = $1 AND b.attendance = 'no_show' AND b.starts_at >= $3
	  AND (b.client_id = $2
	       OR c.phone <> '' AND c.phone = (SELECT me.phone FROM clients me WHERE me.client_id = $2 AND me.salon_id = $1))`
