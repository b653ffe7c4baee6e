package telegram

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-telegram/bot/models"

	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// Decoder reads Telegram updates for the message pipeline. The zero value is
// ready to use.
//
// A message becomes a command (/start, /cancel, /help, /language, each with an
// optional "@botname" and arguments, which are ignored but for /start's deep
// link parameter, an ad click's code: Decoded.Ad), text, or a contact when
// the client shares their own card; one from a chat that is not private (a
// group, a supergroup, a channel) is marked Shared, and the conversation will
// not book there; a callback query becomes a choice whose
// query must be answered (Decoded.Ack), pressed on the message Decoded.Origin
// names. Every other kind of update is an error: the webhook registers for
// messages and callback queries only, so anything else is kept as a dead letter.
type Decoder struct {
	// BotUsername, when set (without '@'), makes a command addressed to another
	// bot ("/start@other_bot", as in a group with several bots) plain text.
	// Empty accepts any "@name".
	BotUsername string
}

var _ messaging.Decoder = Decoder{}

// commands are the bot commands the conversation understands.
var commands = map[string]bool{
	dialog.CommandStart:    true,
	dialog.CommandCancel:   true,
	dialog.CommandHelp:     true,
	dialog.CommandLanguage: true,
}

// Decode reads one update. Its errors name what is wrong (invalid JSON, a
// missing update_id, an unsupported kind of update) and never quote the update.
func (d Decoder) Decode(raw []byte) (messaging.Decoded, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return messaging.Decoded{}, errors.New("telegram: decode update: empty body")
	}
	var u models.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		return messaging.Decoded{}, jsonError("decode update", err)
	}
	if u.ID <= 0 {
		return messaging.Decoded{}, errors.New("telegram: decode update: update_id missing or not positive")
	}
	in := dialog.Inbound{ID: "tg:" + strconv.FormatInt(u.ID, 10)}
	switch {
	case u.Message != nil:
		m := u.Message
		in.Shared = m.Chat.Type != models.ChatTypePrivate
		var ad *messaging.AdClick
		if m.From != nil {
			in.LangHint, in.Name = m.From.LanguageCode, m.From.FirstName
		}
		switch {
		case m.SuccessfulPayment != nil && !in.Shared:
			// The deposit of an invoice paid (Telegram reports it in the chat).
			in.Kind, in.Paid = dialog.KindPaid, paidOf(m.SuccessfulPayment)
		case m.Contact != nil:
			in.Kind = dialog.KindText
			// Only the sender's own card (the "share my phone number" button sends
			// one) identifies the client; a forwarded card is someone else's, and
			// reads as a message without text.
			c := m.Contact
			if m.From != nil && c.UserID != 0 && c.UserID == m.From.ID && c.PhoneNumber != "" {
				in.Kind = dialog.KindContact
				// Telegram's own record of the sender's number: verified. It is
				// sent without its + ("491511234567"), which would read as a
				// number of the salon's country.
				phone := strings.TrimSpace(c.PhoneNumber)
				if !strings.HasPrefix(phone, "+") {
					phone = "+" + phone
				}
				in.Contact = &dialog.Contact{
					Name:  strings.TrimSpace(c.FirstName + " " + c.LastName),
					Phone: phone,
					Own:   true,
				}
			}
		default:
			if name, ok := d.command(m.Text); ok {
				in.Kind, in.Text = dialog.KindCommand, name
				if code := startCode(m.Text); name == dialog.CommandStart && code != "" && !in.Shared {
					ad = &messaging.AdClick{Code: code}
				}
			} else {
				// Photos, stickers and the like carry no text: the step sees an
				// empty text and answers as it does to anything it cannot use.
				in.Kind, in.Text = dialog.KindText, m.Text
			}
		}
		d := messaging.Decoded{Inbound: in, Seq: int64(m.ID), Ad: ad}
		if m.Date > 0 { // when the client sent it; a press has no such time
			d.Sent = time.Unix(int64(m.Date), 0).UTC()
		}
		return d, nil
	case u.CallbackQuery != nil:
		cq := u.CallbackQuery
		in.Kind, in.Choice = dialog.KindChoice, cq.Data
		in.LangHint, in.Name = cq.From.LanguageCode, cq.From.FirstName
		// The chat is the pressed message's (ChatOf keys it so); a button on an
		// inline message has none and is keyed by the user who pressed it.
		switch {
		case cq.Message.Message != nil:
			in.Shared = cq.Message.Message.Chat.Type != models.ChatTypePrivate
		case cq.Message.InaccessibleMessage != nil:
			in.Shared = cq.Message.InaccessibleMessage.Chat.Type != models.ChatTypePrivate
		}
		d := messaging.Decoded{Inbound: in, Ack: cq.ID}
		// The message the button was on, so the answer can replace it; not an
		// inaccessible one (deleted, or too old to show) nor an inline message.
		if m := cq.Message.Message; m != nil && m.ID > 0 {
			d.Origin, d.Seq = strconv.Itoa(m.ID), int64(m.ID)
		}
		return d, nil
	default:
		return messaging.Decoded{}, fmt.Errorf("telegram: decode update: unsupported update (%s)", updateKind(raw))
	}
}

// command returns the name of the bot command text starts with, if it is one
// of the conversation's.
func (d Decoder) command(text string) (string, bool) {
	text = strings.TrimLeftFunc(text, unicode.IsSpace)
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		text = text[:i]
	}
	name, ok := strings.CutPrefix(text, "/")
	if !ok {
		return "", false
	}
	name, botName, addressed := strings.Cut(name, "@")
	if addressed && d.BotUsername != "" && !strings.EqualFold(botName, strings.TrimPrefix(d.BotUsername, "@")) {
		return "", false
	}
	name = strings.ToLower(name)
	return name, commands[name]
}

// startParam is what a deep link's start parameter may hold (Telegram: 1 to
// 64 characters of A-Z, a-z, 0-9, _ and -).
var startParam = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// startCode returns the start parameter of "/start <code>" (a deep link
// t.me/<bot>?start=<code>: the code of an ad click, GET /go/telegram), or ""
// when there is none or it is not one Telegram would send.
func startCode(text string) string {
	f := strings.Fields(text)
	if len(f) != 2 || !startParam.MatchString(f[1]) {
		return ""
	}
	return f[1]
}

// updateKinds are the kinds of update Telegram sends besides messages and
// callback queries, as named in the update object and in allowed_updates.
var updateKinds = []string{
	models.AllowedUpdateEditedMessage, models.AllowedUpdateChannelPost, models.AllowedUpdateEditedChannelPost,
	models.AllowedUpdateBusinessConnection, models.AllowedUpdateBusinessMessage,
	models.AllowedUpdateEditedBusinessMessage, models.AllowedUpdateDeletedBusinessMessages,
	models.AllowedUpdateMessageReaction, models.AllowedUpdateMessageReactionCount,
	models.AllowedUpdateInlineQuery, models.AllowedUpdateChosenInlineResult, models.AllowedUpdateShippingQuery,
	models.AllowedUpdatePreCheckoutQuery, models.AllowedUpdatePurchasedPaidMedia, models.AllowedUpdatePoll,
	models.AllowedUpdatePollAnswer, models.AllowedUpdateMyChatMember, models.AllowedUpdateChatMember,
	models.AllowedUpdateChatJoinRequest, models.AllowedUpdateChatBoost, models.AllowedUpdateRemovedChatBoost,
}

// updateKind names the kind of an update that is neither a message nor a
// callback query, for the dead letter's reason. Only names from updateKinds are
// returned, never a key of the update itself.
func updateKind(raw []byte) string {
	var keys map[string]json.RawMessage
	if json.Unmarshal(raw, &keys) == nil {
		for _, k := range updateKinds {
			if _, ok := keys[k]; ok {
				return k
			}
		}
	}
	return "no message or callback_query"
}

// jsonPath is what a field path from encoding/json may look like to be quoted
// in an error: JSON names joined by dots.
var jsonPath = regexp.MustCompile(`^[a-z0-9_.]{1,64}$`)

// jsonError describes a JSON decoding error without quoting the input:
// encoding/json's own texts can quote a character or a number of it (a phone
// number sent as a JSON number, for one).
func jsonError(op string, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("telegram: %s: not valid JSON (at byte %d)", op, syntax.Offset)
	case errors.As(err, &typ) && jsonPath.MatchString(typ.Field):
		return fmt.Errorf("telegram: %s: wrong type at %s", op, typ.Field)
	case errors.As(err, &typ):
		return fmt.Errorf("telegram: %s: not an update object", op)
	default:
		return fmt.Errorf("telegram: %s: malformed update", op)
	}
}

// chatShape is the part of an update ChatOf reads.
type chatShape struct {
	UpdateID *int64 `json:"update_id"`
	Message  *struct {
		Chat idShape `json:"chat"`
	} `json:"message"`
	CallbackQuery *struct {
		From    idShape `json:"from"`
		Message *struct {
			Chat idShape `json:"chat"`
		} `json:"message"`
	} `json:"callback_query"`
}

type idShape struct {
	ID int64 `json:"id"`
}

// ChatOf reads an update's id and the id of the chat it belongs to, without
// decoding the rest, so the webhook can store the update keyed for per-chat
// ordering. The chat is the message's chat, or for a callback query the chat of
// the message its button was on (an inaccessible message still names its chat),
// or the user who pressed it when the message is missing (a button on an inline
// message). Both ids are returned in decimal. An update of another kind, or one
// without these ids, is an error; errors never quote the update.
func ChatOf(raw []byte) (updateID string, chatID string, err error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "", "", errors.New("telegram: read chat: empty body")
	}
	var u chatShape
	if err := json.Unmarshal(raw, &u); err != nil {
		return "", "", jsonError("read chat", err)
	}
	if u.UpdateID == nil || *u.UpdateID <= 0 {
		return "", "", errors.New("telegram: read chat: update_id missing or not positive")
	}
	var chat int64
	switch {
	case u.Message != nil:
		chat = u.Message.Chat.ID
	case u.CallbackQuery != nil:
		chat = u.CallbackQuery.From.ID
		if m := u.CallbackQuery.Message; m != nil && m.Chat.ID != 0 {
			chat = m.Chat.ID
		}
	default:
		return "", "", fmt.Errorf("telegram: read chat: unsupported update (%s)", updateKind(raw))
	}
	if chat == 0 {
		return "", "", errors.New("telegram: read chat: chat id missing")
	}
	return strconv.FormatInt(*u.UpdateID, 10), strconv.FormatInt(chat, 10), nil
}
