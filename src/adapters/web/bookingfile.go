package web

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// A booking's calendar file: GET /booking/{token}.ics, the "Add to calendar"
// link of the booked message. The token is 16 random bytes (base64url, 22
// characters) made with the booking's reference (postgres.References), so the
// address cannot be guessed from a booking's id or reference. Read-only: one
// VEVENT (RFC 5545: CRLF line ends, lines folded at 75 octets, TEXT escaped),
// STATUS:CANCELLED once the booking is cancelled, so that a calendar that
// fetches it again drops it. A token that is not one, or is unknown, is
// answered 404 the same way; a malformed one is not looked up.

// BookingFiles finds a booking by its calendar token (postgres.References).
type BookingFiles interface {
	// ByToken returns the id of the salon's booking with that token, or "".
	ByToken(ctx context.Context, salonID, token string) (string, error)
}

// BookingFileURL is the address of a booking's calendar file under base
// (PUBLIC_URL, e.g. https://salon.example).
func BookingFileURL(base, token string) string {
	return strings.TrimRight(base, "/") + "/booking/" + token + ".ics"
}

var bookingToken = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

// bookingFileTimeout bounds a calendar file's reads.
const bookingFileTimeout = 5 * time.Second

func (a *api) bookingFile(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	token, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok || !bookingToken.MatchString(token) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), bookingFileTimeout)
	defer cancel()
	id, err := a.cfg.BookingFiles.ByToken(ctx, a.cfg.SalonID, token)
	if err != nil {
		a.bookingFileFailed(w, r, err)
		return
	}
	if id == "" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	b, err := a.cfg.Bookings.Get(ctx, a.cfg.SalonID, id)
	if core.ErrorCode(err) == core.ENotFound {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if err != nil {
		a.bookingFileFailed(w, r, err)
		return
	}
	cat, err := a.cfg.Bookings.Catalog(ctx, a.cfg.SalonID)
	if err != nil {
		a.bookingFileFailed(w, r, err)
		return
	}
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("Content-Disposition", `inline; filename="booking.ics"`)
	h.Set("Cache-Control", "private, no-cache")
	_, _ = w.Write(bookingCalendar(cat, b))
}

func (a *api) bookingFileFailed(w http.ResponseWriter, r *http.Request, err error) {
	a.cfg.Logger.ErrorContext(r.Context(), "booking calendar file", "err", err)
	h := w.Header()
	h.Set("Retry-After", "30")
	http.Error(w, "unavailable, try again later", http.StatusServiceUnavailable)
}

// bookingCalendar is the VCALENDAR of one booking, in the salon's first
// language; every time in UTC.
func bookingCalendar(cat *booking.Catalog, b *core.Booking) []byte {
	s := cat.Salon
	lang := "en"
	if len(s.Locales) > 0 {
		lang = s.Locales[0]
	}
	summary := b.ServiceID
	for i := range cat.Services {
		if cat.Services[i].ID == b.ServiceID {
			summary = cat.Services[i].NameIn(lang)
		}
	}
	for _, m := range cat.Masters {
		if m.ID == b.MasterID {
			summary += " · " + m.Name
		}
	}
	summary += " · " + s.Name
	status := "CONFIRMED"
	switch b.Status {
	case core.StatusCancelled, core.StatusExpired:
		status = "CANCELLED"
	case core.StatusHeld, core.StatusAwaitingPayment:
		status = "TENTATIVE"
	}
	var c icalWriter
	c.line("BEGIN", "VCALENDAR")
	c.line("VERSION", "2.0")
	c.line("PRODID", "-//salonbook//booking//EN")
	c.line("CALSCALE", "GREGORIAN")
	c.line("METHOD", "PUBLISH")
	c.line("BEGIN", "VEVENT")
	c.text("UID", b.ID+"@salonbook")
	c.line("DTSTAMP", icalUTC(b.UpdatedAt))
	c.line("DTSTART", icalUTC(b.Start))
	c.line("DTEND", icalUTC(b.End))
	c.text("SUMMARY", summary)
	if s.Address != "" {
		c.text("LOCATION", s.Address)
	}
	desc := s.Name
	if s.Phone != "" {
		desc += "\n" + s.Phone
	}
	c.text("DESCRIPTION", desc)
	c.line("STATUS", status)
	c.line("SEQUENCE", strconv.FormatInt(min(max(int64(b.UpdatedAt.Sub(b.CreatedAt)/time.Second), 0), 1<<31-1), 10))
	c.line("END", "VEVENT")
	c.line("END", "VCALENDAR")
	return c.Bytes()
}

func icalUTC(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icalWriter writes content lines: CRLF ends, folded at 75 octets (never
// inside a UTF-8 character), continuation lines starting with a space. (The
// desk's feed has the same writer; adapters' packages do not share code.)
type icalWriter struct{ bytes.Buffer }

// line writes NAME:VALUE, value as given.
func (c *icalWriter) line(name, value string) {
	s := name + ":" + value
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		c.WriteString(s[:cut])
		c.WriteString("\r\n ")
		s = s[cut:]
		limit = 74
	}
	c.WriteString(s)
	c.WriteString("\r\n")
}

// text writes NAME:VALUE with value escaped as TEXT (RFC 5545 3.3.11).
func (c *icalWriter) text(name, value string) {
	var b strings.Builder
	value = strings.ReplaceAll(value, "\r\n", "\n")
	for _, r := range value {
		switch {
		case r == '\\' || r == ';' || r == ',':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	c.line(name, b.String())
}
