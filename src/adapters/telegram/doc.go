// Package telegram is the Telegram channel: it plugs the Bot API into the
// channel-neutral message pipeline of core/messaging.
//
//   - Webhook receives updates: it checks the method, the size and the secret
//     header, stores the raw update in the inbox and answers; nothing else
//     happens in the request.
//   - Decoder turns a stored update into the conversation's event
//     (messaging.Decoder); ChatOf reads just the ids the webhook keys a row by.
//   - Transport renders a reply as a Telegram message with its keyboard and
//     sends it (or edits the pressed message into it, Outgoing.Edit), or answers
//     a callback query, with the go-telegram client (messaging.Transport), and
//     says what a failure means for the sender.
//   - NewBot and RegisterWebhook build that client and register the webhook.
//
// The package must never log or return in an error the bot token (it is part of
// every request URL), a whole update, a message text or a phone number: logs
// and errors carry ids, HTTP statuses and error classes only. go-telegram's own
// default handler and error handler print whole updates and raw errors, so
// NewBot replaces both.
package telegram
