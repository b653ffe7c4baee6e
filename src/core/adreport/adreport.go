// Package adreport reports bookings that came from an ad click back to the ad
// platform (Meta's Conversions API, in src/adapters/meta), so that a salon can
// tell whether an ad paid for itself.
//
// A booking change records its events in its own transaction (booking.Tx.Changed,
// wired in src/cmd): one row per event id, only for a chat that came from a
// click; a job then calls Report, which reads the event's facts again, builds
// what may leave (hashes only: never a name, a phone number or a chat id) and
// sends it once. It must never make a booking fail or wait, and never send for
// a client who asked to delete their data. Nothing here names a provider, a
// channel or a job queue.
package adreport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"salonbook/src/core"
)

// The events reported.
const (
	Schedule = "Schedule" // a booking confirmed
	Purchase = "Purchase" // a booking's deposit paid
)

// The states of a recorded event.
const (
	StatePending = "pending"
	StateSent    = "sent"
	StateRefused = "refused" // the platform refused it (a validation error): not retried
	StateDropped = "dropped" // not sent: the client's data was erased, or no click is known any more
)

// MaxAge is how old an event may be when sent: Meta refuses events whose
// event_time is more than seven days back; an hour less leaves room for
// clocks and the request's way.
const MaxAge = 7*24*time.Hour - time.Hour

// EventID is the event id of a booking's event: the same for a retry and a
// replay, so the platform deduplicates it (and a web pixel may send the same
// id for the same booking).
func EventID(bookingID, name string) string {
	return bookingID + "-" + strings.ToLower(name)
}

// Hash is the lower-case hex SHA-256 of s, as the platform takes hashed keys.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ClientKey is the external id of a salon's client: a hash of the salon and
// the client's id, never the id itself (a bare small number hashes to a
// value anyone can reverse by trying them all; with the salon's id it is
// still stable for the salon's events).
func ClientKey(salonID string, clientID int64) string {
	return Hash(salonID + ":" + strconv.FormatInt(clientID, 10))
}

// PhoneKey is the hash of an E.164 number's digits (no "+", no spaces), as
// the platform normalises phones; "" when phone has no digits.
func PhoneKey(phone string) string {
	var b strings.Builder
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return Hash(b.String())
}

// FBC is the click id cookie value Meta defines for a click with fbclid at
// clicked: fb.1.<click time in milliseconds>.<fbclid>.
func FBC(fbclid string, clicked time.Time) string {
	return "fb.1." + strconv.FormatInt(clicked.UnixMilli(), 10) + "." + fbclid
}

// Event is what leaves for the platform: only ids, hashes and amounts.
type Event struct {
	ID        string
	Name      string // Schedule or Purchase
	Time      time.Time
	Value     core.Money
	Channel   string // the chat's channel (the adapter picks the action source by it)
	ClientKey string // ClientKey
	FBC       string // FBC of the chat's click; "" when the click is not a web one
	CtwaClid  string // the click-to-message ad's click id; "" when none
	PhoneKey  string // PhoneKey of the client's phone, only with the salon's consent; else ""
}

// Facts are what Store knows of a recorded event, read when it is sent.
type Facts struct {
	State      string // StatePending, …
	Name       string
	SalonID    string
	BookingID  string
	OccurredAt time.Time
	Price      core.Money // the booking's price
	Deposit    core.Money // the booking's deposit; zero when none
	ClientID   int64
	Erased     bool   // the client asked to delete their data (or the booking's chat was erased)
	Phone      string // the client's phone, E.164; "" when unknown
	Consent    bool   // the salon says its clients' consent covers a hash of their phone
	Channel    string // the booking's chat's channel
	// The chat's click: Fbclid and ClickedAt (a web click), CtwaClid (a
	// click-to-message ad); all empty when the chat's click is gone.
	Fbclid    string
	ClickedAt time.Time
	CtwaClid  string
}

// Store reads recorded events and marks them done.
type Store interface {
	// Facts returns the facts of the salon's event. ENotFound when the
	// salon has no event with the id.
	Facts(ctx context.Context, salonID, eventID string) (Facts, error)
	// Handle runs fn on the facts of the salon's event with the event
	// locked from the read to the mark (a concurrent Handle of it waits; an
	// erase skips it), then marks the event, if still pending, fn's state at at ("":
	// leaves it). fn's error leaves it as it was. ENotFound as Facts.
	Handle(ctx context.Context, salonID, eventID string, at time.Time, fn func(Facts) (string, error)) error
}

// API sends events to the platform. An error the platform gives for the
// event itself (a validation error: retrying cannot help) is a Refused one;
// one about the salon's credentials a *ConfigError; any other error (rate
// limit, 5xx, network) is worth retrying later, and so are those two.
type API interface {
	Send(ctx context.Context, ev Event) error
}

// RefusedError is the platform refusing an event: not retried.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// ConfigError is the platform refusing the salon's credentials or settings
// (a revoked token, a dataset the token may not post to): the event waits
// and is retried; the operator must fix the configuration.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Refused reports whether err is the platform refusing the event.
func Refused(err error) bool {
	_, ok := errors.AsType[*RefusedError](err)
	return ok
}

// Reporter sends recorded events.
type Reporter struct {
	Store Store
	API   API
	Clock core.Clock
	Log   *slog.Logger
	// SendLimit bounds a send (0: DefaultSendLimit): the event's row stays
	// locked while it runs, and a job or an erase must not wait long on it.
	SendLimit time.Duration
}

// DefaultSendLimit is Reporter.SendLimit's default: one request's time.
const DefaultSendLimit = 10 * time.Second

// Report sends the salon's recorded event eventID unless it was sent, refused or
// dropped before: at most once, the event locked from the read to the mark
// (a second run of its job waits; an erase skips it: it is leaving), the
// send bounded by SendLimit. An event of an erased client, or of a chat
// whose click is gone, is dropped unsent; one older than MaxAge too. A
// refusal is logged and the event marked refused (nil: not retried); any
// other failure is returned, to be retried.
func (r *Reporter) Report(ctx context.Context, salonID, eventID string) error {
	now := r.Clock.Now()
	var sent *Facts
	err := r.Store.Handle(ctx, salonID, eventID, now, func(f Facts) (string, error) {
		if f.State != StatePending {
			return "", nil
		}
		ev, why := build(eventID, f)
		if why == "" && now.Sub(f.OccurredAt) > MaxAge {
			why = "older than the platform takes"
		}
		if why != "" {
			r.Log.Info("ad event dropped", slog.String("event", f.Name), slog.String("booking", f.BookingID), slog.String("reason", why))
			return StateDropped, nil
		}
		limit := r.SendLimit
		if limit <= 0 {
			limit = DefaultSendLimit
		}
		sctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		if err := r.API.Send(sctx, ev); err != nil {
			if _, ok := errors.AsType[*ConfigError](err); ok {
				r.Log.Error("ad platform refuses the salon's credentials; events wait until they are fixed, at most until Meta's 7 days",
					slog.String("event", f.Name), slog.String("booking", f.BookingID), slog.String("error", err.Error()))
			}
			if !Refused(err) {
				return "", fmt.Errorf("adreport: send %s of booking %s: %w", f.Name, f.BookingID, err)
			}
			r.Log.Warn("ad event refused; not retried", slog.String("event", f.Name), slog.String("booking", f.BookingID), slog.String("error", err.Error()))
			return StateRefused, nil
		}
		sent = &f
		return StateSent, nil
	})
	if core.ErrorCode(err) == core.ENotFound {
		return nil // deleted with its salon, or another salon's
	}
	if err != nil {
		// When sent but not marked, a retry sends it again under the same
		// id, which the platform deduplicates.
		return err
	}
	if sent != nil {
		r.Log.Info("ad event sent", slog.String("event", sent.Name), slog.String("booking", sent.BookingID))
	}
	return nil
}

// GiveUp drops the salon's event if it is still pending: its last try
// failed, and nothing will send it.
func (r *Reporter) GiveUp(ctx context.Context, salonID, eventID string) error {
	err := r.Store.Handle(ctx, salonID, eventID, r.Clock.Now(), func(f Facts) (string, error) {
		if f.State != StatePending {
			return "", nil
		}
		r.Log.Warn("ad event dropped", slog.String("event", f.Name), slog.String("booking", f.BookingID), slog.String("reason", "its last try failed"))
		return StateDropped, nil
	})
	if core.ErrorCode(err) == core.ENotFound {
		return nil
	}
	return err
}

// build makes the event from f, or says why nothing is sent.
func build(eventID string, f Facts) (Event, string) {
	switch {
	case f.Erased:
		return Event{}, "the client's data was erased"
	case f.Fbclid == "" && f.CtwaClid == "":
		return Event{}, "no ad click known for the chat"
	case f.ClientID == 0:
		return Event{}, "no client"
	}
	ev := Event{ID: eventID, Name: f.Name, Time: f.OccurredAt, Value: f.Price, Channel: f.Channel,
		ClientKey: ClientKey(f.SalonID, f.ClientID), CtwaClid: f.CtwaClid}
	if f.Name == Purchase {
		ev.Value = f.Deposit
	}
	if f.Fbclid != "" {
		ev.FBC = FBC(f.Fbclid, f.ClickedAt)
	}
	if f.Consent && f.Phone != "" {
		ev.PhoneKey = PhoneKey(f.Phone)
	}
	return ev, ""
}
