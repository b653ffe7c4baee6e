package core

import (
	"fmt"
	"time"
)

// Salon is one business with its zone, languages and booking policy.
type Salon struct {
	ID       string
	Name     string
	Timezone *time.Location // the zone every wall-clock rule and every screen uses
	Locales  []string       // the first is the default
	Phone    string         // shown to clients, e.g. when a cancel is refused
	Address  string
	// Country is the salon's ISO 3166-1 alpha-2 code ("DE"): a phone number
	// typed without its country code is read as one of this country. "" when
	// the salon file names none: numbers must then start with +.
	Country string
	// PrivacyURL is the salon's privacy notice (https), linked before a
	// client's name and phone are asked; "" for none.
	PrivacyURL string
	Policy     Policy
}

// Policy holds the salon's booking rules.
type Policy struct {
	SlotStep     time.Duration // grid of offered start times, from the start of each shift
	MinNotice    time.Duration // earliest bookable start is now + MinNotice
	Horizon      time.Duration // latest bookable start is before now + Horizon
	Hold         time.Duration // how long a held time waits for confirmation
	CancelCutoff time.Duration // no cancel or reschedule when the start is closer than this
	// MaxUpcoming caps the upcoming live bookings one client (one phone), and
	// one chat, may make for themselves; the owner's bookings are not capped.
	// 0 is no cap: only salons built in Go (tests) have it; the salon file
	// always sets one (default 3).
	MaxUpcoming int
	// Reminders are the offsets before a confirmed booking's start at which the
	// client is reminded, longest first (exact durations: across a DST change
	// 24h is not the same wall time the day before); none is off.
	Reminders []time.Duration
	// WaitlistOffer is how long a time offered to a wait-listed client is held
	// for them; 0 means DefaultWaitlistOffer.
	WaitlistOffer time.Duration
	// StaffSummary is the local time each master with a staff chat gets the
	// day's summary; nil is off.
	StaffSummary *ClockTime
}

// DefaultWaitlistOffer is the hold of a wait-list offer when the policy has none.
const DefaultWaitlistOffer = 15 * time.Minute

// OfferHold returns how long a wait-list offer holds its time.
func (p Policy) OfferHold() time.Duration {
	if p.WaitlistOffer > 0 {
		return p.WaitlistOffer
	}
	return DefaultWaitlistOffer
}

// Money is an amount in minor units (cents) with its ISO 4217 currency.
type Money struct {
	Minor    int64
	Currency string
}

// String formats m as "35.00 EUR".
func (m Money) String() string {
	sign := ""
	v := m.Minor
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, v/100, v%100, m.Currency)
}

// Service is something a salon sells, with its length and the buffers around it
// (preparation before, cleaning after) during which the master is not free.
type Service struct {
	SalonID      string
	ID           string
	Name         map[string]string // by locale
	Duration     time.Duration
	BufferBefore time.Duration
	BufferAfter  time.Duration
	Price        Money
	Active       bool
	// Aliases are other words clients use for the service ("cut",
	// "подстричься"), in any language: the conversation understands them
	// when typed; they are never shown.
	Aliases []string
}

// NameIn returns the service's name in locale, falling back to any name there is.
func (s *Service) NameIn(locale string) string {
	if n, ok := s.Name[locale]; ok {
		return n
	}
	if n, ok := s.Name["en"]; ok {
		return n
	}
	for _, n := range s.Name {
		return n
	}
	return s.ID
}

// Occupied returns the interval a booking of s starting at start keeps its master
// busy: the appointment widened by the buffers.
func (s *Service) Occupied(start time.Time) TimeRange {
	return TimeRange{Start: start.Add(-s.BufferBefore), End: start.Add(s.Duration + s.BufferAfter)}
}

// Master is a person who performs services, with a weekly rota and days off.
type Master struct {
	SalonID  string
	ID       string
	Name     string
	Services []string
	Hours    WeeklyHours
	DaysOff  []Date // a day off cancels the shifts that start on that day
	Calendar string // Google Calendar id; empty when not synced
	Notices  bool   // staff are told of changes to the master's confirmed bookings (a staff chat is set)
	Active   bool
	// Aliases are other names clients use for the master ("Анна", "Аня"):
	// understood when typed, never shown.
	Aliases []string
}

// Performs reports whether m offers the service.
func (m *Master) Performs(serviceID string) bool {
	for _, s := range m.Services {
		if s == serviceID {
			return true
		}
	}
	return false
}

// Client is a person who books. Phone numbers are personal data: they are stored,
// never logged or put in errors.
type Client struct {
	ID      int64
	SalonID string
	Name    string
	Phone   string
	// Verified: the channel vouches that Phone is the person's own (a Telegram
	// contact the sender shared of themselves, a WhatsApp chat's own number).
	// Only then does the number say who the client is (chats with the same
	// verified number are one client); a typed number is contact information.
	Verified bool
}
