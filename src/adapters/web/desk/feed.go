package desk

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/staff"
)

// FeedStore is what the calendar feeds read and write (postgres.Desk).
type FeedStore interface {
	// Feeds lists the salon's feeds.
	Feeds(ctx context.Context, salonID string) ([]staff.Feed, error)
	// SetFeed gives a master a feed known by secretHash, replacing theirs;
	// ENotFound when the salon has no such active master.
	SetFeed(ctx context.Context, salonID, masterID string, secretHash []byte, by string, now time.Time) error
	// DropFeed turns a master's feed off.
	DropFeed(ctx context.Context, salonID, masterID string) error
	// Feed returns the master of the feed known by secretHash and their
	// bookings starting in window: live ones, and cancelled ones changed
	// within the last cancelledFor, each with its recorded changes.
	// ENotFound when there is no such feed.
	Feed(ctx context.Context, salonID string, secretHash []byte, window core.TimeRange, cancelledFor time.Duration) (string, []staff.FeedEntry, error)
}

// A calendar feed (RFC 5545) per master at /calendar/<secret>.ics, for a
// phone's or a desktop's calendar to subscribe to (Google, Apple, Outlook):
// read-only, the master's bookings from FeedPast ago to the salon's horizon
// ahead. The secret is 32 random bytes (base64url, 43 characters); only its
// SHA-256 is stored, so a copy of the database gives no feed. An owner makes
// or rotates one at /admin/feeds (shown once) or with `salonbook feed MASTER`;
// the new secret replaces the old one, whose URL then answers 404.
const (
	FeedPast        = 30 * 24 * time.Hour // how far back a feed reaches
	FeedCancelled   = 7 * 24 * time.Hour  // a cancelled booking stays in the feed (STATUS:CANCELLED) this long after it was cancelled
	FeedParallel    = 4                   // feed answers read from the database at once; more wait
	FeedWait        = 2 * time.Second     // how long a feed request waits for its turn before 503
	feedSecretBytes = 32
)

// NewFeedSecret returns a new feed secret and the hash to store.
func NewFeedSecret() (secret string, hash []byte) {
	b := make([]byte, feedSecretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, FeedHash(secret)
}

// FeedHash is what the database knows a feed secret by.
func FeedHash(secret string) []byte {
	h := sha256.Sum256([]byte("salonbook calendar feed\x00" + secret))
	return h[:]
}

// FeedURL is the feed's address under base (PUBLIC_URL, e.g.
// https://salon.example).
func FeedURL(base, secret string) string {
	return strings.TrimRight(base, "/") + "/calendar/" + secret + ".ics"
}

var feedSecret = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// FeedHandler serves GET /calendar/{secret}.ics. It needs Config's SalonID,
// Feeds, Catalog, Clock and Logger. A secret that is not one, unknown or
// rotated away is answered 404, the same way: a made-up one is not looked up,
// a well-formed one is looked up by its hash (an index probe: its timing tells
// nothing of any secret). Each answer is one statement; at most FeedParallel
// run at once, the rest wait FeedWait and are then answered 503, so a flood
// of requests cannot take the database's connections. The answer carries a
// strong ETag (a hash of the body: bookings' DTSTAMPs are their last change,
// so an unchanged feed has the same body) and If-None-Match is answered 304.
func FeedHandler(cfg Config) http.Handler {
	d := &desk{cfg: cfg}
	if cfg.RequestTimeout <= 0 {
		d.cfg.RequestTimeout = DefaultRequestTimeout
	}
	slots := make(chan struct{}, FeedParallel)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /calendar/{file}", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		secret, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
		if !ok || !feedSecret.MatchString(secret) || d.cfg.Feeds == nil {
			feedNotFound(w)
			return
		}
		t := time.NewTimer(FeedWait)
		defer t.Stop()
		select {
		case slots <- struct{}{}:
		case <-t.C:
			h.Set("Retry-After", "30")
			http.Error(w, "busy, try again later", http.StatusServiceUnavailable)
			return
		case <-r.Context().Done():
			return
		}
		defer func() { <-slots }()
		d.feed(w, r, secret)
	})
	return d.logged(d.deadline(mux))
}

func feedNotFound(w http.ResponseWriter) {
	http.Error(w, "not found", http.StatusNotFound)
}

func (d *desk) feed(w http.ResponseWriter, r *http.Request, secret string) {
	ctx := r.Context()
	cat, err := d.cfg.Catalog.Catalog(ctx, d.cfg.SalonID)
	if err != nil {
		d.feedFailed(w, r, err)
		return
	}
	now := d.cfg.Clock.Now()
	win := core.TimeRange{Start: now.Add(-FeedPast), End: now.Add(cat.Salon.Policy.Horizon)}
	master, entries, err := d.cfg.Feeds.Feed(ctx, d.cfg.SalonID, FeedHash(secret), win, FeedCancelled)
	if err != nil {
		d.feedFailed(w, r, err)
		return
	}
	name := ""
	for _, m := range cat.Masters {
		if m.ID == master {
			name = m.Name
		}
	}
	if name == "" { // the master left the salon file: their feed is gone
		feedNotFound(w)
		return
	}
	body, modified := calendar(cat, name, entries, now)
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	// Private: it names clients. no-cache: keep it, but ask each time (the
	// ETag makes that a 304).
	h.Set("Cache-Control", "private, no-cache")
	if !modified.IsZero() {
		h.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	}
	if matchETag(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Content-Disposition", `inline; filename="bookings.ics"`)
	_, _ = w.Write(body)
}

// feedFailed answers an error: not found as 404, anything else 503 (logged
// without the secret, which only the path holds).
func (d *desk) feedFailed(w http.ResponseWriter, r *http.Request, err error) {
	if core.ErrorCode(err) == core.ENotFound {
		feedNotFound(w)
		return
	}
	if d.cfg.Logger != nil {
		d.cfg.Logger.Error("desk: calendar feed", "route", r.Pattern, "error", err.Error())
	}
	w.Header().Set("Retry-After", "60")
	http.Error(w, "the calendar cannot be read just now", http.StatusServiceUnavailable)
}

// matchETag reports whether an If-None-Match header lists etag (weakly, as
// RFC 9110 compares for If-None-Match) or is "*".
func matchETag(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// calendar writes the feed: a VCALENDAR with one VEVENT per booking, every
// time in UTC. It returns the body and the latest change of a booking in it.
func calendar(cat *booking.Catalog, master string, entries []staff.FeedEntry, now time.Time) ([]byte, time.Time) {
	var c ical
	c.line("BEGIN", "VCALENDAR")
	c.line("VERSION", "2.0")
	c.line("PRODID", "-//salonbook//calendar feed//EN")
	c.line("CALSCALE", "GREGORIAN")
	c.line("METHOD", "PUBLISH")
	c.text("X-WR-CALNAME", master+" · "+cat.Salon.Name)
	c.text("X-WR-TIMEZONE", cat.Salon.Timezone.String())
	// Apple's and Outlook's hint of how often to look again (Google keeps its own).
	c.line("REFRESH-INTERVAL;VALUE=DURATION", "PT1H")
	c.line("X-PUBLISHED-TTL", "PT1H")
	var latest time.Time
	for _, e := range entries {
		b := e.Booking
		modified := e.Modified(now)
		if modified.After(latest) {
			latest = modified
		}
		status, transp := "CONFIRMED", "OPAQUE"
		switch e.Status(now) {
		case "held", "awaiting_payment": // not booked yet: waiting for the client, or the deposit
			status = "TENTATIVE"
		case "cancelled", "expired": // a lifted block too
			status, transp = "CANCELLED", "TRANSPARENT"
		}
		summary := serviceName(cat, b.ServiceID)
		if first := firstName(e.ClientName); first != "" {
			summary += ": " + first
		}
		if b.Block { // as the Google Calendar push names it (calsync)
			summary = "Blocked"
			if b.Note != "" {
				summary += " · " + b.Note
			}
		}
		c.line("BEGIN", "VEVENT")
		c.text("UID", b.ID+"@salonbook")
		c.line("DTSTAMP", icalTime(modified))
		c.line("DTSTART", icalTime(b.Start))
		c.line("DTEND", icalTime(b.End))
		c.text("SUMMARY", summary)
		c.line("STATUS", status)
		c.line("TRANSP", transp)
		c.line("SEQUENCE", strconv.Itoa(min(e.Sequence(now), 1<<31-1)))
		c.line("CREATED", icalTime(b.CreatedAt))
		c.line("LAST-MODIFIED", icalTime(modified))
		c.line("END", "VEVENT")
	}
	c.line("END", "VCALENDAR")
	return c.Bytes(), latest
}

func icalTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// firstName is the first word of a client's name: a feed on a phone's lock
// screen shows no more than that (and never the phone number).
func firstName(name string) string {
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// ical writes content lines: CRLF ends, folded at 75 octets (never inside a
// UTF-8 character), continuation lines starting with a space.
type ical struct{ bytes.Buffer }

// line writes NAME:VALUE, value as given.
func (c *ical) line(name, value string) {
	s := name + ":" + value
	limit := 75 // octets of the first line; a continuation's leading space counts in its 75
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

// text writes NAME:VALUE with value escaped as TEXT (RFC 5545 3.3.11):
// backslash, semicolon and comma escaped, line breaks as \n, other control
// characters dropped.
func (c *ical) text(name, value string) {
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

// The owner's page of feeds: /admin/feeds lists the masters with their feed's
// state; POST /admin/feeds/{master} with action "new" makes or rotates a feed,
// "off" turns it off. The new URL is shown once: the POST hands it to the GET
// that follows (post, redirect, get) in a short-lived cookie the GET deletes,
// never in a URL (history, logs). The cookie is sent to /admin/feeds only
// (Path), and sealed (AES-GCM) under a key derived from the session id, which
// only the session cookie holds: without the session it is unreadable, and
// it dies with the session (logout deletes it too).
func (d *desk) feedRoutes(mux *http.ServeMux) {
	if d.cfg.Feeds == nil {
		return
	}
	mux.Handle("GET /admin/feeds", d.authed(d.feeds))
	mux.Handle("POST /admin/feeds/{master}", d.authed(d.feedAction))
}

const (
	feedCookie     = "desk_feed" // a new feed's URL, from the POST to the GET after it
	feedCookiePath = "/admin/feeds"
	feedCookieAge  = 300 // seconds
)

// feedKey is the key that seals a session's feed link cookie: derived from
// the session id (as csrfToken), so it needs no storage and dies with the
// session.
func feedKey(sessionID string) []byte {
	m := hmac.New(sha256.New, []byte(sessionID))
	m.Write([]byte("salonbook desk feed link"))
	return m.Sum(nil)
}

// feedCookieName is the feed link cookie's name: __Secure- over https (not
// __Host-, which demands Path=/).
func (d *desk) feedCookieName(r *http.Request) string {
	if d.secure(r) {
		return "__Secure-" + feedCookie
	}
	return feedCookie
}

func (d *desk) setFeedCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: d.feedCookieName(r), Value: value, Path: feedCookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: d.secure(r), SameSite: http.SameSiteStrictMode})
}

func (d *desk) dropFeedCookie(w http.ResponseWriter, r *http.Request) { d.setFeedCookie(w, r, "", -1) }

// sealFeedLink seals master and secret under the session's key.
func sealFeedLink(key []byte, master, secret string) string {
	aead := feedAEAD(key)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go ≥ 1.24)
	sealed := aead.Seal(nonce, nonce, []byte(master+"\x00"+secret), []byte(feedCookie))
	return base64.RawURLEncoding.EncodeToString(sealed)
}

// openFeedLink opens a sealed feed link; false when it is not one sealed
// under key (another session's, a forged or a damaged one).
func openFeedLink(key []byte, value string) (master, secret string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	aead := feedAEAD(key)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", "", false
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(feedCookie))
	if err != nil {
		return "", "", false
	}
	master, secret, ok = strings.Cut(string(plain), "\x00")
	return master, secret, ok && feedSecret.MatchString(secret)
}

func feedAEAD(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key) // 32 bytes: AES-256
	if err != nil {
		panic("desk: feed link key: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("desk: feed link cipher: " + err.Error())
	}
	return aead
}

type feedsPage struct {
	Title, Salon string
	V            *viewer
	Rows         []feedRow
	New          *newFeed // the feed just made, shown once
	Off          string   // the master whose feed was just turned off
}

type feedRow struct {
	MasterID, Master string
	On               bool
	Since, By        string
}

type newFeed struct {
	Master, URL string
	Webcal      template.URL
}

func (d *desk) feeds(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !v.Owner() {
		d.problem(w, r, v, http.StatusForbidden, "Only the owner can manage calendar feeds.")
		return
	}
	cat, err := d.cfg.Catalog.Catalog(r.Context(), d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	feeds, err := d.cfg.Feeds.Feeds(r.Context(), d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	zone := cat.Salon.Timezone
	p := feedsPage{Title: "Calendar feeds", Salon: cat.Salon.Name, V: v}
	for _, m := range cat.Masters {
		row := feedRow{MasterID: m.ID, Master: m.Name}
		for _, f := range feeds {
			if f.MasterID == m.ID {
				row.On, row.Since, row.By = true, when(f.CreatedAt, zone), f.CreatedBy
			}
		}
		p.Rows = append(p.Rows, row)
	}
	if c, err := r.Cookie(d.feedCookieName(r)); err == nil {
		d.dropFeedCookie(w, r) // shown once
		if master, secret, ok := openFeedLink(v.feedKey, c.Value); ok {
			u := FeedURL(d.base(r), secret)
			p.New = &newFeed{Master: masterName(cat.Masters, master), URL: u}
			// webcal: opens the subscription in Apple's and Outlook's apps;
			// html/template does not know the scheme, so it is vouched
			// for here (our base and a checked secret).
			if parsed, err := url.Parse(u); err == nil && (parsed.Scheme == "http" || parsed.Scheme == "https") {
				p.New.Webcal = template.URL("webcal://" + strings.TrimPrefix(u, parsed.Scheme+"://"))
			}
		}
	}
	if off := r.URL.Query().Get("off"); off != "" {
		for _, m := range cat.Masters { // only a master of the salon: never what the link says
			if m.ID == off {
				p.Off = m.Name
			}
		}
	}
	d.render(w, http.StatusOK, "feeds.html", p)
}

// base is where the server is reached: PUBLIC_URL, else this request's
// scheme and host.
func (d *desk) base(r *http.Request) string {
	if d.cfg.PublicURL != "" {
		return d.cfg.PublicURL
	}
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (d *desk) feedAction(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !v.Owner() {
		d.problem(w, r, v, http.StatusForbidden, "Only the owner can manage calendar feeds.")
		return
	}
	cat, err := d.cfg.Catalog.Catalog(r.Context(), d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	master := r.PathValue("master")
	known := false
	for _, m := range cat.Masters {
		known = known || m.ID == master
	}
	if !known {
		d.problem(w, r, v, http.StatusNotFound, "No such master.")
		return
	}
	switch r.PostFormValue("action") {
	case "new":
		secret, hash := NewFeedSecret()
		if err := d.cfg.Feeds.SetFeed(r.Context(), d.cfg.SalonID, master, hash, v.Login, d.cfg.Clock.Now()); err != nil {
			d.failed(w, r, v, err)
			return
		}
		d.setFeedCookie(w, r, sealFeedLink(v.feedKey, master, secret), feedCookieAge)
		http.Redirect(w, r, "/admin/feeds", http.StatusSeeOther)
	case "off":
		if err := d.cfg.Feeds.DropFeed(r.Context(), d.cfg.SalonID, master); err != nil {
			d.failed(w, r, v, err)
			return
		}
		http.Redirect(w, r, "/admin/feeds?off="+url.QueryEscape(master), http.StatusSeeOther)
	default:
		d.problem(w, r, v, http.StatusBadRequest, "Choose to make a new link or to turn the feed off.")
	}
}
