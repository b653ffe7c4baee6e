// Package desk is the owner's desk: the staff's pages under /admin, served as
// HTML from html/template with the standard library's router and no
// JavaScript. Staff log in with an account from the salon file and a password
// set by `salonbook passwd`; sessions live in PostgreSQL.
//
// Security, in the order a request meets it: every response is no-store, may
// not be framed and has a strict CSP; a state-changing request from another
// origin (Sec-Fetch-Site, else Origin against Host) is refused by
// http.CrossOriginProtection; every form carries a CSRF token (the login form a
// double-submit cookie, the others a token derived from the session id),
// compared in constant time; a session cookie is HttpOnly, SameSite=Lax, Secure
// (and __Host-) when served over https; a login gets a new session id, so a
// planted one is useless; logins are throttled per account and per address,
// and a wrong login and a wrong password get the same answer after the same
// work. What a role may see and change is decided by staff.Account.
package desk

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"salonbook/src/adapters/web"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/i18n"
	"salonbook/src/core/staff"
)

// Store is what the desk reads and writes: accounts, sessions, login attempts
// and the schedule (postgres.Desk). Errors carry core codes: ENotFound where
// said; anything else (the database unreachable, a deadline) is EUnavailable
// or uncoded, and the desk answers it 503.
type Store interface {
	// Account returns an account and its password hash ("" when unset);
	// ENotFound when the salon has no such login.
	Account(ctx context.Context, salonID, login string) (staff.Account, string, error)
	// StartSession stores a new session of login known by idHash (and drops
	// the account's timed-out ones); ENotFound-free: the login exists.
	StartSession(ctx context.Context, salonID, login string, idHash []byte, now time.Time, lim staff.SessionLimits) error
	// Session returns a live session's account and marks it seen; ENotFound
	// when the session is unknown, of another salon, or timed out.
	Session(ctx context.Context, salonID string, idHash []byte, now time.Time, lim staff.SessionLimits) (staff.Account, error)
	// EndSession deletes a session; an unknown one is no error.
	EndSession(ctx context.Context, idHash []byte) error
	// Attempt counts one login attempt against each key in its window and
	// returns each key's count, this attempt included (atomic per key: parallel
	// attempts get distinct counts).
	Attempt(ctx context.Context, salonID string, keys []string, now time.Time, window time.Duration) (map[string]int, error)
	// Succeeded forgets loginKey's attempts and takes one back from addrKey;
	// keys with none are no error.
	Succeeded(ctx context.Context, salonID, loginKey, addrKey string) error
	// Schedule returns the masters' bookings that start in window, every
	// status but expired, by start.
	Schedule(ctx context.Context, salonID string, masterIDs []string, window core.TimeRange) ([]staff.Entry, error)
}

// Catalog gives the salon, its services and masters (booking.Service).
type Catalog interface {
	Catalog(ctx context.Context, salonID string) (*booking.Catalog, error)
}

// Defaults of Config.
const (
	DefaultIdle          = 2 * time.Hour  // a desk left alone this long logs out
	DefaultMaxSession    = 12 * time.Hour // a working day; then log in again
	DefaultFailWindow    = 15 * time.Minute
	DefaultFailsPerLogin = 5  // failed logins of one account per window
	DefaultFailsPerAddr  = 20 // failed logins from one address (IPv6: its /64) per window
	// DefaultRequestTimeout bounds a desk request (as /api/v1's): a page or a
	// login that cannot finish by then is answered 503.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultHashWait bounds how long a login waits for a hashing slot before
	// it is answered 503 with Retry-After.
	DefaultHashWait = 2 * time.Second
)

// Config is what the desk needs.
type Config struct {
	SalonID string
	Store   Store
	Catalog Catalog
	Clock   core.Clock
	Logger  *slog.Logger
	// PublicURL is where people reach the server (PUBLIC_URL). When it is
	// https, cookies are Secure and __Host- prefixed; when it is empty, that
	// follows the request (TLS on this connection).
	PublicURL string
	Limits    staff.SessionLimits // zero fields: DefaultIdle, DefaultMaxSession
	// FailWindow, FailsPerLogin, FailsPerAddr: login throttling (zero: defaults).
	FailWindow                  time.Duration
	FailsPerLogin, FailsPerAddr int
	// TrustedProxies are the reverse proxies (TRUSTED_PROXIES) whose
	// X-Forwarded-For is believed: for a request from one of them, the address
	// throttled is the right-most entry that is not itself a trusted proxy.
	// Empty: the header is ignored and the peer's address is used.
	TrustedProxies []netip.Prefix
	// RequestTimeout bounds each request (zero: DefaultRequestTimeout).
	RequestTimeout time.Duration
	// Hashing bounds the password checks at once (each takes 19 MiB): its
	// capacity is the number of slots (nil: the package's 4, shared with
	// HashPassword). HashWait bounds the wait for a slot (zero: DefaultHashWait).
	Hashing  chan struct{}
	HashWait time.Duration
	// Bookings and Records are the desk's actions (actions.go): the booking
	// use cases (booking.Service) and what their pages read (postgres.Desk).
	// Either nil: the desk only shows the schedule.
	Bookings Bookings
	Records  Records
	// Clients, Feeds and Jobs serve /admin/clients, /admin/feeds (and
	// FeedHandler's /calendar/) and /admin/jobs; nil: those pages are not found.
	Clients ClientStore
	Feeds   FeedStore
	Jobs    JobStore
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed desk.css
var css []byte

var pages = template.Must(template.New("").Funcs(template.FuncMap{}).ParseFS(templateFS, "templates/*.html"))

// deskLang is the language of the desk's pages (English for now); amounts on
// them are written by the project's one money formatter in it (price).
const deskLang = "en"

// printer writes the desk's amounts. The catalogs are embedded: one that does
// not load is a build defect, as a template that does not parse is (pages).
var printer = func() *i18n.Printer {
	c, err := i18n.Load()
	if err != nil {
		panic(err)
	}
	return c.Printer(deskLang, time.UTC)
}()

// price writes an amount as people read it: "€10", "€18.50" (i18n Price).
func price(m core.Money) string { return printer.Price(m) }

type desk struct {
	cfg Config
}

// Handler returns the desk's routes, all under /admin.
func Handler(cfg Config) http.Handler {
	if cfg.Limits.Idle <= 0 {
		cfg.Limits.Idle = DefaultIdle
	}
	if cfg.Limits.Max <= 0 {
		cfg.Limits.Max = DefaultMaxSession
	}
	if cfg.FailWindow <= 0 {
		cfg.FailWindow = DefaultFailWindow
	}
	if cfg.FailsPerLogin <= 0 {
		cfg.FailsPerLogin = DefaultFailsPerLogin
	}
	if cfg.FailsPerAddr <= 0 {
		cfg.FailsPerAddr = DefaultFailsPerAddr
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Hashing == nil {
		cfg.Hashing = hashing
	}
	if cfg.HashWait <= 0 {
		cfg.HashWait = DefaultHashWait
	}
	d := &desk{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/desk.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write(css)
	})
	mux.HandleFunc("GET /admin/login", d.loginPage)
	mux.HandleFunc("POST /admin/login", d.login)
	mux.Handle("POST /admin/logout", d.authed(d.logout))
	mux.Handle("GET /admin/{$}", d.authed(func(w http.ResponseWriter, r *http.Request, _ *viewer) {
		http.Redirect(w, r, "/admin/day", http.StatusSeeOther)
	}))
	mux.Handle("GET /admin/day", d.authed(d.day))
	mux.Handle("GET /admin/week", d.authed(d.week))
	d.actionRoutes(mux)
	d.clientRoutes(mux) // clients.go
	d.feedRoutes(mux)   // feed.go
	d.jobRoutes(mux)    // jobs.go
	// Anything else under /admin: the login page first, then not found.
	mux.Handle("/admin/", d.authed(func(w http.ResponseWriter, r *http.Request, v *viewer) {
		d.problem(w, r, v, http.StatusNotFound, "No such page.")
	}))
	mux.Handle("/admin", http.RedirectHandler("/admin/", http.StatusSeeOther))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.problem(w, r, nil, http.StatusForbidden, "This form was sent from another site and is refused.")
	}))
	return d.logged(d.deadline(d.headers(cop.Handler(mux))))
}

// deadline puts cfg.RequestTimeout on the request's context; the route the
// router finds is handed back to the access log.
func (d *desk) deadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d.cfg.RequestTimeout)
		defer cancel()
		inner := r.WithContext(ctx)
		next.ServeHTTP(w, inner)
		r.Pattern = inner.Pattern
	})
}

// headers sets what every desk response carries: nothing cached (pages hold
// phone numbers), no framing, no scripts, no referrer beyond the site.
func (d *desk) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		next.ServeHTTP(w, r)
	})
}

// logged writes one line per request: method, route, status, time; never a
// query string, a form or a header (they may hold a password or a phone).
func (d *desk) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if d.cfg.Logger != nil {
			d.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "http",
				slog.String("method", r.Method), slog.String("route", r.Pattern),
				slog.Int("status", rec.status), slog.Duration("took", time.Since(start)))
		}
	})
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// viewer is the person behind a request with a session.
type viewer struct {
	staff.Account
	idHash  []byte
	CSRF    string
	feedKey []byte // seals the one-time feed link cookie to this session (feed.go)
}

// secure reports whether cookies must be Secure: the public URL is https, or
// (with none configured) this request came over TLS.
func (d *desk) secure(r *http.Request) bool {
	if d.cfg.PublicURL != "" {
		return strings.HasPrefix(strings.ToLower(d.cfg.PublicURL), "https://")
	}
	return r.TLS != nil
}

// cookieName is the session cookie's name; __Host- (Secure, Path=/, no Domain:
// no subdomain can set or shadow it) over https.
func (d *desk) cookieName(r *http.Request, base string) string {
	if d.secure(r) {
		return "__Host-" + base
	}
	return base
}

const (
	sessionCookie = "desk"
	loginCookie   = "desk_login" // the login form's double-submit CSRF token
)

func (d *desk) setCookie(w http.ResponseWriter, r *http.Request, base, value string, maxAge int, site http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: d.cookieName(r, base), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: d.secure(r), SameSite: site})
}

// newToken returns 32 random bytes, base64url.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// idHash is what the database knows a session by.
func idHash(id string) []byte {
	h := sha256.Sum256([]byte("salonbook desk session\x00" + id))
	return h[:]
}

// csrfToken is the session's CSRF token: derived from the session id (which
// only the cookie holds), so it needs no storage and dies with the session.
func csrfToken(id string) string {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("salonbook desk csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func equal(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// authed runs h for a request with a live session. Without one, a GET is sent
// to the login page and back, anything else to the login page; a POST without
// the session's CSRF token is refused.
func (d *desk) authed(h func(http.ResponseWriter, *http.Request, *viewer)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(d.cookieName(r, sessionCookie))
		if err != nil || c.Value == "" || len(c.Value) > 64 {
			d.toLogin(w, r)
			return
		}
		v := &viewer{idHash: idHash(c.Value), CSRF: csrfToken(c.Value), feedKey: feedKey(c.Value)}
		v.Account, err = d.cfg.Store.Session(r.Context(), d.cfg.SalonID, v.idHash, d.cfg.Clock.Now(), d.cfg.Limits)
		switch {
		case core.ErrorCode(err) == core.ENotFound:
			d.setCookie(w, r, sessionCookie, "", -1, http.SameSiteLaxMode)
			d.toLogin(w, r)
			return
		case err != nil:
			d.failed(w, r, v, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !equal(r.PostFormValue("csrf"), v.CSRF) {
			d.problem(w, r, v, http.StatusForbidden, "This form has expired or did not come from the desk. Go back, reload and try again.")
			return
		}
		h(w, r, v)
	})
}

func (d *desk) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/admin/login"
	if r.Method == http.MethodGet && r.URL.Path != "/admin/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext returns where to go after the login: a desk page, never elsewhere.
// The path is judged as the browser will resolve it (path.Clean): a
// "/admin/../chat" leaves the desk.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || u.User != nil || u.Path == "" {
		return "/admin/day"
	}
	clean := path.Clean(u.Path)
	if !strings.HasPrefix(clean, "/admin/") || strings.Contains(next, "\\") || strings.HasPrefix(next, "//") ||
		clean == "/admin/login" {
		return "/admin/day"
	}
	return u.RequestURI()
}

type loginData struct {
	Title, CSRF, Next, Login, Error string
}

func (d *desk) loginPage(w http.ResponseWriter, r *http.Request) {
	d.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (d *desk) renderLogin(w http.ResponseWriter, r *http.Request, status int, data loginData) {
	data.Title = "Log in"
	data.CSRF = newToken()
	d.setCookie(w, r, loginCookie, data.CSRF, 3600, http.SameSiteStrictMode)
	d.render(w, status, "login.html", data)
}

// addrKey is the throttling key of the request's address (web.ClientAddr:
// X-Forwarded-For only from Config.TrustedProxies).
func (d *desk) addrKey(r *http.Request) string {
	return "addr:" + web.ClientAddr(r, d.cfg.TrustedProxies)
}

// normalLogin lowers and trims what was typed; anything longer than a login
// may be is cut (it matches no account either way).
func normalLogin(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// oddLoginKey is the one throttling key of every login that cannot be one
// (staff.LoginPattern): such logins are not looked up (a cut inside a
// character or a NUL byte made the lookup fail) and are throttled together.
const oddLoginKey = "login:?"

// errBusy: no hashing slot came free within Config.HashWait.
var errBusy = errors.New("desk: every password hashing slot is busy")

// checkPassword verifies password against encoded (verifyPassword) in one of
// the desk's hashing slots: it waits for a slot at most Config.HashWait
// (errBusy) and no longer than the request lives (its context's error).
func (d *desk) checkPassword(ctx context.Context, encoded, password string) (bool, error) {
	t := time.NewTimer(d.cfg.HashWait)
	defer t.Stop()
	select {
	case d.cfg.Hashing <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-t.C:
		return false, errBusy
	}
	defer func() { <-d.cfg.Hashing }()
	return verifyPassword(encoded, password), nil
}

func (d *desk) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	next := safeNext(r.PostFormValue("next"))
	c, err := r.Cookie(d.cookieName(r, loginCookie))
	if err != nil || !equal(r.PostFormValue("csrf"), c.Value) {
		d.renderLogin(w, r, http.StatusForbidden, loginData{Next: next,
			Error: "The login form had expired. Please try again."})
		return
	}
	login := normalLogin(r.PostFormValue("login"))
	valid := staff.LoginPattern.MatchString(login)
	// Shown back in the form: what was typed, with what a page cannot hold dropped.
	shown := strings.ReplaceAll(strings.ToValidUTF8(login, ""), "\x00", "")
	password := r.PostFormValue("password")
	now := d.cfg.Clock.Now()
	loginKey, addr := "login:"+login, d.addrKey(r)
	if !valid {
		loginKey = oddLoginKey
	}
	// The attempt is counted before the password is looked at, and the counts
	// returned are this attempt's: parallel attempts cannot all pass a check
	// made before any of them was counted.
	counts, err := d.cfg.Store.Attempt(ctx, d.cfg.SalonID, []string{loginKey, addr}, now, d.cfg.FailWindow)
	if err != nil {
		d.failed(w, r, nil, err)
		return
	}
	if counts[loginKey] > d.cfg.FailsPerLogin || counts[addr] > d.cfg.FailsPerAddr {
		// Refused before the password is looked at: the right one is refused too.
		w.Header().Set("Retry-After", strconv.Itoa(int(d.cfg.FailWindow/time.Second)))
		d.renderLogin(w, r, http.StatusTooManyRequests, loginData{Next: next, Login: shown,
			Error: "Too many failed logins. Wait a quarter of an hour and try again."})
		return
	}
	var acct staff.Account
	var hash string
	err = core.Errorf(core.ENotFound, "error.not_found", "desk: %q is no login", shown)
	if valid {
		acct, hash, err = d.cfg.Store.Account(ctx, d.cfg.SalonID, login)
		if err != nil && core.ErrorCode(err) != core.ENotFound {
			d.failed(w, r, nil, err)
			return
		}
	}
	// An unknown login, or one with no password yet, is checked against a dummy
	// hash: the same work and the same answer as a wrong password.
	ok, verr := d.checkPassword(ctx, hash, password)
	if verr != nil {
		if errors.Is(verr, context.Canceled) {
			d.failed(w, r, nil, verr)
			return
		}
		w.Header().Set("Retry-After", "5")
		d.renderLogin(w, r, http.StatusServiceUnavailable, loginData{Next: next, Login: shown,
			Error: "The desk is busy just now. Try again in a few seconds."})
		return
	}
	if !ok || err != nil || hash == "" {
		d.renderLogin(w, r, http.StatusUnauthorized, loginData{Next: next, Login: shown,
			Error: "Wrong login or password."})
		return
	}
	// A new session id at every login; one the browser came with (planted or
	// old) is ended, never promoted.
	if old, err := r.Cookie(d.cookieName(r, sessionCookie)); err == nil && old.Value != "" {
		if err := d.cfg.Store.EndSession(ctx, idHash(old.Value)); err != nil {
			d.failed(w, r, nil, err)
			return
		}
	}
	if err := d.cfg.Store.Succeeded(ctx, d.cfg.SalonID, loginKey, addr); err != nil {
		d.failed(w, r, nil, err)
		return
	}
	id := newToken()
	if err := d.cfg.Store.StartSession(ctx, d.cfg.SalonID, acct.Login, idHash(id), now, d.cfg.Limits); err != nil {
		d.failed(w, r, nil, err)
		return
	}
	// A session cookie (no Max-Age): the server's timeouts decide how long it lives.
	d.setCookie(w, r, sessionCookie, id, 0, http.SameSiteLaxMode)
	d.setCookie(w, r, loginCookie, "", -1, http.SameSiteStrictMode)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *desk) logout(w http.ResponseWriter, r *http.Request, v *viewer) {
	if err := d.cfg.Store.EndSession(r.Context(), v.idHash); err != nil {
		d.failed(w, r, v, err)
		return
	}
	d.setCookie(w, r, sessionCookie, "", -1, http.SameSiteLaxMode)
	d.dropFeedCookie(w, r) // a feed link not yet shown goes with the session
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

type problemData struct {
	Title, Message, Salon string
	V                     *viewer
}

func (d *desk) problem(w http.ResponseWriter, _ *http.Request, v *viewer, status int, msg string) {
	d.render(w, status, "problem.html", problemData{Title: http.StatusText(status), Message: msg, V: v})
}

// failed answers an error from below: its code's status and a plain message;
// the detail goes to the log (it names no phone or password).
func (d *desk) failed(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	status, msg := http.StatusServiceUnavailable, "The desk cannot reach its database just now. Try again in a moment."
	switch core.ErrorCode(err) {
	case core.ENotFound:
		status, msg = http.StatusNotFound, "Not found."
	case core.EInvalid:
		status, msg = http.StatusBadRequest, "That request is not valid."
	case core.EForbidden:
		status, msg = http.StatusForbidden, "You may not do that."
	}
	if errors.Is(err, context.Canceled) {
		status = 499
	}
	if d.cfg.Logger != nil && status >= 500 {
		d.cfg.Logger.Error("desk", slog.String("route", r.Pattern), slog.String("error", err.Error()))
	}
	d.problem(w, r, v, status, msg)
}

func (d *desk) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		if d.cfg.Logger != nil {
			d.cfg.Logger.Error("desk: render", slog.String("page", name), slog.String("error", err.Error()))
		}
		http.Error(w, "The page could not be drawn.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
