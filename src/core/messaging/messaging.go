// Package messaging is the channel-neutral pipeline between chat providers and
// the conversation: updates are stored durably before they are acknowledged
// (Inbox), taken one chat at a time in order and turned into replies by one
// dialog step each, and the replies are queued (Outbox) for a sender that
// respects the provider's limits.
//
// A channel adapter only decodes updates and renders and sends replies; the
// machinery that makes messages never lost, never doubled and never too fast is
// here once, with its SQL in the postgres adapter. Nothing here names a provider.
package messaging

import (
	"context"
	"errors"
	"time"

	"salonbook/src/core/dialog"
)

// FloodLookback is how many of a chat's earlier updates Pending.Earlier holds
// at most; a Worker's FloodLimit stays below it.
const FloodLookback = 64

// Pending is a stored update waiting to be handled.
type Pending struct {
	ID       int64  // inbox row
	Channel  string // "telegram", "whatsapp"
	ChatID   string
	UpdateID string // the provider's id, unique per channel; never logged (a WhatsApp wamid embeds the client's number): log ID
	Payload  []byte // the raw update as received
	Received time.Time
	Attempts int // failed tries so far
	// Earlier are the provider's times (the time received when the provider
	// gives none) of the chat's latest updates before this one, newest first,
	// at most FloodLookback: the flood guard's input.
	Earlier []time.Time
	// Previous is the chat's update handled just before this one, if any.
	Previous *Pending
}

// Decoded is what a channel makes of an update.
type Decoded struct {
	Inbound dialog.Inbound
	// Ack is the provider's id of something that must be answered whatever
	// happens (a Telegram callback query); "" when there is none.
	Ack string
	// Origin is the provider's id of the bot's message whose button was pressed
	// (a Telegram callback query's message); "" when the update is not a press
	// or the channel cannot say.
	Origin string
	// Seq is where the update's message stands in the chat, where the provider
	// numbers a chat's messages in one sequence for both sides (Telegram's
	// message_id); for a press, the pressed message's. 0 when unknown. A press
	// on a message older than the chat's previous update is a press on an old
	// message, whose answer goes at the bottom of the chat, not into it.
	Seq int64
	// Sent is the provider's time of the update (when the client sent it); zero
	// when the provider gives none (a Telegram button press).
	Sent time.Time
	// Ad is the ad click the update says the chat came from; nil when none.
	Ad *AdClick
}

// AdClick is the ad click an update carries.
type AdClick struct {
	// Code is a code the salon's own ad link made for a click (the start
	// parameter of a Telegram deep link), to be looked up; "" when none.
	Code string
	// ClickID is a click-to-message ad's click id, sent by the provider with
	// the client's first message (WhatsApp's referral ctwa_clid); "" when none.
	ClickID string
}

// Ads remembers the ad click a chat came from (the bookings it makes are
// reported to the ad platform).
type Ads interface {
	// Clicked notes that the chat came from click, whose update arrived at
	// at; a code that names no click is ignored.
	Clicked(ctx context.Context, key dialog.ChatKey, click AdClick, at time.Time) error
}

// Handled is what a step made of an update.
type Handled struct {
	Out  []Outgoing // queued in the outbox with the update marked handled
	Dead string     // a reason: the update is kept as a dead letter instead
	Sent time.Time  // Decoded.Sent, stored for the flood guard of later updates
	// Forget: the step erased the chat's personal data (dialog.Reply.Forget):
	// the update's payload is blanked as it is marked handled.
	Forget bool
}

// Decoder turns a channel's raw updates into the conversation's events.
type Decoder interface {
	// Decode reads one raw update. An error means the update is unusable: it is
	// kept as a dead letter and never blocks the chat.
	Decode(raw []byte) (Decoded, error)
}

// Outgoing is one thing to send to a chat.
type Outgoing struct {
	ChatID string        `json:"chat_id"`
	Ack    string        `json:"ack,omitempty"`   // answer this callback (Telegram: answerCallbackQuery)
	Reply  *dialog.Reply `json:"reply,omitempty"` // a message
	// Edit is the provider's id of a message of the bot that Reply replaces in
	// place (Decoded.Origin); "" sends Reply as a new message. A channel that
	// cannot edit sends a new message instead.
	Edit string `json:"edit,omitempty"`
	// Template is the kind of message this is for a channel that may have to
	// send it as an approved template (WhatsApp outside the 24-hour window):
	// TemplateReminder, or "" for any other reply.
	Template string `json:"template,omitempty"`
	// Booking is the booking a staff notice is about: an erase of its
	// client's data blanks the notice (postgres.Privacy). "" for others.
	Booking string `json:"booking,omitempty"`
	// NotAfter, when set, is the instant past which the message is no longer
	// sent (a reminder: its booking's start). The Sender gives it up instead
	// ("too late") when it takes it at or after then; a message already in a
	// send when the instant passes still goes.
	NotAfter time.Time `json:"not_after,omitzero"`
}

// TemplateReminder marks a booking reminder (Outgoing.Template).
const TemplateReminder = "reminder"

// Inbox stores updates and hands them out one chat at a time.
type Inbox interface {
	// NextBatch claims the oldest unhandled update of up to max chats whose
	// earlier updates are all handled and which no other worker holds (across
	// processes), as many as are waiting (one chat waiting: one update), and
	// calls handle with each in turn, one chat after another. Each update's
	// returned messages are queued in the outbox and the update marked handled
	// in one transaction for the whole batch; Handled.Dead marks it a dead
	// letter instead. When handle returns an error nothing of that update is
	// written (the other updates of the batch are): it stays pending and its
	// chat is tried again later, backing off; the error is part of NextBatch's.
	// When an update's writes fail (a reply the database rejects), its
	// attempt is counted as for a failed handle, and the others are written.
	// NextBatch returns how many updates it took and wrote (0: nothing to do,
	// or its transaction failed: nothing was written, and the caller pauses
	// as when idle rather than retry at once).
	// A handle that returns ErrSkipped did not step the update (its worker
	// is stopping, or ended the batch early): nothing at all is written for
	// it, not even a failed attempt, and it stays its chat's next update.
	NextBatch(ctx context.Context, channel string, max int, handle func(Pending) (Handled, error)) (int, error)
	// Add stores a received update; storing the same channel and update id twice
	// is a no-op (a redelivery). An update whose chat cannot be read is stored
	// with chatID "" and dead set, so it is kept but never handled.
	Add(ctx context.Context, channel, updateID, chatID string, payload []byte, dead string) error
}

// ErrSkipped is what a handle given to Inbox.NextBatch returns for an update
// it did not step: the update stays pending as it was.
var ErrSkipped = errors.New("messaging: update not stepped")

// Queued is an outgoing message waiting in the outbox.
type Queued struct {
	ID       int64
	Channel  string
	Outgoing Outgoing
	Attempts int    // failed sends so far
	Lease    string // the lease this sender holds; Done and Later need it
	// ProviderID is the provider's id of the message once sent (from
	// Result.ProviderID), set by the sender before Done so that the provider's
	// later delivery statuses can be matched to it; "" when there is none.
	ProviderID string

	claimed bool // the sender counted it against the overall limit when taking it (Sender.budget)
}

// Result is what a transport made of one send.
type Result struct {
	Err        error         // nil when sent
	RetryAfter time.Duration // the provider asked to wait (HTTP 429): retry after this
	Retry      bool          // a passing failure (network, 5xx): retry with backoff
	Blocked    bool          // the client blocked the bot: stop sending to this chat
	// ChatRetryAfter: the provider refused this chat for now (a per-recipient
	// limit) but not the others: retry this chat after this, not counted as a
	// failed send, while other chats go on.
	ChatRetryAfter time.Duration
	// ProviderID is the provider's id of the sent message ("" when it gives none).
	ProviderID string
	// Unauthorized: the provider refused the channel's credentials (HTTP 401,
	// a revoked token). The channel pauses for RetryAfter as after a 429, but
	// it is counted as SendUnauthorized, and callback answers are given up.
	Unauthorized bool
}

// Transport sends one message with the channel's client library.
type Transport interface {
	Send(ctx context.Context, o Outgoing) Result
}

// Outbox holds what is to be sent.
type Outbox interface {
	// Due returns unsent messages of channel whose time has come: up to
	// answers callback answers (no message: nothing to count against the
	// limits) and up to messages others, the oldest of each chat in each of the
	// two lanes, skipping chats another sender holds; they stay leased to the
	// caller until Done or Later.
	Due(ctx context.Context, channel string, answers, messages int) ([]Queued, error)
	// Done marks a message sent (failure "") or given up (failure says why). A
	// lease that expired meanwhile is ignored: another sender has the message.
	Done(ctx context.Context, q Queued, failure string) error
	// Later puts a message back to be tried at or after at; failed counts it as a
	// failed send (for the backoff and the attempt limit).
	Later(ctx context.Context, q Queued, at time.Time, failed bool) error
	// Block records that q's chat blocked the bot (q's send met that refusal):
	// its unsent messages up to q are given up and nothing more is queued for it
	// until it writes again. A refusal recorded after an answer to a newer
	// message of the chat was queued (the send started before they unblocked the
	// bot and wrote) marks nothing: the messages after q meet a refusal of their
	// own if the chat still blocks the bot.
	Block(ctx context.Context, q Queued) error
}
