package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// Pushed reads back what was pushed to a chat outside its steps: the reminders
// (Reminders) and wait-list offers (Offers) queued with insertPushed. It is
// the conversation's dialog.Pushed.
type Pushed struct {
	pool *pgxpool.Pool
}

var _ dialog.Pushed = (*Pushed)(nil)

// NewPushed returns the pushed messages stored in pool's outbox.
func NewPushed(pool *pgxpool.Pool) *Pushed { return &Pushed{pool: pool} }

// pushedSQL reads the newest message pushed to chat ($1 salon, $2 channel, $3
// chat) after $4 and sent (so not given up either).
const pushedSQL = `
	SELECT body FROM outbox
	WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND pushed_at IS NOT NULL AND pushed_at > $4
	  AND failed IS NULL AND sent_at IS NOT NULL
	ORDER BY pushed_at DESC, id DESC LIMIT 1`

// Pushed returns the newest message pushed to the chat after after (the
// instant stamped by its queuer) that a sender has sent, leaving out those
// given up (the chat had blocked the bot, or sending failed for good) and
// those still waiting in the outbox (behind the limits, a 429, a paused
// channel: the client has not seen them, so typed text does not answer them);
// nil when there is none. The gap left: a message queued before the chat's
// last step but sent after it is never answered by typing (pushed_at is the
// queueing instant, before after); its buttons still work. It
// reads the partial index outbox_pushed: the chat's few pushed rows, newest
// first, whatever the statistics.
func (p *Pushed) Pushed(ctx context.Context, key dialog.ChatKey, after time.Time) (*dialog.Reply, error) {
	var body []byte
	err := p.pool.QueryRow(ctx, pushedSQL, key.SalonID, key.Channel, key.ChatID, after).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err, "select pushed")
	}
	var o messaging.Outgoing
	if err := json.Unmarshal(body, &o); err != nil {
		return nil, fmt.Errorf("pipeline: pushed message: %w", err)
	}
	return o.Reply, nil
}
