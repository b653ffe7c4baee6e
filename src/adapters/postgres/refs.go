package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
	"salonbook/src/core/dialog"
)

var _ dialog.References = (*References)(nil)

// References gives bookings their short reference and the token of their
// calendar file (dialog.References, web.BookingFiles): table booking_refs.
type References struct{ pool *pgxpool.Pool }

// NewReferences returns References on pool.
func NewReferences(pool *pgxpool.Pool) *References { return &References{pool: pool} }

// RefAlphabet is what a reference is written with: capitals and digits that
// cannot be taken for one another (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G).
const RefAlphabet = "ACDEFHJKMNPRTUVWXY34679"

// refTries is how many candidates a booking's reference is tried among before
// giving up: with 23^6 (148 million) references a salon's few thousand
// bookings a year collide rarely, and 16 in a row never.
const refTries = 16

// RefCandidate is the n-th candidate reference of a booking: derived from its
// id, so that it is the same for the same booking and try.
func RefCandidate(bookingID string, n int) string {
	h := sha256.Sum256([]byte("salonbook reference\x00" + bookingID + "\x00" + strconv.Itoa(n)))
	v := binary.BigEndian.Uint64(h[:8])
	out := make([]byte, 6)
	for i := range out {
		out[i] = RefAlphabet[v%uint64(len(RefAlphabet))]
		v /= uint64(len(RefAlphabet))
	}
	return string(out)
}

// Reference returns the booking's reference and calendar token, making them
// on first use: the first of its candidates no other booking of the salon
// has. Concurrent first uses agree (one insert wins; both read it back).
func (r *References) Reference(ctx context.Context, salonID, bookingID string) (ref, token string, err error) {
	const read = `SELECT reference, token FROM booking_refs WHERE booking_id = $1 AND salon_id = $2`
	err = r.pool.QueryRow(ctx, read, bookingID, salonID).Scan(&ref, &token)
	if err == nil {
		return ref, token, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", "", MapErr(err, "postgres: read booking reference")
	}
	for n := range refTries {
		raw := make([]byte, 16)
		_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go ≥ 1.24)
		tag, err := r.pool.Exec(ctx, `INSERT INTO booking_refs (booking_id, salon_id, reference, token)
			SELECT booking_id, salon_id, $3, $4 FROM bookings WHERE booking_id = $1 AND salon_id = $2
			ON CONFLICT DO NOTHING`, bookingID, salonID, RefCandidate(bookingID, n), base64.RawURLEncoding.EncodeToString(raw))
		if err != nil {
			return "", "", MapErr(err, "postgres: insert booking reference")
		}
		if tag.RowsAffected() == 1 {
			break
		}
		// Taken by another booking, or this booking's made meanwhile: read it.
		err = r.pool.QueryRow(ctx, read, bookingID, salonID).Scan(&ref, &token)
		if err == nil {
			return ref, token, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return "", "", MapErr(err, "postgres: read booking reference")
		}
	}
	err = r.pool.QueryRow(ctx, read, bookingID, salonID).Scan(&ref, &token)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", core.Errorf(core.ENotFound, "booking.not_found", "postgres: no reference for booking %s", bookingID)
	}
	if err != nil {
		return "", "", MapErr(err, "postgres: read booking reference")
	}
	return ref, token, nil
}

// ByToken returns the id of the salon's booking whose calendar token is
// token, or "" when none is.
func (r *References) ByToken(ctx context.Context, salonID, token string) (string, error) {
	var id string
	err := r.pool.QueryRow(ctx, `SELECT booking_id::text FROM booking_refs WHERE token = $1 AND salon_id = $2`, token, salonID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", MapErr(err, "postgres: read booking by calendar token")
	}
	return id, nil
}

// Lookup limits: tries per hour by one chat, and on one reference.
const (
	LookupsPerChat = 5
	LookupsPerRef  = 10
)

// Find returns the id of the salon's booking with reference ref whose
// client's phone is phone (E.164), or "" when there is none (which of the two
// did not match is not said). The try is counted first, for the chat who (the
// statement also drops the salon's counts older than an hour, so the table
// holds an hour's tries), then, only while the chat is under its limit, for
// the reference: a chat past LookupsPerChat writes nothing more. Past
// LookupsPerChat or LookupsPerRef in the hour, throttled is true and nothing
// is looked up.
func (r *References) Find(ctx context.Context, salonID, ref, phone, who string, now time.Time) (id string, throttled bool, err error) {
	count := func(key string) (int, error) {
		var n int
		err := r.pool.QueryRow(ctx, `WITH stale AS (
				DELETE FROM ref_lookups WHERE salon_id = $1 AND since <= $3::timestamptz - interval '1 hour' AND key <> $2)
			INSERT INTO ref_lookups AS l (salon_id, key, since, n) VALUES ($1, $2, $3, 1)
			ON CONFLICT (salon_id, key) DO UPDATE SET
				n = CASE WHEN l.since <= $3::timestamptz - interval '1 hour' THEN 1 ELSE l.n + 1 END,
				since = CASE WHEN l.since <= $3::timestamptz - interval '1 hour' THEN $3 ELSE l.since END
			RETURNING n`, salonID, key, now).Scan(&n)
		return n, MapErr(err, "count reference lookups")
	}
	n, err := count("chat:" + who)
	if err != nil {
		return "", false, err
	}
	if n > LookupsPerChat {
		return "", true, nil
	}
	if n, err = count("ref:" + ref); err != nil {
		return "", false, err
	}
	if n > LookupsPerRef {
		return "", true, nil
	}
	err = r.pool.QueryRow(ctx, `SELECT r.booking_id::text FROM booking_refs r
		JOIN bookings b ON b.booking_id = r.booking_id JOIN clients c ON c.client_id = b.client_id
		WHERE r.salon_id = $1 AND r.reference = $2 AND c.phone = $3 AND c.phone <> ''`, salonID, ref, phone).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, MapErr(err, "postgres: find booking by reference")
	}
	return id, false, nil
}
