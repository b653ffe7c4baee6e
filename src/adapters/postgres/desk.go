package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
	"salonbook/src/core/staff"
)

// Desk is the storage of the owner's desk (/admin): staff accounts and their
// password hashes, sessions, failed-login counts, and the schedule the day and
// week views read. Accounts are written by Apply (from the salon file) and
// SetPassword; nothing here changes a booking.
type Desk struct {
	pool *pgxpool.Pool
}

// NewDesk returns the desk's store on pool.
func NewDesk(pool *pgxpool.Pool) *Desk { return &Desk{pool: pool} }

// Account returns the account with that login and its password hash ("" when
// none was set). ENotFound when the salon has no such login.
func (d *Desk) Account(ctx context.Context, salonID, login string) (staff.Account, string, error) {
	var a staff.Account
	var role string
	var master, hash *string
	err := d.pool.QueryRow(ctx, `
		SELECT login, role, master_id, password_hash FROM staff_accounts WHERE salon_id = $1 AND login = $2`,
		salonID, login).Scan(&a.Login, &role, &master, &hash)
	if err != nil {
		return a, "", mapErr(err, "read staff account")
	}
	a.Role = staff.Role(role)
	if master != nil {
		a.MasterID = *master
	}
	if hash == nil {
		return a, "", nil
	}
	return a, *hash, nil
}

// SetPassword stores a new password hash for login and ends every session of
// the account (whoever knew the old password is logged out). ENotFound when
// the salon has no such login (it must be in the salon file first).
func (d *Desk) SetPassword(ctx context.Context, salonID, login, hash string, now time.Time) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE staff_accounts SET password_hash = $3, password_set_at = $4, updated_at = $4
			WHERE salon_id = $1 AND login = $2`, salonID, login, hash, now)
		if err != nil {
			return mapErr(err, "set password")
		}
		if tag.RowsAffected() == 0 {
			return core.Errorf(core.ENotFound, "error.not_found", "postgres: set password: no staff account %q in salon %s", login, salonID)
		}
		_, err = tx.Exec(ctx, `DELETE FROM staff_sessions WHERE salon_id = $1 AND login = $2`, salonID, login)
		return mapErr(err, "end sessions")
	})
}

// StartSession stores a new session of login, known by the hash of its id, and
// drops the account's sessions that have timed out.
func (d *Desk) StartSession(ctx context.Context, salonID, login string, idHash []byte, now time.Time, lim staff.SessionLimits) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			DELETE FROM staff_sessions WHERE salon_id = $1 AND login = $2 AND (seen_at <= $3 OR created_at <= $4)`,
			salonID, login, now.Add(-lim.Idle), now.Add(-lim.Max)); err != nil {
			return mapErr(err, "drop timed-out sessions")
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO staff_sessions (id_hash, salon_id, login, created_at, seen_at) VALUES ($1, $2, $3, $4, $4)`,
			idHash, salonID, login, now)
		return mapErr(err, "start session")
	})
}

// Session returns the account of a live session and marks it seen at now
// (at most once a minute: most requests only read). A session that is
// unknown, of another salon, idle longer than lim.Idle or older than lim.Max
// is ENotFound (a timed-out one is deleted). The account's role and master are
// read now, so a change in the salon file applies at once.
func (d *Desk) Session(ctx context.Context, salonID string, idHash []byte, now time.Time, lim staff.SessionLimits) (staff.Account, error) {
	var a staff.Account
	var role string
	var master *string
	var seen time.Time
	err := d.pool.QueryRow(ctx, `
		SELECT a.login, a.role, a.master_id, s.seen_at
		FROM staff_sessions s JOIN staff_accounts a ON a.salon_id = s.salon_id AND a.login = s.login
		WHERE s.id_hash = $1 AND s.salon_id = $2 AND s.seen_at > $3 AND s.created_at > $4`,
		idHash, salonID, now.Add(-lim.Idle), now.Add(-lim.Max)).Scan(&a.Login, &role, &master, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := d.pool.Exec(ctx, `
			DELETE FROM staff_sessions WHERE id_hash = $1 AND salon_id = $2 AND (seen_at <= $3 OR created_at <= $4)`,
			idHash, salonID, now.Add(-lim.Idle), now.Add(-lim.Max)); err != nil {
			return a, mapErr(err, "drop timed-out session")
		}
	}
	if err != nil {
		return a, mapErr(err, "read session")
	}
	if now.Sub(seen) >= time.Minute {
		if _, err := d.pool.Exec(ctx, `UPDATE staff_sessions SET seen_at = $2 WHERE id_hash = $1 AND seen_at < $2`,
			idHash, now); err != nil {
			return a, mapErr(err, "mark session seen")
		}
	}
	a.Role = staff.Role(role)
	if master != nil {
		a.MasterID = *master
	}
	return a, nil
}

// EndSession deletes a session (logout); an unknown one is no error.
func (d *Desk) EndSession(ctx context.Context, idHash []byte) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM staff_sessions WHERE id_hash = $1`, idHash)
	return mapErr(err, "end session")
}

// Attempt counts one login attempt against each key and returns each key's
// count in its window, this attempt included: a key whose window began at or
// before now−window starts a new window at now. One upsert per key counts and
// reads, so parallel attempts each get a count of their own (the desk refuses
// those over its limit before a password is looked at). Keys are taken in
// sorted order, so two attempts never lock each other's rows crosswise.
//
// Windows of other keys that ended are then dropped in a statement of their
// own that skips rows another attempt holds: run in the upsert's transaction,
// that cleanup deadlocked with a parallel attempt (83 rounds of 200).
func (d *Desk) Attempt(ctx context.Context, salonID string, keys []string, now time.Time, window time.Duration) (map[string]int, error) {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	old := now.Add(-window)
	rows, err := d.pool.Query(ctx, `
		INSERT INTO staff_login_failures AS f (salon_id, key, window_start, failures)
		SELECT $1, k, $3, 1 FROM unnest($2::text[]) k ORDER BY k
		ON CONFLICT (salon_id, key) DO UPDATE SET
		       failures = CASE WHEN f.window_start <= $4 THEN 1 ELSE f.failures + 1 END,
		       window_start = CASE WHEN f.window_start <= $4 THEN $3 ELSE f.window_start END
		RETURNING key, failures`,
		salonID, keys, now, old)
	if err != nil {
		return nil, mapErr(err, "count login attempt")
	}
	out := make(map[string]int, len(keys))
	var key string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&key, &n}, func() error { out[key] = n; return nil }); err != nil {
		return nil, mapErr(err, "count login attempt")
	}
	if _, err := d.pool.Exec(ctx, `
		DELETE FROM staff_login_failures f
		WHERE f.salon_id = $1 AND f.window_start <= $2 AND f.key IN (
		      SELECT o.key FROM staff_login_failures o
		      WHERE o.salon_id = $1 AND o.window_start <= $2 AND NOT (o.key = ANY($3))
		      FOR UPDATE SKIP LOCKED)`,
		salonID, old, keys); err != nil {
		return nil, mapErr(err, "drop old login attempts")
	}
	return out, nil
}

// Succeeded records a login that succeeded: the account's key (loginKey) is
// forgotten, and the attempt Attempt counted against the address (addrKey) is
// taken back, so staff logging in at one desk do not use up its address's
// allowance. A key with no row is no error.
func (d *Desk) Succeeded(ctx context.Context, salonID, loginKey, addrKey string) error {
	if _, err := d.pool.Exec(ctx, `DELETE FROM staff_login_failures WHERE salon_id = $1 AND key = $2`, salonID, loginKey); err != nil {
		return mapErr(err, "clear login attempts")
	}
	_, err := d.pool.Exec(ctx, `
		UPDATE staff_login_failures SET failures = failures - 1 WHERE salon_id = $1 AND key = $2 AND failures > 0`,
		salonID, addrKey)
	return mapErr(err, "take back login attempt")
}

// Schedule returns the bookings of the masters that start in window, in every
// status but expired, by start time, each with its client's name and phone
// (index bookings_desk: a range on starts_at, nothing read to be dropped);
// blocks too, with no client.
//
// Only the start counts: the desk draws a booking on the business day its
// start falls in, whole, and a business day begins at its midnight or, when
// the previous day's shifts run past it, where they end (desk.cut). A booking
// that began before the window therefore belongs to the day before it, which
// its own window covers: a night shift's booking from 23:00 to 01:00 is drawn
// on the day it began, and the next day's window begins after that shift.
func (d *Desk) Schedule(ctx context.Context, salonID string, masterIDs []string, window core.TimeRange) ([]staff.Entry, error) {
	// A block has no client: the join is a left one (and kind, note and
	// attendance come along for the views).
	rows, err := d.pool.Query(ctx, `
		SELECT b.booking_id::text, b.master_id, coalesce(b.service_id, ''), coalesce(b.client_id, 0), b.starts_at, b.ends_at, b.status,
		       b.hold_expires_at, b.source, b.coming_at, b.price_minor, b.currency, coalesce(c.name, ''), coalesce(c.phone, ''),
		       b.kind = 'block', b.note, coalesce(b.attendance, ''), b.attendance_at
		FROM bookings b LEFT JOIN clients c ON c.client_id = b.client_id
		WHERE b.salon_id = $1 AND b.master_id = ANY($2)
		  AND b.starts_at >= $3 AND b.starts_at < $4
		  AND b.status <> 'expired'
		ORDER BY b.starts_at, b.master_id`,
		salonID, masterIDs, window.Start, window.End)
	if err != nil {
		return nil, mapErr(err, "read schedule")
	}
	var out []staff.Entry
	var e staff.Entry
	var status, attendance string
	var hold, coming, marked *time.Time
	b := &e.Booking
	_, err = pgx.ForEachRow(rows, []any{&b.ID, &b.MasterID, &b.ServiceID, &b.ClientID, &b.Start, &b.End, &status,
		&hold, &b.Source, &coming, &b.Price.Minor, &b.Price.Currency, &e.ClientName, &e.ClientPhone,
		&b.Block, &b.Note, &attendance, &marked}, func() error {
		b.SalonID = salonID
		b.Status = core.BookingStatus(status)
		b.Attendance = core.Attendance(attendance)
		b.HoldExpiresAt, b.ComingAt, b.AttendanceAt = time.Time{}, time.Time{}, time.Time{}
		if hold != nil {
			b.HoldExpiresAt = hold.UTC()
		}
		if coming != nil {
			b.ComingAt = coming.UTC()
		}
		if marked != nil {
			b.AttendanceAt = marked.UTC()
		}
		b.Start, b.End = b.Start.UTC(), b.End.UTC()
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, mapErr(err, "read schedule")
	}
	return out, nil
}
