package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
	"salonbook/src/core/calsync"
)

var _ calsync.Store = (*Calendars)(nil)

// Calendars is calendar sync's store: which event stands for which booking,
// the busy time read from each master's calendar, and calendars with problems.
type Calendars struct {
	pool  *pgxpool.Pool
	q     querier // the pool, or the transaction holding a booking's lock
	store *Store  // for salons' zones
}

// NewCalendars returns the calendar store over pool.
func NewCalendars(pool *pgxpool.Pool) *Calendars {
	return &Calendars{pool: pool, q: pool, store: NewStore(pool)}
}

// Lock holds a transaction-scoped advisory lock on the booking while fn runs, so
// two jobs never write one booking's event at once. fn gets a store on the
// lock's connection: a push holds one connection, never waits for a second.
func (c *Calendars) Lock(ctx context.Context, salonID, bookingID string, fn func(context.Context, calsync.Store) error) error {
	return pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('calendar:' || $1 || '/' || $2, 0))`, salonID, bookingID); err != nil {
			return mapErr(err, "lock booking for calendar")
		}
		return fn(ctx, &Calendars{pool: c.pool, q: tx, store: c.store})
	})
}

// Target reads the booking with what its event shows. ENotFound.
func (c *Calendars) Target(ctx context.Context, salonID, bookingID string) (*calsync.Target, error) {
	var id pgtype.UUID
	if err := id.Scan(bookingID); err != nil {
		return nil, core.Errorf(core.ENotFound, "booking.not_found", "postgres: booking id is not a UUID")
	}
	var (
		t                      = calsync.Target{SalonID: salonID, BookingID: bookingID}
		status, zone           string
		clientName             pgtype.Text
		names                  map[string]string
		locales                []string
		placedCal, placedID    pgtype.Text
		placedStart, placedEnd pgtype.Timestamptz
		placedDeleted          pgtype.Bool
		reminders              []int32
	)
	err := c.q.QueryRow(ctx, `
		SELECT b.master_id, m.calendar, b.status, b.starts_at, b.ends_at, s.timezone, s.name, s.phone, s.locales,
		       sv.names, cl.name, e.calendar, e.event_id, e.starts_at, e.ends_at, e.deleted, s.reminders_seconds,
		       b.kind = 'block', b.note
		FROM bookings b
		JOIN salons s USING (salon_id)
		JOIN masters m ON m.salon_id = b.salon_id AND m.master_id = b.master_id
		LEFT JOIN services sv ON sv.salon_id = b.salon_id AND sv.service_id = b.service_id -- a block has none
		LEFT JOIN clients cl ON cl.salon_id = b.salon_id AND cl.client_id = b.client_id
		LEFT JOIN calendar_events e ON e.salon_id = b.salon_id AND e.booking_id = b.booking_id
		WHERE b.salon_id = $1 AND b.booking_id = $2`, salonID, id).
		Scan(&t.MasterID, &t.Calendar, &status, &t.Start, &t.End, &zone, &t.SalonName, &t.SalonPhone, &locales,
			&names, &clientName, &placedCal, &placedID, &placedStart, &placedEnd, &placedDeleted, &reminders, &t.Block, &t.Note)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENotFound, "booking.not_found", "postgres: no booking %s", bookingID)
	}
	if err != nil {
		return nil, mapErr(err, "select calendar target")
	}
	if t.Zone, err = c.store.zone(zone); err != nil {
		return nil, err
	}
	t.Confirmed = status == string(core.StatusConfirmed)
	for _, r := range reminders {
		t.Reminders = append(t.Reminders, secs(r))
	}
	t.Start, t.End = t.Start.UTC(), t.End.UTC()
	lang := "en"
	if len(locales) > 0 {
		lang = locales[0]
	}
	svc := core.Service{ID: "", Name: names}
	t.Service = svc.NameIn(lang)
	t.ClientName, _, _ = strings.Cut(strings.TrimSpace(clientName.String), " ") // first name only
	if placedCal.Valid {
		t.Placed = &calsync.Placed{Calendar: placedCal.String, EventID: placedID.String, Deleted: placedDeleted.Bool,
			Start: placedStart.Time.UTC(), End: placedEnd.Time.UTC()}
	}
	return &t, nil
}

// Place records where the booking's event is.
func (c *Calendars) Place(ctx context.Context, salonID, bookingID string, p calsync.Placed) error {
	_, err := c.q.Exec(ctx, `
		INSERT INTO calendar_events (salon_id, booking_id, calendar, event_id, starts_at, ends_at, deleted, synced_at)
		VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, now())
		ON CONFLICT (salon_id, booking_id) DO UPDATE SET calendar = excluded.calendar, event_id = excluded.event_id,
		       starts_at = excluded.starts_at, ends_at = excluded.ends_at, deleted = excluded.deleted, synced_at = now()`,
		salonID, bookingID, p.Calendar, p.EventID, nullTime(p.Start), nullTime(p.End), p.Deleted)
	return mapErr(err, "record calendar event")
}

// Masters lists the salon's active masters with their calendars, and its horizon.
func (c *Calendars) Masters(ctx context.Context, salonID string) ([]calsync.Master, time.Duration, error) {
	var horizon int32
	if err := c.q.QueryRow(ctx, `SELECT horizon_seconds FROM salons WHERE salon_id = $1`, salonID).Scan(&horizon); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, 0, core.Errorf(core.ENotFound, "salon.not_found", "postgres: no salon %q", salonID)
		}
		return nil, 0, mapErr(err, "select horizon")
	}
	rows, err := c.q.Query(ctx, `SELECT master_id, calendar FROM masters WHERE salon_id = $1 AND active ORDER BY position, master_id`, salonID)
	if err != nil {
		return nil, 0, mapErr(err, "select calendars")
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (calsync.Master, error) {
		var m calsync.Master
		return m, r.Scan(&m.ID, &m.Calendar)
	})
	return ms, secs(horizon), mapErr(err, "select calendars")
}

// Written returns the events written for the master's bookings in calendar,
// at their written times, overlapping window. Holds and bookings not pushed yet
// have no event: they are not subtracted, so a block under them stays.
func (c *Calendars) Written(ctx context.Context, salonID, masterID, calendar string, window core.TimeRange) ([]core.TimeRange, error) {
	rows, err := c.q.Query(ctx, `
		SELECT e.starts_at, e.ends_at
		FROM calendar_events e JOIN bookings b ON b.salon_id = e.salon_id AND b.booking_id = e.booking_id
		WHERE e.salon_id = $1 AND b.master_id = $2 AND e.calendar = $3 AND NOT e.deleted
		  AND e.starts_at < $5 AND e.ends_at > $4`,
		salonID, masterID, calendar, window.Start, window.End)
	if err != nil {
		return nil, mapErr(err, "select written events")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.TimeRange, error) {
		var t core.TimeRange
		err := r.Scan(&t.Start, &t.End)
		t.Start, t.End = t.Start.UTC(), t.End.UTC()
		return t, err
	})
	return out, mapErr(err, "select written events")
}

// ReplaceBusy swaps the master's busy rows up to window's end for busy, in one
// transaction under a per-master lock (two refreshes never interleave their
// delete and insert), records the read and clears any problem. A read older
// than the one stored is dropped: it must not undo a newer one.
func (c *Calendars) ReplaceBusy(ctx context.Context, salonID, masterID, calendar string, window core.TimeRange, busy []core.TimeRange, readAt time.Time) (bool, error) {
	stored := false
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('busy:' || $1 || '/' || $2, 0))`, salonID, masterID); err != nil {
			return err
		}
		var newer bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM calendar_reads
			WHERE salon_id = $1 AND master_id = $2 AND calendar = $3 AND read_at > $4)`, salonID, masterID, calendar, readAt).Scan(&newer); err != nil {
			return err
		}
		if newer {
			return nil
		}
		stored = true
		if _, err := tx.Exec(ctx, `DELETE FROM calendar_busy WHERE salon_id = $1 AND master_id = $2 AND lower(during) < $3`,
			salonID, masterID, window.End); err != nil {
			return err
		}
		if len(busy) > 0 {
			starts := make([]time.Time, len(busy))
			ends := make([]time.Time, len(busy))
			for i, b := range busy {
				starts[i], ends[i] = b.Start, b.End
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO calendar_busy (salon_id, master_id, during)
				SELECT $1, $2, tstzrange(s, e) FROM unnest($3::timestamptz[], $4::timestamptz[]) AS u(s, e)`,
				salonID, masterID, starts, ends); err != nil {
				return err
			}
		}
		if calendar == "" {
			_, err := tx.Exec(ctx, `DELETE FROM calendar_reads WHERE salon_id = $1 AND master_id = $2`, salonID, masterID)
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO calendar_reads (salon_id, master_id, calendar, window_start, window_end, read_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (salon_id, master_id) DO UPDATE SET calendar = excluded.calendar, window_start = excluded.window_start,
			       window_end = excluded.window_end, read_at = excluded.read_at, problem = NULL, problem_at = NULL`,
			salonID, masterID, calendar, window.Start, window.End, readAt)
		return err
	})
	return stored, mapErr(err, "replace busy time")
}

// Stale lists bookings of the master, not yet ended, whose calendar event is
// not what the booking is: confirmed with no live event in the master's
// calendar at its time, or no longer confirmed with a live event.
func (c *Calendars) Stale(ctx context.Context, salonID, masterID string, now time.Time, limit int) ([]string, error) {
	rows, err := c.q.Query(ctx, `
		SELECT b.booking_id::text
		FROM bookings b
		JOIN masters m ON m.salon_id = b.salon_id AND m.master_id = b.master_id
		LEFT JOIN calendar_events e ON e.salon_id = b.salon_id AND e.booking_id = b.booking_id
		WHERE b.salon_id = $1 AND b.master_id = $2 AND b.ends_at > $3
		  AND ((b.status = 'confirmed' AND m.calendar <> ''
		        AND (e.booking_id IS NULL OR e.deleted OR e.calendar <> m.calendar
		             OR e.starts_at IS DISTINCT FROM b.starts_at OR e.ends_at IS DISTINCT FROM b.ends_at))
		    OR (b.status <> 'confirmed' AND e.booking_id IS NOT NULL AND NOT e.deleted))
		ORDER BY b.starts_at LIMIT $4`, salonID, masterID, now, limit)
	if err != nil {
		return nil, mapErr(err, "select stale events")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ids, mapErr(err, "select stale events")
}

// Report records (or with "" clears) a problem with a master's calendar.
func (c *Calendars) Report(ctx context.Context, salonID, masterID, calendar, problem string, at time.Time) error {
	var p pgtype.Text
	var pa pgtype.Timestamptz
	if problem != "" {
		p, pa = pgtype.Text{String: problem, Valid: true}, pgtype.Timestamptz{Time: at, Valid: true}
	}
	_, err := c.q.Exec(ctx, `
		INSERT INTO calendar_reads (salon_id, master_id, calendar, problem, problem_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (salon_id, master_id) DO UPDATE SET calendar = excluded.calendar, problem = excluded.problem,
		       problem_at = CASE WHEN excluded.problem IS NULL THEN NULL
		                         ELSE coalesce(calendar_reads.problem_at, excluded.problem_at) END`,
		salonID, masterID, calendar, p, pa)
	return mapErr(err, "record calendar problem")
}

// Problems lists the masters whose calendar has a problem, oldest first.
func (c *Calendars) Problems(ctx context.Context) ([]calsync.Problem, error) {
	rows, err := c.q.Query(ctx, `
		SELECT salon_id, master_id, calendar, problem, problem_at FROM calendar_reads
		WHERE problem IS NOT NULL ORDER BY problem_at, salon_id, master_id`)
	if err != nil {
		return nil, mapErr(err, "select calendar problems")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (calsync.Problem, error) {
		var p calsync.Problem
		err := r.Scan(&p.SalonID, &p.MasterID, &p.Calendar, &p.Problem, &p.Since)
		p.Since = p.Since.UTC()
		return p, err
	})
	return out, mapErr(err, "select calendar problems")
}

// Forget drops the salon's stored busy time and reads (calendar sync is off),
// and says how many busy rows went.
func (c *Calendars) Forget(ctx context.Context, salonID string) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM calendar_busy WHERE salon_id = $1`, salonID)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM calendar_reads WHERE salon_id = $1`, salonID)
		return err
	})
	return n, mapErr(err, "forget busy time")
}
