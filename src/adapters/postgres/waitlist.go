package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
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

	// mu guards lock, the connection that holds the matcher's session lock:
	// its own, not the pool's, so that a pass never waits for a pooled
	// connection while one is held for the lock (CLAUDE.md's pool rule).
	mu   sync.Mutex
	lock *pgx.Conn
}

// Close lets go of the matcher's own connection, if any; a pass still under
// way keeps it (the process is ending).
func (w *Waitlist) Close() {
	if !w.mu.TryLock() {
		return
	}
	defer w.mu.Unlock()
	if w.lock != nil {
		ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
		defer cancel()
		_ = w.lock.Close(ctx)
		w.lock = nil
	}
}

// NewWaitlist returns a Waitlist over pool.
func NewWaitlist(pool *pgxpool.Pool) *Waitlist {
	return &Waitlist{pool: pool}
}

func pgDate(d core.Date) time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Join implements dialog.Waitlist: joining again for the same chat, service,
// master and day is one entry. The client is e.ClientID (unless that client
// was erased since: "delete my data" in another chat of a verified number),
// else the one booking.Identities finds for e.Client (the chat's own client
// first, then a verified number's; created when new with Identity, named and
// numbered as now given). Returns ENotFound for an unknown salon, service or
// client, EUnavailable when ctx ends, and EInternal otherwise.
func (w *Waitlist) Join(ctx context.Context, e dialog.WaitlistEntry) error {
	source := e.Key.Channel + ":" + e.Key.ChatID
	client := pgtype.Int8{Int64: e.ClientID, Valid: e.ClientID != 0}
	identity := booking.Identity(e.Client, source)
	_, err := w.pool.Exec(ctx, `
		WITH given AS (
			SELECT $7::bigint AS client_id
			WHERE NOT EXISTS (SELECT 1 FROM clients WHERE client_id = $7 AND erased_at IS NOT NULL)),
		own AS (
			SELECT client_id FROM clients WHERE salon_id = $1 AND identity = ANY ($12) AND identity <> $11
			  AND (SELECT client_id FROM given) IS NULL),
		c AS (
			INSERT INTO clients (salon_id, name, phone, identity) SELECT $1, $9, $10, $11
			WHERE (SELECT client_id FROM given) IS NULL AND NOT EXISTS (SELECT 1 FROM own) AND $10 <> ''
			ON CONFLICT (salon_id, identity) DO UPDATE SET name = excluded.name, phone = excluded.phone
			RETURNING client_id)
		INSERT INTO waitlist (salon_id, channel, chat_id, service_id, master_id, day, client_id, lang)
		VALUES ($1, $2, $3, $4, $5, $6, coalesce((SELECT client_id FROM given), (SELECT client_id FROM own), (SELECT client_id FROM c)), $8)
		ON CONFLICT (salon_id, channel, chat_id, service_id, master_id, day) DO UPDATE
			SET lang = excluded.lang, client_id = coalesce(excluded.client_id, waitlist.client_id)`,
		e.Key.SalonID, e.Key.Channel, e.Key.ChatID, e.ServiceID, e.MasterID, pgDate(e.Day), client, e.Lang,
		e.Client.Name, e.Client.Phone, identity, booking.Identities(e.Client, source))
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
// chat's, and reports whether it did. Its offers go with it; an offer's hold
// that stands is released and the matcher woken, so the time goes on.
func (w *Waitlist) Leave(ctx context.Context, key dialog.ChatKey, id int64) (bool, error) {
	left := false
	err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		// The entry's held offers first, then the entry: the order of a
		// Confirm of one (its booking, then Record's entry), or the two deadlock.
		if _, err := tx.Exec(ctx, `
			SELECT 1 FROM bookings b
			WHERE b.booking_id = ANY (ARRAY(SELECT o.booking_id FROM waitlist_offers o JOIN waitlist w ON w.id = o.entry_id
			                                WHERE w.id = $4 AND w.salon_id = $1 AND w.channel = $2 AND w.chat_id = $3))
			  AND b.status = 'held'
			ORDER BY b.booking_id FOR UPDATE OF b`, key.SalonID, key.Channel, key.ChatID, id); err != nil {
			return err
		}
		ids, err := lockEntries(ctx, tx, `SELECT id FROM waitlist WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND id = $4 FOR UPDATE`,
			key.SalonID, key.Channel, key.ChatID, id)
		if err != nil || len(ids) == 0 {
			return err
		}
		left = true
		return endEntries(ctx, tx, key.SalonID, ids, "")
	})
	if err != nil {
		return false, mapErr(err, "leave wait-list")
	}
	return left, nil
}

// lockEntries runs q, which selects wait-list ids FOR UPDATE. Locking first
// and ending in a later statement (endEntries) makes the end see an offer a
// matcher's pass committed while this waited on the entry's row: it is then
// released, not left as a hold with no entry.
func lockEntries(ctx context.Context, tx pgx.Tx, q string, args ...any) ([]int64, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// endEntries deletes the entries ids (of the salon; their offers go with
// them), releases their offers' holds but keep's (a booking id, or ""; each
// recorded as released by the actor ctx names, booking.ActorOf: the client
// who left or booked ("chat"), else the system), gives
// up their offers' messages no sender took yet (giveUpOffers), and wakes the
// matcher when a hold was released. The entries are read by id alone: the
// caller locked them within the salon.
func endEntries(ctx context.Context, tx pgx.Tx, salonID string, ids []int64, keep string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, endEntriesSQL, salonID, ids, keep, booking.ActorOf(ctx))
	return err
}

// endEntriesSQL is endEntries' statement ($1 salon, $2 entry ids, $3 the
// booking kept, $4 the actor; "" for the system).
const endEntriesSQL = `
		WITH ended AS MATERIALIZED (SELECT booking_id, now() AS ended_at FROM waitlist_offers WHERE entry_id = ANY($2)),
		r AS (
			UPDATE bookings SET status = 'cancelled', hold_expires_at = NULL, updated_at = now()
			WHERE booking_id IN (SELECT booking_id FROM ended WHERE booking_id::text <> $3)
			  AND status = 'held'
			RETURNING booking_id, salon_id, starts_at),` + giveUpOffersSQL + `,
		a AS (INSERT INTO booking_changes (booking_id, salon_id, at, actor, action, starts_at)
		      SELECT booking_id, salon_id, now(), coalesce(nullif($4::text, ''), 'system'), 'released', starts_at FROM r),
		d AS (DELETE FROM waitlist WHERE id = ANY($2))
		INSERT INTO waitlist_wakes (salon_id) SELECT $1 WHERE EXISTS (SELECT 1 FROM r)`

// Wake writes a wake: a time of the salon may have freed.
func (w *Waitlist) Wake(ctx context.Context, salonID string) error {
	_, err := w.pool.Exec(ctx, `INSERT INTO waitlist_wakes (salon_id) VALUES ($1)`, salonID)
	return mapErr(err, "wake wait-list")
}

// Record follows booking changes (postgres.Store.FollowChanges), in the
// change's transaction: a cancel, a move or a lifted block frees a time (a
// wake); a booking or
// a move ends its chat's entries it answers: a booked offer every entry of its
// chat for that service and local day (whatever the master), any other
// booking of the chat (or one moved by its chat into a day it waits for)
// those for that service, day and master or any master. The other offers of
// the entries ended are released.
func (w *Waitlist) Record(ctx context.Context, tx pgx.Tx, c booking.Change) error {
	var err error
	switch c.Kind {
	case booking.Cancelled, booking.Unblocked:
		_, err = tx.Exec(ctx, `INSERT INTO waitlist_wakes (salon_id) VALUES ($1)`, c.Booking.SalonID)
	case booking.Booked, booking.Moved:
		b := c.Booking
		if c.Kind == booking.Moved {
			if _, err = tx.Exec(ctx, `INSERT INTO waitlist_wakes (salon_id) VALUES ($1)`, b.SalonID); err != nil {
				break
			}
		}
		channel, chat, _ := strings.Cut(b.Source, ":")
		args := []any{b.SalonID, b.ID, channel, chat, b.ServiceID, b.Start, b.MasterID, booking.AnyMaster}
		// The held offers of the entries answered first, then the entries:
		// Leave's order (and a Confirm's), or a move and a Leave deadlock.
		if _, err = tx.Exec(ctx, answeredOffersSQL, args...); err != nil {
			break
		}
		var ids []int64
		ids, err = lockEntries(ctx, tx, answeredSQL, args...)
		if err == nil {
			err = endEntries(ctx, tx, b.SalonID, ids, b.ID)
		}
	}
	if err != nil {
		return mapErr(err, "record wait-list change")
	}
	return nil
}

// answeredSQL locks the entries the booking $2 answers (Record): its offer's
// entry, by primary key, and the chat's entries for its service and local day,
// the chat's read alone first (MATERIALIZED) through waitlist_once's leading
// columns (a chat has few): with the day beside them, a generic plan took
// waitlist_waiting and read the salon's entries of that day.
const answeredSQL = answeredChatSQL + `
	SELECT w.id FROM waitlist w
	WHERE w.id = ANY (ARRAY(` + answeredIDsSQL + `))
	ORDER BY w.id FOR UPDATE OF w`

// answeredOffersSQL locks, by booking id, the held offers but $2 of the
// entries answeredSQL will lock, before them (Record): endEntries then
// releases them, and Leave locks them first too. An offer made after this
// (its entry not yet locked) is the matcher's, committed before answeredSQL
// gets the entry (its insert holds a key share on it): nobody holds it.
const answeredOffersSQL = answeredChatSQL + `
	SELECT 1 FROM bookings b
	WHERE b.booking_id = ANY (ARRAY(SELECT o.booking_id FROM waitlist_offers o
	                                WHERE o.entry_id = ANY (ARRAY(` + answeredIDsSQL + `)) AND o.booking_id <> $2::uuid))
	  AND b.status = 'held'
	ORDER BY b.booking_id FOR UPDATE OF b`

// answeredChatSQL and answeredIDsSQL select the entries answeredSQL locks.
const answeredChatSQL = `
	WITH chat AS MATERIALIZED (
		SELECT id, service_id, master_id, day FROM waitlist WHERE salon_id = $1 AND channel = $3 AND chat_id = $4)`

const answeredIDsSQL = `
	        SELECT entry_id FROM waitlist_offers WHERE booking_id = $2::uuid
	        UNION ALL
	        SELECT l.id FROM chat l
	        WHERE l.service_id = $5
	          AND l.day = (SELECT ($6::timestamptz AT TIME ZONE timezone)::date FROM salons WHERE salon_id = $1)
	          AND (l.master_id IN ($7, $8) OR EXISTS (SELECT 1 FROM waitlist_offers WHERE booking_id = $2::uuid))`

// Drop implements waitlist.Store.
func (w *Waitlist) Drop(ctx context.Context, salonID string, today core.Date) (int64, error) {
	tag, err := w.pool.Exec(ctx, `DELETE FROM waitlist WHERE salon_id = $1 AND day < $2`, salonID, pgDate(today))
	if err != nil {
		return 0, mapErr(err, "drop past wait-list entries")
	}
	return tag.RowsAffected(), nil
}

// waitingSQL reads the live offers once (MATERIALIZED): inlined under a
// generic plan, the salon's live bookings were read once per waiting entry
// (1 s for 2,743 entries). The entries of chats and clients with an offer
// standing, and of chats that blocked the bot, are left out by NOT IN, which
// PostgreSQL runs as a hashed subplan (the columns are never NULL there):
// as NOT EXISTS, statistics taken before a burst of entries and offers
// (estimates of one row) made nested-loop anti joins that compared every
// entry with every live offer, 0.4 to 2 s a pass in loadtest waitlist until
// autovacuum analysed the tables (TestWaitingStaysLinearWithStaleStatistics).
const waitingSQL = `
		WITH live AS MATERIALIZED (
			SELECT l.channel, l.chat_id, l.client_id
			FROM bookings b JOIN waitlist_offers o ON o.booking_id = b.booking_id JOIN waitlist l ON l.id = o.entry_id
			WHERE b.salon_id = $1 AND b.status IN ('held', 'awaiting_payment') AND b.hold_expires_at > $3)
		SELECT w.id, w.channel || ':' || w.chat_id, w.service_id, w.master_id, w.day, c.name, c.phone, c.identity LIKE 'phone:%',
		       coalesce(o.starts, '{}'), coalesce(o.ends, '{}'), coalesce(o.declined, '{}'), coalesce(o.lapsed, '{}')
		FROM waitlist w JOIN clients c ON c.client_id = w.client_id
		LEFT JOIN LATERAL (SELECT array_agg(x.starts_at) AS starts, array_agg(x.ends_at) AS ends, max(x.created_at) AS last,
		                          array_agg(b.status = 'cancelled') AS declined,
		                          array_agg(coalesce(b.hold_expires_at, x.created_at)) AS lapsed
		                   FROM waitlist_offers x JOIN bookings b ON b.booking_id = x.booking_id
		                   WHERE x.entry_id = w.id) o ON true
		WHERE w.salon_id = $1 AND w.day >= $2 AND w.channel = ANY($4)
		  AND (w.channel, w.chat_id) NOT IN (SELECT channel, chat_id FROM live)
		  AND w.client_id NOT IN (SELECT client_id FROM live WHERE client_id IS NOT NULL)
		  AND (w.channel, w.chat_id) NOT IN (SELECT k.channel, k.chat_id FROM channel_chats k
		                                     WHERE k.salon_id = $1 AND k.blocked_at IS NOT NULL)
		ORDER BY coalesce(o.last, w.created_at), w.id`

// Waiting implements waitlist.Store: the entries of chats that did not block
// the bot and of clients with no offer standing (in any of their chats), in
// turn: by when each last went to the back of the line (its last offer made,
// else its joining), then by id. An entry offered a time goes behind every
// entry waiting then, and ahead of those who join later: a rotation, so one
// that declined once is not passed over by every later joiner.
func (w *Waitlist) Waiting(ctx context.Context, salonID string, today core.Date, now time.Time, channels []string) ([]waitlist.Entry, error) {
	rows, err := w.pool.Query(ctx, waitingSQL, salonID, pgDate(today), now, channels)
	if err != nil {
		return nil, mapErr(err, "select waiting entries")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (waitlist.Entry, error) {
		e := waitlist.Entry{Client: core.Client{SalonID: salonID}}
		var day time.Time
		var starts, ends, lapsed []time.Time
		var declined []bool
		err := r.Scan(&e.ID, &e.Source, &e.ServiceID, &e.MasterID, &day, &e.Client.Name, &e.Client.Phone, &e.Client.Verified, &starts, &ends, &declined, &lapsed)
		e.Day = core.DateOf(day)
		for i := range min(len(starts), len(ends), len(declined), len(lapsed)) {
			o := waitlist.Offered{TimeRange: core.TimeRange{Start: starts[i].UTC(), End: ends[i].UTC()}, Declined: declined[i]}
			if !o.Declined {
				o.Lapsed = lapsed[i].UTC()
			}
			e.Offered = append(e.Offered, o)
		}
		return e, err
	})
	return out, mapErr(err, "select waiting entries")
}

// ExpireDue marks expired every hold of the salon past its expiry at now, at most 1,000
// (the oldest first; each recorded as expired by the system), and records a
// wake for each salon that had one, in one
// statement; it says how many. Replicas share the work: rows another holds
// (a Confirm's lock) are skipped and taken at the next run, so a Confirm and
// the expiry never both win: whichever locks the row first decides, and the
// other sees its result.
func (w *Waitlist) ExpireDue(ctx context.Context, salonID string, now time.Time) (int64, error) {
	var n int64
	err := w.pool.QueryRow(ctx, expireDueSQL, now, salonID).Scan(&n)
	return n, mapErr(err, "expire due holds")
}

// expireDueSQL marks expired the salon's ($2) holds lapsed at $1.
const expireDueSQL = `
	WITH e AS (
		UPDATE bookings SET status = 'expired', updated_at = $1
		WHERE booking_id IN (SELECT booking_id FROM bookings WHERE status IN ('held', 'awaiting_payment') AND hold_expires_at <= $1
		                     AND salon_id = $2 ORDER BY hold_expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED)
		  AND status IN ('held', 'awaiting_payment') AND hold_expires_at <= $1
		RETURNING booking_id, salon_id, starts_at),
	ended AS MATERIALIZED (SELECT booking_id, $1::timestamptz AS ended_at FROM e),` + giveUpOffersSQL + `,
	a AS (INSERT INTO booking_changes (booking_id, salon_id, at, actor, action, starts_at)
	      SELECT booking_id, salon_id, $1, 'system', 'expired', starts_at FROM e),
	w AS (INSERT INTO waitlist_wakes (salon_id) SELECT DISTINCT salon_id FROM e)
	SELECT count(*) FROM e`

// nextExpirySQL is the salon's ($1) earliest expiry of a hold or of a
// booking awaiting its deposit; written as ORDER BY … LIMIT 1 for
// bookings_pending_expiry (0026, as bookings_held_expiry of 0020 before), which
// serves it and expireDueSQL with no statistics and generic plans
// (TestExpiryPlansReadOnlyHolds).
const nextExpirySQL = `SELECT hold_expires_at FROM bookings WHERE salon_id = $1 AND status IN ('held', 'awaiting_payment') ORDER BY hold_expires_at LIMIT 1`

// NextExpiry returns when the salon's next hold expires; false when none is held.
func (w *Waitlist) NextExpiry(ctx context.Context, salonID string) (time.Time, bool, error) {
	var next pgtype.Timestamptz
	err := w.pool.QueryRow(ctx, nextExpirySQL, salonID).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, mapErr(err, "select next hold expiry")
	}
	return next.Time.UTC(), next.Valid, nil
}

// matcherLockTimeout bounds the matcher's lock and unlock statements: a
// server or network that stopped answering fails the pass instead of hanging
// the matcher (the connection is then closed, which lets the lock go).
const matcherLockTimeout = 5 * time.Second

// matcherKeepalive makes the server notice a matcher whose host died within
// about half a minute and let its session lock go (as pipeline.Leader's
// sender lock): probes after 10 s idle, every 5 s, 3 missed end the session;
// unacknowledged data for 25 s does too. Ignored on a Unix socket.
const matcherKeepalive = `SELECT set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false),
	set_config('tcp_keepalives_count', '3', false), set_config('tcp_user_timeout', '25000', false)`

// connectLock opens the matcher's own connection, with matcherKeepalive set.
func connectLock(ctx context.Context, pool *pgxpool.Pool) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, matcherLockTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, mapErr(err, "connect the matcher's lock")
	}
	if _, err := conn.Exec(cctx, matcherKeepalive); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, mapErr(err, "set keepalives for the matcher's lock")
	}
	return conn, nil
}

// Matching runs fn while this process is the salon's one matcher: a session
// advisory lock held on a connection of the Waitlist's own, outside the pool,
// so fn's statements never wait for a pooled connection while the lock holds
// one. woken says whether the salon has wakes; those fn was told of are
// deleted only after fn succeeds, so a pass that fails part-way leaves them to
// the next. ran is false when another matcher (a replica, or a call of this
// process) is matching: its pass sees the same wakes' effects.
func (w *Waitlist) Matching(ctx context.Context, salonID string, fn func(woken bool) error) (ran bool, err error) {
	if !w.mu.TryLock() {
		return false, nil
	}
	defer w.mu.Unlock()
	if w.lock == nil || w.lock.IsClosed() {
		if w.lock, err = connectLock(ctx, w.pool); err != nil {
			return false, err
		}
	}
	conn := w.lock
	var got bool
	lctx, lcancel := context.WithTimeout(ctx, matcherLockTimeout)
	err = conn.QueryRow(lctx, `SELECT pg_try_advisory_lock(hashtextextended('salonbook.waitlist/' || $1, 0))`, salonID).Scan(&got)
	lcancel()
	if err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return false, mapErr(err, "lock matcher")
	}
	if !got {
		return false, nil
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), matcherLockTimeout)
		defer cancel()
		if _, uerr := conn.Exec(uctx, `SELECT pg_advisory_unlock(hashtextextended('salonbook.waitlist/' || $1, 0))`, salonID); uerr != nil {
			_ = conn.Close(uctx) // the session's lock goes with it
		}
	}()
	// The wakes committed now: the pass sees what they stand for. Ids, not
	// "id <= max": a lower id committed later would be lost.
	var wakes []int64
	if err := w.pool.QueryRow(ctx, `SELECT coalesce(array_agg(id), '{}') FROM waitlist_wakes WHERE salon_id = $1`, salonID).Scan(&wakes); err != nil {
		return false, mapErr(err, "read wait-list wakes")
	}
	if err := fn(len(wakes) > 0); err != nil {
		return true, err
	}
	if len(wakes) > 0 {
		if _, err := w.pool.Exec(ctx, `DELETE FROM waitlist_wakes WHERE id = ANY($1)`, wakes); err != nil {
			return true, mapErr(err, "take wait-list wakes")
		}
	}
	return true, nil
}

// giveUpOffersSQL is CTEs that give up the messages of the offers of the
// bookings a CTE "ended" of the statement selects (columns booking_id and
// ended_at, the end's now), and their WhatsApp resend copies: one no sender
// took (never leased, or its lease ran out) fails "offer ended"; one a sender
// holds may be in a send, which goes, but its body's not_after becomes
// ended_at, so a send handed back is given up, never retried. As the
// reminders' give-up (pipeline.giveUpSQL): the outbox is read by id and
// resent_of only, the offers by key, one lookup per booking ended (joins,
// even LATERAL ones, became hash joins over every offer or message under a
// generic plan with no statistics).
const giveUpOffersSQL = `
		offers_mine AS MATERIALIZED (
			SELECT (SELECT o.outbox_id FROM waitlist_offers o WHERE o.booking_id = e.booking_id) AS id, e.ended_at FROM ended e),
		offers_rows AS MATERIALIZED (
			SELECT id, ended_at FROM offers_mine WHERE (id IS NOT NULL) IS TRUE
			UNION ALL
			SELECT c.id, (SELECT max(m.ended_at) FROM offers_mine m WHERE m.id = c.resent_of) FROM outbox c
			WHERE c.resent_of = ANY (ARRAY(SELECT id FROM offers_mine WHERE (id IS NOT NULL) IS TRUE)) AND c.resent_of IS NOT NULL),
		offers_gone AS (
			UPDATE outbox o SET
			       failed = CASE WHEN o.leased_until IS NULL OR o.leased_until < now() THEN 'offer ended' END,
			       body = CASE WHEN o.leased_until IS NULL OR o.leased_until < now() THEN o.body
			                   ELSE jsonb_set(o.body, '{not_after}',
			                        to_jsonb(to_char((SELECT max(x.ended_at) FROM offers_rows x WHERE x.id = o.id) AT TIME ZONE 'UTC',
			                                         'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))) END
			WHERE o.id = ANY (ARRAY(SELECT id FROM offers_rows)) AND (o.sent_at IS NULL AND o.failed IS NULL) IS TRUE
			RETURNING o.id)`
