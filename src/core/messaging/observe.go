package messaging

import "time"

// SendObserver is told what became of each send, for metrics (an adapter
// counts them). Its methods must be quick and safe for concurrent use.
type SendObserver interface {
	// Sent is called once per call of the Transport, with its outcome (a Send
	// constant).
	Sent(channel, outcome string)
	// Paused is called when the provider asks the whole channel to wait (HTTP
	// 429, Result.RetryAfter), with the wait it asked for; not for a pause
	// after refused credentials (Result.Unauthorized).
	Paused(channel string, wait time.Duration)
}

// The outcomes of a send a SendObserver is told of.
const (
	SendOK           = "sent"
	SendRateLimited  = "rate_limited" // the channel pauses (Result.RetryAfter)
	SendUnauthorized = "unauthorized" // credentials refused: the channel pauses (Result.Unauthorized)
	SendChatLimited  = "chat_limited" // this chat waits (Result.ChatRetryAfter)
	SendBlocked      = "blocked"      // the client blocked the bot
	SendRetry        = "retry"        // a passing failure, tried again later
	SendGivenUp      = "given_up"     // refused, or out of attempts
)
