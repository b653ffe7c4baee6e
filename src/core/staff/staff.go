// Package staff holds what the owner's desk knows of the people who log in to
// it: their accounts and roles, what each role may see and change, and one line
// of the schedule as the desk shows it.
//
// An owner sees and changes everything. A master sees their own bookings in
// full (never a client's phone), the salon's day with the other masters'
// bookings reduced to time, service and status, and changes only their own
// bookings. The rules are here, in one place, so that every view and action asks
// the same question.
package staff

import (
	"regexp"
	"time"

	"salonbook/src/core"
)

// Role is what an account may do.
type Role string

// Roles.
const (
	Owner  Role = "owner"
	Master Role = "master"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == Owner || r == Master }

// LoginPattern is the form of a login: lower case, as stored; what a person
// types is lowered first (NormalLogin).
var LoginPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Account is a staff member who may log in to the desk.
type Account struct {
	Login    string
	Role     Role
	MasterID string // the master this account is; empty for an owner
}

// Owner reports whether a is an owner's account.
func (a Account) Owner() bool { return a.Role == Owner }

// SeesPhones reports whether a may see clients' phone numbers: owners only.
func (a Account) SeesPhones() bool { return a.Owner() }

// SeesClientsOf reports whether a may see the clients (names, channels) of
// masterID's bookings: an owner all, a master their own.
func (a Account) SeesClientsOf(masterID string) bool {
	return a.Owner() || (a.Role == Master && a.MasterID != "" && a.MasterID == masterID)
}

// SeesWeekOf reports whether a may open masterID's week: an owner any
// master's (and the whole salon's, masterID ""), a master only their own.
func (a Account) SeesWeekOf(masterID string) bool {
	return a.Owner() || (a.Role == Master && masterID != "" && a.MasterID == masterID)
}

// MayChange reports whether a may change a booking of masterID.
func (a Account) MayChange(masterID string) bool { return a.SeesClientsOf(masterID) }

// MayOverride reports whether a may cancel or move a booking inside the
// salon's cancellation cutoff (with a reason): owners only.
func (a Account) MayOverride() bool { return a.Owner() }

// MayUnmark reports whether a may undo an attendance mark: owners only.
func (a Account) MayUnmark() bool { return a.Owner() }

// SessionLimits are a desk session's timeouts: Idle since its last request,
// Max since the login.
type SessionLimits struct{ Idle, Max time.Duration }

// Entry is one booking as the desk lists it: the booking and its client.
type Entry struct {
	Booking     core.Booking
	ClientName  string
	ClientPhone string // personal data: shown to owners only, never logged
	// ClientKnownAs is the name of the salon's own client of that phone
	// (an owner's or the API's booking, owner:<E.164>) when the booking's
	// client is another record of the number under another name (a chat's,
	// a master's desk record); "" otherwise. Personal data: owners only.
	ClientKnownAs string
}

// Status is how the desk names an entry's state at now: a standing block is
// "blocked"; a confirmed booking marked by staff is "arrived" or "no-show",
// else "coming" once the client answered "I'll come"; a hold (or a booking
// awaiting its deposit) past its expiry is "expired".
func (e Entry) Status(now time.Time) string {
	b := e.Booking
	switch {
	case b.Block && b.Status == core.StatusConfirmed:
		return "blocked"
	case b.Status == core.StatusConfirmed && b.Attendance == core.Arrived:
		return "arrived"
	case b.Status == core.StatusConfirmed && b.Attendance == core.NoShow:
		return "no-show"
	case b.Status == core.StatusConfirmed && !b.ComingAt.IsZero():
		return "coming"
	case b.Status.Pending() && !b.HoldLive(now):
		return string(core.StatusExpired)
	}
	return string(b.Status)
}

// Channel is the channel a booking was made in, from its source ("web:…",
// "telegram:…", "whatsapp:…", "api"), without the chat's id.
func (e Entry) Channel() string {
	src := e.Booking.Source
	for i := 0; i < len(src); i++ {
		if src[i] == ':' {
			return src[:i]
		}
	}
	if src == "" {
		return "api"
	}
	return src
}

// Change is one line of a booking's history: who did what, when, and why.
type Change struct {
	At       time.Time
	Actor    string // "desk:<login>", "chat", "api", "system"
	Action   string // booking.Action: held, booked, moved, cancelled, no_show, …
	Reason   string
	Override bool      // inside the cancellation cutoff, allowed by an owner
	Start    time.Time // the booking's start after the change
	From     time.Time // before a move; zero otherwise
}
