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
	// DepositWhen says which clients are asked for their service's deposit
	// when they confirm a time; "" asks none.
	DepositWhen DepositWhen
	// PaymentWindow is how long a booking awaiting its deposit holds its
	// time; 0 means DefaultPaymentWindow.
	PaymentWindow time.Duration
	// DepositRefundCutoff: a client who cancels at least this long before the
	// start gets the deposit back, later it is kept; the salon's cancel always
	// gives it back, a no-show keeps it. Below CancelCutoff (0 included) it is
	// CancelCutoff: a client who may cancel is refunded.
	DepositRefundCutoff time.Duration
	// AdsPhoneConsent: the salon's clients' consent covers sending the ad
	// platform a hash of their phone number with a booking reported from an
	// ad click (Meta's Conversions API); false sends none.
	AdsPhoneConsent bool
}

// DepositWhen says which clients a salon asks for a deposit.
type DepositWhen string

// When deposits are asked; "" is never.
const (
	DepositAlways      DepositWhen = "always"
	DepositAfterNoShow DepositWhen = "after_no_show" // clients with a no-show in the last NoShowLookback
)

// NoShowLookback is how far back a no-show makes DepositAfterNoShow ask a
// client for a deposit.
const NoShowLookback = 365 * 24 * time.Hour

// DefaultPaymentWindow is the payment window when the policy has none.
const DefaultPaymentWindow = 15 * time.Minute

// PaymentHold returns how long a booking awaiting its deposit holds its time.
func (p Policy) PaymentHold() time.Duration {
	if p.PaymentWindow > 0 {
		return p.PaymentWindow
	}
	return DefaultPaymentWindow
}

// RefundCutoff returns how long before the start a client must cancel to get
// the deposit back: DepositRefundCutoff, never below CancelCutoff.
func (p Policy) RefundCutoff() time.Duration { return max(p.DepositRefundCutoff, p.CancelCutoff) }

// AsksDeposits reports whether the policy asks any client for a deposit.
func (p Policy) AsksDeposits() bool {
	return p.DepositWhen == DepositAlways || p.DepositWhen == DepositAfterNoShow
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
// zeroDecimals and threeDecimals are the currencies whose amounts ISO 4217
// writes with no decimals or with three; every other has two.
var (
	zeroDecimals  = map[string]bool{"JPY": true, "KRW": true, "VND": true, "CLP": true, "ISK": true, "PYG": true, "UGX": true, "XAF": true, "XOF": true, "XPF": true, "RWF": true, "BIF": true, "DJF": true, "GNF": true, "KMF": true, "VUV": true, "UYI": true}
	threeDecimals = map[string]bool{"KWD": true, "BHD": true, "OMR": true, "JOD": true, "TND": true, "IQD": true, "LYD": true}
)

// CurrencyDecimals is how many decimals the currency's amounts have (ISO
// 4217): 0 for JPY, KRW, VND, CLP, ISK…, 3 for KWD, BHD, OMR, JOD, TND…, else
// 2. Money keeps hundredths whatever the currency, so a salon file gives a
// currency with no decimals whole amounts only, and one with three at most
// two of them.
func CurrencyDecimals(code string) int {
	switch {
	case zeroDecimals[code]:
		return 0
	case threeDecimals[code]:
		return 3
	}
	return 2
}

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
	Deposit      Deposit // asked in advance when the policy asks for deposits; zero: none
	Active       bool
	// Aliases are other words clients use for the service ("cut",
	// "подстричься"), in any language: the conversation understands them
	// when typed; they are never shown.
	Aliases []string
}

// Deposit is what a service asks in advance: a fixed amount in the service's
// currency, or a share of its price. The zero value asks nothing.
type Deposit struct {
	Minor   int64 // a fixed amount in minor units; or
	Percent int   // 1..100: this share of the price
}

// DepositAmount returns the deposit a booking of s is asked: the fixed amount,
// or Percent of the price rounded half up to a minor unit, in the price's
// currency; never more than the price. Zero when s asks none (or its share of a
// free service is nothing).
func (s *Service) DepositAmount() Money {
	var minor int64
	switch {
	case s.Deposit.Minor > 0:
		minor = s.Deposit.Minor
	case s.Deposit.Percent > 0:
		minor = (s.Price.Minor*int64(s.Deposit.Percent) + 50) / 100
	}
	minor = min(minor, s.Price.Minor)
	if minor <= 0 {
		return Money{}
	}
	return Money{Minor: minor, Currency: s.Price.Currency}
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
	Name     string            // the default name: the salon's first language's
	Names    map[string]string // by locale, when the salon file gives more than one name; nil: Name everywhere
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

// NameIn returns the master's name in locale, else the default name.
func (m *Master) NameIn(locale string) string {
	if n := m.Names[locale]; n != "" {
		return n
	}
	return m.Name
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
