package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
	"salonbook/src/core/booking"
)

var _ booking.Store = (*Store)(nil)

// Store is the booking store over a pgx pool.
type Store struct {
	pool  *pgxpool.Pool
	zones sync.Map // zone name → *time.Location; loading a zone reads a file
	// changed are what records a change to a confirmed booking in the
	// transaction that made it (the calendar job, the staff notice), in order;
	// none when nothing follows changes.
	changed []func(ctx context.Context, tx pgx.Tx, c booking.Change) error
	// offered are what queues a wait-list offer's message in the transaction
	// that holds its time (FollowOffers).
	offered []func(ctx context.Context, tx pgx.Tx, entry int64, b core.Booking, salon *core.Salon) error

	mu       sync.Mutex
	catalogs map[string]*catalog // by salon id
}

// NewStore returns a Store over pool.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, catalogs: map[string]*catalog{}}
}

// FollowChanges makes every stored change to a confirmed booking call record in
// the transaction that makes it (src/cmd inserts the calendar job and the staff
// notice there), after the records added before; an error from record rolls the
// change back. Add them before the store is used.
func (s *Store) FollowChanges(record func(ctx context.Context, tx pgx.Tx, c booking.Change) error) {
	s.changed = append(s.changed, record)
}

// FollowOffers makes every wait-list offer call record in the transaction that
// holds its time and stores the offer (src/cmd queues the client's message
// there), so the message exists if and only if the offer does. salon is the
// salon as the offer's transaction read it (its words and hold time). Add them
// before the store is used.
func (s *Store) FollowOffers(record func(ctx context.Context, tx pgx.Tx, entry int64, b core.Booking, salon *core.Salon) error) {
	s.offered = append(s.offered, record)
}

// querier is what both a pool and a transaction can do.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// WithTx runs fn in a read-committed transaction; fn's error rolls it back.
// The rollback runs on a context of its own: pgx closes a connection whose
// rollback fails, and under overload, with every request past its deadline, the
// pool would reconnect over and over.
func (s *Store) WithTx(ctx context.Context, fn func(booking.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return passCore(err, "transaction")
	}
	defer func() { // after a commit, a no-op; also on a panic in fn
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	if err := fn(&storeTx{q: tx, tx: tx, s: s}); err != nil {
		return passCore(err, "transaction")
	}
	if err := ctx.Err(); err != nil {
		// pgx closes the connection of a commit refused for a dead context.
		return passCore(err, "transaction")
	}
	return passCore(tx.Commit(ctx), "transaction")
}

// rollbackTimeout bounds the rollback of a transaction whose context ended.
const rollbackTimeout = 2 * time.Second

// Auto runs fn on the pool, without a transaction: each statement commits on its own.
func (s *Store) Auto(ctx context.Context, fn func(booking.Tx) error) error {
	return passCore(fn(&storeTx{q: s.pool, s: s}), "auto")
}

// passCore leaves core errors (from fn) as they are and maps the rest.
func passCore(err error, what string) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*core.Error](err); ok {
		return err
	}
	return mapErr(err, what)
}

func (s *Store) zone(name string) (*time.Location, error) {
	if z, ok := s.zones.Load(name); ok {
		return z.(*time.Location), nil
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("postgres: salon zone %q: %w", name, err)
	}
	s.zones.Store(name, z)
	return z, nil
}

type storeTx struct {
	q  querier
	tx pgx.Tx // nil outside a transaction
	s  *Store
}

func secs(n int32) time.Duration { return time.Duration(n) * time.Second }

func (t *storeTx) loadSalon(ctx context.Context, salonID string) (*core.Salon, error) {
	var (
		sl                                  core.Salon
		zone                                string
		step, notice, horizon, hold, cutoff int32
		maxUpcoming, offer                  int32
		reminders                           []int32
		summary, window, refundCutoff       *int32
		depositWhen                         string
		adsPhone                            bool
	)
	err := t.q.QueryRow(ctx, `
		SELECT salon_id, name, timezone, locales, phone, address, slot_step_seconds,
		       min_notice_seconds, horizon_seconds, hold_seconds, cancel_cutoff_seconds, max_upcoming,
		       reminders_seconds, waitlist_offer_seconds, staff_summary_minute, country, privacy_url,
		       deposit_when, payment_window_seconds, deposit_refund_cutoff_seconds, ads_phone_consent
		FROM salons WHERE salon_id = $1`, salonID).
		Scan(&sl.ID, &sl.Name, &zone, &sl.Locales, &sl.Phone, &sl.Address, &step, &notice, &horizon, &hold, &cutoff, &maxUpcoming,
			&reminders, &offer, &summary, &sl.Country, &sl.PrivacyURL, &depositWhen, &window, &refundCutoff, &adsPhone)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENotFound, "salon.not_found", "postgres: no salon %q", salonID)
	}
	if err != nil {
		return nil, mapErr(err, "select salon")
	}
	if sl.Timezone, err = t.s.zone(zone); err != nil {
		return nil, err
	}
	sl.Policy = core.Policy{SlotStep: secs(step), MinNotice: secs(notice), Horizon: secs(horizon), Hold: secs(hold), CancelCutoff: secs(cutoff),
		MaxUpcoming: int(maxUpcoming), WaitlistOffer: secs(offer)}
	for _, r := range reminders {
		sl.Policy.Reminders = append(sl.Policy.Reminders, secs(r))
	}
	if summary != nil {
		at := core.ClockTime(*summary)
		sl.Policy.StaffSummary = &at
	}
	sl.Policy.AdsPhoneConsent = adsPhone
	if depositWhen != "never" {
		sl.Policy.DepositWhen = core.DepositWhen(depositWhen)
	}
	if window != nil {
		sl.Policy.PaymentWindow = secs(*window)
	}
	if refundCutoff != nil {
		sl.Policy.DepositRefundCutoff = secs(*refundCutoff)
	}
	return &sl, nil
}

func (t *storeTx) loadServices(ctx context.Context, salonID string) ([]core.Service, error) {
	rows, err := t.q.Query(ctx, `
		SELECT service_id, names, duration_seconds, buffer_before_seconds, buffer_after_seconds, price_minor, currency,
		       coalesce(deposit_minor, 0), coalesce(deposit_percent, 0), aliases
		FROM services WHERE salon_id = $1 AND active ORDER BY position, service_id`, salonID)
	if err != nil {
		return nil, mapErr(err, "select services")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Service, error) {
		v := core.Service{SalonID: salonID, Active: true}
		var dur, before, after, percent int32
		err := r.Scan(&v.ID, &v.Name, &dur, &before, &after, &v.Price.Minor, &v.Price.Currency, &v.Deposit.Minor, &percent, &v.Aliases)
		if len(v.Aliases) == 0 {
			v.Aliases = nil // as the salon file gives none
		}
		v.Duration, v.BufferBefore, v.BufferAfter, v.Deposit.Percent = secs(dur), secs(before), secs(after), int(percent)
		return v, err
	})
	return out, mapErr(err, "select services")
}

// weekdayKeys names the weekdays in the hours JSON, indexed by time.Weekday.
var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func (t *storeTx) loadMasters(ctx context.Context, salonID string) ([]core.Master, error) {
	rows, err := t.q.Query(ctx, `
		SELECT m.master_id, m.name, m.names, m.hours, m.days_off, m.calendar, m.telegram_chat_id IS NOT NULL, m.aliases,
		       coalesce(array_agg(ms.service_id ORDER BY ms.service_id) FILTER (WHERE ms.service_id IS NOT NULL), '{}')
		FROM masters m LEFT JOIN master_services ms USING (salon_id, master_id)
		WHERE m.salon_id = $1 AND m.active
		GROUP BY m.salon_id, m.master_id ORDER BY m.position, m.master_id`, salonID)
	if err != nil {
		return nil, mapErr(err, "select masters")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Master, error) {
		m := core.Master{SalonID: salonID, Active: true}
		var hours map[string][]string
		var daysOff []time.Time
		if err := r.Scan(&m.ID, &m.Name, &m.Names, &hours, &daysOff, &m.Calendar, &m.Notices, &m.Aliases, &m.Services); err != nil {
			return m, err
		}
		if len(m.Aliases) == 0 {
			m.Aliases = nil
		}
		if len(m.Names) == 0 {
			m.Names = nil
		}
		for wd, key := range weekdayKeys {
			for _, s := range hours[key] {
				cr, err := core.ParseClockRange(s)
				if err != nil {
					return m, fmt.Errorf("master %s hours: %w", m.ID, err)
				}
				m.Hours[wd] = append(m.Hours[wd], cr)
			}
		}
		for _, d := range daysOff {
			m.DaysOff = append(m.DaysOff, core.DateOf(d))
		}
		return m, nil
	})
	return out, mapErr(err, "select masters")
}

func (t *storeTx) Busy(ctx context.Context, salonID string, masterIDs []string, window core.TimeRange, now time.Time, exclude string) (map[string][]booking.Occupancy, error) {
	// Live bookings, and the busy time read from the masters' own calendars.
	rows, err := t.q.Query(ctx, `
		SELECT master_id, starts_at, lower(occupied), upper(occupied), false, kind = 'block'
		FROM bookings
		WHERE salon_id = $1 AND master_id = ANY($2) AND occupied && tstzrange($3, $4)
		  AND status IN ('held', 'awaiting_payment', 'confirmed') AND (status = 'confirmed' OR hold_expires_at > $5)
		  AND booking_id::text <> $6
		UNION ALL
		SELECT master_id, lower(during), lower(during), upper(during), true, false
		FROM calendar_busy
		WHERE salon_id = $1 AND master_id = ANY($2) AND during && tstzrange($3, $4)`,
		salonID, masterIDs, window.Start, window.End, now, exclude)
	if err != nil {
		return nil, mapErr(err, "select busy")
	}
	defer rows.Close()
	out := map[string][]booking.Occupancy{}
	for rows.Next() {
		var id string
		var o booking.Occupancy
		if err := rows.Scan(&id, &o.Start, &o.Occupied.Start, &o.Occupied.End, &o.External, &o.Block); err != nil {
			return nil, mapErr(err, "select busy")
		}
		o.Start, o.Occupied.Start, o.Occupied.End = o.Start.UTC(), o.Occupied.Start.UTC(), o.Occupied.End.UTC()
		out[id] = append(out[id], o)
	}
	return out, mapErr(rows.Err(), "select busy")
}

func (t *storeTx) UpsertClient(ctx context.Context, c *core.Client, identities []string, lock bool) error {
	if len(identities) == 0 {
		return errors.New("postgres: upsert client: no identity")
	}
	// Returning clients are the common case: find them without a new row
	// version. FOR NO KEY UPDATE makes one client's capped bookings take turns
	// (the cap counts what the one before committed) without blocking the
	// foreign-key checks of bookings that only refer to the client; a row
	// erased meanwhile is re-read and no longer matches. The owner's need no
	// lock (a row lock is one more WAL record). Of several identities, the
	// first that exists (array_position).
	find := `SELECT client_id, name, phone, identity FROM clients WHERE salon_id = $1 AND identity = $2`
	var key any = identities[0]
	if len(identities) > 1 { // the owner's hot path keeps the plain lookup
		find = `SELECT client_id, name, phone, identity FROM clients WHERE salon_id = $1 AND identity = ANY ($2)
			ORDER BY array_position($2, identity) LIMIT 1`
		key = identities
	}
	if lock {
		find += ` FOR NO KEY UPDATE`
	}
	var name, phone, found string
	err := t.q.QueryRow(ctx, find, c.SalonID, key).Scan(&c.ID, &name, &phone, &found)
	if err == nil {
		// A chat's client, or a verified number's, is the person writing: their
		// own record follows what they say now. An owner-keyed one keeps its
		// name: typing a number is no right to rename its owner.
		if (name != c.Name || phone != c.Phone) && !strings.HasPrefix(found, "owner:") {
			_, err = t.q.Exec(ctx, `UPDATE clients SET name = $3, phone = $4 WHERE salon_id = $1 AND client_id = $2`,
				c.SalonID, c.ID, c.Name, c.Phone)
			return mapErr(err, "update client")
		}
		return nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return mapErr(err, "select client")
	}
	err = t.q.QueryRow(ctx, `
		INSERT INTO clients (salon_id, name, phone, identity) VALUES ($1, $2, $3, $4)
		ON CONFLICT (salon_id, identity) DO UPDATE SET identity = excluded.identity -- a racing twin: take its id
		RETURNING client_id`, c.SalonID, c.Name, c.Phone, identities[len(identities)-1]).Scan(&c.ID)
	return mapErr(err, "insert client")
}

func (t *storeTx) LockChat(ctx context.Context, salonID, source string) error {
	if t.tx == nil {
		return errors.New("postgres: a chat lock outside a transaction")
	}
	_, err := t.q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('chat:' || $1 || '/' || $2, 0))`, salonID, source)
	return mapErr(err, "lock chat")
}

func (t *storeTx) ReleaseChatHolds(ctx context.Context, salonID, source, keep string, now time.Time, actor string) (int64, error) {
	var n int64
	err := t.q.QueryRow(ctx, `
		WITH r AS (
			UPDATE bookings SET status = 'cancelled', hold_expires_at = NULL, updated_at = $4
			WHERE salon_id = $1 AND source = $2 AND source <> '' AND status = 'held' AND hold_expires_at > $4
			  AND idempotency_key <> $3 -- source <> '': the partial index on source serves it
			  AND idempotency_key NOT LIKE $5 || '%' -- an offer stays
			RETURNING booking_id, starts_at),
		a AS (INSERT INTO booking_changes (booking_id, salon_id, at, actor, action, starts_at)
		      SELECT booking_id, $1, $4, $6, 'released', starts_at FROM r)
		SELECT count(*) FROM r`,
		salonID, source, keep, now, booking.OfferKeyPrefix, actor).Scan(&n)
	return n, mapErr(err, "release chat holds")
}

// expireLapsedSQL marks expired the lapsed holds of the client with identity $2
// and of the chat $3. The branches say "held or awaiting payment" as NOT IN
// the other statuses (the column's CHECK allows five), and so does
// countUpcomingSQL "live": with no statistics the planner ties an index on
// the client or the chat with the exclusion constraints' indexes (predicate
// status IN ('held', 'awaiting_payment', 'confirmed')) on salon_id alone,
// takes those, and reads every live booking of the salon.
// Written so, only bookings_client_upcoming and bookings_source_live (0012),
// whose predicate the chat's branches imply, can serve them.
const expireLapsedSQL = `
	WITH e AS (
		UPDATE bookings SET status = 'expired', updated_at = $4
		WHERE booking_id IN (
		        SELECT booking_id FROM bookings
		        WHERE salon_id = $1 AND status NOT IN ('confirmed', 'cancelled', 'expired') AND hold_expires_at <= $4
		          AND client_id = (SELECT client_id FROM clients WHERE salon_id = $1 AND identity = $2)
		        UNION ALL
		        SELECT booking_id FROM bookings
		        WHERE salon_id = $1 AND source = $3 AND source <> ''
		          AND status NOT IN ('confirmed', 'cancelled', 'expired') AND hold_expires_at <= $4)
		  AND status IN ('held', 'awaiting_payment') AND hold_expires_at <= $4
		RETURNING booking_id, starts_at),
	` + expiredSQL

// expiredSQL ends a statement whose CTE e expired holds (booking_id,
// starts_at) at $4 of salon $1: it records each as expired by the system,
// gives up the messages of the offers among them and wakes the matcher (the
// time is free), and counts them.
const expiredSQL = `ended AS MATERIALIZED (SELECT booking_id, $4::timestamptz AS ended_at FROM e),` + giveUpOffersSQL + `,
	a AS (INSERT INTO booking_changes (booking_id, salon_id, at, actor, action, starts_at)
	      SELECT booking_id, $1, $4, 'system', 'expired', starts_at FROM e),
	w AS (INSERT INTO waitlist_wakes (salon_id) SELECT $1 WHERE EXISTS (SELECT 1 FROM e))
	SELECT count(*) FROM e`

func (t *storeTx) ExpireLapsed(ctx context.Context, salonID, identity, source string, now time.Time) (int64, error) {
	// Outside Book's transaction (Auto), so that it commits before the booking's
	// insert: rows changed but uncommitted while the insert waits on another
	// booking's made two bookings of each other's lapsed times deadlock. A
	// Confirm that read an earlier now and holds a hold's row lock takes turns
	// with this update: it confirms first (this skips the row, the count sees
	// the booking) or finds the hold expired.
	var n int64
	err := t.q.QueryRow(ctx, expireLapsedSQL, salonID, identity, source, now).Scan(&n)
	return n, mapErr(err, "expire lapsed holds")
}

// countUpcomingSQL is two counts, each on its own index whatever the
// statistics say (see expireLapsedSQL). No expiry condition: ExpireLapsed ran
// before at this now.
const countUpcomingSQL = `
	SELECT (SELECT count(*) FROM bookings
	        WHERE salon_id = $1 AND client_id = $2 AND source <> $4 AND source NOT LIKE $6 || '%' AND ends_at > $5
	          AND status NOT IN ('cancelled', 'expired')),
	       (SELECT count(*) FROM bookings
	        WHERE salon_id = $1 AND source = $3 AND source <> '' AND ends_at > $5
	          AND status NOT IN ('cancelled', 'expired'))`

func (t *storeTx) CountUpcoming(ctx context.Context, salonID string, clientID int64, source string, now time.Time) (client, chat int, err error) {
	err = t.q.QueryRow(ctx, countUpcomingSQL, salonID, clientID, source, booking.OwnerSource, now, booking.DeskSourcePrefix).Scan(&client, &chat)
	return client, chat, mapErr(err, "count upcoming")
}

func (t *storeTx) Client(ctx context.Context, salonID string, clientID int64) (*core.Client, error) {
	c := core.Client{SalonID: salonID, ID: clientID}
	err := t.q.QueryRow(ctx, `SELECT name, phone FROM clients WHERE salon_id = $1 AND client_id = $2`, salonID, clientID).
		Scan(&c.Name, &c.Phone)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENotFound, "client.not_found", "postgres: no client %d", clientID)
	}
	return &c, mapErr(err, "select client")
}

func (t *storeTx) ExpireHolds(ctx context.Context, salonID, masterID string, clientID int64, occupied core.TimeRange, now time.Time) (int64, error) {
	var n int64
	err := t.q.QueryRow(ctx, `
		WITH e AS (
			UPDATE bookings SET status = 'expired', updated_at = $4
			WHERE salon_id = $1 AND status IN ('held', 'awaiting_payment') AND hold_expires_at <= $4
			  AND ((master_id = $2 AND occupied && tstzrange($5, $6))
			    OR (client_id = $3 AND tstzrange(starts_at, ends_at) && tstzrange($5, $6)))
			RETURNING booking_id, starts_at),
		`+expiredSQL,
		salonID, masterID, clientID, now, occupied.Start, occupied.End).Scan(&n)
	return n, mapErr(err, "expire holds")
}

const bookingColumns = `booking_id::text, salon_id, master_id, coalesce(service_id, ''), coalesce(client_id, 0), starts_at, ends_at,
	lower(occupied), upper(occupied), status, hold_expires_at, price_minor, currency, idempotency_key, source, created_at, updated_at, coming_at,
	kind = 'block', note, coalesce(attendance, ''), attendance_at, coalesce(deposit_minor, 0), coalesce(deposit_state, ''), deposit_refund_until`

// scanBooking reads bookingColumns, then the row's further columns into extra.
func scanBooking(r pgx.Row, extra ...any) (*core.Booking, error) {
	var b core.Booking
	var hold, coming, marked, refundUntil pgtype.Timestamptz
	var status, attendance, depositState string
	err := r.Scan(append([]any{&b.ID, &b.SalonID, &b.MasterID, &b.ServiceID, &b.ClientID, &b.Start, &b.End,
		&b.Occupied.Start, &b.Occupied.End, &status, &hold, &b.Price.Minor, &b.Price.Currency,
		&b.IdempotencyKey, &b.Source, &b.CreatedAt, &b.UpdatedAt, &coming, &b.Block, &b.Note, &attendance, &marked,
		&b.Deposit.Minor, &depositState, &refundUntil}, extra...)...)
	if err != nil {
		return nil, err
	}
	b.Status = core.BookingStatus(status)
	b.Attendance = core.Attendance(attendance)
	b.DepositState = core.DepositState(depositState)
	if b.Deposit.Minor > 0 {
		b.Deposit.Currency = b.Price.Currency
	}
	if hold.Valid {
		b.HoldExpiresAt = hold.Time.UTC()
	}
	if refundUntil.Valid {
		b.RefundUntil = refundUntil.Time.UTC()
	}
	if coming.Valid {
		b.ComingAt = coming.Time.UTC()
	}
	if marked.Valid {
		b.AttendanceAt = marked.Time.UTC()
	}
	for _, p := range []*time.Time{&b.Start, &b.End, &b.Occupied.Start, &b.Occupied.End, &b.CreatedAt, &b.UpdatedAt} {
		*p = p.UTC()
	}
	return &b, nil
}

func nullTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// nullText is s, or NULL when it is "".
func nullText(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

// nullInt is n, or NULL when it is 0.
func nullInt(n int64) pgtype.Int8 { return pgtype.Int8{Int64: n, Valid: n != 0} }

// auditArgs are the record's values for recordSQL's parameters.
func auditArgs(a booking.Audit) []any {
	return []any{a.At, a.Actor, string(a.Action), a.Reason, a.Override, nullTime(a.From)}
}

// recordSQL inserts the record of a change to the booking in CTE w
// (booking_id, salon_id, starts_at), from parameters $n.. (auditArgs): the
// same statement as the change, so the record exists if and only if it does.
func recordSQL(w string, n int) string {
	p := func(i int) string { return "$" + strconv.Itoa(n+i) }
	return `INSERT INTO booking_changes (booking_id, salon_id, at, actor, action, reason, override, from_starts_at, starts_at)
		SELECT booking_id, salon_id, ` + p(0) + `::timestamptz, ` + p(1) + `, ` + p(2) + `, ` + p(3) + `, ` + p(4) + `::boolean, ` + p(5) + `::timestamptz, starts_at FROM ` + w
}

func (t *storeTx) InsertBooking(ctx context.Context, b *core.Booking, a booking.Audit) (bool, error) {
	// ON CONFLICT DO NOTHING with no target covers the exclusion constraints and the
	// idempotency key: a loser writes nothing and leaves no dead row (see DESIGN §4).
	// The master's own calendar (busy time read from Google) is not a booking, so
	// no constraint sees it: the same statement refuses a time it overlaps (not
	// a block's: the salon's own time off may lie over the master's calendar).
	// The record of the making is a CTE of the same statement: no round trip.
	kind := "appointment"
	if b.Block {
		kind = "block"
	}
	args := []any{b.SalonID, b.MasterID, nullText(b.ServiceID), nullInt(b.ClientID), b.Start, b.End, b.Occupied.Start, b.Occupied.End,
		string(b.Status), nullTime(b.HoldExpiresAt), b.Price.Minor, b.Price.Currency, b.IdempotencyKey, b.Source, kind, b.Note}
	row := t.q.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied,
			                      status, hold_expires_at, price_minor, currency, idempotency_key, source, kind, note)
			SELECT $1, $2, $3, $4, $5, $6, tstzrange($7, $8), $9, $10, $11, $12, $13, $14, $15, $16
			WHERE $15 = 'block' OR NOT EXISTS (SELECT 1 FROM calendar_busy
			                                   WHERE salon_id = $1 AND master_id = $2 AND during && tstzrange($7, $8))
			ON CONFLICT DO NOTHING
			RETURNING *),
		a AS (`+recordSQL("ins", len(args)+1)+`)
		SELECT `+bookingColumns+` FROM ins`, append(args, auditArgs(a)...)...)
	got, err := scanBooking(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, mapErr(err, "insert booking")
	}
	*b = *got
	return true, nil
}

func (t *storeTx) BookingByKey(ctx context.Context, salonID, key string) (*core.Booking, error) {
	b, err := scanBooking(t.q.QueryRow(ctx, `SELECT `+bookingColumns+` FROM bookings WHERE salon_id = $1 AND idempotency_key = $2`, salonID, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENotFound, "booking.not_found", "postgres: no booking for that idempotency key")
	}
	return b, mapErr(err, "select booking by key")
}

func (t *storeTx) ClientBusy(ctx context.Context, salonID string, clientID int64, r core.TimeRange, now time.Time, exclude string) (bool, error) {
	var busy bool
	err := t.q.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM bookings
		WHERE salon_id = $1 AND client_id = $2 AND tstzrange(starts_at, ends_at) && tstzrange($3, $4)
		  AND (status = 'confirmed' OR (status IN ('held', 'awaiting_payment') AND hold_expires_at > $5))
		  AND booking_id::text <> $6)`,
		salonID, clientID, r.Start, r.End, now, exclude).Scan(&busy)
	return busy, mapErr(err, "select client busy")
}

func (t *storeTx) Booking(ctx context.Context, salonID, bookingID string, lock bool) (*core.Booking, error) {
	var id pgtype.UUID
	if err := id.Scan(bookingID); err != nil {
		return nil, core.Errorf(core.ENotFound, "booking.not_found", "postgres: booking id is not a UUID")
	}
	q := `SELECT ` + bookingColumns + ` FROM bookings WHERE salon_id = $1 AND booking_id = $2`
	if lock {
		q += ` FOR UPDATE`
	}
	b, err := scanBooking(t.q.QueryRow(ctx, q, salonID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENotFound, "booking.not_found", "postgres: no booking %s", bookingID)
	}
	return b, mapErr(err, "select booking")
}

func (t *storeTx) ReleaseHold(ctx context.Context, salonID, bookingID string, a booking.Audit) (bool, error) {
	return t.release(ctx, salonID, bookingID, core.StatusHeld, a)
}

func (t *storeTx) CancelAwaiting(ctx context.Context, salonID, bookingID string, a booking.Audit) (bool, error) {
	return t.release(ctx, salonID, bookingID, core.StatusAwaitingPayment, a)
}

// release cancels the booking while its status is status (held, or
// awaiting_payment: then the wait-list is always woken, as by its expiry).
func (t *storeTx) release(ctx context.Context, salonID, bookingID string, status core.BookingStatus, a booking.Audit) (bool, error) {
	var id pgtype.UUID
	if err := id.Scan(bookingID); err != nil {
		return false, nil // not a booking id: nothing to release
	}
	// One conditional statement, not a read and a write: a confirm committed in
	// between is seen by the WHERE and the row is left alone. A wait-list
	// offer's release wakes the matcher and gives up the offer's message not yet
	// sent in the same statement (no wake to lose).
	var n int
	err := t.q.QueryRow(ctx, `
		WITH r AS (
			UPDATE bookings SET status = 'cancelled', hold_expires_at = NULL, updated_at = now()
			WHERE salon_id = $1 AND booking_id = $2 AND status = $4
			RETURNING booking_id, salon_id, starts_at, idempotency_key),
		ended AS MATERIALIZED (SELECT booking_id, now() AS ended_at FROM r WHERE idempotency_key LIKE $3 || '%'),`+giveUpOffersSQL+`,
		a AS (`+recordSQL("r", 5)+`),
		w AS (INSERT INTO waitlist_wakes (salon_id) SELECT $1 FROM r WHERE idempotency_key LIKE $3 || '%' OR $4 = 'awaiting_payment')
		SELECT count(*) FROM r`, append([]any{salonID, id, booking.OfferKeyPrefix, string(status)}, auditArgs(a)...)...).Scan(&n)
	if err != nil {
		return false, mapErr(err, "release hold")
	}
	return n == 1, nil
}

func (t *storeTx) UpdateBooking(ctx context.Context, b *core.Booking, a booking.Audit) error {
	if t.tx == nil {
		return errors.New("postgres: update booking outside a transaction")
	}
	// A savepoint, so that an exclusion violation leaves the transaction usable
	// (the caller still has to read the nearest free times).
	return pgx.BeginFunc(ctx, t.tx, func(sp pgx.Tx) error {
		return updateBooking(ctx, sp, b, a)
	})
}

func updateBooking(ctx context.Context, q querier, b *core.Booking, a booking.Audit) error {
	args := []any{b.SalonID, b.ID, string(b.Status), b.Start, b.End, b.Occupied.Start, b.Occupied.End, nullTime(b.HoldExpiresAt),
		nullTime(b.ComingAt), nullText(string(b.Attendance)), nullTime(b.AttendanceAt), optMinor(b.Deposit.Minor), string(b.DepositState),
		b.MasterID, nullTime(b.RefundUntil)}
	row := q.QueryRow(ctx, `
		WITH u AS (
			UPDATE bookings SET status = $3, starts_at = $4, ends_at = $5, occupied = tstzrange($6, $7),
			       hold_expires_at = $8, coming_at = $9, attendance = $10, attendance_at = $11,
			       deposit_minor = $12, deposit_state = nullif($13, ''), master_id = $14,
			       deposit_refund_until = $15, updated_at = now()
			WHERE salon_id = $1 AND booking_id = $2::uuid
			RETURNING *),
		a AS (`+recordSQL("u", len(args)+1)+`)
		SELECT `+bookingColumns+` FROM u`, append(args, auditArgs(a)...)...)
	got, err := scanBooking(row)
	if err != nil {
		return mapErr(err, "update booking")
	}
	*b = *got
	return nil
}

func (t *storeTx) SourceBookings(ctx context.Context, salonID, source string, from time.Time) ([]core.Booking, error) {
	rows, err := t.q.Query(ctx, `SELECT `+bookingColumns+` FROM bookings
		WHERE salon_id = $1 AND source = $2 AND ends_at > $3 AND kind = 'appointment'
		  AND (status = 'confirmed' OR (status IN ('held', 'awaiting_payment') AND hold_expires_at > $3))
		ORDER BY starts_at`, salonID, source, from)
	if err != nil {
		return nil, mapErr(err, "select bookings of a source")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Booking, error) {
		b, err := scanBooking(r)
		if err != nil {
			return core.Booking{}, err
		}
		return *b, nil
	})
	return out, mapErr(err, "select bookings of a source")
}

func (t *storeTx) Changed(ctx context.Context, c booking.Change) error {
	if len(t.s.changed) == 0 {
		return nil
	}
	if t.tx == nil {
		// Auto: the booking is committed already; a record now could be lost.
		return errors.New("postgres: a booking change recorded outside its transaction")
	}
	for _, record := range t.s.changed {
		if err := record(ctx, t.tx, c); err != nil {
			return err
		}
	}
	return nil
}

// offerLiveSQL share-locks the entry $2 and says whether its chat or client
// has another offer standing at $3 (not $4): a live hold with an offer row
// among the chat's live bookings (an offer's source is its entry's chat;
// bookings_source_live) or the client's upcoming ones (an offer is held for
// its entry's client and ends by its start; bookings_client_upcoming). Each
// branch says "held" as NOT IN the other statuses, so that only those
// indexes serve it (see expireLapsedSQL), whatever the statistics and the
// plan: never the salon's entries, nor its live holds (read so before, it
// cost each offer a read of every offer standing, about a thousand in
// loadtest waitlist's bursts).
const offerLiveSQL = `
	SELECT EXISTS (SELECT 1 FROM bookings x
	               WHERE x.salon_id = w.salon_id AND x.source = w.channel || ':' || w.chat_id AND x.source <> ''
	                 AND x.status NOT IN ('confirmed', 'cancelled', 'expired') AND x.hold_expires_at > $3 AND x.booking_id <> $4::uuid
	                 AND EXISTS (SELECT 1 FROM waitlist_offers o WHERE o.booking_id = x.booking_id))
	    OR EXISTS (SELECT 1 FROM bookings x
	               WHERE x.salon_id = w.salon_id AND x.client_id = w.client_id AND x.starts_at > $3
	                 AND x.status NOT IN ('confirmed', 'cancelled', 'expired') AND x.hold_expires_at > $3 AND x.booking_id <> $4::uuid
	                 AND EXISTS (SELECT 1 FROM waitlist_offers o WHERE o.booking_id = x.booking_id))
	FROM waitlist w WHERE w.id = $2 AND w.salon_id = $1 FOR KEY SHARE OF w`

func (t *storeTx) Offered(ctx context.Context, entry int64, b core.Booking, now time.Time) error {
	if t.tx == nil {
		return errors.New("postgres: a wait-list offer stored outside its hold's transaction")
	}
	// The entry's row is share-locked: a booking that ends it (Waitlist.Record)
	// waits for this transaction and then releases this offer's hold, and one
	// that ended it first leaves no row here (ENotFound, not a foreign key error).
	// Book holds the chat's lock, so the check below is not raced by the chat.
	// One live offer per client across its chats: Book's chat lock does not
	// cover the client's other chats, and its client row lock is taken only
	// under a cap, so two chats' offers take turns here.
	// Lock and check go in one round trip (a batch): the check is a statement
	// of its own, run once the lock is had, so it sees what was committed
	// meanwhile (TestWaitlistOfferChecksAfterTheClientsLock).
	batch := &pgx.Batch{}
	batch.Queue(`SELECT pg_advisory_xact_lock(hashtextextended('salonbook.waitlist.client/' || $1 || '/' || $2::bigint, 0))`,
		b.SalonID, b.ClientID)
	batch.Queue(offerLiveSQL, b.SalonID, entry, now, b.ID)
	br := t.tx.SendBatch(ctx, batch)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return mapErr(err, "lock the offer's client")
	}
	var live bool
	err := br.QueryRow().Scan(&live)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return core.Errorf(core.ENotFound, "error.not_found", "postgres: no wait-list entry %d", entry)
	}
	if err != nil {
		return mapErr(err, "lock wait-list entry")
	}
	if live {
		return core.Errorf(core.EConflict, "waitlist.offer_live", "postgres: wait-list entry %d: its chat or client has an offer standing", entry)
	}
	_, err = t.q.Exec(ctx, `
		INSERT INTO waitlist_offers (booking_id, salon_id, entry_id, starts_at, ends_at) VALUES ($1::uuid, $2, $3, $4, $5)`,
		b.ID, b.SalonID, entry, b.Start, b.End)
	if err != nil {
		return mapErr(err, "insert wait-list offer")
	}
	salon, err := t.Salon(ctx, b.SalonID)
	if err != nil {
		return err
	}
	for _, record := range t.s.offered {
		if err := record(ctx, t.tx, entry, b, salon); err != nil {
			return err
		}
	}
	return nil
}

// jsonHours is the hours column's shape.
func jsonHours(h core.WeeklyHours) ([]byte, error) {
	m := map[string][]string{}
	for wd, rs := range h {
		for _, r := range rs {
			m[weekdayKeys[wd]] = append(m[weekdayKeys[wd]], r.String())
		}
	}
	return json.Marshal(m)
}
