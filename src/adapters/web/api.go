package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
)

// maxBody caps a request body; no API request needs more.
const maxBody = 64 << 10

// DefaultRequestTimeout is how long an /api/v1 request may take when
// Config.RequestTimeout is 0: below the server's write timeout, so the client
// always gets its answer.
const DefaultRequestTimeout = 10 * time.Second

// Config is what the HTTP adapter needs.
type Config struct {
	Bookings *booking.Service
	SalonID  string // the salon this server answers for
	APIToken string // bearer token for /api/v1
	// Ready reports whether the service can take traffic (database reachable,
	// migrations current); its error text is shown on /readyz.
	Ready func(ctx context.Context) error
	// Details adds to /readyz what an operator should see but that does not
	// make the service unready (calendars that fail); nil for none.
	Details func(ctx context.Context) map[string]any
	Logger  *slog.Logger
	Clock   core.Clock
	Chat    Chat // the conversation behind /chat; nil leaves the web chat off
	// NewChatsPerMinute is how many new web-chat sessions start per minute,
	// from all addresses together (a bucket of that many, refilled evenly);
	// 0 is DefaultNewChatsPerMinute.
	NewChatsPerMinute int
	// NewChatsPerAddr is how many new web-chat sessions one remote address (an
	// IPv6 /64) may start per 10 minutes; 0 is DefaultNewChatsPerAddr, negative
	// turns the limit off (behind a reverse proxy every visitor is its address).
	NewChatsPerAddr int
	// RequestTimeout bounds each /api/v1 request (0: DefaultRequestTimeout):
	// when it passes, the request's statements are cancelled in the database
	// (what they wrote rolls back) and it is answered 503 unavailable.
	RequestTimeout time.Duration
	// PublicURL is where people reach the server (PUBLIC_URL): when it is
	// https the web chat's session cookie is Secure (__Host-chat); when it
	// is empty, a request over TLS decides.
	PublicURL string
	// Reminders says which bookings get chat reminders and when (the booking
	// answers' "reminders"); nil: none do ("none: no chat").
	Reminders Reminders
	// Payments lists the deposits to be refunded and records the owner's
	// refunds; nil: none are listed.
	Payments Payments
	// BookingFiles finds a booking by the token of its calendar file
	// (GET /booking/{token}.ics, the booked message's "Add to calendar");
	// nil: no such files are served.
	BookingFiles BookingFiles
	// AdClicks stores the ad clicks of GET /go/telegram (an ad's
	// destination) for the Telegram bot TelegramBot (its username, without
	// '@'); nil or "": no such route.
	AdClicks    AdClicks
	TelegramBot string
	// ClicksPerAddr is how many of those clicks one client address may have
	// stored per 10 minutes; 0 is the default ClicksPerAddr, negative turns
	// the limit off.
	ClicksPerAddr int
	// TrustedProxies are the reverse proxies (TRUSTED_PROXIES) whose
	// X-Forwarded-For names the client's address (ClientAddr), for the
	// clicks' limit per address.
	TrustedProxies []netip.Prefix
}

// Reminders is what the API reads of the chat reminders
// (pipeline.Reminders).
type Reminders interface {
	// Remindable reports whether bookings made through source get chat
	// reminders.
	Remindable(source string) bool
	// Scheduled returns the due instants of the booking's reminders for start.
	Scheduled(ctx context.Context, salonID, bookingID string, start time.Time) ([]time.Time, error)
}

// Handler returns the routes of the HTTP server.
func Handler(cfg Config) http.Handler {
	a := &api{cfg: cfg}
	switch {
	case cfg.ClicksPerAddr == 0:
		a.clicksBy = newFloodGuard(ClicksPerAddr, clicksPerAddrWindow)
	case cfg.ClicksPerAddr > 0:
		a.clicksBy = newFloodGuard(cfg.ClicksPerAddr, clicksPerAddrWindow)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	api := http.NewServeMux()
	api.HandleFunc("GET /api/v1/services", a.services)
	api.HandleFunc("GET /api/v1/masters", a.masters)
	api.HandleFunc("GET /api/v1/slots", a.slots)
	api.HandleFunc("POST /api/v1/bookings", a.book)
	api.HandleFunc("GET /api/v1/bookings/{id}", a.get)
	api.HandleFunc("POST /api/v1/bookings/{id}/confirm", a.confirm)
	api.HandleFunc("POST /api/v1/bookings/{id}/cancel", a.cancel)
	api.HandleFunc("POST /api/v1/bookings/{id}/reschedule", a.reschedule)
	api.HandleFunc("POST /api/v1/bookings/{id}/no-show", a.noShow)
	api.HandleFunc("GET /api/v1/payments/refunds", a.refunds)
	api.HandleFunc("POST /api/v1/payments/{id}/refunded", a.refunded)
	api.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint", nil)
	})
	mux.Handle("/api/v1/", a.authorised(api))
	if cfg.BookingFiles != nil {
		mux.HandleFunc("GET /booking/{file}", a.bookingFile)
	}
	if cfg.AdClicks != nil && cfg.TelegramBot != "" {
		mux.HandleFunc("GET /go/telegram", a.goTelegram)
	}
	if cfg.Chat != nil {
		chat := newWebChat(a)
		mux.HandleFunc("GET /chat", chat.page)
		mux.HandleFunc("GET /chat/api/messages", chat.history)
		// The page's session is a cookie: a message from another origin
		// (Sec-Fetch-Site, else Origin against Host) is refused, as the desk's forms are.
		mux.Handle("POST /chat/api/messages", http.NewCrossOriginProtection().Handler(http.HandlerFunc(chat.messages)))
	}
	return a.logged(mux)
}

type api struct {
	cfg           Config
	clicks        clickBudget                   // GET /go/telegram's clicks stored per minute
	clicksBy      *floodGuard                   // and per client address (Config.ClicksPerAddr); nil: no such limit
	clickRefusals refusals                      // the clicks those limits kept
	zone          atomic.Pointer[time.Location] // the salon's, from the last catalog read for a booking's answer
}

func (a *api) authorised(next http.Handler) http.Handler {
	want := []byte("Bearer " + a.cfg.APIToken)
	timeout := a.cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		ctx = booking.WithActor(ctx, booking.ActorAPI) // the changes' records name the API
		outer := r
		r = r.WithContext(ctx)
		// The inner mux sets the route on this copy: hand it to the access log.
		defer func() {
			if r.Pattern != "" {
				outer.Pattern = r.Pattern
			}
		}()
		got := []byte(r.Header.Get("Authorization"))
		if a.cfg.APIToken == "" || subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="salonbook"`)
			writeError(w, http.StatusUnauthorized, "forbidden", "missing or wrong API token", nil)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

// logged writes one structured line per request: no query strings, no bodies, no
// headers, so that tokens and phone numbers cannot reach the log.
func (a *api) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		a.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "http",
			slog.String("method", r.Method), slog.String("route", r.Pattern),
			slog.Int("status", rec.status), slog.Duration("took", time.Since(start)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (a *api) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := a.cfg.Ready(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
		return
	}
	out := map[string]any{"status": "ok"}
	if a.cfg.Details != nil {
		for k, v := range a.cfg.Details(ctx) {
			if k != "status" {
				out[k] = v
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type serviceJSON struct {
	ID                  string            `json:"id"`
	Name                map[string]string `json:"name"`
	DurationMinutes     int               `json:"duration_minutes"`
	BufferBeforeMinutes int               `json:"buffer_before_minutes"`
	BufferAfterMinutes  int               `json:"buffer_after_minutes"`
	Price               string            `json:"price"`
	Currency            string            `json:"currency"`
}

func (a *api) services(w http.ResponseWriter, r *http.Request) {
	cat, err := a.cfg.Bookings.Catalog(r.Context(), a.cfg.SalonID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]serviceJSON, 0, len(cat.Services))
	for _, s := range cat.Services {
		out = append(out, serviceJSON{
			ID: s.ID, Name: s.Name, DurationMinutes: int(s.Duration / time.Minute),
			BufferBeforeMinutes: int(s.BufferBefore / time.Minute), BufferAfterMinutes: int(s.BufferAfter / time.Minute),
			Price: amount(s.Price), Currency: s.Price.Currency,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"services": out})
}

type masterJSON struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`            // the default name
	Names    map[string]string `json:"names,omitempty"` // by language, when the salon file gives them
	Services []string          `json:"services"`
}

func (a *api) masters(w http.ResponseWriter, r *http.Request) {
	cat, err := a.cfg.Bookings.Catalog(r.Context(), a.cfg.SalonID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]masterJSON, 0, len(cat.Masters))
	for _, m := range cat.Masters {
		out = append(out, masterJSON{ID: m.ID, Name: m.Name, Names: m.Names, Services: m.Services})
	}
	writeJSON(w, http.StatusOK, map[string]any{"masters": out})
}

type slotJSON struct {
	Start  string `json:"start"`
	End    string `json:"end"`
	Master string `json:"master"`
}

func slotsJSON(slots []availability.Slot, zone *time.Location) []slotJSON {
	out := make([]slotJSON, 0, len(slots))
	for _, s := range slots {
		out = append(out, slotJSON{Start: s.Start.In(zone).Format(time.RFC3339), End: s.End.In(zone).Format(time.RFC3339), Master: s.MasterID})
	}
	return out
}

func (a *api) slots(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := booking.SlotsRequest{SalonID: a.cfg.SalonID, ServiceID: q.Get("service"), MasterID: q.Get("master"), Days: 7}
	if req.ServiceID == "" {
		writeError(w, http.StatusBadRequest, "invalid", "query parameter service is required", nil)
		return
	}
	if req.MasterID == "" {
		req.MasterID = booking.AnyMaster
	}
	if d := q.Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > booking.MaxDays {
			writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("days must be a whole number from 1 to %d", booking.MaxDays), nil)
			return
		}
		req.Days = n
	}
	if f := q.Get("from"); f != "" {
		d, err := core.ParseDate(f)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", "from must be a date YYYY-MM-DD", nil)
			return
		}
		req.From = d
	} else {
		cat, err := a.cfg.Bookings.Catalog(r.Context(), a.cfg.SalonID)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		req.From = core.DateOf(a.cfg.Clock.Now().In(cat.Salon.Timezone))
	}
	slots, salon, err := a.cfg.Bookings.Slots(r.Context(), req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"timezone": salon.Timezone.String(), "slots": slotsJSON(slots, salon.Timezone)})
}

type bookingJSON struct {
	ID            string  `json:"id"`
	Status        string  `json:"status"`
	Service       string  `json:"service"`
	Master        string  `json:"master"`
	Start         string  `json:"start"`
	End           string  `json:"end"`
	Timezone      string  `json:"timezone"` // of start, end, hold_expires_at, coming_at and reminders
	HoldExpiresAt *string `json:"hold_expires_at,omitempty"`
	ComingAt      *string `json:"coming_at,omitempty"` // when the client said "I'll come" (a reminder's button), in timezone
	// Attendance: "arrived" or "no_show" once staff marked it (the desk, or
	// POST …/no-show), with when; absent before.
	Attendance   string  `json:"attendance,omitempty"`
	AttendanceAt *string `json:"attendance_at,omitempty"`
	// Kind is "block" for a master's blocked time (made on the desk: no
	// client, no service); absent for an appointment.
	Kind string `json:"kind,omitempty"`
	// Reminders: the due times of the client's chat reminders ([] while held,
	// or when all were due already at booking), or why there are none:
	// "none: no chat" (made through the API or the web chat), "none: off"
	// (the salon's policy has none). Left out when it cannot be read.
	Reminders any    `json:"reminders,omitempty"`
	Price     string `json:"price"`
	Currency  string `json:"currency"`
	ClientID  int64  `json:"client_id"`
	// Deposit: the deposit asked of the booking and its state; absent when
	// none was asked.
	Deposit *depositJSON `json:"deposit,omitempty"`
}

func (a *api) writeBooking(w http.ResponseWriter, r *http.Request, status int, b *core.Booking) {
	// The change is stored: its answer must not be lost to the request's
	// deadline, nor to a failed read of the catalog (then the zone is the one
	// an earlier answer used, else UTC, and the answer names it).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), answerTimeout)
	defer cancel()
	zone := time.UTC
	var policy *core.Policy
	if cat, err := a.cfg.Bookings.Catalog(ctx, a.cfg.SalonID); err == nil {
		zone, policy = cat.Salon.Timezone, &cat.Salon.Policy
		a.zone.Store(zone)
	} else {
		a.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "answer of a stored change without the catalog",
			slog.String("route", r.Pattern), slog.String("error", clip(err.Error())))
		if z := a.zone.Load(); z != nil {
			zone = z
		}
	}
	out := bookingJSON{
		ID: b.ID, Status: string(b.Status), Service: b.ServiceID, Master: b.MasterID,
		Start: b.Start.In(zone).Format(time.RFC3339), End: b.End.In(zone).Format(time.RFC3339),
		Timezone: zone.String(), Price: amount(b.Price), Currency: b.Price.Currency, ClientID: b.ClientID,
	}
	if b.Status.Pending() { // held, or awaiting its deposit: until then
		s := b.HoldExpiresAt.In(zone).Format(time.RFC3339)
		out.HoldExpiresAt = &s
	}
	out.Deposit = depositOf(b)
	if !b.ComingAt.IsZero() {
		s := b.ComingAt.In(zone).Format(time.RFC3339)
		out.ComingAt = &s
	}
	if b.Attendance != "" {
		s := b.AttendanceAt.In(zone).Format(time.RFC3339)
		out.Attendance, out.AttendanceAt = string(b.Attendance), &s
	}
	if b.Block {
		out.Kind = "block"
	}
	out.Reminders = a.reminders(ctx, r, b, policy, zone)
	writeJSON(w, status, out)
}

// reminders is a booking answer's "reminders"; nil when they cannot be read.
func (a *api) reminders(ctx context.Context, r *http.Request, b *core.Booking, policy *core.Policy, zone *time.Location) any {
	switch {
	case policy != nil && len(policy.Reminders) == 0:
		return "none: off"
	case a.cfg.Reminders == nil || !a.cfg.Reminders.Remindable(b.Source):
		return "none: no chat"
	}
	due, err := a.cfg.Reminders.Scheduled(ctx, b.SalonID, b.ID, b.Start)
	if err != nil {
		a.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "answer of a booking without its reminders",
			slog.String("route", r.Pattern), slog.String("error", clip(err.Error())))
		return nil
	}
	out := make([]string, len(due))
	for i, t := range due {
		out[i] = t.In(zone).Format(time.RFC3339)
	}
	return out
}

// answerTimeout bounds what writing the answer to a stored change may still
// read once the request's deadline has passed.
const answerTimeout = 3 * time.Second

type bookRequest struct {
	Service string `json:"service"`
	Master  string `json:"master"`
	Start   string `json:"start"`
	Client  struct {
		Name  string `json:"name"`
		Phone string `json:"phone"`
	} `json:"client"`
	IdempotencyKey string `json:"idempotency_key"`
	Confirm        bool   `json:"confirm"`
}

func (a *api) book(w http.ResponseWriter, r *http.Request) {
	var in bookRequest
	if !decode(w, r, &in) {
		return
	}
	start, ok := parseStart(w, in.Start)
	if !ok {
		return
	}
	if in.Service == "" || in.Master == "" {
		writeError(w, http.StatusBadRequest, "invalid", "service and master are required (master may be \"any\")", nil)
		return
	}
	b, err := a.cfg.Bookings.Book(r.Context(), booking.BookRequest{
		SalonID: a.cfg.SalonID, ServiceID: in.Service, MasterID: in.Master, Start: start,
		Client:         core.Client{Name: in.Client.Name, Phone: in.Client.Phone},
		IdempotencyKey: in.IdempotencyKey, Confirm: in.Confirm, Source: "api",
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeBooking(w, r, http.StatusCreated, b)
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	b, err := a.cfg.Bookings.Get(r.Context(), a.cfg.SalonID, r.PathValue("id"))
	a.respond(w, r, b, err)
}

func (a *api) confirm(w http.ResponseWriter, r *http.Request) {
	b, err := a.cfg.Bookings.Confirm(r.Context(), a.cfg.SalonID, r.PathValue("id"))
	a.respond(w, r, b, err)
}

func (a *api) cancel(w http.ResponseWriter, r *http.Request) {
	b, err := a.cfg.Bookings.Cancel(r.Context(), a.cfg.SalonID, r.PathValue("id"))
	a.respond(w, r, b, err)
}

func (a *api) reschedule(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Start string `json:"start"`
	}
	if !decode(w, r, &in) {
		return
	}
	start, ok := parseStart(w, in.Start)
	if !ok {
		return
	}
	b, err := a.cfg.Bookings.Reschedule(r.Context(), a.cfg.SalonID, r.PathValue("id"), start)
	a.respond(w, r, b, err)
}

// noShow marks that the client did not come, at or after the start of a
// confirmed booking (issue 16's deposits count these).
func (a *api) noShow(w http.ResponseWriter, r *http.Request) {
	b, err := a.cfg.Bookings.Mark(r.Context(), a.cfg.SalonID, r.PathValue("id"), core.NoShow)
	a.respond(w, r, b, err)
}

func (a *api) respond(w http.ResponseWriter, r *http.Request, b *core.Booking, err error) {
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeBooking(w, r, http.StatusOK, b)
}

// fail answers an error from the use cases: its code decides the status, its key the
// message; the cause goes to the log only.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := core.ErrorCode(err)
	status := map[core.Code]int{
		core.EInvalid: http.StatusBadRequest, core.ENotFound: http.StatusNotFound,
		core.EConflict: http.StatusConflict, core.EForbidden: http.StatusForbidden,
		core.EUnavailable: http.StatusServiceUnavailable,
	}[code]
	if status == 0 {
		status, code = http.StatusInternalServerError, core.EInternal
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	a.cfg.Logger.LogAttrs(r.Context(), level, "request failed", slog.String("route", r.Pattern),
		slog.String("code", string(code)), slog.String("error", clip(err.Error())))
	var extra map[string]any
	if c, ok := errors.AsType[*booking.ConflictError](err); ok {
		cat, cerr := a.cfg.Bookings.Catalog(r.Context(), a.cfg.SalonID)
		if cerr == nil {
			extra = map[string]any{"alternatives": slotsJSON(c.Alternatives, cat.Salon.Timezone)}
		}
	}
	writeError(w, status, string(code), message(core.ErrorKey(err)), extra)
}

// decode reads the body into v: one JSON object of known fields, in UTF-8, and
// nothing after it. Anything else is answered 400 and decode returns false.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		msg := "body could not be read"
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			msg = "body is too large"
		}
		writeError(w, http.StatusBadRequest, "invalid", msg, nil)
		return false
	}
	// encoding/json would store invalid UTF-8 (and a lone surrogate escape) as
	// U+FFFD in names and keys: refuse it instead.
	if !utf8.Valid(raw) {
		writeError(w, http.StatusBadRequest, "invalid", "body must be UTF-8 text: it has bytes that are not UTF-8", nil)
		return false
	}
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		writeError(w, http.StatusBadRequest, "invalid", "body must be a JSON object", nil)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", "body must be a JSON object: "+jsonProblem(err), nil)
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "invalid", "body must be one JSON object and nothing after it", nil)
		return false
	}
	// encoding/json takes a key in any case and the last of a repeated key.
	if problem := keyProblem(raw, fieldNames(reflect.TypeOf(v))); problem != "" {
		writeError(w, http.StatusBadRequest, "invalid", "body must be a JSON object: "+problem, nil)
		return false
	}
	if loneSurrogate(raw) {
		writeError(w, http.StatusBadRequest, "invalid", `body must be UTF-8 text: a \u escape names half a surrogate pair`, nil)
		return false
	}
	return true
}

// keyProblem walks raw, one valid JSON value, and describes the first key that
// is given twice in its object or is not spelled exactly as one of names; ""
// when there is none.
func keyProblem(raw []byte, names map[string]bool) string {
	type frame struct {
		object, wantKey bool
		keys            map[string]bool
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return "" // the end (the value was decoded already)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return ""
			}
			if p := stack[len(stack)-1]; p.object {
				p.wantKey = true
			}
			continue
		}
		if top != nil && top.object && top.wantKey {
			key, _ := tok.(string)
			if top.keys[key] {
				return fmt.Sprintf("field %q is given twice", key)
			}
			if !names[key] {
				return fmt.Sprintf("unknown field %q", key)
			}
			top.keys[key], top.wantKey = true, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true, keys: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, &frame{})
		default:
			if top != nil && top.object {
				top.wantKey = true
			}
		}
	}
}

// fieldNames gathers the JSON names of t's fields, and of the structs within.
func fieldNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			names[name] = true
			walk(f.Type)
		}
	}
	walk(t)
	return names
}

// loneSurrogate reports whether raw, a JSON text, has a \u escape of a UTF-16
// surrogate that is not half of a pair (encoding/json decodes it as U+FFFD).
func loneSurrogate(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character: a backslash escaped is skipped whole
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r, ok := hex4(raw[i+1:])
		if !ok {
			continue
		}
		i += 4
		switch {
		case 0xD800 <= r && r < 0xDC00:
			if i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if low, ok := hex4(raw[i+3:]); ok && 0xDC00 <= low && low < 0xE000 {
					i += 6
					continue
				}
			}
			return true
		case 0xDC00 <= r && r < 0xE000:
			return true
		}
	}
	return false
}

// hex4 reads four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// maxLogValue caps what one log attribute may carry of a request's input (error
// details can quote an id or a choice as sent): a 60 KB id stays out of the log.
const maxLogValue = 512

// clip cuts s to maxLogValue bytes, at a character boundary, saying how long it was.
func clip(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	cut := maxLogValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}

// jsonProblem describes a decode error without echoing the body.
func jsonProblem(err error) string {
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return fmt.Sprintf("field %s has the wrong type", e.Field)
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "malformed JSON"
}

func parseStart(w http.ResponseWriter, s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", "start must be an RFC 3339 time with an offset, e.g. 2027-03-02T10:00:00+01:00", nil)
		return time.Time{}, false
	}
	return t.UTC(), true
}

func amount(m core.Money) string { return strings.TrimSuffix(m.String(), " "+m.Currency) }

func writeError(w http.ResponseWriter, status int, code, msg string, extra map[string]any) {
	body := map[string]any{"code": code, "message": msg}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, status, map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
