package telegram

import (
	"context"
	"errors"
	"net"
	"net/url"
	"time"

	"github.com/go-telegram/bot"

	"salonbook/src/core/messaging"
)

// apiError is a failed Bot API call reduced to its class. go-telegram's own
// errors carry Telegram's description and, when the answer was not JSON, the
// whole response body; its network errors have the token masked only since
// v1.17. So nothing of the original text is kept: Error names the method and
// the class, and Unwrap gives go-telegram's sentinel (bot.ErrorForbidden, …)
// or the context's error, for errors.Is.
type apiError struct {
	method string
	class  string
	cause  error
}

func (e *apiError) Error() string { return "telegram: " + e.method + ": " + e.class }

func (e *apiError) Unwrap() error { return e.cause }

// classify reduces err, returned by a go-telegram call, to its class and the
// sentinel it matches, if any.
func classify(err error) (class string, cause error) {
	var tooMany *bot.TooManyRequestsError
	var migrate *bot.MigrateError
	var netErr net.Error
	var urlErr *url.Error
	switch {
	case errors.As(err, &tooMany):
		return "too many requests", bot.ErrorTooManyRequests
	case errors.As(err, &migrate):
		return "bad request (group migrated to a supergroup)", bot.ErrorBadRequest
	case errors.Is(err, bot.ErrorForbidden):
		return "forbidden (blocked by the user or removed from the chat)", bot.ErrorForbidden
	case errors.Is(err, bot.ErrorBadRequest):
		return "bad request", bot.ErrorBadRequest
	case errors.Is(err, bot.ErrorUnauthorized):
		return "unauthorized (wrong bot token)", bot.ErrorUnauthorized
	case errors.Is(err, bot.ErrorNotFound):
		return "not found", bot.ErrorNotFound
	case errors.Is(err, bot.ErrorConflict):
		return "conflict", bot.ErrorConflict
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out", context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return "cancelled", context.Canceled
	case errors.As(err, &netErr), errors.As(err, &urlErr):
		return "network error", nil
	default:
		// A 5xx (go-telegram reports any other error_code without a sentinel)
		// or an answer that is not the Bot API's JSON (a proxy's error page).
		return "server error or unreadable answer", nil
	}
}

// unauthorizedPause is how long the channel pauses after a 401 (a revoked or
// wrong bot token) before it tries again.
const unauthorizedPause = time.Minute

// failed wraps err, from method, as an apiError.
func failed(method string, err error) error {
	class, cause := classify(err)
	return &apiError{method: method, class: class, cause: cause}
}

// result says what a call's error means for the sender: wait for retry_after
// (429), stop sending to the chat (403), pause the channel for
// unauthorizedPause (401: the bot token was revoked or is wrong; the outbox
// keeps every message until a new token is in place), give up (400, 404, 409:
// sending the same again would fail the same way), or retry with backoff
// (anything else: the network, a 5xx, an unreadable answer, a timeout).
func result(method string, err error) messaging.Result {
	if err == nil {
		return messaging.Result{}
	}
	res := messaging.Result{Err: failed(method, err)}
	var tooMany *bot.TooManyRequestsError
	var migrate *bot.MigrateError
	switch {
	case errors.As(err, &tooMany):
		// Telegram always says how long; at least a second if it ever does not.
		res.RetryAfter = time.Duration(max(1, tooMany.RetryAfter)) * time.Second
	case errors.Is(err, bot.ErrorForbidden):
		res.Blocked = true
	case errors.Is(err, bot.ErrorUnauthorized):
		// Every message would meet it: wait for a new token (a restart with
		// it) rather than give them up (runbook: rotating the bot token).
		res.RetryAfter, res.Unauthorized = unauthorizedPause, true
	case errors.As(err, &migrate), errors.Is(err, bot.ErrorBadRequest),
		errors.Is(err, bot.ErrorNotFound), errors.Is(err, bot.ErrorConflict):
		// Permanent.
	default:
		res.Retry = true
	}
	return res
}
