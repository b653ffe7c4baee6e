package telegramtest

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// User is a Telegram user as updates show it.
type User struct {
	ID           int64
	FirstName    string
	Username     string
	LanguageCode string
}

type userJSON struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

// botJSON is getMe's answer.
type botJSON struct {
	ID                      int64  `json:"id"`
	IsBot                   bool   `json:"is_bot"`
	FirstName               string `json:"first_name"`
	Username                string `json:"username"`
	CanJoinGroups           bool   `json:"can_join_groups"`
	CanReadAllGroupMessages bool   `json:"can_read_all_group_messages"`
	SupportsInlineQueries   bool   `json:"supports_inline_queries"`
}

// newBot describes the bot a token belongs to; its id is the token's numeric part.
func newBot(token, firstName, username string) botJSON {
	id, _ := strconv.ParseInt(strings.SplitN(token, ":", 2)[0], 10, 64)
	b := botJSON{ID: id, IsBot: true, FirstName: firstName, Username: username, CanJoinGroups: true}
	if b.FirstName == "" {
		b.FirstName = "SalonBot"
	}
	if b.Username == "" {
		b.Username = "salonbook_bot"
	}
	return b
}

func (b botJSON) user() userJSON {
	return userJSON{ID: b.ID, IsBot: true, FirstName: b.FirstName, Username: b.Username}
}

type chatJSON struct {
	ID        int64  `json:"id"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	Type      string `json:"type"`
}

type entityJSON struct {
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	Type   string `json:"type"`
}

type messageJSON struct {
	MessageID   int64           `json:"message_id"`
	From        *userJSON       `json:"from,omitempty"`
	Chat        json.RawMessage `json:"chat"`
	Date        int64           `json:"date"`
	EditDate    int64           `json:"edit_date,omitempty"`
	Text        string          `json:"text,omitempty"`
	Entities    []entityJSON    `json:"entities,omitempty"`
	ReplyMarkup json.RawMessage `json:"reply_markup,omitempty"`
	// Payments (payments.go).
	Invoice           *invoiceJSON           `json:"invoice,omitempty"`
	SuccessfulPayment *successfulPaymentJSON `json:"successful_payment,omitempty"`
}

type callbackJSON struct {
	ID           string       `json:"id"`
	From         userJSON     `json:"from"`
	Message      *messageJSON `json:"message,omitempty"`
	ChatInstance string       `json:"chat_instance"`
	Data         string       `json:"data,omitempty"`
}

type updateJSON struct {
	UpdateID         int64            `json:"update_id"`
	Message          *messageJSON     `json:"message,omitempty"`
	CallbackQuery    *callbackJSON    `json:"callback_query,omitempty"`
	PreCheckoutQuery *preCheckoutJSON `json:"pre_checkout_query,omitempty"`
}

func (u User) json() userJSON {
	return userJSON{ID: u.ID, FirstName: u.FirstName, Username: u.Username, LanguageCode: u.LanguageCode}
}

// chatFor is the chat object of an update: a private chat with the user for a
// positive id, a group otherwise.
func chatFor(chatID int64, from User) json.RawMessage {
	c := defaultChat(chatID)
	if chatID > 0 {
		c.FirstName, c.Username = from.FirstName, from.Username
	}
	raw, _ := json.Marshal(c)
	return raw
}

func mustJSON(u updateJSON) []byte {
	raw, err := json.Marshal(u)
	if err != nil {
		panic("telegramtest: " + err.Error()) // only fixed struct types are marshalled
	}
	return raw
}

// TextUpdate is the update Telegram sends when from writes text in chatID. Its
// message_id is updateID (the builders hold no state; ids only need to be unique)
// and its date is now. Text starting with '/' gets a bot_command entity, as
// Telegram adds one.
func TextUpdate(updateID, chatID int64, from User, text string) []byte {
	f := from.json()
	m := &messageJSON{
		MessageID: updateID, From: &f, Chat: chatFor(chatID, from), Date: time.Now().Unix(), Text: text,
	}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		m.Entities = []entityJSON{{Offset: 0, Length: len(utf16.Encode([]rune(cmd))), Type: "bot_command"}}
	}
	return mustJSON(updateJSON{UpdateID: updateID, Message: m})
}

// CommandUpdate is a command message such as "/start" or "/start promo"; the
// leading '/' is added when missing. The bot_command entity covers the command.
func CommandUpdate(updateID, chatID int64, from User, command string) []byte {
	if !strings.HasPrefix(command, "/") {
		command = "/" + command
	}
	return TextUpdate(updateID, chatID, from, command)
}

// CallbackUpdate is the update Telegram sends when from presses a callback
// button carrying data on the bot's message messageID in chatID. The message is
// the bot's (DefaultToken's bot); it carries no text, since the builder cannot
// know it: use CallbackUpdateOn to press a button of a recorded message.
func CallbackUpdate(updateID, chatID int64, from User, messageID int64, callbackID, data string) []byte {
	bot := newBot(DefaultToken, "", "").user()
	m := &messageJSON{MessageID: messageID, From: &bot, Chat: chatFor(chatID, from), Date: time.Now().Unix()}
	return mustJSON(updateJSON{UpdateID: updateID, CallbackQuery: &callbackJSON{
		ID: callbackID, From: from.json(), Message: m, ChatInstance: chatInstance(chatID), Data: data,
	}})
}

// CallbackUpdateOn is CallbackUpdate for a message the server recorded: the
// callback's message has that message's id, chat, date, text and keyboard.
func CallbackUpdateOn(updateID int64, from User, m SentMessage, callbackID, data string) []byte {
	bot := newBot(DefaultToken, "", "").user()
	msg := &messageJSON{
		MessageID: m.MessageID, From: &bot, Chat: chatFor(m.ChatID, from), Date: m.Time.Unix(), Text: m.Text,
	}
	if m.Keyboard != nil {
		rows := make([][]map[string]string, len(m.Keyboard))
		for i, row := range m.Keyboard {
			for _, b := range row {
				btn := map[string]string{"text": b.Text}
				if b.CallbackData != "" {
					btn["callback_data"] = b.CallbackData
				}
				if b.URL != "" {
					btn["url"] = b.URL
				}
				rows[i] = append(rows[i], btn)
			}
		}
		msg.ReplyMarkup, _ = json.Marshal(map[string]any{"inline_keyboard": rows})
	}
	return mustJSON(updateJSON{UpdateID: updateID, CallbackQuery: &callbackJSON{
		ID: callbackID, From: from.json(), Message: msg, ChatInstance: chatInstance(m.ChatID), Data: data,
	}})
}

// chatInstance is a stable stand-in for Telegram's opaque chat_instance.
func chatInstance(chatID int64) string {
	return strconv.FormatInt(-(chatID*7919 + 1234567), 10)
}
