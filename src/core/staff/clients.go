package staff

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The desk's clients: a search of the salon's clients, one client's card with
// their bookings, and a private note. An owner finds any client, by name or by
// phone, and sees phones; a master finds only the clients who have bookings
// with them, by name only, sees only those bookings and never a phone. The
// note is the owner's to write; the masters who see the client read it.

// Paging and size limits of the clients pages.
const (
	ClientsPerPage    = 50
	MaxClientPage     = 1000 // pages beyond are refused: narrow the search
	ClientBookingsCap = 300  // a client's card shows at most this many bookings, newest first
	MaxNote           = 2000 // characters of a note
	MaxSearch         = 100  // characters of a search
	MinPhoneDigits    = 3    // a phone search needs at least this many digits
)

// NoMaster is a master id no master has (ids are lower case): the search of
// a master's account that names no master finds no one.
const NoMaster = "-none-"

// ClientQuery is one page of a search of the salon's clients.
type ClientQuery struct {
	Name   string // part of the name, any case ("": any name)
	Phone  string // digits the phone number must contain ("": any); owners only
	Master string // only clients with a booking (not an expired hold) of this master ("": every client)
	Limit  int
	Offset int
}

// SearchRefusal says why a search cannot run as typed; "" when it can.
type SearchRefusal string

// Refusals of ParseClientSearch.
const (
	PhoneSearchOwnersOnly SearchRefusal = "phone_owners_only"
	PhoneSearchTooShort   SearchRefusal = "phone_too_short"
	SearchTooLong         SearchRefusal = "too_long"
)

// ParseClientSearch turns what a viewer typed into the query of page (from 0).
// Text that is a phone number (digits, with spaces, dashes, dots, brackets or a
// leading +) searches the phones, by digits: "+49 151 234" and "0049151234"
// both find +49151234…, and a leading trunk 0 ("0151 234") is dropped, so a
// local number finds the stored international one. Other text searches names.
// A master's searches are limited to their own clients, and a phone search is
// refused to them: they may not see phones, nor learn whose a number is.
func ParseClientSearch(text string, page int, a Account) (ClientQuery, SearchRefusal) {
	q := ClientQuery{Limit: ClientsPerPage, Offset: page * ClientsPerPage}
	if !a.Owner() {
		q.Master = a.MasterID
		if q.Master == "" {
			q.Master = NoMaster // an account with no master sees no one
		}
	}
	text = strings.TrimSpace(strings.ToValidUTF8(text, ""))
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, text)
	if utf8.RuneCountInString(text) > MaxSearch {
		return q, SearchTooLong
	}
	if digits, ok := phoneDigits(text); ok {
		if !a.SeesPhones() {
			return q, PhoneSearchOwnersOnly
		}
		if len(digits) < MinPhoneDigits {
			return q, PhoneSearchTooShort
		}
		q.Phone = digits
		return q, ""
	}
	q.Name = text
	return q, ""
}

// phoneDigits reports whether s looks like (part of) a phone number, and its
// digits with an international "00" or a trunk "0" prefix dropped.
func phoneDigits(s string) (string, bool) {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')', r == '/':
		default:
			return "", false
		}
	}
	d := b.String()
	if d == "" {
		return "", false
	}
	switch {
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case strings.HasPrefix(d, "0") && !strings.HasPrefix(s, "+"):
		d = d[1:]
	}
	return d, true
}

// ClientRow is one client in a search's answer.
type ClientRow struct {
	ID       int64
	Name     string
	Phone    string    // personal data: shown to owners only, never logged
	Bookings int       // bookings (not expired holds) of the client; of the master, for a master
	Next     time.Time // the start of the next held or confirmed booking; zero when none
	HasNote  bool
}

// ClientNote is the owner's private note on a client.
type ClientNote struct {
	Text      string
	UpdatedAt time.Time
	UpdatedBy string // the desk login that wrote it
}

// ClientCard is one client as the desk shows them: who, the note, and their
// bookings, newest first (at most ClientBookingsCap; a master's own only).
type ClientCard struct {
	ID       int64
	Name     string
	Phone    string // personal data: shown to owners only, never logged
	Since    time.Time
	Erased   time.Time // when the client's name and phone were erased on their request; zero if not
	Note     ClientNote
	Bookings []Entry
}

// CleanNote makes typed text a note: valid UTF-8, line ends as "\n", no other
// control characters but tabs, no spaces around; ok is false when it is longer
// than MaxNote characters.
func CleanNote(s string) (string, bool) {
	s = strings.ToValidUTF8(s, "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	return s, utf8.RuneCountInString(s) <= MaxNote
}
