package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"salonbook/src/core/messaging"
)

// Channel is the name the Telegram channel goes by in the inbox and outbox.
const Channel = "telegram"

// SecretHeader is the header in which Telegram sends the webhook's secret_token.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// MaxUpdateBytes caps a webhook request's body. Updates with text and a
// keyboard are a few KiB; Telegram's text limit keeps them far below this.
const MaxUpdateBytes = 1 << 20

// Webhook receives Telegram's updates. It answers 200 only once the update is
// stored in the inbox, so an update Telegram saw acknowledged is never lost;
// Telegram redelivers on any other status, and the inbox ignores a redelivery.
// Nothing else happens in the request: the update is handled later, in order
// with its chat's others.
//
//   - 405 for a method other than POST;
//   - 401 when the secret header is missing or wrong (nothing is read or stored);
//   - 413 for a body above MaxUpdateBytes;
//   - 200 for a body that is not an update of a chat: it is stored as a dead
//     letter under the hash of its bytes, so it never blocks a chat, is kept
//     for inspection and, redelivered, is stored once;
//   - 500 when the inbox fails.
//
// Each request is logged in one line with its status and update id, never with
// its body.
type Webhook struct {
	inbox    Store
	secret   []byte
	log      *slog.Logger
	checkout *checkout // answers pre-checkout queries; nil: they are dead letters
}

var _ http.Handler = (*Webhook)(nil)

// Store is what the webhook stores updates into: messaging.Inbox's Add, or a
// group commit of the inbox (pipeline.GroupCommit) that writes the rows of
// concurrent requests together. Add returns once the row is durable.
type Store interface {
	Add(ctx context.Context, channel, updateID, chatID string, payload []byte, dead string) error
}

var _ Store = messaging.Inbox(nil)

// NewWebhook returns the webhook handler storing into inbox. secret is the
// secret_token the webhook was registered with (see RegisterWebhook); an empty
// secret refuses every request, so a missing setting cannot open the webhook to
// anyone. A nil log logs nothing.
func NewWebhook(inbox Store, secret string, log *slog.Logger, opts ...WebhookOption) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Webhook{inbox: inbox, secret: []byte(secret), log: log}
	for _, o := range opts {
		o(h)
	}
	return h
}

// ServeHTTP stores one update.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, update := h.serve(w, r)
	switch status {
	case http.StatusOK:
		w.WriteHeader(status)
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, http.StatusText(status), status)
	default:
		http.Error(w, http.StatusText(status), status)
	}
	level := slog.LevelInfo
	if status != http.StatusOK {
		level = slog.LevelWarn
	}
	h.log.LogAttrs(r.Context(), level, "telegram webhook", slog.Int("status", status), slog.String("update", update))
}

// serve does the work and returns the status to answer and the update id to
// log ("" when there is none).
func (h *Webhook) serve(w http.ResponseWriter, r *http.Request) (status int, update string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, ""
	}
	got := []byte(r.Header.Get(SecretHeader))
	if len(h.secret) == 0 || subtle.ConstantTimeCompare(got, h.secret) != 1 {
		return http.StatusUnauthorized, ""
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxUpdateBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return http.StatusRequestEntityTooLarge, ""
		}
		return http.StatusBadRequest, ""
	}

	if q, ok := preCheckoutOf(body); ok && h.checkout != nil {
		// Answered here and now: Telegram waits at most 10 s, however long the
		// inbox's queue. Nothing is stored; a failed answer gets 500, and
		// Telegram asks again.
		update = "pre_checkout:" + q.UpdateID
		if _, err := h.checkout.answer(r.Context(), q); err != nil {
			h.log.Warn("telegram pre-checkout not answered", slog.String("update", update), slog.String("error", err.Error()))
			return http.StatusInternalServerError, update
		}
		return http.StatusOK, update
	}
	updateID, chatID, err := ChatOf(body)
	if err != nil {
		sum := sha256.Sum256(body)
		update = "dead:" + hex.EncodeToString(sum[:])[:16]
		if h.inbox.Add(r.Context(), Channel, update, "", body, "undecodable") != nil {
			return http.StatusInternalServerError, update
		}
		return http.StatusOK, update
	}
	if h.inbox.Add(r.Context(), Channel, updateID, chatID, body, "") != nil {
		return http.StatusInternalServerError, updateID
	}
	return http.StatusOK, updateID
}
