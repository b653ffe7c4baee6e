package pipeline

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ChatWindows records, per chat of one channel, when the client last wrote and
// when the provider last said the customer-service window was closed (tables
// chat_windows; used by WhatsApp's 24-hour rule).
type ChatWindows struct {
	pool    *pgxpool.Pool
	salonID string
	channel string
}

// NewChatWindows returns the chat windows of salonID's channel.
func NewChatWindows(pool *pgxpool.Pool, salonID, channel string) *ChatWindows {
	return &ChatWindows{pool: pool, salonID: salonID, channel: channel}
}

// Inbound records that the client of chatID wrote at at (the provider's time);
// an older time never replaces a newer one (redeliveries come late).
func (w *ChatWindows) Inbound(ctx context.Context, chatID string, at time.Time) error {
	_, err := w.pool.Exec(ctx, `
		INSERT INTO chat_windows (salon_id, channel, chat_id, last_inbound_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (salon_id, channel, chat_id) DO UPDATE
		SET last_inbound_at = GREATEST(chat_windows.last_inbound_at, EXCLUDED.last_inbound_at)
		WHERE chat_windows.last_inbound_at IS NULL OR chat_windows.last_inbound_at < EXCLUDED.last_inbound_at`,
		w.salonID, w.channel, chatID, at.UTC())
	return mapErr(err, "record inbound time")
}

// Closed records that the provider refused a free-form message to chatID at at
// because the window was closed: until the client writes again, the window
// counts as closed whatever the recorded times say.
func (w *ChatWindows) Closed(ctx context.Context, chatID string, at time.Time) error {
	_, err := w.pool.Exec(ctx, `
		INSERT INTO chat_windows (salon_id, channel, chat_id, closed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (salon_id, channel, chat_id) DO UPDATE
		SET closed_at = GREATEST(chat_windows.closed_at, EXCLUDED.closed_at)`,
		w.salonID, w.channel, chatID, at.UTC())
	return mapErr(err, "record closed window")
}

// Window returns when the client of chatID last wrote and when the window was
// last reported closed (zero times when never), and the conversation's language
// ("" when there is no conversation yet).
func (w *ChatWindows) Window(ctx context.Context, chatID string) (lastInbound, closedAt time.Time, lang string, err error) {
	var last, closed *time.Time
	var l *string
	err = w.pool.QueryRow(ctx, `
		SELECT cw.last_inbound_at, cw.closed_at, c.state->>'lang'
		FROM (SELECT 1) one
		LEFT JOIN chat_windows cw ON cw.salon_id = $1 AND cw.channel = $2 AND cw.chat_id = $3
		LEFT JOIN conversations c ON c.salon_id = $1 AND c.channel = $2 AND c.chat_id = $3`,
		w.salonID, w.channel, chatID).Scan(&last, &closed, &l)
	if err != nil {
		return time.Time{}, time.Time{}, "", mapErr(err, "read chat window")
	}
	if last != nil {
		lastInbound = *last
	}
	if closed != nil {
		closedAt = *closed
	}
	if l != nil {
		lang = *l
	}
	return lastInbound, closedAt, lang, nil
}

// Deliveries records the delivery statuses a provider reports for sent messages
// (table message_statuses) of one salon's channel.
type Deliveries struct {
	pool    *pgxpool.Pool
	salonID string
	channel string
}

// NewDeliveries returns the delivery statuses of salonID's channel.
func NewDeliveries(pool *pgxpool.Pool, salonID, channel string) *Deliveries {
	return &Deliveries{pool: pool, salonID: salonID, channel: channel}
}

// Status records a status (sent, delivered, read or failed, with the provider's
// error code for failed) of the message the provider knows as providerID;
// resend marks a failure that calls for sending the message again (see Resend
// and Outbox.Done). It reports whether the status is new: a redelivered status
// is recorded once. status must be one of those four (the table refuses
// others: the caller filters them). Returns an error with code
// core.EUnavailable or core.EInternal when the database fails.
func (d *Deliveries) Status(ctx context.Context, providerID, status string, code int, resend bool, at time.Time) (bool, error) {
	var c *int
	if code != 0 {
		c = &code
	}
	tag, err := d.pool.Exec(ctx, `
		INSERT INTO message_statuses (salon_id, channel, provider_id, status, error_code, resend, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT DO NOTHING`, d.salonID, d.channel, providerID, status, c, resend, at.UTC())
	if err != nil {
		return false, mapErr(err, "record delivery status")
	}
	return tag.RowsAffected() == 1, nil
}

// Delivery is what the provider last said of a sent message.
type Delivery struct {
	Status string // "" (nothing heard yet), sent, delivered, read or failed
	Code   int    // the provider's error code when failed
}

// State returns the delivery state of the outbox message outboxID: its highest
// status (sent < delivered < read; failed above all), whatever order the
// statuses came in. Returns an error with code core.ENotFound for no such message.
func (d *Deliveries) State(ctx context.Context, outboxID int64) (Delivery, error) {
	var st Delivery
	var status *string
	var code *int
	err := d.pool.QueryRow(ctx, `
		SELECT s.status, s.error_code FROM outbox o
		LEFT JOIN LATERAL (
			SELECT status, error_code FROM message_statuses m
			WHERE m.salon_id = o.salon_id AND m.channel = o.channel AND m.provider_id = o.provider_id
			ORDER BY array_position(ARRAY['sent', 'delivered', 'read', 'failed'], m.status) DESC LIMIT 1
		) s ON true
		WHERE o.id = $1 AND o.salon_id = $2 AND o.channel = $3`, outboxID, d.salonID, d.channel).Scan(&status, &code)
	if err != nil {
		return st, mapErr(err, "read delivery state")
	}
	if status != nil {
		st.Status = *status
	}
	if code != nil {
		st.Code = *code
	}
	return st, nil
}

// Resend queues again, once, the sent message the provider knows as
// providerID (the provider failed it after accepting it, e.g. because the
// window had closed): the copy goes through the sender like any message. It is
// idempotent (one copy per message, outbox.resent_of), so it may be called for
// every report of the failure. It reports false when no such sent message is
// recorded yet: then Outbox.Done queues the copy when it records the send,
// provided the failure was recorded by Status with resend set first. Both take
// the same lock, so whichever of the two comes second sees the other.
func (d *Deliveries) Resend(ctx context.Context, providerID string) (bool, error) {
	var found bool
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, providerLock, d.salonID, d.channel, providerID); err != nil {
			return err
		}
		// The first row sent under providerID (a copy has a provider id of its
		// own); ON CONFLICT: the copy is there already.
		return tx.QueryRow(ctx, `
			WITH original AS (
				SELECT id, salon_id, channel, chat_id, body FROM outbox
				WHERE salon_id = $1 AND channel = $2 AND provider_id = $3
				ORDER BY id LIMIT 1
			), copy AS (
				INSERT INTO outbox (salon_id, channel, chat_id, inbox_id, body, resent_of, failed)
				SELECT o.salon_id, o.channel, o.chat_id, NULL, o.body, o.id, (SELECT 'blocked by the user' FROM channel_chats b
				        WHERE b.salon_id = o.salon_id AND b.channel = o.channel AND b.chat_id = o.chat_id AND b.blocked_at IS NOT NULL)
				FROM original o
				WHERE NOT o.body ? 'erased' -- blanked on an erase: nothing to send again
				ON CONFLICT (resent_of) WHERE resent_of IS NOT NULL DO NOTHING
			)
			SELECT EXISTS (SELECT 1 FROM original)`, d.salonID, d.channel, providerID).Scan(&found)
	})
	if err != nil {
		return false, mapErr(err, "resend message")
	}
	return found, nil
}

// providerLock serialises, per sent message (salon, channel, provider id),
// Deliveries.Resend and Outbox.Done's recording of the provider id: in read
// committed, without it each could miss the other's uncommitted write and no
// copy be queued at all.
const providerLock = `SELECT pg_advisory_xact_lock(hashtextextended('outbox-provider:' || $1 || ':' || $2 || ':' || $3, 0))`
