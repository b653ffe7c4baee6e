package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
	"salonbook/src/core/dialog"
)

var (
	_ dialog.Conversations = (*Conversations)(nil)
	_ dialog.Transcripts   = (*Conversations)(nil)
	_ dialog.Waitlist      = (*Waitlist)(nil)
)

// Conversations keeps chat conversations: each chat's state and the events it
// has handled, so that a replayed event is answered as it was the first time.
type Conversations struct {
	pool *pgxpool.Pool
}

// NewConversations returns Conversations over pool.
func NewConversations(pool *pgxpool.Pool) *Conversations {
	return &Conversations{pool: pool}
}

// Run implements dialog.Conversations. The conversation row is locked for the
// whole transaction, so one chat's events run one at a time across goroutines and
// processes, while other chats go on in parallel. step runs inside the
// transaction: it holds a connection and the lock while it works.
// Returns EInvalid for an empty key or event id, ENotFound for an unknown salon,
// EUnavailable when ctx ends, and EInternal otherwise.
func (c *Conversations) Run(ctx context.Context, key dialog.ChatKey, eventID string, step func(dialog.State) (dialog.State, []dialog.Reply)) ([]dialog.Reply, error) {
	return c.run(ctx, key, eventID, nil, step)
}

// RunSaid implements dialog.Transcripts: Run that keeps said with the event
// (dialog_events.said, migration 0025), for History.
func (c *Conversations) RunSaid(ctx context.Context, key dialog.ChatKey, eventID string, said dialog.Said, step func(dialog.State) (dialog.State, []dialog.Reply)) ([]dialog.Reply, error) {
	raw, err := json.Marshal(said)
	if err != nil {
		return nil, core.Errorf(core.EInternal, "error.internal", "postgres: encode said: %w", err)
	}
	return c.run(ctx, key, eventID, raw, step)
}

func (c *Conversations) run(ctx context.Context, key dialog.ChatKey, eventID string, said []byte, step func(dialog.State) (dialog.State, []dialog.Reply)) ([]dialog.Reply, error) {
	if eventID == "" || key.SalonID == "" || key.Channel == "" || key.ChatID == "" {
		return nil, core.Errorf(core.EInvalid, "request.invalid", "postgres: run conversation: empty event id or chat key")
	}
	var out []dialog.Reply
	err := c.inTx(ctx, func(tx *convTx) error {
		// One statement creates the row or locks the existing one: a row pruned
		// (PruneAnonymous) while this waits for it is created afresh, where a
		// separate SELECT … FOR UPDATE would find nothing. The event is looked
		// up only after it, in a statement of its own (sent in the same round
		// trip): under read committed it then sees what the transaction that
		// held the lock before us committed, so a replay racing its original
		// is answered, not rerun. By chat and event: an event id is the
		// provider's, and two chats' ids may be equal; a chat never gets
		// another's replies.
		var raw, stored []byte
		b := &pgx.Batch{}
		b.Queue(`
			INSERT INTO conversations (salon_id, channel, chat_id) VALUES ($1, $2, $3)
			ON CONFLICT (salon_id, channel, chat_id) DO UPDATE SET updated_at = conversations.updated_at
			RETURNING state`, key.SalonID, key.Channel, key.ChatID)
		b.Queue(`
			SELECT replies FROM dialog_events
			WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND event_id = $4`,
			key.SalonID, key.Channel, key.ChatID, eventID)
		br := tx.begin(ctx, b)
		err := br.QueryRow().Scan(&raw)
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "23503" {
			_ = br.Close()
			return core.Errorf(core.ENotFound, "salon.not_found", "postgres: insert conversation: no salon %q", key.SalonID)
		}
		if err != nil {
			_ = br.Close()
			return mapErr(err, "lock conversation")
		}
		err = br.QueryRow().Scan(&stored)
		if cerr := br.Close(); err == nil || errors.Is(err, pgx.ErrNoRows) {
			if cerr != nil {
				return mapErr(cerr, "select dialog event")
			}
		}
		switch {
		case err == nil:
			if err := json.Unmarshal(stored, &out); err != nil {
				return core.Errorf(core.EInternal, "error.internal", "postgres: decode stored replies: %w", err)
			}
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return mapErr(err, "select dialog event")
		}
		var st dialog.State
		if err := json.Unmarshal(raw, &st); err != nil {
			return core.Errorf(core.EInternal, "error.internal", "postgres: decode conversation state: %w", err)
		}
		st, out = step(st)
		state, err := json.Marshal(st)
		if err != nil {
			return core.Errorf(core.EInternal, "error.internal", "postgres: encode conversation state: %w", err)
		}
		replies, err := json.Marshal(out)
		if err != nil {
			return core.Errorf(core.EInternal, "error.internal", "postgres: encode replies: %w", err)
		}
		if st.Forget {
			// "Delete my data": the conversation goes, its events with it (ON
			// DELETE CASCADE), this one's too: a WhatsApp chat id is the
			// client's number. A replay of this event (its channel's record
			// was not written) then runs on a fresh conversation, where its
			// choice erases nothing twice.
			return mapErr(tx.commitWith(ctx, `DELETE FROM conversations WHERE salon_id = $1 AND channel = $2 AND chat_id = $3`,
				key.SalonID, key.Channel, key.ChatID), "forget conversation")
		}
		return mapErr(tx.commitWith(ctx, `
			WITH u AS (
				UPDATE conversations SET state = $4::jsonb, updated_at = now()
				WHERE salon_id = $1 AND channel = $2 AND chat_id = $3
			)
			INSERT INTO dialog_events (salon_id, channel, chat_id, event_id, replies, said, created_at)
			VALUES ($1, $2, $3, $5, $6::jsonb, $7::jsonb, clock_timestamp())`,
			key.SalonID, key.Channel, key.ChatID, string(state), eventID, string(replies), nullJSON(said)), "save conversation")
	})
	if err != nil {
		return nil, passCore(err, "run conversation")
	}
	return out, nil
}

// convTx is a conversation's transaction on a connection of its own, in two
// round trips where a pgx.Tx takes five: BEGIN goes with the first statements
// (begin), COMMIT with the last write (commitWith). Each statement still runs
// on its own, after the one before it, with a snapshot of its own.
type convTx struct {
	conn      *pgxpool.Conn
	began     bool // BEGIN was sent
	committed bool // COMMIT ran
}

// inTx runs fn in a transaction on a pooled connection: committed when fn
// called commitWith and it succeeded, rolled back otherwise (an error, or a
// replay that wrote nothing).
func (c *Conversations) inTx(ctx context.Context, fn func(tx *convTx) error) error {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release() // a connection left inside a transaction is closed, not reused (pgxpool)
	tx := &convTx{conn: conn}
	err = fn(tx)
	if tx.began && !tx.committed {
		if _, rerr := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// begin sends BEGIN and b's statements in one round trip.
func (t *convTx) begin(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	t.began = true
	all := &pgx.Batch{}
	all.Queue("BEGIN")
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	br := t.conn.SendBatch(ctx, all)
	if _, err := br.Exec(); err != nil {
		return errResults{br, err}
	}
	return br
}

// commitWith runs one statement and COMMIT in one round trip.
func (t *convTx) commitWith(ctx context.Context, sql string, args ...any) error {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	b.Queue("COMMIT")
	br := t.conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if tag.String() != "COMMIT" { // a transaction that failed answers ROLLBACK to COMMIT
		return pgx.ErrTxCommitRollback
	}
	t.committed = true
	return nil
}

// errResults answers every result with err (BEGIN failed).
type errResults struct {
	pgx.BatchResults
	err error
}

func (e errResults) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, e.err }
func (e errResults) Query() (pgx.Rows, error)         { return nil, e.err }
func (e errResults) QueryRow() pgx.Row                { return errRow{e.err} }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// nullJSON is raw as a jsonb parameter, SQL NULL when empty.
func nullJSON(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	return string(raw)
}

// History implements dialog.Transcripts: the conversation's language and its
// last limit events (by the order they were stored), oldest first. Events
// are pruned after a week (PruneEvents), so that is as far back as it reads.
// Returns EUnavailable when ctx ends, EInternal otherwise.
func (c *Conversations) History(ctx context.Context, key dialog.ChatKey, limit int) (string, []dialog.Event, error) {
	var lang string
	err := c.pool.QueryRow(ctx, `SELECT coalesce(state->>'lang', '') FROM conversations
		WHERE salon_id = $1 AND channel = $2 AND chat_id = $3`, key.SalonID, key.Channel, key.ChatID).Scan(&lang)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, mapErr(err, "select conversation")
	}
	// The chat's events, found by the primary key's prefix, in the order they
	// were stored: created_at is clock_timestamp() taken under the
	// conversation's lock, so one chat's events are in step order.
	rows, err := c.pool.Query(ctx, `
		SELECT said, replies FROM (
			SELECT said, replies, created_at, event_id FROM dialog_events
			WHERE salon_id = $1 AND channel = $2 AND chat_id = $3
			ORDER BY created_at DESC, event_id DESC LIMIT $4) e
		ORDER BY created_at, event_id`, key.SalonID, key.Channel, key.ChatID, limit)
	if err != nil {
		return "", nil, mapErr(err, "select dialog events")
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dialog.Event, error) {
		var said, replies []byte
		if err := r.Scan(&said, &replies); err != nil {
			return dialog.Event{}, err
		}
		var e dialog.Event
		if len(said) > 0 {
			e.Said = &dialog.Said{}
			if err := json.Unmarshal(said, e.Said); err != nil {
				return e, err
			}
		}
		return e, json.Unmarshal(replies, &e.Replies)
	})
	if err != nil {
		return "", nil, mapErr(err, "read dialog events")
	}
	return lang, events, nil
}

// PruneEvents deletes the handled events recorded before olderThan and returns
// how many it deleted; a replay of a pruned event runs as a new one. Returns
// EUnavailable when ctx ends, EInternal otherwise.
func (c *Conversations) PruneEvents(ctx context.Context, olderThan time.Time) (int64, error) {
	tag, err := c.pool.Exec(ctx, `DELETE FROM dialog_events WHERE created_at < $1`, olderThan)
	if err != nil {
		return 0, mapErr(err, "prune dialog events")
	}
	return tag.RowsAffected(), nil
}
