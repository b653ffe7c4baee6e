package telegram

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// Labels are the words the Transport adds to a reply, in the reply's
// language (dialog.Reply.Lang).
type Labels struct {
	ShareContact string // the reply keyboard's "share my phone number" button
}

// DefaultLabels are the Labels when NewTransport is given none, or a language
// has no words.
var DefaultLabels = Labels{ShareContact: "📱 Share my number"}

// maxText is sendMessage's limit in characters; the fake and, in doubt,
// Telegram count UTF-16 code units.
const maxText = 4096

// Transport sends replies and answers callback queries with the go-telegram
// client (messaging.Transport). Texts go as plain text, never with a parse mode,
// so nothing in them needs escaping.
//
// A reply that requests the client's contact carries a reply keyboard with one
// "share my phone number" button, labelled in the reply's language, instead of
// its choices: a Telegram message has one markup, and the contact button exists
// only on reply keyboards. That keyboard stays under the client's input field
// until removed (one-time only hides it once pressed), so the reply after
// (dialog.Reply.RemoveKeyboard, set by the conversation from its stored step:
// it survives a restart and holds on every replica) removes it with its own
// markup, as a new message (sendMessage). The removal cannot ride on a message
// with an inline keyboard, nor be edited into it later: Telegram edits only
// messages without markup or with an inline keyboard, and the client presses
// that message's buttons. So the conversation puts a short reply of its own
// ("👍 Got it", dialog.Reply.KeyboardOnly) before such a reply: its own outbox
// message, one send and one token of the limits, retried alone. A reply that
// has both (queued by an older version) keeps its inline keyboard; the contact
// keyboard then stays, which is harmless.
type Transport struct {
	bot          *bot.Bot
	labels       func(lang string) Labels
	paymentToken string
	log          *slog.Logger
}

var _ messaging.Transport = (*Transport)(nil)

// TransportOption configures a Transport.
type TransportOption func(*Transport)

// WithLabels sets the words the Transport adds, by language (the i18n
// catalog); empty ones are DefaultLabels'.
func WithLabels(labels func(lang string) Labels) TransportOption {
	return func(t *Transport) {
		if labels != nil {
			t.labels = labels
		}
	}
}

// WithLogger sets where the Transport notes choices it had to drop. Default: nowhere.
func WithLogger(log *slog.Logger) TransportOption {
	return func(t *Transport) {
		if log != nil {
			t.log = log
		}
	}
}

// NewTransport returns a Transport sending through b (see NewBot).
func NewTransport(b *bot.Bot, opts ...TransportOption) *Transport {
	t := &Transport{
		bot:    b,
		labels: func(string) Labels { return DefaultLabels },
		log:    slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Send answers o.Ack's callback query and sends o.Reply, whichever are set.
// With o.Edit, o.Reply replaces that message of the bot in place
// (editMessageText) unless it requests the contact, removes the contact
// keyboard or the message cannot be edited, when it goes as a new message;
// either way it is one message to the limits: Send makes at most one
// sendMessage, sendInvoice or editMessageText.
//
// The result: RetryAfter after a 429; Blocked after a 403; Retry for a network
// error, a 5xx, an unreadable answer or a timeout; a permanent Err for a 400,
// 404 or 409, which would fail the same way again; Unauthorized with a
// RetryAfter of a minute after a 401 (the bot token was revoked or is wrong:
// the whole channel waits, no message is given up, callback answers are;
// logged as an error naming TELEGRAM_BOT_TOKEN). A callback query that
// is too old to answer (400) is such a permanent error, and harmless: the
// client's button has stopped spinning by itself. When both are set and the
// answer fails in a way worth retrying, that result is returned before the
// reply goes, so a retry repeats both; a rejected answer does not hold the
// reply back. Errors name the method and the class of failure only.
func (t *Transport) Send(ctx context.Context, o messaging.Outgoing) (res messaging.Result) {
	defer func() {
		if errors.Is(res.Err, bot.ErrorUnauthorized) {
			t.log.Error("telegram: the bot token was refused: check TELEGRAM_BOT_TOKEN; sending is paused until it is accepted")
		}
	}()
	if o.Ack == "" && o.Reply == nil {
		return messaging.Result{Err: errors.New("telegram: nothing to send")}
	}
	if o.Ack != "" {
		_, err := t.bot.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: o.Ack})
		res := result("answerCallbackQuery", err)
		if o.Reply == nil || res.Retry || res.RetryAfter > 0 {
			return res
		}
	}
	r := o.Reply
	if r.Invoice != nil && t.paymentToken != "" {
		return t.sendInvoice(ctx, o.ChatID, r) // an invoice is always a message of its own
	}
	// Neither a reply keyboard nor its removal can come by an edit.
	if o.Edit != "" && !r.RequestContact && !r.RemoveKeyboard {
		if res, edited := t.edit(ctx, o.ChatID, o.Edit, o.Reply); edited {
			return res
		}
	}
	return t.send(ctx, o.ChatID, o.Reply)
}

// edit replaces the bot's message edit with r (editMessageText), keyboard
// included. It reports false when the message cannot be edited (Telegram
// answers 400: gone, too old, not the bot's; or edit is no message id), for the
// reply to go as a new message instead. An edit to what the message already
// shows ("message is not modified": a replay of the same reply) counts as sent.
func (t *Transport) edit(ctx context.Context, chat, edit string, r *dialog.Reply) (messaging.Result, bool) {
	chatID, err := strconv.ParseInt(chat, 10, 64)
	if err != nil || chatID == 0 {
		return messaging.Result{Err: errors.New("telegram: editMessageText: chat id is not a Telegram chat id")}, true
	}
	messageID, err := strconv.Atoi(edit)
	if err != nil || messageID <= 0 {
		return messaging.Result{}, false
	}
	p := &bot.EditMessageTextParams{ChatID: chatID, MessageID: messageID, Text: fitText(r.Text)}
	if kb := inlineKeyboard(r.Choices, t.log); kb != nil {
		p.ReplyMarkup = kb
	}
	_, err = t.bot.EditMessageText(ctx, p)
	switch {
	case err == nil:
		return messaging.Result{}, true
	case errors.Is(err, bot.ErrorBadRequest) && strings.Contains(strings.ToLower(err.Error()), "message is not modified"):
		return messaging.Result{}, true
	case errors.Is(err, bot.ErrorBadRequest):
		// Read only to choose: Telegram's text is never kept or logged.
		return messaging.Result{}, false
	}
	return result("editMessageText", err), true
}

// send sends one reply as a message.
func (t *Transport) send(ctx context.Context, chat string, r *dialog.Reply) messaging.Result {
	var markup models.ReplyMarkup
	switch {
	case r.RequestContact:
		markup = contactKeyboard(t.label(r.Lang).ShareContact)
	case len(r.Choices) > 0:
		if kb := inlineKeyboard(r.Choices, t.log); kb != nil {
			markup = kb
		}
	}
	if markup == nil && r.RemoveKeyboard {
		markup = &models.ReplyKeyboardRemove{RemoveKeyboard: true}
	}
	return t.sendText(ctx, chat, r.Text, markup)
}

// sendText sends text with markup (nil: none) as a message.
func (t *Transport) sendText(ctx context.Context, chat, text string, markup models.ReplyMarkup) messaging.Result {
	chatID, err := strconv.ParseInt(chat, 10, 64)
	if err != nil || chatID == 0 {
		return messaging.Result{Err: errors.New("telegram: sendMessage: chat id is not a Telegram chat id")}
	}
	p := &bot.SendMessageParams{ChatID: chatID, Text: fitText(text)}
	if markup != nil {
		p.ReplyMarkup = markup
	}
	_, err = t.bot.SendMessage(ctx, p)
	return result("sendMessage", err)
}

// label returns the Labels of lang, DefaultLabels' words where it has none.
func (t *Transport) label(lang string) Labels {
	l := t.labels(lang)
	if l.ShareContact == "" {
		l.ShareContact = DefaultLabels.ShareContact
	}
	return l
}

// fitText cuts text to Telegram's 4096 characters, ending it with "…", so an
// overlong reply arrives shortened rather than being refused.
func fitText(text string) string {
	if len(text) <= maxText { // at most one UTF-16 unit per byte
		return text
	}
	n := 0
	for _, r := range text {
		n += utf16.RuneLen(r)
	}
	if n <= maxText {
		return text
	}
	n = 0
	for i, r := range text {
		n += utf16.RuneLen(r)
		if n > maxText-1 { // room for the ellipsis
			return text[:i] + "…"
		}
	}
	return text
}
