package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"salonbook/src/core"
	"salonbook/src/core/staff"
)

// FeedCap bounds the bookings one feed answer reads: a master's window (30
// days back, the horizon ahead) holds a few thousand at most.
const FeedCap = 5000

// Feeds returns the salon's calendar feeds, by master.
func (d *Desk) Feeds(ctx context.Context, salonID string) ([]staff.Feed, error) {
	rows, err := d.pool.Query(ctx, `
		SELECT master_id, created_at, created_by FROM calendar_feeds WHERE salon_id = $1 ORDER BY master_id`, salonID)
	if err != nil {
		return nil, mapErr(err, "read calendar feeds")
	}
	var out []staff.Feed
	var f staff.Feed
	_, err = pgx.ForEachRow(rows, []any{&f.MasterID, &f.CreatedAt, &f.CreatedBy}, func() error {
		f.CreatedAt = f.CreatedAt.UTC()
		out = append(out, f)
		return nil
	})
	return out, mapErr(err, "read calendar feeds")
}

// SetFeed gives an active master of the salon a feed known by secretHash
// (SHA-256 of its secret), replacing the one they had: its URL stops working
// at once. ENotFound when the salon has no such active master.
func (d *Desk) SetFeed(ctx context.Context, salonID, masterID string, secretHash []byte, by string, now time.Time) error {
	tag, err := d.pool.Exec(ctx, `
		INSERT INTO calendar_feeds (salon_id, master_id, secret_hash, created_at, created_by)
		SELECT salon_id, master_id, $3, $4, $5 FROM masters WHERE salon_id = $1 AND master_id = $2 AND active
		ON CONFLICT (salon_id, master_id) DO UPDATE SET secret_hash = excluded.secret_hash,
		       created_at = excluded.created_at, created_by = excluded.created_by`,
		salonID, masterID, secretHash, now, by)
	if err != nil {
		return mapErr(err, "set calendar feed")
	}
	if tag.RowsAffected() == 0 {
		return core.Errorf(core.ENotFound, "master.not_found", "postgres: set calendar feed: no active master %q in salon %s", masterID, salonID)
	}
	return nil
}

// DropFeed turns a master's feed off; a master without one is no error.
func (d *Desk) DropFeed(ctx context.Context, salonID, masterID string) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM calendar_feeds WHERE salon_id = $1 AND master_id = $2`, salonID, masterID)
	return mapErr(err, "drop calendar feed")
}

// Feed reads the feed known by secretHash, in one statement: its master and
// that master's bookings and blocks starting in window, held, awaiting
// their deposit and confirmed ones, and the cancelled ones (and expired holds, lifted blocks) changed
// within the last cancelledFor, by start, at most FeedCap, each with the
// client's name (no phone; a block has no client) and the count and latest
// time of its recorded changes (booking_changes, by its primary key: an index
// probe per booking, in the same statement). ENotFound
// when the salon has no feed with that hash (a rotated or made-up secret).
//
// cancelledFor is measured on the database's clock: it writes updated_at
// (now()) when a booking is cancelled or moved.
func (d *Desk) Feed(ctx context.Context, salonID string, secretHash []byte, window core.TimeRange, cancelledFor time.Duration) (string, []staff.FeedEntry, error) {
	rows, err := d.pool.Query(ctx, `
		SELECT f.master_id, b.booking_id::text, coalesce(b.service_id, ''), b.starts_at, b.ends_at, b.status,
		       b.hold_expires_at, b.source, b.created_at, b.updated_at, c.name, b.kind = 'block', b.note,
		       h.n, h.last
		FROM calendar_feeds f
		LEFT JOIN LATERAL (
		      SELECT * FROM bookings b
		      WHERE b.salon_id = f.salon_id AND b.master_id = f.master_id
		        AND b.starts_at >= $3 AND b.starts_at < $4
		        AND (b.status IN ('held', 'awaiting_payment', 'confirmed') OR b.updated_at >= now() - make_interval(secs => $5))
		      ORDER BY b.starts_at, b.booking_id
		      LIMIT $6) b ON true
		LEFT JOIN clients c ON c.client_id = b.client_id
		LEFT JOIN LATERAL ( -- the booking's recorded changes, by the primary key (booking_id, id)
		      SELECT count(*)::int AS n, max(h.at) AS last FROM booking_changes h WHERE h.booking_id = b.booking_id) h ON true
		WHERE f.secret_hash = $2 AND f.salon_id = $1
		ORDER BY b.starts_at, b.booking_id -- the join keeps no order: the body, and so its ETag, would change`,
		salonID, secretHash, window.Start, window.End, cancelledFor.Seconds(), FeedCap)
	if err != nil {
		return "", nil, mapErr(err, "read calendar feed")
	}
	var master string
	found := false
	var out []staff.FeedEntry
	var id, service, status, source, name *string
	var start, end, hold, created, updated *time.Time
	var block *bool
	var note *string
	var changes int
	var changed *time.Time
	_, err = pgx.ForEachRow(rows, []any{&master, &id, &service, &start, &end, &status, &hold, &source, &created, &updated, &name,
		&block, &note, &changes, &changed}, func() error {
		found = true
		if id == nil { // a feed with no bookings in its window
			return nil
		}
		e := staff.FeedEntry{Entry: staff.Entry{Booking: core.Booking{ID: *id, SalonID: salonID, MasterID: master, ServiceID: *service,
			Start: start.UTC(), End: end.UTC(), Status: core.BookingStatus(*status), HoldExpiresAt: utcOrZero(hold),
			Source: *source, CreatedAt: created.UTC(), UpdatedAt: updated.UTC(), Block: *block, Note: *note}},
			Changes: changes, ChangedAt: utcOrZero(changed)}
		if name != nil {
			e.ClientName = *name
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return "", nil, mapErr(err, "read calendar feed")
	}
	if !found {
		return "", nil, core.Errorf(core.ENotFound, "error.not_found", "postgres: read calendar feed: no such feed in salon %s", salonID)
	}
	return master, out, nil
}
