package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

// Reminders schedules the reminders of confirmed chat bookings and queues each
// into the outbox when it is due, exactly once.
//
// Record (plugged into postgres.Store.FollowChanges) writes a booking's
// reminders in the transaction that confirms, moves or cancels it: one row of
// table reminders per booking, start and offset, due at start − offset (an
// exact duration), none already due then. A move deletes the unsent rows of
// the old start, a cancel all unsent rows, and both give up the booking's
// reminders of other starts (and their WhatsApp resend copies) that are queued
// in the outbox but not yet taken by a sender (failed "reminder superseded");
// a send under way (leased) cannot be stopped and goes, but its row's
// not_after is set to the change's now, so a send handed back (or a lease run
// out) is given up, never retried. Each queued reminder carries its start as
// messaging.Outgoing.NotAfter: a sender never sends it once the appointment
// has begun. Run (one loop per process; several replicas may run it) claims
// due rows one channel at a time with FOR UPDATE SKIP LOCKED, oldest due
// first, and only while that channel's reminders waiting in the outbox stay
// below RemindersConfig.Backlog (a burst never floods the outbox ahead of live
// replies); it checks that the booking is still confirmed at that start
// (holding it with FOR SHARE, so a move or cancel under way either waits for
// the queueing or is seen), renders dialog.ReminderReply and inserts the
// outbox row in the transaction that marks the reminder sent: a crash before
// the commit leaves it due, after it queued; two schedulers never take the
// same row.
type Reminders struct {
	cfg      RemindersConfig
	channels map[string]bool
	claimed  func(context.Context, pgx.Tx) // tests: runs after the claim
	locked   func(context.Context, pgx.Tx) // tests: runs after a channel's lock is taken
}

// RemindersConfig configures Reminders.
type RemindersConfig struct {
	// Pool is where the scheduler claims and queues (the pipeline's pool:
	// Open's statement timeout). Record uses the booking's transaction.
	Pool    *pgxpool.Pool
	SalonID string
	// Channels are the chat channels that can take a message ("telegram",
	// "whatsapp"): a booking whose source is "<channel>:<chat id>" of one of
	// them gets reminders; others (the API's "api", the web chat's "web:…")
	// none.
	Channels []string
	// Clock is "now": what is already due when a booking is made, and what is
	// due to send. nil: core.SystemClock.
	Clock core.Clock
	// Wait paces the loop (Run) between looks; nil: core.MonotonicClock.
	Wait core.Timer
	// Catalog and Salon render the reminder: Salon returns the salon as the
	// booking service sees it (booking.Service.Catalog's Salon). Called outside
	// the scheduler's transaction.
	Catalog *i18n.Catalog
	Salon   func(ctx context.Context) (*core.Salon, error)
	Log     *slog.Logger // nil logs nothing
	// Poll is the longest wait between looks (0: 1 s): a reminder scheduled
	// while the loop sleeps goes at most this late. Batch is how many
	// reminders one transaction queues (0: 200).
	Poll  time.Duration
	Batch int
	// Backlog bounds, per channel, the reminders waiting unsent in the outbox:
	// the scheduler queues more only below it and leaves the rest due in
	// table reminders, so live replies wait behind at most this many. About
	// the channel's send rate × a few seconds; a channel missing (or 0):
	// DefaultReminderBacklog.
	Backlog map[string]int
	// Reads is the pool Scheduled reads with (the API's answers); nil: Pool.
	Reads *pgxpool.Pool
}

// DefaultReminderBacklog is RemindersConfig.Backlog's default: Telegram's 30
// messages a second for 5 seconds.
const DefaultReminderBacklog = 150

// backlogFullWait is how soon a channel whose outbox backlog is full is looked
// at again: its sender takes a few of them meanwhile.
const backlogFullWait = 200 * time.Millisecond

// NewReminders returns the reminders of cfg.SalonID. Wire Record into the
// booking store (FollowChanges) before the store is used, and run Run in the
// background: src/cmd/salonbook's serve does both, and so can a load harness.
func NewReminders(cfg RemindersConfig) *Reminders {
	if cfg.Clock == nil {
		cfg.Clock = core.SystemClock{}
	}
	if cfg.Wait == nil {
		cfg.Wait = core.MonotonicClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 200
	}
	if cfg.Reads == nil {
		cfg.Reads = cfg.Pool
	}
	r := &Reminders{cfg: cfg, channels: map[string]bool{}}
	for _, c := range cfg.Channels {
		r.channels[c] = true
	}
	return r
}

// backlog is the bound of channel's reminders waiting in the outbox.
func (r *Reminders) backlog(channel string) int {
	if n := r.cfg.Backlog[channel]; n > 0 {
		return n
	}
	return DefaultReminderBacklog
}

// Remindable reports whether bookings made through source get chat reminders:
// its channel is one of RemindersConfig.Channels and it names a chat.
func (r *Reminders) Remindable(source string) bool {
	_, _, ok := r.chat(source)
	return ok
}

func (r *Reminders) chat(source string) (channel, chat string, ok bool) {
	channel, chat, ok = strings.Cut(source, ":")
	return channel, chat, ok && chat != "" && r.channels[channel]
}

// scheduleSQL deletes the unsent reminders of the booking's other starts and
// writes those of its start ($2) due after now ($6), one per offset of the
// salon's policy; an existing row (a replay, or a start moved back to) is
// kept as it is. "(sent_at IS NULL) IS TRUE", not "sent_at IS NULL": the
// queue's partial index must not match, or a generic plan with no statistics
// reads all of it inside every confirm and move (plans_test.go); this reads
// the booking's rows by primary key.
const scheduleSQL = `
	WITH gone AS (
		DELETE FROM reminders WHERE booking_id = $1 AND (sent_at IS NULL) IS TRUE AND starts_at <> $2
	)
	INSERT INTO reminders (booking_id, starts_at, offset_seconds, salon_id, due_at, channel, chat_id)
	SELECT $1, $2, o, $3, $2 - make_interval(secs => o), $4, $5
	FROM salons s, unnest(s.reminders_seconds) o
	WHERE s.salon_id = $3 AND $2 - make_interval(secs => o) > $6
	ON CONFLICT DO NOTHING`

// giveUpSQL gives up the outbox rows of the booking's ($1) queued reminders
// (and of their WhatsApp resend copies, outbox.resent_of) that are still
// unsent: one no sender holds (never leased, or its lease ran out) fails
// "reminder superseded"; one a sender holds may be in a send, which goes, so
// its body's not_after becomes $3 (the change's now, RFC 3339): if the sender
// hands it back (no token, a 429, a network error, a timeout) or dies, whoever
// takes it next gives it up as too late. Which reminders: giveUpSQL, a
// condition on r, then giveUpEnd; then a statement that may join "rows"
// (reminder: the reminder's outbox id; id: its row's or its copy's) and
// "gone" (id; given_up, false when only stamped). The outbox is read by id
// and resent_of only, never through its queue's partial index ("(…) IS
// TRUE"): a generic plan with no statistics read every unsent row so (plans:
// remindfix_test.go). A copy of a copy (the copy failed too) is not given up.
const giveUpSQL = `
	WITH mine AS MATERIALIZED (
		SELECT r.outbox_id AS reminder FROM reminders r
		WHERE r.booking_id = $1 AND (r.outbox_id IS NOT NULL) IS TRUE`

const giveUpEnd = `
	), rows AS MATERIALIZED (
		SELECT reminder, reminder AS id FROM mine
		UNION ALL
		SELECT m.reminder, c.id FROM mine m JOIN outbox c ON c.resent_of = m.reminder
	), gone AS (
		UPDATE outbox o SET
		       failed = CASE WHEN o.leased_until IS NULL OR o.leased_until < now() THEN 'reminder superseded' END,
		       body = CASE WHEN o.leased_until IS NULL OR o.leased_until < now() THEN o.body
		                   ELSE jsonb_set(o.body, '{not_after}', to_jsonb($3::text)) END
		WHERE o.id = ANY (ARRAY(SELECT id FROM rows)) AND (o.sent_at IS NULL AND o.failed IS NULL) IS TRUE
		RETURNING o.id, o.failed IS NOT NULL AS given_up
	)`

// supersedeSQL gives up (giveUpSQL) the booking's reminders queued for a
// start other than $2 (NULL: any), and deletes the rows of those given up for
// good (so a move back to that start schedules them again).
const supersedeSQL = giveUpSQL + `
		  AND ($2::timestamptz IS NULL OR r.starts_at <> $2)` + giveUpEnd + `
	DELETE FROM reminders r USING gone g, rows x
	WHERE r.booking_id = $1 AND g.given_up AND x.id = g.id AND r.outbox_id = x.reminder`

// earlierSQL gives up (giveUpSQL) the booking's reminders of start $2 with an
// offset longer than $4, queued but not sent (the channel is down, or its
// backlog long) when the reminder of offset $4 is queued: the client gets the
// latest only. Those given up for good are marked skipped.
const earlierSQL = giveUpSQL + `
		  AND r.starts_at = $2 AND r.offset_seconds > $4` + giveUpEnd + `
	UPDATE reminders r SET skipped = 'a later reminder was queued'
	FROM gone g, rows x
	WHERE r.booking_id = $1 AND g.given_up AND x.id = g.id AND r.outbox_id = x.reminder`

// cancelSQL deletes a cancelled booking's unsent reminders; the predicate is
// written as scheduleSQL's, for the same reason.
const cancelSQL = `DELETE FROM reminders WHERE booking_id = $1 AND (sent_at IS NULL) IS TRUE`

// Record schedules, replaces or removes the reminders of c in tx, the
// transaction that makes the change (postgres.Store.FollowChanges): Booked
// schedules, Moved replaces, Cancelled removes (Moved and Cancelled also give
// up the old reminders still waiting in the outbox: of the old start, or all
// when the master changed); other kinds change
// nothing. Its error rolls the change back.
func (r *Reminders) Record(ctx context.Context, tx pgx.Tx, c booking.Change) error {
	b := c.Booking
	switch c.Kind {
	case booking.Booked, booking.Moved:
		channel, chat, ok := r.chat(b.Source)
		if !ok {
			return nil
		}
		if c.Kind == booking.Moved {
			// A reminder queued names the master: a move to another one
			// gives up those of the same start too.
			var keep any = b.Start
			if c.FromMaster != "" && c.FromMaster != b.MasterID {
				keep = nil
			}
			if _, err := tx.Exec(ctx, supersedeSQL, b.ID, keep, r.stamp()); err != nil {
				return fmt.Errorf("pipeline: supersede reminders: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, scheduleSQL, b.ID, b.Start, b.SalonID, channel, chat, r.cfg.Clock.Now()); err != nil {
			return fmt.Errorf("pipeline: schedule reminders: %w", err)
		}
	case booking.Cancelled:
		if _, err := tx.Exec(ctx, supersedeSQL, b.ID, nil, r.stamp()); err != nil {
			return fmt.Errorf("pipeline: supersede reminders: %w", err)
		}
		if _, err := tx.Exec(ctx, cancelSQL, b.ID); err != nil {
			return fmt.Errorf("pipeline: remove reminders: %w", err)
		}
	}
	return nil
}

// stamp is now as giveUpSQL writes it into a held reminder's not_after (as
// encoding/json writes a time.Time).
func (r *Reminders) stamp() string { return r.cfg.Clock.Now().UTC().Format(time.RFC3339Nano) }

// Scheduled returns the due instants of the booking's reminders for start
// (sent or not; those dropped left out), earliest first.
func (r *Reminders) Scheduled(ctx context.Context, salonID, bookingID string, start time.Time) ([]time.Time, error) {
	rows, err := r.cfg.Reads.Query(ctx, `
		SELECT due_at FROM reminders
		WHERE booking_id = $1 AND starts_at = $2 AND salon_id = $3 AND skipped IS NULL
		ORDER BY due_at`, bookingID, start, salonID)
	if err != nil {
		return nil, mapErr(err, "select reminders")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (time.Time, error) {
		var t time.Time
		err := row.Scan(&t)
		return t.UTC(), err
	})
	return out, mapErr(err, "select reminders")
}

// due is a claimed reminder.
type due struct {
	booking, channel, chat string
	start, at              time.Time
	offset                 int32
	superseded             bool // a shorter offset of its booking and start is due too
}

// Run queues due reminders until ctx ends: a look, then a wait until the next
// due time or Poll, whichever is sooner (at once when the batch was full). A
// look in hand when ctx ends is finished (bounded by 10 s), so a stop loses
// nothing; a kill loses nothing either (its transaction rolls back).
func (r *Reminders) Run(ctx context.Context) {
	for ctx.Err() == nil {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		n, next, err := r.Tick(tctx)
		cancel()
		wait := r.cfg.Poll
		switch {
		case err != nil:
			r.cfg.Log.Error("reminders: queueing failed; trying again", slog.String("error", err.Error()))
		case n >= r.cfg.Batch:
			wait = 0 // more may be due
		case !next.IsZero():
			// Due rows another scheduler holds (or whose booking is being
			// changed, or whose channel's backlog is full) are looked at
			// again shortly.
			wait = min(wait, max(next.Sub(r.cfg.Clock.Now()), 50*time.Millisecond))
		}
		if wait == 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-r.cfg.Wait.After(wait):
		}
	}
}

// Tick queues the reminders due now, up to Batch, oldest due first within
// each channel, in one transaction, and says how many rows it handled (queued
// or dropped) and when to look next (zero: nothing unsent). A channel whose
// reminders waiting in the outbox have reached its Backlog gets none (its next
// look: in backlogFullWait), one whose backlog another scheduler is filling
// is skipped. A reminder whose booking is no longer confirmed at its start is
// deleted; one whose booking has started is dropped (skipped), and so is one
// whose booking has a later reminder (a shorter offset) due too, decided in
// SQL whatever the batch; queueing one gives up its booking's longer offsets
// still unsent in the outbox (earlierSQL): after an outage, of the scheduler
// or of the channel, the client gets the latest only.
func (r *Reminders) Tick(ctx context.Context) (int, time.Time, error) {
	salon, err := r.cfg.Salon(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	now := r.cfg.Clock.Now()
	handled, full := 0, false
	err = pgx.BeginFunc(ctx, r.cfg.Pool, func(tx pgx.Tx) error {
		handled, full = 0, false
		for _, channel := range r.cfg.Channels {
			if handled >= r.cfg.Batch {
				break
			}
			room, err := r.room(ctx, tx, channel)
			if err != nil {
				return err
			}
			if room <= 0 {
				full = true
				continue
			}
			n, err := r.queue(ctx, tx, salon, channel, now, min(room, r.cfg.Batch-handled))
			if err != nil {
				return err
			}
			handled += n
		}
		return nil
	})
	if err != nil {
		return 0, time.Time{}, passCore(err, "queue reminders")
	}
	// ORDER BY … LIMIT 1 per channel, not min(): a generic plan of min() read
	// every unsent row of the salon (9,000 in 9 ms), this reads one each.
	var next time.Time
	for _, channel := range r.cfg.Channels {
		var at time.Time
		err = r.cfg.Pool.QueryRow(ctx, `SELECT due_at FROM reminders WHERE salon_id = $1 AND channel = $2 AND sent_at IS NULL ORDER BY due_at LIMIT 1`,
			r.cfg.SalonID, channel).Scan(&at)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return handled, time.Time{}, mapErr(err, "next reminder")
		}
		if next.IsZero() || at.Before(next) {
			next = at.UTC()
		}
	}
	if full && !next.IsZero() && next.Before(now.Add(backlogFullWait)) {
		next = now.Add(backlogFullWait)
	}
	return handled, next, nil
}

// room is how many more of channel's reminders may be queued now: its Backlog
// less its reminders waiting unsent in the outbox; 0 when another scheduler is
// queueing for the channel (it holds the channel's lock for its transaction,
// and the count comes after the lock, in a snapshot of its own: two never
// both see the same room).
func (r *Reminders) room(ctx context.Context, tx pgx.Tx, channel string) (int, error) {
	bound := r.backlog(channel)
	var locked bool
	var waiting int
	// The lock first, the count in a statement of its own: in read committed
	// its snapshot is taken after the lock, so it sees what the scheduler that
	// last held the lock committed. In one statement, a snapshot taken just
	// before that commit missed its rows, and the bound was exceeded once.
	err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended('reminders:' || $1 || '/' || $2, 0))`,
		r.cfg.SalonID, channel).Scan(&locked)
	if err != nil {
		return 0, mapErr(err, "reminder backlog")
	}
	if !locked {
		return 0, nil
	}
	if r.locked != nil {
		r.locked(ctx, tx)
	}
	if err := tx.QueryRow(ctx, reminderBacklogSQL, r.cfg.SalonID, channel, bound).Scan(&waiting); err != nil {
		return 0, mapErr(err, "reminder backlog")
	}
	return bound - waiting, nil
}

// reminderBacklogSQL counts, up to $3, the reminders of salon $1 and channel
// $2 waiting unsent in the outbox (the partial index outbox_reminders_unsent).
const reminderBacklogSQL = `
	SELECT count(*) FROM (SELECT 1 FROM outbox
	WHERE salon_id = $1 AND channel = $2 AND sent_at IS NULL AND failed IS NULL
	  AND body->>'template' = 'reminder' LIMIT $3) w`

func (r *Reminders) queue(ctx context.Context, tx pgx.Tx, salon *core.Salon, channel string, now time.Time, limit int) (int, error) {
	rows, err := tx.Query(ctx, `
		SELECT r.booking_id::text, r.starts_at, r.offset_seconds, r.due_at, r.channel, r.chat_id,
		       EXISTS (SELECT 1 FROM reminders l WHERE l.booking_id = r.booking_id AND l.starts_at = r.starts_at
		               AND l.offset_seconds < r.offset_seconds AND l.due_at <= $2)
		FROM reminders r
		WHERE r.salon_id = $1 AND r.channel = $4 AND r.sent_at IS NULL AND r.due_at <= $2
		ORDER BY r.due_at LIMIT $3 FOR UPDATE OF r SKIP LOCKED`, r.cfg.SalonID, now, limit, channel)
	if err != nil {
		return 0, mapErr(err, "claim reminders")
	}
	claimed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (due, error) {
		var d due
		err := row.Scan(&d.booking, &d.start, &d.offset, &d.at, &d.channel, &d.chat, &d.superseded)
		return d, err
	})
	if err != nil || len(claimed) == 0 {
		return 0, mapErr(err, "claim reminders")
	}
	if r.claimed != nil {
		r.claimed(ctx, tx)
	}
	ids, channels, chats := make([]string, len(claimed)), make([]string, len(claimed)), make([]string, len(claimed))
	for i, d := range claimed {
		ids[i], channels[i], chats[i] = d.booking, d.channel, d.chat
	}
	// The bookings, held FOR SHARE: a move or cancel that has not committed
	// holds its booking's row, and is skipped (its reminder is looked at again
	// after it commits, when it is gone or still right); one that comes later
	// waits for this transaction. Never waiting here, this cannot deadlock
	// with a change, which locks the booking and then the reminders.
	type state struct {
		confirmed bool
		start     time.Time
		master    string
		names     map[string]string
		service   map[string]string
		lang      string
	}
	rows, err = tx.Query(ctx, `
		SELECT b.booking_id::text, b.status = 'confirmed', b.starts_at,
		       m.name, m.names, s.names, coalesce(c.state->>'lang', '')
		FROM unnest($2::uuid[], $3::text[], $4::text[]) AS r(id, channel, chat)
		JOIN bookings b ON b.booking_id = r.id
		JOIN masters m ON m.salon_id = b.salon_id AND m.master_id = b.master_id
		JOIN services s ON s.salon_id = b.salon_id AND s.service_id = b.service_id
		LEFT JOIN conversations c ON c.salon_id = $1 AND c.channel = r.channel AND c.chat_id = r.chat
		WHERE b.salon_id = $1
		FOR SHARE OF b SKIP LOCKED`, r.cfg.SalonID, ids, channels, chats)
	if err != nil {
		return 0, mapErr(err, "read reminded bookings")
	}
	states := map[string]state{}
	for rows.Next() {
		var id string
		var s state
		if err := rows.Scan(&id, &s.confirmed, &s.start, &s.master, &s.names, &s.service, &s.lang); err != nil {
			rows.Close()
			return 0, mapErr(err, "read reminded bookings")
		}
		states[id] = s
	}
	if err := rows.Err(); err != nil {
		return 0, mapErr(err, "read reminded bookings")
	}
	batch := &pgx.Batch{}
	handled := 0
	for _, d := range claimed {
		s, ok := states[d.booking]
		key := []any{d.booking, d.start, d.offset}
		switch {
		case !ok:
			continue // being changed, or gone: looked at again
		case !s.confirmed || !s.start.Equal(d.start):
			batch.Queue(`DELETE FROM reminders WHERE booking_id = $1 AND starts_at = $2 AND offset_seconds = $3`, key...)
		case !now.Before(d.start):
			batch.Queue(`UPDATE reminders SET sent_at = $4, skipped = 'the booking has started'
				WHERE booking_id = $1 AND starts_at = $2 AND offset_seconds = $3`, append(key, now)...)
		case d.superseded:
			batch.Queue(`UPDATE reminders SET sent_at = $4, skipped = 'a later reminder was due'
				WHERE booking_id = $1 AND starts_at = $2 AND offset_seconds = $3`, append(key, now)...)
		default:
			reply := dialog.ReminderReply(r.cfg.Catalog, salon, dialog.Reminder{
				BookingID: d.booking, Lang: s.lang, Start: d.start, Service: s.service, Master: s.master, MasterNames: s.names})
			body, err := json.Marshal(messaging.Outgoing{ChatID: d.chat, Reply: &reply, Template: messaging.TemplateReminder,
				NotAfter: d.start.UTC()})
			if err != nil {
				return 0, fmt.Errorf("pipeline: reminder: %w", err)
			}
			batch.Queue(earlierSQL, d.booking, d.start, r.stamp(), d.offset)
			batch.Queue(`
				WITH o AS (`+insertPushed+`, id)
				UPDATE reminders r SET sent_at = $6, outbox_id = o.id FROM o
				WHERE r.booking_id = $7 AND r.starts_at = $8 AND r.offset_seconds = $9`,
				r.cfg.SalonID, d.channel, d.chat, nil, body, now, d.booking, d.start, d.offset)
		}
		handled++
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return 0, mapErr(err, "queue reminders")
	}
	return handled, nil
}
