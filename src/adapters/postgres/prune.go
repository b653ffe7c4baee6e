package postgres

import (
	"context"
	"time"
)

// pruneBatch is how many conversations one statement of PruneAnonymous deletes:
// each batch's locks are short, whatever the backlog.
const pruneBatch = 1000

// PruneAnonymous deletes the salon's conversations on channel that are
// anonymous and idle, with their handled events (dialog_events, by cascade), and
// returns how many conversations it deleted. A conversation is pruned only when
// all of these hold:
//   - nothing has happened in it since idleSince (updated_at, written by every
//     event);
//   - its state names no client id (set once a hold succeeded, kept after);
//   - it has no wait-list entry.
//
// So a chat that ever booked or waits for an offer is never pruned; one that
// only typed a name or a phone (unverified, with nothing booked behind it) is. A conversation in use at that moment is
// skipped (SKIP LOCKED); an event that comes after the prune starts the chat
// afresh, as a new session. Returns EUnavailable when ctx ends or the database
// cannot be reached, EInternal otherwise.
func (c *Conversations) PruneAnonymous(ctx context.Context, salonID, channel string, idleSince time.Time) (int64, error) {
	var total int64
	for {
		tag, err := c.pool.Exec(ctx, `
			WITH doomed AS (
				SELECT salon_id, channel, chat_id FROM conversations c
				WHERE salon_id = $1 AND channel = $2 AND updated_at < $3
				  AND coalesce(state->>'client', '0') = '0'
				  AND NOT EXISTS (SELECT 1 FROM waitlist w
				                  WHERE w.salon_id = c.salon_id AND w.channel = c.channel AND w.chat_id = c.chat_id)
				LIMIT $4
				FOR UPDATE SKIP LOCKED
			)
			DELETE FROM conversations c USING doomed d
			WHERE c.salon_id = d.salon_id AND c.channel = d.channel AND c.chat_id = d.chat_id`,
			salonID, channel, idleSince, pruneBatch)
		if err != nil {
			return total, mapErr(err, "prune conversations")
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			return total, nil
		}
	}
}
