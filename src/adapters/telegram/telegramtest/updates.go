package telegramtest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"
)

// retention is how long Telegram keeps an update nobody fetched.
const retention = 24 * time.Hour

type queued struct {
	id  int64
	raw json.RawMessage
	at  time.Time
}

type callback struct {
	at       time.Time
	answered bool
}

// updateShape is the part of an update the server learns from: which chats,
// messages and callback queries exist.
type updateShape struct {
	UpdateID      int64         `json:"update_id"`
	Message       *messageShape `json:"message"`
	EditedMessage *messageShape `json:"edited_message"`
	CallbackQuery *struct {
		ID      string        `json:"id"`
		Message *messageShape `json:"message"`
	} `json:"callback_query"`
	PreCheckoutQuery *struct {
		ID string `json:"id"`
	} `json:"pre_checkout_query"`
}

type messageShape struct {
	MessageID int64 `json:"message_id"`
	From      *struct {
		IsBot bool `json:"is_bot"`
	} `json:"from"`
	Chat        json.RawMessage `json:"chat"`
	Date        int64           `json:"date"`
	Text        string          `json:"text"`
	ReplyMarkup json.RawMessage `json:"reply_markup"`
}

// registerLocked records what an update shows: the chat, the message (a user's
// message moves the chat's message numbering on; a callback's message is the
// bot's and becomes editable if the server did not send it itself), and the
// callback query id, which becomes answerable.
func (s *Server) registerLocked(u *updateShape, now time.Time) {
	for _, m := range []*messageShape{u.Message, u.EditedMessage} {
		if m != nil {
			s.registerMessageLocked(m, m.From != nil && m.From.IsBot)
		}
	}
	if pq := u.PreCheckoutQuery; pq != nil && pq.ID != "" {
		s.registerPreCheckoutLocked(pq.ID, now)
	}
	if cq := u.CallbackQuery; cq != nil {
		if cq.ID != "" && s.callbacks[cq.ID] == nil {
			s.callbacks[cq.ID] = &callback{at: now}
		}
		if cq.Message != nil {
			s.registerMessageLocked(cq.Message, true)
		}
	}
}

func (s *Server) registerMessageLocked(m *messageShape, fromBot bool) {
	var ch struct {
		ID int64 `json:"id"`
	}
	if json.Unmarshal(m.Chat, &ch) != nil || ch.ID == 0 {
		return
	}
	c := s.chatLocked(ch.ID)
	if !fromBot {
		c.info = append(json.RawMessage(nil), m.Chat...)
	}
	if m.MessageID <= 0 {
		return
	}
	c.lastID = max(c.lastID, m.MessageID)
	if c.messages[m.MessageID] != nil {
		return
	}
	_, markup, _ := parseMarkup(string(m.ReplyMarkup))
	c.messages[m.MessageID] = &storedMessage{
		id: m.MessageID, fromBot: fromBot, source: m.Text, text: m.Text, markup: markup, date: m.Date,
	}
}

// Enqueue adds an update to the queue getUpdates serves, and makes its callback
// query answerable. The update must be a JSON object with a positive update_id
// that is neither queued nor already confirmed.
func (s *Server) Enqueue(update []byte) error {
	var u updateShape
	if err := json.Unmarshal(update, &u); err != nil {
		return fmt.Errorf("telegramtest: enqueue: %w", err)
	}
	if u.UpdateID <= 0 {
		return errors.New("telegramtest: enqueue: update_id missing or not positive")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, update); err != nil {
		return fmt.Errorf("telegramtest: enqueue: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if u.UpdateID < s.confirmed {
		return fmt.Errorf("telegramtest: enqueue: update %d is below the confirmed offset %d", u.UpdateID, s.confirmed)
	}
	i, found := slices.BinarySearchFunc(s.queue, u.UpdateID, func(q queued, id int64) int {
		return cmp.Compare(q.id, id)
	})
	if found {
		return fmt.Errorf("telegramtest: enqueue: update %d is already queued", u.UpdateID)
	}
	now := s.now()
	s.registerLocked(&u, now)
	s.queue = slices.Insert(s.queue, i, queued{id: u.UpdateID, raw: compact.Bytes(), at: now})
	s.notifyLocked()
	return nil
}

// confirmLocked applies getUpdates' offset: a positive offset confirms (drops)
// every update below it; a negative one keeps only the last -offset updates.
func (s *Server) confirmLocked(offset int64, now time.Time) {
	s.queue = slices.DeleteFunc(s.queue, func(q queued) bool { return now.Sub(q.at) > retention })
	switch {
	case offset > 0:
		s.confirmed = max(s.confirmed, offset)
		s.queue = slices.DeleteFunc(s.queue, func(q queued) bool { return q.id < offset })
	case offset < 0:
		if keep := int(-offset); keep < len(s.queue) {
			s.confirmed = max(s.confirmed, s.queue[len(s.queue)-keep].id)
			s.queue = slices.Delete(s.queue, 0, len(s.queue)-keep)
		}
	}
}

func (s *Server) pendingLocked(limit int) []json.RawMessage {
	n := min(limit, len(s.queue))
	out := make([]json.RawMessage, n)
	for i := range n {
		out[i] = s.queue[i].raw
	}
	return out
}

// getUpdates serves the queue. With a timeout and nothing pending it waits, in
// real time, until an update is queued, the timeout passes or the client goes.
// A second getUpdates ends a waiting one with 409, as Telegram does when two bot
// instances poll.
func (s *Server) getUpdates(ctx context.Context, p params) reply {
	offset, _, _ := p.int64("offset")
	limit, present, valid := p.int64("limit")
	if !present || !valid || limit > 100 {
		limit = 100
	}
	limit = max(limit, 1)
	// Telegram documents no maximum; an hour keeps the Duration from overflowing.
	timeout, _, _ := p.int64("timeout")
	timeout = min(timeout, 3600)

	s.mu.Lock()
	if s.webhook.url != "" {
		s.mu.Unlock()
		return failReply(http.StatusConflict, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
	}
	if s.poll != nil {
		close(s.poll)
	}
	mine := make(chan struct{})
	s.poll = mine
	defer func() {
		s.mu.Lock()
		if s.poll == mine {
			s.poll = nil
		}
		s.mu.Unlock()
	}()
	s.confirmLocked(offset, s.now())

	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		expired = t.C
	}
	for {
		ups := s.pendingLocked(int(limit))
		if len(ups) > 0 || expired == nil {
			s.mu.Unlock()
			return okReply(ups)
		}
		wake := s.changed
		s.mu.Unlock()
		select {
		case <-wake:
		case <-mine:
			return failReply(http.StatusConflict, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
		case <-expired:
			expired = nil
		case <-ctx.Done():
			return okReply([]json.RawMessage{})
		case <-s.closed:
			return okReply([]json.RawMessage{})
		}
		s.mu.Lock()
	}
}

// maxAnswerText is answerCallbackQuery's text limit in characters.
const maxAnswerText = 200

const queryInvalid = "Bad Request: query is too old and response timeout expired or query ID is invalid"

func (s *Server) answerCallbackQuery(_ context.Context, p params) reply {
	id := p["callback_query_id"]
	if utf8.RuneCountInString(p["text"]) > maxAnswerText {
		return badRequest("Bad Request: MESSAGE_TOO_LONG")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[id]
	if cb == nil || cb.answered || (s.callbackTTL > 0 && s.now().Sub(cb.at) > s.callbackTTL) {
		return badRequest(queryInvalid)
	}
	cb.answered = true
	s.answered = append(s.answered, id)
	s.stats.Answered++
	return okReply(true)
}

// Answered returns the ids of the callback queries answered so far, in order.
func (s *Server) Answered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.answered...)
}
