package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// chat is what the server knows about one chat.
type chat struct {
	id int64
	// info is the chat object echoed in messages: as last seen in an update, or
	// made up from the id.
	info json.RawMessage
	// lastID is the highest message id used in the chat. Telegram numbers a
	// private chat's messages in one sequence for both sides.
	lastID      int64
	messages    map[int64]*storedMessage
	sent        []int         // indexes into Server.sent
	changed     chan struct{} // closed when a message is recorded here (WaitSentTo); nil while no one waits
	bucket      bucket
	groupBucket bucket
}

type storedMessage struct {
	id      int64
	fromBot bool
	source  string // text as the bot sent it, before parse_mode
	text    string // text as Telegram stores it
	markup  json.RawMessage
	// replyMarkup: sent with a markup other than an inline keyboard (a reply
	// keyboard, remove_keyboard, force_reply): Telegram edits such a message
	// no more ("message can't be edited").
	replyMarkup bool
	date        int64
	editDate    int64
}

func (s *Server) chatLocked(id int64) *chat {
	c := s.chats[id]
	if c == nil {
		c = &chat{id: id, messages: map[int64]*storedMessage{}}
		c.info, _ = json.Marshal(defaultChat(id))
		s.chats[id] = c
	}
	return c
}

// defaultChat is the chat object for a chat the server has seen no update from.
// Supergroup ids start at -1000000000000.
func defaultChat(id int64) chatJSON {
	switch {
	case id > 0:
		return chatJSON{ID: id, Type: "private"}
	case id <= -1000000000000:
		return chatJSON{ID: id, Title: "Salon group", Type: "supergroup"}
	default:
		return chatJSON{ID: id, Title: "Salon group", Type: "group"}
	}
}

func (s *Server) messageLocked(c *chat, m *storedMessage) messageJSON {
	bot := s.bot.user()
	return messageJSON{
		MessageID: m.id, From: &bot, Chat: c.info, Date: m.date, EditDate: m.editDate,
		Text: m.text, ReplyMarkup: m.markup,
	}
}

// blockedLocked returns the 403 for a chat that blocked the bot.
func (s *Server) blockedLocked(chatID int64) (reply, bool) {
	if !s.blocked[chatID] {
		return reply{}, false
	}
	if chatID < 0 {
		return failReply(http.StatusForbidden, "Forbidden: bot was kicked from the group chat"), true
	}
	return failReply(http.StatusForbidden, "Forbidden: bot was blocked by the user"), true
}

func (s *Server) sendMessage(_ context.Context, p params) reply {
	chatID, rep := p.chatID()
	if rep.status != 0 {
		return rep
	}
	text, desc := storedText(p["text"], p["parse_mode"])
	if desc != "" {
		return badRequest(desc)
	}
	kb, markup, desc := parseMarkup(p["reply_markup"])
	if desc != "" {
		return badRequest(desc)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if rep, blocked := s.blockedLocked(chatID); blocked {
		return rep
	}
	now := s.now()
	c := s.chatLocked(chatID)
	if rep, ok := s.admitLocked(c, now); !ok {
		return rep
	}
	c.lastID++
	other := otherMarkup(kb, p["reply_markup"])
	m := &storedMessage{id: c.lastID, fromBot: true, source: p["text"], text: text, markup: markup, replyMarkup: other != "", date: now.Unix()}
	c.messages[m.id] = m
	s.recordLocked(c, SentMessage{
		Method: "sendMessage", ChatID: chatID, MessageID: m.id, Text: text,
		ParseMode: p["parse_mode"], Keyboard: kb, Markup: other, RemovesKeyboard: removesKeyboard(other), Time: now,
	})
	s.stats.Sent++
	return okReply(s.messageLocked(c, m))
}

func (s *Server) editMessageText(_ context.Context, p params) reply {
	if p["inline_message_id"] != "" {
		// Inline messages belong to inline mode, which the fake does not serve.
		return badRequest("Bad Request: MESSAGE_ID_INVALID")
	}
	chatID, rep := p.chatID()
	if rep.status != 0 {
		return rep
	}
	messageID, present, valid := p.int64("message_id")
	if !present {
		return badRequest("Bad Request: message identifier is not specified")
	}
	if !valid {
		return badRequest("Bad Request: message to edit not found")
	}
	text, desc := storedText(p["text"], p["parse_mode"])
	if desc != "" {
		return badRequest(desc)
	}
	kb, markup, desc := parseMarkup(p["reply_markup"])
	if desc != "" {
		return badRequest(desc)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if rep, blocked := s.blockedLocked(chatID); blocked {
		return rep
	}
	c := s.chats[chatID]
	var m *storedMessage
	if c != nil {
		m = c.messages[messageID]
	}
	switch {
	case m == nil:
		return badRequest("Bad Request: message to edit not found")
	case !m.fromBot, m.replyMarkup:
		return badRequest("Bad Request: message can't be edited")
	case m.text == text && m.source == p["text"] && bytes.Equal(m.markup, markup):
		// Without reply_markup an edit removes the keyboard, so "same markup"
		// includes "none before, none now".
		s.stats.NotModified++
		return badRequest("Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	now := s.now()
	if rep, ok := s.admitLocked(c, now); !ok {
		return rep
	}
	m.source, m.text, m.markup, m.editDate = p["text"], text, markup, now.Unix()
	s.recordLocked(c, SentMessage{
		Method: "editMessageText", ChatID: chatID, MessageID: m.id, Text: text,
		ParseMode: p["parse_mode"], Keyboard: kb, Time: now,
	})
	s.stats.Edited++
	return okReply(s.messageLocked(c, m))
}

// Button is one inline keyboard button as the bot sent it.
type Button struct {
	Text         string
	CallbackData string
	URL          string
}

// actionFields are the InlineKeyboardButton fields of which a button must have
// one; a button with only a text is refused.
var actionFields = []string{
	"url", "callback_data", "web_app", "login_url", "switch_inline_query",
	"switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
	"copy_text", "callback_game", "pay",
}

// parseMarkup checks reply_markup. For an inline keyboard it returns the buttons
// and the markup as the Message echoes it; other markups (reply keyboards,
// remove_keyboard, force_reply) are accepted and, as in Telegram, not echoed.
// desc is a Bad Request description.
func parseMarkup(raw string) (kb [][]Button, echo json.RawMessage, desc string) {
	raw = string(bytes.TrimSpace([]byte(raw)))
	if raw == "" || raw == "null" {
		return nil, nil, ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &m) != nil {
		return nil, nil, "Bad Request: can't parse reply keyboard markup JSON object"
	}
	rawKB, ok := m["inline_keyboard"]
	if !ok {
		return nil, nil, ""
	}
	var rows [][]map[string]json.RawMessage
	if json.Unmarshal(rawKB, &rows) != nil {
		return nil, nil, `Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays`
	}
	kb = make([][]Button, 0, len(rows))
	for _, row := range rows {
		out := make([]Button, 0, len(row))
		for _, b := range row {
			btn, desc := parseButton(b)
			if desc != "" {
				return nil, nil, desc
			}
			out = append(out, btn)
		}
		kb = append(kb, out)
	}
	echo, _ = json.Marshal(map[string]any{"inline_keyboard": rows})
	return kb, echo, ""
}

// removesKeyboard reports whether markup (otherMarkup's) is a
// ReplyKeyboardRemove: {"remove_keyboard": true}.
func removesKeyboard(markup string) bool {
	var m struct {
		Remove bool `json:"remove_keyboard"`
	}
	return markup != "" && json.Unmarshal([]byte(markup), &m) == nil && m.Remove
}

// otherMarkup is raw unless it is empty or an inline keyboard (kb).
func otherMarkup(kb [][]Button, raw string) string {
	if raw = strings.TrimSpace(raw); kb != nil || raw == "" || raw == "null" {
		return ""
	}
	return raw
}

// parseButton checks one inline button and drops an empty copy_text from it:
// go-telegram sends `"copy_text":{"text":""}` on every button (a struct field
// with omitempty), and Telegram evidently ignores it.
func parseButton(b map[string]json.RawMessage) (Button, string) {
	var btn Button
	if json.Unmarshal(b["text"], &btn.Text) != nil {
		return btn, `Bad Request: can't parse inline keyboard button: Field "text" must be of type String`
	}
	if btn.Text == "" {
		return btn, "Bad Request: BUTTON_TEXT_EMPTY"
	}
	if ct, ok := b["copy_text"]; ok {
		var v struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(ct, &v) == nil && v.Text == "" {
			delete(b, "copy_text")
		}
	}
	if rawData, ok := b["callback_data"]; ok {
		if json.Unmarshal(rawData, &btn.CallbackData) != nil {
			return btn, `Bad Request: can't parse inline keyboard button: Field "callback_data" must be of type String`
		}
		// The limit is 64 bytes, not characters: Cyrillic takes two bytes each.
		if n := len(btn.CallbackData); n < 1 || n > 64 {
			return btn, "Bad Request: BUTTON_DATA_INVALID"
		}
	}
	if rawURL, ok := b["url"]; ok {
		if json.Unmarshal(rawURL, &btn.URL) != nil || btn.URL == "" {
			return btn, "Bad Request: BUTTON_URL_INVALID"
		}
	}
	for _, f := range actionFields {
		if _, ok := b[f]; ok {
			return btn, ""
		}
	}
	return btn, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
}

// SentMessage is one message the bot sent (Method "sendMessage", or
// "sendInvoice" with its Invoice) or edited (Method "editMessageText"), as
// Telegram stored it.
type SentMessage struct {
	Method    string
	ChatID    int64
	MessageID int64
	// Text is the text after parse_mode was applied and surrounding white space
	// trimmed, as Telegram stores it.
	Text      string
	ParseMode string
	// Keyboard is the inline keyboard, nil when the message has none.
	Keyboard [][]Button
	// Markup is reply_markup as sent when it is not an inline keyboard (a
	// reply keyboard such as a contact request, remove_keyboard, force_reply),
	// which the message does not echo but the client's screen shows.
	Markup string
	// RemovesKeyboard: Markup is {"remove_keyboard": true}, which takes the
	// chat's reply keyboard away from under the input field.
	RemovesKeyboard bool
	Time            time.Time
	// Invoice is the invoice of a message sent with sendInvoice; nil otherwise.
	Invoice *Invoice
}

func (s *Server) recordLocked(c *chat, m SentMessage) {
	c.sent = append(c.sent, len(s.sent))
	s.sent = append(s.sent, m)
	s.notifyLocked()
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// Sent returns every message sent or edited so far, in order.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.sent...)
}

// SentTo returns the messages sent or edited in one chat, in order. It costs
// what that chat holds, not what the server holds, so load tests can poll it.
func (s *Server) SentTo(chatID int64) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	out := make([]SentMessage, len(c.sent))
	for i, j := range c.sent {
		out[i] = s.sent[j]
	}
	return out
}

// WaitSentTo blocks until at least n messages were sent or edited in chatID,
// or ctx ends, and returns how many there are and the last. Only that chat's
// waiters wake (a load test's thousand clients waiting on WaitSent would all
// wake at every message).
func (s *Server) WaitSentTo(ctx context.Context, chatID int64, n int) (int, SentMessage, error) {
	for {
		s.mu.Lock()
		c := s.chatLocked(chatID)
		if len(c.sent) >= n && len(c.sent) > 0 {
			m := s.sent[c.sent[len(c.sent)-1]]
			k := len(c.sent)
			s.mu.Unlock()
			return k, m, nil
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		wake := c.changed
		s.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return 0, SentMessage{}, ctx.Err()
		}
	}
}

// WaitSent blocks until at least n messages were sent or edited and returns them
// all; when ctx ends first it returns what there is and ctx's error.
func (s *Server) WaitSent(ctx context.Context, n int) ([]SentMessage, error) {
	for {
		s.mu.Lock()
		if len(s.sent) >= n {
			out := append([]SentMessage(nil), s.sent...)
			s.mu.Unlock()
			return out, nil
		}
		wake := s.changed
		s.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return s.Sent(), ctx.Err()
		}
	}
}

// Block makes sends and edits to chatID answer 403, as when the user blocked the
// bot (or, for a group, the bot was removed).
func (s *Server) Block(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[chatID] = true
}

// Unblock undoes Block.
func (s *Server) Unblock(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.blocked, chatID)
}

// Stats counts what the server did.
type Stats struct {
	Requests        int // calls with the right token and a known method
	Sent            int // messages sent
	Edited          int // messages edited
	NotModified     int // edits to what the message already showed (400, also in BadRequests)
	Answered        int // callback queries answered
	TooManyRequests int // 429s from the flood limits
	Forbidden       int // 403s to chats that blocked the bot
	BadRequests     int // 400s
	Injected        int // failures from FailNext
	Delivered       int // webhook requests that got an HTTP answer, of any status
	// Payments (payments.go).
	Invoices             int // invoices sent (counted in Sent too)
	PreCheckoutsAnswered int // pre-checkout queries answered in time
	Payments             int // successful payments delivered
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// String helps test failure messages.
func (m SentMessage) String() string {
	return m.Method + " " + strconv.FormatInt(m.ChatID, 10) + "/" + strconv.FormatInt(m.MessageID, 10) + ": " + strconv.Quote(m.Text)
}
