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
	if eventID == "" || key.SalonID == "" || key.Channel == "" || key.ChatID == "" {
		return nil, core.Errorf(core.EInvalid, "request.invalid", "postgres: run conversation: empty event id or chat key")
	}
	var out []dialog.Reply
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		// One statement creates the row or locks the existing one: a row pruned
		// (PruneAnonymous) while this waits for it is created afresh, where a
		// separate SELECT … FOR UPDATE would find nothing.
		var raw []byte
		err := tx.QueryRow(ctx, `
			INSERT INTO conversations (salon_id, channel, chat_id) VALUES ($1, $2, $3)
			ON CONFLICT (salon_id, channel, chat_id) DO UPDATE SET updated_at = conversations.updated_at
			RETURNING state`, key.SalonID, key.Channel, key.ChatID).Scan(&raw)
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "23503" {
			return core.Errorf(core.ENotFound, "salon.not_found", "postgres: insert conversation: no salon %q", key.SalonID)
		}
		if err != nil {
			return mapErr(err, "lock conversation")
		}
		// The event is looked up only now, in a statement of its own: under read
		// committed it then sees what the transaction that held the lock before
		// us committed, so a replay racing its original is answered, not rerun.
		// By chat and event: an event id is the provider's, and two chats' ids
		// may be equal; a chat never gets another's replies.
		var stored []byte
		err = tx.QueryRow(ctx, `
			SELECT replies FROM dialog_events
			WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND event_id = $4`,
			key.SalonID, key.Channel, key.ChatID, eventID).Scan(&stored)
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
		_, err = tx.Exec(ctx, `
			WITH u AS (
				UPDATE conversations SET state = $4::jsonb, updated_at = now()
				WHERE salon_id = $1 AND channel = $2 AND chat_id = $3
			)
			INSERT INTO dialog_events (salon_id, channel, chat_id, event_id, replies)
			VALUES ($1, $2, $3, $5, $6::jsonb)`,
			key.SalonID, key.Channel, key.ChatID, string(state), eventID, string(replies))
		return mapErr(err, "save conversation")
	})
	if err != nil {
		return nil, passCore(err, "run conversation")
	}
	return out, nil
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
