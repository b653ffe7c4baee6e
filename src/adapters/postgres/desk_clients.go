package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"salonbook/src/core"
	"salonbook/src/core/staff"
)

// Clients returns one page of the salon's clients that match q, by name (case
// aside) then id, leaving out those erased on their request (no name left): those whose name contains q.Name and whose phone contains
// the digits q.Phone, and, when q.Master is set, only those with a booking of
// that master that is not an expired hold (then Bookings and Next count that
// master's bookings only). Next is the start of the next held or confirmed
// booking at or after now.
//
// No index serves a search: an owner's reads the salon's clients once (a
// name "contains" needs a trigram index, not worth its cost at a salon's
// thousands of clients; README has the figures at 100,000), a master's reads
// the master's bookings once (bookings_desk) and their clients by key; then
// the page's rows are counted by client (bookings_client_upcoming). Two
// statements, so that neither plan has to serve the other's case.
func (d *Desk) Clients(ctx context.Context, salonID string, q staff.ClientQuery, now time.Time) ([]staff.ClientRow, error) {
	for _, r := range q.Phone {
		if r < '0' || r > '9' {
			return nil, core.Errorf(core.EInvalid, "request.invalid", "postgres: search clients: the phone search is not digits")
		}
	}
	sql, args := ownerClientsSQL, []any{salonID, likeEscape(q.Name), q.Phone, now, q.Limit, q.Offset}
	if q.Master != "" {
		sql, args = masterClientsSQL, append(args, q.Master)
	}
	rows, err := d.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr(err, "search clients")
	}
	var out []staff.ClientRow
	var r staff.ClientRow
	var next *time.Time
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Name, &r.Phone, &r.HasNote, &r.Bookings, &next}, func() error {
		r.Next = time.Time{}
		if next != nil {
			r.Next = next.UTC()
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, mapErr(err, "search clients")
	}
	return out, nil
}

// The page first, then the counts of its rows only. $1 salon, $2 name
// (LIKE-escaped), $3 phone digits, $4 now, $5 limit, $6 offset; $7 master.
const (
	clientsPageSQL = `
		SELECT p.client_id, p.name, p.phone, n.client_id IS NOT NULL, k.bookings, k.next
		FROM page p
		LEFT JOIN client_notes n ON n.client_id = p.client_id
		CROSS JOIN LATERAL (
		      SELECT count(*) AS bookings,
		             min(b.starts_at) FILTER (WHERE b.starts_at >= $4 AND b.status IN ('held', 'awaiting_payment', 'confirmed')) AS next
		      FROM bookings b
		      WHERE b.salon_id = p.salon_id AND b.client_id = p.client_id AND b.status <> 'expired' %s) k
		ORDER BY lower(p.name), p.client_id`
	clientsFilter = `
		        AND ($2 = '' OR c.name ILIKE '%' || $2 || '%' ESCAPE '\')
		        AND ($3 = '' OR c.phone LIKE '%' || $3 || '%')
		      ORDER BY lower(c.name), c.client_id
		      LIMIT $5 OFFSET $6)`
)

var (
	ownerClientsSQL = `
		WITH page AS (
		      SELECT c.client_id, c.salon_id, c.name, c.phone FROM clients c
		      WHERE c.salon_id = $1 AND c.erased_at IS NULL` + clientsFilter + fmt.Sprintf(clientsPageSQL, "")
	masterClientsSQL = `
		WITH mine AS MATERIALIZED (
		      SELECT DISTINCT b.client_id FROM bookings b
		      WHERE b.salon_id = $1 AND b.master_id = $7 AND b.status <> 'expired'),
		page AS (
		      SELECT c.client_id, c.salon_id, c.name, c.phone FROM mine JOIN clients c ON c.client_id = mine.client_id
		      WHERE c.salon_id = $1 AND c.erased_at IS NULL` + clientsFilter + fmt.Sprintf(clientsPageSQL, "AND b.master_id = $7")
)

// likeEscape escapes LIKE's wildcards and its escape character in s.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Client returns a client of the salon with the note and their bookings that
// are not expired holds (a block has no client: never one of them), newest first, at most staff.ClientBookingsCap. With
// masterID set, only that master's bookings, and ENotFound when there are
// none (a master sees only their own clients). ENotFound when the salon has
// no such client.
func (d *Desk) Client(ctx context.Context, salonID string, clientID int64, masterID string) (staff.ClientCard, error) {
	var c staff.ClientCard
	var note, by *string
	var noteAt, erased *time.Time
	err := d.pool.QueryRow(ctx, `
		SELECT c.client_id, c.name, c.phone, c.created_at, c.erased_at, n.note, n.updated_at, n.updated_by
		FROM clients c LEFT JOIN client_notes n ON n.client_id = c.client_id
		WHERE c.client_id = $2 AND c.salon_id = $1`,
		salonID, clientID).Scan(&c.ID, &c.Name, &c.Phone, &c.Since, &erased, &note, &noteAt, &by)
	if err != nil {
		return c, mapErr(err, "read client")
	}
	c.Since, c.Erased = c.Since.UTC(), utcOrZero(erased)
	if note != nil {
		c.Note = staff.ClientNote{Text: *note, UpdatedAt: noteAt.UTC(), UpdatedBy: *by}
	}
	rows, err := d.pool.Query(ctx, `
		SELECT b.booking_id::text, b.master_id, b.service_id, b.starts_at, b.ends_at, b.status,
		       b.hold_expires_at, b.source, b.coming_at, b.price_minor, b.currency, b.created_at, b.updated_at,
		       coalesce(b.attendance, ''), b.attendance_at
		FROM bookings b
		WHERE b.salon_id = $1 AND b.client_id = $2 AND b.status <> 'expired' AND ($3 = '' OR b.master_id = $3)
		ORDER BY b.starts_at DESC
		LIMIT $4`,
		salonID, clientID, masterID, staff.ClientBookingsCap)
	if err != nil {
		return c, mapErr(err, "read client's bookings")
	}
	var e staff.Entry
	var status, attendance string
	var hold, coming, marked *time.Time
	b := &e.Booking
	_, err = pgx.ForEachRow(rows, []any{&b.ID, &b.MasterID, &b.ServiceID, &b.Start, &b.End, &status,
		&hold, &b.Source, &coming, &b.Price.Minor, &b.Price.Currency, &b.CreatedAt, &b.UpdatedAt,
		&attendance, &marked}, func() error {
		b.SalonID, b.ClientID = salonID, clientID
		b.Status, b.Attendance = core.BookingStatus(status), core.Attendance(attendance)
		b.HoldExpiresAt, b.ComingAt, b.AttendanceAt = utcOrZero(hold), utcOrZero(coming), utcOrZero(marked)
		b.Start, b.End, b.CreatedAt, b.UpdatedAt = b.Start.UTC(), b.End.UTC(), b.CreatedAt.UTC(), b.UpdatedAt.UTC()
		e.ClientName, e.ClientPhone = c.Name, c.Phone
		c.Bookings = append(c.Bookings, e)
		return nil
	})
	if err != nil {
		return c, mapErr(err, "read client's bookings")
	}
	if masterID != "" && len(c.Bookings) == 0 {
		return staff.ClientCard{}, core.Errorf(core.ENotFound, "client.not_found",
			"postgres: read client: client %d has no booking of master %s", clientID, masterID)
	}
	return c, nil
}

func utcOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// SetClientNote stores the note on a client of the salon (an empty one
// deletes it), recording who wrote it and when. ENotFound when the salon has
// no such client, or no longer: one erased on their request takes no note.
func (d *Desk) SetClientNote(ctx context.Context, salonID string, clientID int64, note, by string, now time.Time) error {
	if note == "" {
		tag, err := d.pool.Exec(ctx, `
			WITH c AS (SELECT client_id FROM clients WHERE client_id = $2 AND salon_id = $1),
			     gone AS (DELETE FROM client_notes n USING c WHERE n.client_id = c.client_id RETURNING 1)
			SELECT 1 FROM c`, salonID, clientID)
		if err != nil {
			return mapErr(err, "delete client note")
		}
		if tag.RowsAffected() == 0 {
			return core.Errorf(core.ENotFound, "client.not_found", "postgres: delete client note: no client %d in salon %s", clientID, salonID)
		}
		return nil
	}
	tag, err := d.pool.Exec(ctx, `
		INSERT INTO client_notes (client_id, salon_id, note, updated_at, updated_by)
		SELECT client_id, salon_id, $3, $4, $5 FROM clients WHERE client_id = $2 AND salon_id = $1 AND erased_at IS NULL
		ON CONFLICT (client_id) DO UPDATE SET note = excluded.note, updated_at = excluded.updated_at,
		       updated_by = excluded.updated_by`,
		salonID, clientID, note, now, by)
	if err != nil {
		return mapErr(err, "write client note")
	}
	if tag.RowsAffected() == 0 {
		return core.Errorf(core.ENotFound, "client.not_found", "postgres: write client note: no client %d in salon %s", clientID, salonID)
	}
	return nil
}
