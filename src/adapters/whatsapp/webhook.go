package whatsapp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// SignatureHeader carries Meta's HMAC-SHA256 of the raw body: "sha256=<hex>".
const SignatureHeader = "X-Hub-Signature-256"

// MaxNotificationBytes caps a webhook request's body. Meta batches at most a
// few messages per notification; each is a few KiB at most.
const MaxNotificationBytes = 1 << 20

// ErrorWindowClosed is Meta's code for a free-form message outside the 24-hour
// customer-service window ("re-engagement message").
const ErrorWindowClosed = 131047

// Inbox is the part of messaging.Inbox the webhook uses (a group-committing
// inbox can stand in for it), and the client's message time with the message.
type Inbox interface {
	// Add stores a received message; the same channel and id twice is a no-op.
	Add(ctx context.Context, channel, updateID, chatID string, payload []byte, dead string) error
	// AddInbound stores a client's message as Add does and, in the same
	// transaction, records that the client of chatID wrote at at (the chat's
	// customer-service window; older times never replace newer ones, and a
	// redelivery records it again).
	AddInbound(ctx context.Context, channel, updateID, chatID string, payload []byte, at time.Time) error
}

// Windows records each chat's customer-service window. Its methods return errors
// with code core.EUnavailable or core.EInternal when the store fails.
type Windows interface {
	// Closed records that Meta refused a free-form message to chatID at at
	// because the window was closed.
	Closed(ctx context.Context, chatID string, at time.Time) error
	// Window returns the client's last message time and the last time the
	// window was reported closed (zero when never), and the conversation's
	// language ("" when unknown).
	Window(ctx context.Context, chatID string) (lastInbound, closedAt time.Time, lang string, err error)
}

// Deliveries records the delivery statuses of sent messages. Its methods return
// errors with code core.EUnavailable or core.EInternal when the store fails.
type Deliveries interface {
	// Status records one status of the message Meta knows as wamid and reports
	// whether it is new (a redelivered status is recorded once). resend marks a
	// failure after which the message must go again (the window had closed):
	// the send's record queues the copy when it comes after the status.
	Status(ctx context.Context, wamid, status string, code int, resend bool, at time.Time) (bool, error)
	// Resend queues the message Meta knows as wamid again, once however often
	// it is called; false when no such sent message is recorded (yet).
	Resend(ctx context.Context, wamid string) (bool, error)
}

// WebhookConfig configures a Webhook.
type WebhookConfig struct {
	Inbox      Inbox
	Windows    Windows
	Deliveries Deliveries
	// AppSecret signs every notification (X-Hub-Signature-256). Empty refuses
	// every notification, so a missing setting cannot open the webhook.
	AppSecret string
	// VerifyToken is what Meta's verification request must carry. Empty
	// refuses every verification.
	VerifyToken string
	// PhoneNumberID is our business number's id: a change of a notification
	// for any other number (value.metadata.phone_number_id; one Meta app can
	// serve several numbers) is acknowledged and not stored. Empty stores none.
	PhoneNumberID string
	Log           *slog.Logger     // nil logs nothing
	Now           func() time.Time // nil is time.Now; the time of a message without a timestamp
}

// Webhook receives Meta's notifications. It answers 200 only once what they
// carry is stored, so a notification Meta saw acknowledged is never lost; Meta
// redelivers on any other status (for days), and the inbox ignores a
// redelivered message, the statuses a redelivered status. Nothing else happens
// in the request: messages are handled later, in order with their chat's
// others.
//
// GET (verification): 200 with hub.challenge when hub.mode is subscribe and
// hub.verify_token matches (compared in constant time); 403 otherwise.
//
// POST:
//   - 413 for a body above MaxNotificationBytes (nothing stored);
//   - 401 when X-Hub-Signature-256 is missing or is not the HMAC-SHA256 of the
//     raw body with the app secret (compared with hmac.Equal; nothing stored);
//   - 200 for a signed body that is not a notification, or with parts that
//     cannot be read: it is stored as a dead letter under the hash of its bytes
//     (once, however often redelivered), and what can be read is stored too;
//   - 200 without storing it for a change (messages, statuses) of a business
//     number other than PhoneNumberID;
//   - 500 when the store fails (Meta redelivers), queuing the resend of a
//     message failed because the window had closed included.
//
// Each request is logged in one line with its status and counts, never with
// its body, a phone number, a wamid (it embeds the number) or a signature.
type Webhook struct {
	cfg    WebhookConfig
	secret []byte
	tagKey []byte // ChatTag and MessageTag, from the app secret
	log    *slog.Logger
}

var _ http.Handler = (*Webhook)(nil)

// NewWebhook returns the webhook handler (mount it at /whatsapp/webhook).
func NewWebhook(cfg WebhookConfig) *Webhook {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Webhook{cfg: cfg, secret: []byte(cfg.AppSecret), tagKey: TagKey(cfg.AppSecret), log: log}
}

// ServeHTTP answers a verification or stores a notification.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.verify(w, r)
	case http.MethodPost:
		status, msgs, statuses, skipped := h.receive(w, r)
		if status == http.StatusOK {
			w.WriteHeader(status)
		} else {
			http.Error(w, http.StatusText(status), status)
		}
		level := slog.LevelInfo
		if status != http.StatusOK {
			level = slog.LevelWarn
		}
		h.log.LogAttrs(r.Context(), level, "whatsapp webhook", slog.Int("status", status),
			slog.Int("messages", msgs), slog.Int("statuses", statuses), slog.Int("other_numbers", skipped))
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	}
}

// challenge is what a verification challenge may look like to be echoed: Meta
// sends a number; anything else is not echoed into a response.
var challenge = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

func (h *Webhook) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := []byte(q.Get("hub.verify_token"))
	ok := q.Get("hub.mode") == "subscribe" && h.cfg.VerifyToken != "" &&
		subtle.ConstantTimeCompare(token, []byte(h.cfg.VerifyToken)) == 1 && challenge.MatchString(q.Get("hub.challenge"))
	if !ok {
		h.log.Warn("whatsapp webhook verification refused")
		http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, q.Get("hub.challenge"))
	h.log.Info("whatsapp webhook verified")
}

// ValidSignature reports whether header (X-Hub-Signature-256) is the
// HMAC-SHA256 of body with secret, as "sha256=<hex>". An empty secret signs
// nothing.
func ValidSignature(secret, body []byte, header string) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(secret) == 0 || len(hexSum) != 2*sha256.Size {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 value of body: for the fake and tests.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// receive stores one notification and returns the status to answer, how many
// messages and statuses it held for our number, and how many it held for other
// numbers (skipped).
func (h *Webhook) receive(w http.ResponseWriter, r *http.Request) (status, msgs, statuses, skipped int) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNotificationBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return http.StatusRequestEntityTooLarge, 0, 0, 0
		}
		return http.StatusBadRequest, 0, 0, 0
	}
	if !ValidSignature(h.secret, body, r.Header.Get(SignatureHeader)) {
		return http.StatusUnauthorized, 0, 0, 0
	}
	ctx := r.Context()
	all, allStatuses, bad, err := Split(body)
	if err != nil || bad > 0 {
		reason := "undecodable"
		if err == nil {
			reason = "partly unreadable"
		}
		sum := sha256.Sum256(body)
		if h.cfg.Inbox.Add(ctx, Channel, "dead:"+hex.EncodeToString(sum[:])[:32], "", body, reason) != nil {
			return http.StatusInternalServerError, 0, 0, 0
		}
	}
	// Only our number's: another number's messages are not ours to answer.
	ours := func(number string) bool { return h.cfg.PhoneNumberID != "" && number == h.cfg.PhoneNumberID }
	var items []Item
	for _, it := range all {
		if ours(it.Number) {
			items = append(items, it)
		}
	}
	var sts []Status
	for _, st := range allStatuses {
		if ours(st.Number) {
			sts = append(sts, st)
		}
	}
	skipped = len(all) + len(allStatuses) - len(items) - len(sts)
	now := h.cfg.Now()
	for _, it := range items {
		at := it.At
		if at.IsZero() || at.After(now) {
			at = now
		}
		// The window with the message, in one transaction: once the message
		// is in the inbox a worker may answer it, and the answer must find
		// the window open. (Written apart, the window cost a commit per
		// request, outside the group commit.)
		if h.cfg.Inbox.AddInbound(ctx, Channel, it.WAMID, it.From, it.Payload, at) != nil {
			return http.StatusInternalServerError, len(items), len(sts), skipped
		}
	}
	for _, s := range sts {
		if !h.status(ctx, s, now) {
			return http.StatusInternalServerError, len(items), len(sts), skipped
		}
	}
	return http.StatusOK, len(items), len(sts), skipped
}

// status records one delivery status. A failure because the window had closed
// also marks the window closed and queues the message again (it then goes as
// the template): on every report of it, as the copy is made once however often
// it is asked for, and with the status recorded first so that a send recorded
// after this status still queues the copy (Deliveries.Status, resend). False
// when the store failed: the webhook answers 500 and Meta redelivers.
func (h *Webhook) status(ctx context.Context, s Status, now time.Time) bool {
	at := s.At
	if at.IsZero() {
		at = now
	}
	windowClosed := s.Status == "failed" && s.Code == ErrorWindowClosed && s.Chat != ""
	if windowClosed && h.cfg.Windows.Closed(ctx, s.Chat, at) != nil { // idempotent: first, so a redelivery redoes it
		return false
	}
	added, err := h.cfg.Deliveries.Status(ctx, s.WAMID, s.Status, s.Code, windowClosed, at)
	if err != nil {
		return false
	}
	if s.Status != "failed" {
		return true
	}
	msg := slog.String("message", MessageTag(h.tagKey, s.WAMID))
	if added {
		h.log.Warn("whatsapp message failed", msg, slog.Int("code", s.Code), slog.String("chat", ChatTag(h.tagKey, s.Chat)))
	}
	if !windowClosed {
		return true
	}
	found, err := h.cfg.Deliveries.Resend(ctx, s.WAMID)
	if err != nil {
		h.log.Warn("whatsapp: resend after a closed window failed; answered 500 for a redelivery", msg, slog.String("error", err.Error()))
		return false
	}
	if !found {
		h.log.Info("whatsapp: window-closed failure before its send is recorded: the copy is queued when it is", msg)
	}
	return true
}
