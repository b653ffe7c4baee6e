package telegram

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// DefaultContactLabel is the label of the "share my phone number" button when
// NewTransport is given none.
const DefaultContactLabel = "📱 Share my phone number"

// maxText is sendMessage's limit in characters; the fake and, in doubt,
// Telegram count UTF-16 code units.
const maxText = 4096

// Transport sends replies and answers callback queries with the go-telegram
// client (messaging.Transport). Texts go as plain text, never with a parse mode,
// so nothing in them needs escaping.
//
// A reply that requests the client's contact carries a reply keyboard with one
// "share my phone number" button instead of its choices: a Telegram message has
// one markup, and the contact button exists only on reply keyboards. That
// keyboard stays on the client's screen until it is pressed or removed, so the
// next reply to the chat without choices removes it. Which chats still show it is
// kept in memory, per process: after a restart, or when the next replies all
// carry choices, it stays until pressed, which is harmless.
type Transport struct {
	bot          *bot.Bot
	contactLabel string
	paymentToken string
	log          *slog.Logger

	mu sync.Mutex
	// contactShown holds the chats whose last contact request may still show
	// its reply keyboard.
	contactShown map[int64]bool
}

var _ messaging.Transport = (*Transport)(nil)

// TransportOption configures a Transport.
type TransportOption func(*Transport)

// WithContactLabel sets the label of the "share my phone number" button.
func WithContactLabel(label string) TransportOption {
	return func(t *Transport) {
		if label != "" {
			t.contactLabel = label
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
		bot:          b,
		contactLabel: DefaultContactLabel,
		log:          slog.New(slog.DiscardHandler),
		contactShown: map[int64]bool{},
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Send answers o.Ack's callback query and sends o.Reply, whichever are set.
// With o.Edit, o.Reply replaces that message of the bot in place
// (editMessageText) unless it requests the contact or the message cannot be
// edited, when it goes as a new message; either way it is one message to the
// limits.
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
	if o.Reply.Invoice != nil && t.paymentToken != "" {
		return t.sendInvoice(ctx, o.ChatID, o.Reply) // an invoice is always a message of its own
	}
	if o.Edit != "" && !o.Reply.RequestContact { // a reply keyboard cannot come by an edit
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
	chatID, err := strconv.ParseInt(chat, 10, 64)
	if err != nil || chatID == 0 {
		return messaging.Result{Err: errors.New("telegram: sendMessage: chat id is not a Telegram chat id")}
	}
	p := &bot.SendMessageParams{ChatID: chatID, Text: fitText(r.Text)}
	removing := false
	switch {
	case r.RequestContact:
		p.ReplyMarkup = contactKeyboard(t.contactLabel)
	case len(r.Choices) > 0:
		if kb := inlineKeyboard(r.Choices, t.log); kb != nil {
			p.ReplyMarkup = kb
		}
	}
	if p.ReplyMarkup == nil && t.shown(chatID) {
		p.ReplyMarkup = &models.ReplyKeyboardRemove{RemoveKeyboard: true}
		removing = true
	}
	_, err = t.bot.SendMessage(ctx, p)
	res := result("sendMessage", err)
	switch {
	case err == nil && r.RequestContact:
		t.setShown(chatID, true)
	case err == nil && removing, res.Blocked:
		t.setShown(chatID, false)
	}
	return res
}

func (t *Transport) shown(chatID int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.contactShown[chatID]
}

func (t *Transport) setShown(chatID int64, shown bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if shown {
		t.contactShown[chatID] = true
	} else {
		delete(t.contactShown, chatID)
	}
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
