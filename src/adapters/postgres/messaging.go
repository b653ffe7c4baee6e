package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core/messaging"
)

var (
	_ messaging.Inbox  = (*Inbox)(nil)
	_ messaging.Outbox = (*Outbox)(nil)
)

// FloodWindow is how far back Pending.Recent counts a chat's updates.
const FloodWindow = 10 * time.Second

// MaxUpdateAttempts is how many times an update whose step fails is tried before
// it becomes a dead letter (with backoff: about four minutes in all).
const MaxUpdateAttempts = 8

// Inbox is the inbox of one salon's chat channels.
type Inbox struct {
	pool    *pgxpool.Pool
	salonID string
}

// NewInbox returns the inbox of salonID.
func NewInbox(pool *pgxpool.Pool, salonID string) *Inbox { return &Inbox{pool: pool, salonID: salonID} }

// Add implements messaging.Inbox.
func (in *Inbox) Add(ctx context.Context, channel, updateID, chatID string, payload []byte, dead string) error {
	_, err := in.pool.Exec(ctx, `
		INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload, dead, handled_at)
		VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), CASE WHEN $6 = '' THEN NULL ELSE now() END)
		ON CONFLICT ON CONSTRAINT inbox_once DO NOTHING`,
		in.salonID, channel, updateID, chatID, payload, dead)
	return mapErr(err, "add to inbox")
}

// Next implements messaging.Inbox.
func (in *Inbox) Next(ctx context.Context, channel string, handle func(messaging.Pending) ([]messaging.Outgoing, string, error)) (bool, error) {
	var found, failed bool
	var handleErr error
	err := pgx.BeginFunc(ctx, in.pool, func(tx pgx.Tx) error {
		p := messaging.Pending{Channel: channel}
		// The oldest pending update of a chat whose earlier updates are all
		// handled (the chat's head, waiting out its retry_at); SKIP LOCKED
		// leaves a chat another worker holds to that worker. The head test is a
		// scalar subquery, which PostgreSQL always runs as an index probe per
		// row: the NOT EXISTS it replaces was planned as a nested loop over all
		// pending rows (quadratic) whenever the statistics had not yet seen a
		// burst, and took 0.9 s per update.
		err := tx.QueryRow(ctx, `
			SELECT i.id, i.chat_id, i.update_id, i.payload, i.received_at, i.attempts FROM inbox i
			WHERE i.salon_id = $1 AND i.channel = $2 AND i.handled_at IS NULL
			  AND (i.retry_at IS NULL OR i.retry_at <= now())
			  AND i.id = (SELECT min(j.id) FROM inbox j
			      WHERE j.salon_id = i.salon_id AND j.channel = i.channel AND j.chat_id = i.chat_id
			        AND j.handled_at IS NULL)
			ORDER BY i.id LIMIT 1 FOR UPDATE SKIP LOCKED`, in.salonID, channel).
			Scan(&p.ID, &p.ChatID, &p.UpdateID, &p.Payload, &p.Received, &p.Attempts)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		if p.Attempts >= MaxUpdateAttempts {
			// A poison update must not hold its chat for ever: give it up.
			_, err := tx.Exec(ctx, `UPDATE inbox SET handled_at = now(), dead = $2 WHERE id = $1`, p.ID,
				fmt.Sprintf("gave up after %d failed attempts", p.Attempts))
			return err
		}
		if err := tx.QueryRow(ctx, `
			SELECT count(*) FROM inbox WHERE salon_id = $1 AND channel = $2 AND chat_id = $3
			  AND id < $4 AND received_at > $5`,
			in.salonID, channel, p.ChatID, p.ID, p.Received.Add(-FloodWindow)).Scan(&p.Recent); err != nil {
			return err
		}
		var prev messaging.Pending
		err = tx.QueryRow(ctx, `
			SELECT id, update_id, payload, received_at FROM inbox
			WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND id < $4 AND dead IS NULL
			ORDER BY id DESC LIMIT 1`, in.salonID, channel, p.ChatID, p.ID).
			Scan(&prev.ID, &prev.UpdateID, &prev.Payload, &prev.Received)
		switch {
		case err == nil:
			prev.Channel, prev.ChatID = channel, p.ChatID
			p.Previous = &prev
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		out, dead, herr := handle(p)
		if herr != nil {
			// Nothing of the step is written here. The failed attempt is counted
			// and the retry time set in this transaction, while the head is still
			// locked: no other worker can take it again before its backoff.
			failed, handleErr = true, herr
			_, err := tx.Exec(ctx, `
				UPDATE inbox SET attempts = attempts + 1,
				       retry_at = now() + make_interval(secs => least(60, power(2, attempts)))
				WHERE id = $1`, p.ID)
			return err
		}
		for _, o := range out {
			body, err := json.Marshal(o)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO outbox (salon_id, channel, chat_id, inbox_id, body) VALUES ($1, $2, $3, $4, $5)`,
				in.salonID, channel, o.ChatID, p.ID, body); err != nil {
				return err
			}
		}
		if len(out) > 0 { // they wrote again: sending to them is allowed again
			if _, err := tx.Exec(ctx, `DELETE FROM channel_chats WHERE salon_id = $1 AND channel = $2 AND chat_id = $3`,
				in.salonID, channel, p.ChatID); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE inbox SET handled_at = now(), dead = NULLIF($2, '') WHERE id = $1`, p.ID, dead)
		return err
	})
	if failed {
		// Tried again later, backing off, while the chat's later updates wait behind it.
		return true, errors.Join(fmt.Errorf("postgres: handle update: %w", handleErr), mapErr(err, "postpone update"))
	}
	if err != nil {
		return found, passCore(err, "next update")
	}
	return found, nil
}

// Outbox is the outbox of one salon's chat channels.
type Outbox struct {
	pool    *pgxpool.Pool
	salonID string
	lease   time.Duration
}

// NewOutbox returns the outbox of salonID. A batch handed to a sender is leased
// for three minutes: if that sender dies, another takes it after that. A batch
// (16 messages, 8 in flight) takes at most two rounds of sends, and a send at
// most two 30 s HTTP calls (a WhatsApp template after a closed window), so a
// live sender keeps its lease.
func NewOutbox(pool *pgxpool.Pool, salonID string) *Outbox {
	return &Outbox{pool: pool, salonID: salonID, lease: 3 * time.Minute}
}

// Due implements messaging.Outbox. Callback answers form a lane of their own per
// chat, so that one never waits behind replies held back by the rate limits.
func (o *Outbox) Due(ctx context.Context, channel string, n int) ([]messaging.Queued, error) {
	rows, err := o.pool.Query(ctx, `
		WITH heads AS (
			SELECT DISTINCT ON (chat_id, body ? 'ack') id FROM outbox
			WHERE salon_id = $1 AND channel = $2 AND sent_at IS NULL AND failed IS NULL
			ORDER BY chat_id, body ? 'ack', id
		), pick AS (
			SELECT x.id FROM outbox x JOIN heads USING (id)
			WHERE x.not_before <= now() AND (x.leased_until IS NULL OR x.leased_until < now())
			ORDER BY x.id LIMIT $3 FOR UPDATE OF x SKIP LOCKED
		)
		UPDATE outbox SET leased_until = now() + make_interval(secs => $4), lease_token = gen_random_uuid()::text
		FROM pick WHERE outbox.id = pick.id
		RETURNING outbox.id, outbox.body, outbox.attempts, outbox.lease_token`, o.salonID, channel, n, o.lease.Seconds())
	if err != nil {
		return nil, mapErr(err, "due messages")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (messaging.Queued, error) {
		q := messaging.Queued{Channel: channel}
		var body []byte
		if err := r.Scan(&q.ID, &body, &q.Attempts, &q.Lease); err != nil {
			return q, err
		}
		return q, json.Unmarshal(body, &q.Outgoing)
	})
	if err != nil {
		return nil, mapErr(err, "due messages")
	}
	slices.SortFunc(out, func(a, b messaging.Queued) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Done implements messaging.Outbox.
func (o *Outbox) Done(ctx context.Context, q messaging.Queued, failure string) error {
	if q.ProviderID != "" && failure == "" {
		return o.doneWithProviderID(ctx, q)
	}
	_, err := o.pool.Exec(ctx, `
		UPDATE outbox SET leased_until = NULL, lease_token = NULL,
		       sent_at = CASE WHEN $2 = '' THEN now() END, failed = NULLIF($2, ''),
		       provider_id = NULLIF($5, '')
		WHERE id = $1 AND salon_id = $3 AND lease_token = $4`, q.ID, failure, o.salonID, q.Lease, q.ProviderID)
	return mapErr(err, "finish message")
}

// doneWithProviderID marks q sent under the provider's id and, when the
// provider already reported that id failed in a way that calls for a resend (a
// status that arrived before this record: Deliveries.Status with resend), queues
// the copy Deliveries.Resend could not (once: outbox.resent_of). It takes the
// lock Resend takes, so one of the two always sees the other.
func (o *Outbox) doneWithProviderID(ctx context.Context, q messaging.Queued) error {
	return mapErr(pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, providerLock, o.salonID, q.Channel, q.ProviderID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			WITH done AS (
				UPDATE outbox SET leased_until = NULL, lease_token = NULL, sent_at = now(), failed = NULL, provider_id = $4
				WHERE id = $1 AND salon_id = $2 AND lease_token = $3
				RETURNING id, channel, chat_id, body
			)
			INSERT INTO outbox (salon_id, channel, chat_id, inbox_id, body, resent_of)
			SELECT $2, d.channel, d.chat_id, NULL, d.body, d.id FROM done d
			WHERE EXISTS (SELECT 1 FROM message_statuses m
			              WHERE m.salon_id = $2 AND m.channel = d.channel AND m.provider_id = $4 AND m.resend)
			ON CONFLICT (resent_of) WHERE resent_of IS NOT NULL DO NOTHING`, q.ID, o.salonID, q.Lease, q.ProviderID)
		return err
	}), "finish message")
}

// Later implements messaging.Outbox.
func (o *Outbox) Later(ctx context.Context, q messaging.Queued, at time.Time, failed bool) error {
	_, err := o.pool.Exec(ctx, `
		UPDATE outbox SET leased_until = NULL, lease_token = NULL, not_before = $2,
		       attempts = attempts + CASE WHEN $5 THEN 1 ELSE 0 END
		WHERE id = $1 AND salon_id = $3 AND lease_token = $4`, q.ID, at, o.salonID, q.Lease, failed)
	return mapErr(err, "postpone message")
}

// Block implements messaging.Outbox.
func (o *Outbox) Block(ctx context.Context, channel, chatID string) error {
	return mapErr(pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO channel_chats (salon_id, channel, chat_id, blocked_at) VALUES ($1, $2, $3, now())
			ON CONFLICT (salon_id, channel, chat_id) DO UPDATE SET blocked_at = now()`, o.salonID, channel, chatID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			UPDATE outbox SET failed = 'blocked by the user', leased_until = NULL, lease_token = NULL
			WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND sent_at IS NULL AND failed IS NULL`,
			o.salonID, channel, chatID)
		return err
	}), "block chat")
}
