package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v82"

	"salonbook/src/core"
)

// SignatureHeader is the header Stripe signs its webhook deliveries in.
const SignatureHeader = "Stripe-Signature"

// MaxEventBytes caps a delivery's body: a Checkout Session event is a few
// KiB; Stripe's own examples cap at 64 KiB.
const MaxEventBytes = 64 << 10

// Paid is a Checkout Session paid (checkout.session.completed with
// payment_status paid, or checkout.session.async_payment_succeeded).
type Paid struct {
	EventID       string
	SessionID     string
	PaymentIntent string // "" when the session has none (then the session is the charge)
	BookingID     string
	Amount        core.Money // currency upper-case, as the salon's
}

// Expired is a Checkout Session that closed unpaid (checkout.session.expired).
type Expired struct {
	EventID   string
	SessionID string
	BookingID string
}

// Events is what verified events are handed to. An error answers 500, and
// Stripe delivers the event again (newly signed).
type Events interface {
	Paid(ctx context.Context, p Paid) error
	Expired(ctx context.Context, e Expired) error
}

// Deliveries remembers signed deliveries, so that one replayed (the same
// event with the same signature, inside the tolerance) is refused, while
// Stripe's own retries, signed anew, go through.
type Deliveries interface {
	// Fresh records the delivery of eventID signed at signedAt; false when one
	// signed at that time or later was recorded before.
	Fresh(ctx context.Context, eventID string, signedAt time.Time) (bool, error)
}

// Webhook is /stripe/webhook:
//
//   - 405 for a method other than POST; 413 for a body above MaxEventBytes;
//   - 400 when Stripe-Signature is missing or malformed (also: more than one
//     t=), when no v1 signature is the HMAC-SHA256 of "t.body" with the
//     endpoint's secret, when t is more than Tolerance old or ahead, and when
//     the same signed delivery comes again:
//     nothing is stored for any of them;
//   - 200 for a verified event of another salon, or of a type not listened to;
//   - otherwise the event is handed on: 200 once handled, 500 when that
//     failed (Stripe retries).
//
// Each request is logged in one line: status, event type and id (no body, no
// header, no address).
type Webhook struct {
	secret  string
	salonID string
	events  Events
	seen    Deliveries
	log     *slog.Logger
}

var _ http.Handler = (*Webhook)(nil)

// NewWebhook returns the webhook of the endpoint signed with secret (whsec_…;
// empty refuses everything), for the salon salonID.
func NewWebhook(secret, salonID string, events Events, seen Deliveries, log *slog.Logger) *Webhook {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Webhook{secret: secret, salonID: salonID, events: events, seen: seen, log: log}
}

// eventShape is what the webhook reads of an event.
type eventShape struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Object struct {
			ID                string            `json:"id"`
			Object            string            `json:"object"`
			PaymentStatus     string            `json:"payment_status"`
			PaymentIntent     json.RawMessage   `json:"payment_intent"` // an id, an expanded object or null
			AmountTotal       int64             `json:"amount_total"`
			Currency          string            `json:"currency"`
			ClientReferenceID string            `json:"client_reference_id"`
			Metadata          map[string]string `json:"metadata"`
		} `json:"object"`
	} `json:"data"`
}

// ServeHTTP handles one delivery.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, ev, why := h.serve(w, r)
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	if status == http.StatusOK {
		w.WriteHeader(status)
	} else {
		http.Error(w, http.StatusText(status), status)
	}
	level := slog.LevelInfo
	if status != http.StatusOK {
		level = slog.LevelWarn
	}
	h.log.LogAttrs(r.Context(), level, "stripe webhook", slog.Int("status", status), slog.String("event", ev.ID),
		slog.String("type", ev.Type), slog.String("reason", why))
}

func (h *Webhook) serve(w http.ResponseWriter, r *http.Request) (int, eventShape, string) {
	var ev eventShape
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, ev, "method"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEventBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return http.StatusRequestEntityTooLarge, ev, "too large"
		}
		return http.StatusBadRequest, ev, "unreadable"
	}
	header := r.Header.Get(SignatureHeader)
	if h.secret == "" {
		return http.StatusBadRequest, ev, "no secret configured"
	}
	if err := stripego.ValidatePayload(body, header, h.secret, stripego.WithTolerance(Tolerance)); err != nil {
		return http.StatusBadRequest, ev, signatureProblem(err)
	}
	signedAt, ok := signedAt(header)
	if !ok {
		return http.StatusBadRequest, ev, "invalid header"
	}
	if signedAt.After(time.Now().Add(Tolerance)) {
		// stripe-go checks only the past: a delivery signed ahead would
		// outlive the replay check's window.
		return http.StatusBadRequest, ev, "from the future"
	}
	if json.Unmarshal(body, &ev) != nil || ev.ID == "" || ev.Type == "" {
		return http.StatusBadRequest, ev, "not an event"
	}
	fresh, err := h.seen.Fresh(r.Context(), ev.ID, signedAt)
	switch {
	case err != nil:
		return http.StatusInternalServerError, ev, "deliveries: " + string(core.ErrorCode(err))
	case !fresh:
		return http.StatusBadRequest, ev, "replayed"
	}
	s := ev.Data.Object
	if s.Object != "checkout.session" || s.Metadata[MetaSalon] != h.salonID || s.Metadata[MetaBooking] == "" {
		return http.StatusOK, ev, "not ours"
	}
	var handled error
	switch {
	case ev.Type == "checkout.session.completed" && s.PaymentStatus == "paid",
		ev.Type == "checkout.session.async_payment_succeeded":
		p := Paid{EventID: ev.ID, SessionID: s.ID, PaymentIntent: intentID(s.PaymentIntent), BookingID: s.Metadata[MetaBooking],
			Amount: core.Money{Minor: s.AmountTotal, Currency: strings.ToUpper(s.Currency)}}
		handled = h.events.Paid(r.Context(), p)
	case ev.Type == "checkout.session.expired":
		handled = h.events.Expired(r.Context(), Expired{EventID: ev.ID, SessionID: s.ID, BookingID: s.Metadata[MetaBooking]})
	default:
		return http.StatusOK, ev, "not listened to"
	}
	if handled != nil {
		return http.StatusInternalServerError, ev, "handle: " + string(core.ErrorCode(handled))
	}
	return http.StatusOK, ev, ""
}

// signatureProblem names what was wrong with a signature, for the log.
func signatureProblem(err error) string {
	switch {
	case errors.Is(err, stripego.ErrWebhookNotSigned):
		return "not signed"
	case errors.Is(err, stripego.ErrWebhookInvalidHeader):
		return "invalid header"
	case errors.Is(err, stripego.ErrWebhookTooOld):
		return "too old"
	default:
		return "bad signature"
	}
}

// signedAt reads the t= of a Stripe-Signature header (checked already):
// false unless there is exactly one. stripe-go verifies against the last t=,
// so a replay with another t= put first would pass the signature and read
// as newly signed here.
func signedAt(header string) (time.Time, bool) {
	var at time.Time
	n := 0
	for _, part := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			sec, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			at, n = time.Unix(sec, 0).UTC(), n+1
		}
	}
	return at, n == 1
}

// intentID reads a payment_intent field: an id, an expanded object, or null.
func intentID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
}
