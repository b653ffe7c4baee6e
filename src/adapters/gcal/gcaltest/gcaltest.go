// Package gcaltest is a fake Google Calendar API v3 for tests and demos: the
// real paths under /calendar/v3/, the real JSON (the official client's own
// types), and the real error shapes: 409 "duplicate" for an event id that exists
// (deleted events keep their id), 410 "deleted" when deleting twice, 404
// "notFound", 400 for a bad id, an empty time range or reminders Google
// refuses (more than 5 overrides, minutes outside 0..40320, overrides with the
// defaults); an event inserted without reminders gets the calendar's defaults. Failures (429, 403 rate
// limits, 500) and slowness can be injected. Point the official client at it:
//
//	calendar.NewService(ctx, option.WithEndpoint(fake.URL()+"/calendar/v3/"), option.WithHTTPClient(fake.Client()))
package gcaltest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/api/calendar/v3"
)

// MaxFreeBusySpan is the longest freebusy range the fake answers; longer ones
// get Google's 400 "timeRangeTooLong" (Google's own limit is undocumented;
// clients have met it beyond about three months).
const MaxFreeBusySpan = 90 * 24 * time.Hour

// Server is the fake API.
type Server struct {
	srv *httptest.Server

	mu            sync.Mutex
	calendars     map[string]map[string]*calendar.Event // calendar id → event id → event
	failures      []Failure
	delay         time.Duration
	calendarError string         // the next freebusy answers every calendar with this error
	calls         map[string]int // "METHOD kind" → count, e.g. "POST insert"
	inserted      map[string]int // calendar/event id → successful inserts
}

// Failure is an injected error answer.
type Failure struct {
	Status int    // 429, 403, 500, 503, 401, 404; 0 with Slow: answer normally, late
	Reason string // rateLimitExceeded, userRateLimitExceeded, backendError, …
	// Slow delays this answer. With Status 0 the call is then carried out as
	// usual, even if the client gave up waiting (as Google does): a retry
	// then meets what the first try did (409 for an insert).
	Slow time.Duration
	// Calendar, for a freebusy call with Status 0 and no Slow, answers 200 with
	// this reason in the calendar's errors ("backendError", "notFound").
	Calendar string
	// Only limits the failure to one kind of call ("insert", "patch", "get",
	// "delete", "freebusy"); "" matches any.
	Only string
}

// New starts a fake with the given calendars (ids such as "anna@example.com").
func New(calendarIDs ...string) *Server {
	s := &Server{calendars: map[string]map[string]*calendar.Event{}, calls: map[string]int{}, inserted: map[string]int{}}
	for _, id := range calendarIDs {
		s.calendars[id] = map[string]*calendar.Event{}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the server's base URL; the client's endpoint is URL()+"/calendar/v3/".
func (s *Server) URL() string { return s.srv.URL }

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Fail makes the next calls fail, in order, one failure per matching call.
func (s *Server) Fail(f ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, f...)
}

// Slow delays every answer by d (zero: no delay).
func (s *Server) Slow(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Calls reports how many calls of kind ("insert", "patch", "get", "delete",
// "freebusy") were answered, failures included.
func (s *Server) Calls(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[kind]
}

// Inserted reports how many times an event with this id was created.
func (s *Server) Inserted(calendarID, eventID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inserted[calendarID+"/"+eventID]
}

// Events returns the calendar's events that are not cancelled, by start.
func (s *Server) Events(calendarID string) []calendar.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []calendar.Event
	for _, e := range s.calendars[calendarID] {
		if e.Status != "cancelled" {
			out = append(out, *e)
		}
	}
	slices.SortFunc(out, func(a, b calendar.Event) int { return strings.Compare(a.Start.DateTime, b.Start.DateTime) })
	return out
}

// Event returns one event, cancelled or not.
func (s *Server) Event(calendarID, eventID string) (calendar.Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.calendars[calendarID][eventID]
	if !ok {
		return calendar.Event{}, false
	}
	return *e, true
}

// AddBusy puts an event of the calendar's owner (not one of ours) from start to
// end and returns its id: what a master blocks in their own calendar.
func (s *Server) AddBusy(calendarID string, start, end time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := randomID()
	s.cal(calendarID)[id] = &calendar.Event{
		Id: id, Status: "confirmed", Summary: "Busy",
		Start: &calendar.EventDateTime{DateTime: start.Format(time.RFC3339)},
		End:   &calendar.EventDateTime{DateTime: end.Format(time.RFC3339)},
	}
	return id
}

// RemoveBusy deletes an event the owner made.
func (s *Server) RemoveBusy(calendarID, eventID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.calendars[calendarID][eventID]; ok {
		e.Status = "cancelled"
	}
}

func (s *Server) cal(id string) map[string]*calendar.Event {
	if s.calendars[id] == nil {
		s.calendars[id] = map[string]*calendar.Event{}
	}
	return s.calendars[id]
}

var (
	eventsPath  = regexp.MustCompile(`^/calendar/v3/calendars/([^/]+)/events$`)
	eventPath   = regexp.MustCompile(`^/calendar/v3/calendars/([^/]+)/events/([^/]+)$`)
	base32hexID = regexp.MustCompile(`^[a-v0-9]+$`) // and 5..1024 long
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	kind, calID, eventID := "", "", ""
	if m := eventsPath.FindStringSubmatch(path); m != nil && r.Method == http.MethodPost {
		kind, calID = "insert", unescape(m[1])
	} else if m := eventPath.FindStringSubmatch(path); m != nil {
		calID, eventID = unescape(m[1]), unescape(m[2])
		switch r.Method {
		case http.MethodGet:
			kind = "get"
		case http.MethodPatch:
			kind = "patch"
		case http.MethodDelete:
			kind = "delete"
		}
	} else if path == "/calendar/v3/freeBusy" && r.Method == http.MethodPost {
		kind = "freebusy"
	}
	if kind == "" {
		writeError(w, http.StatusNotFound, "notFound", "Not Found")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "badRequest", "Bad Request")
		return
	}

	s.mu.Lock()
	s.calls[kind]++
	delay := s.delay
	var fail *Failure
	for i, f := range s.failures {
		if f.Only == "" || f.Only == kind {
			fail = &f
			s.failures = slices.Delete(s.failures, i, i+1)
			break
		}
	}
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if fail != nil && fail.Slow > 0 {
		time.Sleep(fail.Slow) // not cut short when the client goes: the work happens anyway
		if fail.Status == 0 {
			fail = nil
		}
	}
	if fail != nil && fail.Status == 0 && fail.Calendar != "" && kind == "freebusy" {
		s.mu.Lock()
		s.calendarError = fail.Calendar
		s.mu.Unlock()
		fail = nil
	}
	if fail != nil {
		msg := map[string]string{
			"rateLimitExceeded": "Rate Limit Exceeded", "userRateLimitExceeded": "User Rate Limit Exceeded",
			"backendError": "Backend Error", "authError": "Invalid Credentials", "notFound": "Not Found",
			"forbidden": "Forbidden",
		}[fail.Reason]
		if fail.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/"`)
		}
		writeError(w, fail.Status, fail.Reason, cmpOr(msg, http.StatusText(fail.Status)))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case "insert":
		s.insert(w, calID, body)
	case "get":
		e, ok := s.known(w, calID, eventID)
		if ok {
			writeJSON(w, http.StatusOK, e)
		}
	case "patch":
		s.patch(w, calID, eventID, body)
	case "delete":
		e, ok := s.known(w, calID, eventID)
		if !ok {
			return
		}
		if e.Status == "cancelled" {
			writeError(w, http.StatusGone, "deleted", "Resource has been deleted")
			return
		}
		e.Status = "cancelled"
		w.WriteHeader(http.StatusNoContent)
	case "freebusy":
		s.freeBusy(w, body)
	}
}

func (s *Server) insert(w http.ResponseWriter, calID string, body []byte) {
	events, ok := s.calendars[calID]
	if !ok {
		writeError(w, http.StatusNotFound, "notFound", "Not Found")
		return
	}
	var e calendar.Event
	if err := json.Unmarshal(body, &e); err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "Parse Error")
		return
	}
	if e.Id == "" {
		e.Id = randomID()
	}
	if len(e.Id) < 5 || len(e.Id) > 1024 || !base32hexID.MatchString(e.Id) {
		writeError(w, http.StatusBadRequest, "invalid", "Invalid resource id value.")
		return
	}
	if _, exists := events[e.Id]; exists { // deleted events keep their id
		writeError(w, http.StatusConflict, "duplicate", "The requested identifier already exists.")
		return
	}
	if !validRange(w, e.Start, e.End) || !validReminders(w, e.Reminders) {
		return
	}
	if e.Reminders == nil { // Google's default
		e.Reminders = &calendar.EventReminders{UseDefault: true}
	}
	if e.Status == "" {
		e.Status = "confirmed"
	}
	events[e.Id] = &e
	s.inserted[calID+"/"+e.Id]++
	writeJSON(w, http.StatusOK, &e)
}

func (s *Server) patch(w http.ResponseWriter, calID, eventID string, body []byte) {
	e, ok := s.known(w, calID, eventID)
	if !ok {
		return
	}
	next := *e
	next.Reminders = nil // a patch's reminders replace the event's
	if err := json.Unmarshal(body, &next); err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "Parse Error")
		return
	}
	next.Id = eventID
	if !validRange(w, next.Start, next.End) || !validReminders(w, next.Reminders) {
		return
	}
	if next.Reminders == nil {
		next.Reminders = e.Reminders
	}
	*e = next
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) known(w http.ResponseWriter, calID, eventID string) (*calendar.Event, bool) {
	e, ok := s.calendars[calID][eventID]
	if !ok {
		writeError(w, http.StatusNotFound, "notFound", "Not Found")
	}
	return e, ok
}

// Google's limits on reminder overrides: at most 5, each "email" or "popup",
// 0..40320 minutes before; none together with the calendar's defaults.
const (
	MaxReminderOverrides = 5
	MaxReminderMinutes   = 40320
)

// validReminders answers Google's 400s for reminders it refuses. The reasons
// are as Google's error pages and client reports name them; the wording of
// the messages is not checked against Google's.
func validReminders(w http.ResponseWriter, r *calendar.EventReminders) bool {
	switch {
	case r == nil:
		return true
	case r.UseDefault && len(r.Overrides) > 0:
		writeError(w, http.StatusBadRequest, "cannotUseDefaultRemindersAndSpecifyOverride",
			"Cannot specify both default reminders and overrides at the same time.")
		return false
	case len(r.Overrides) > MaxReminderOverrides:
		writeError(w, http.StatusBadRequest, "tooManyReminders", "Too many reminders.")
		return false
	}
	for _, o := range r.Overrides {
		if o == nil || (o.Method != "popup" && o.Method != "email") {
			writeError(w, http.StatusBadRequest, "invalid", "Invalid reminder method.")
			return false
		}
		if o.Minutes < 0 || o.Minutes > MaxReminderMinutes {
			writeError(w, http.StatusBadRequest, "invalid", "Invalid value for reminder minutes.")
			return false
		}
	}
	return true
}

func validRange(w http.ResponseWriter, start, end *calendar.EventDateTime) bool {
	if start == nil || end == nil {
		writeError(w, http.StatusBadRequest, "required", "Missing end time.")
		return false
	}
	a, err1 := time.Parse(time.RFC3339, start.DateTime)
	b, err2 := time.Parse(time.RFC3339, end.DateTime)
	if err1 != nil || err2 != nil {
		writeError(w, http.StatusBadRequest, "invalid", "Invalid start or end time.")
		return false
	}
	if !b.After(a) {
		writeError(w, http.StatusBadRequest, "timeRangeEmpty", "The specified time range is empty.")
		return false
	}
	return true
}

func (s *Server) freeBusy(w http.ResponseWriter, body []byte) {
	var req calendar.FreeBusyRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "Parse Error")
		return
	}
	minT, err1 := time.Parse(time.RFC3339, req.TimeMin)
	maxT, err2 := time.Parse(time.RFC3339, req.TimeMax)
	if err1 != nil || err2 != nil || !maxT.After(minT) {
		writeError(w, http.StatusBadRequest, "timeRangeEmpty", "The specified time range is empty.")
		return
	}
	if maxT.Sub(minT) > MaxFreeBusySpan {
		writeError(w, http.StatusBadRequest, "timeRangeTooLong", "The requested time range is too long.")
		return
	}
	calErr := s.calendarError
	s.calendarError = ""
	resp := calendar.FreeBusyResponse{Kind: "calendar#freeBusy", TimeMin: req.TimeMin, TimeMax: req.TimeMax,
		Calendars: map[string]calendar.FreeBusyCalendar{}}
	for _, item := range req.Items {
		events, ok := s.calendars[item.Id]
		if calErr != "" {
			resp.Calendars[item.Id] = calendar.FreeBusyCalendar{Errors: []*calendar.Error{{Domain: "global", Reason: calErr}}}
			continue
		}
		if !ok {
			resp.Calendars[item.Id] = calendar.FreeBusyCalendar{Errors: []*calendar.Error{{Domain: "global", Reason: "notFound"}}}
			continue
		}
		type span struct{ a, b time.Time }
		var spans []span
		for _, e := range events {
			if e.Status == "cancelled" || e.Transparency == "transparent" {
				continue
			}
			a, _ := time.Parse(time.RFC3339, e.Start.DateTime)
			b, _ := time.Parse(time.RFC3339, e.End.DateTime)
			a, b = later(a, minT), earlier(b, maxT)
			if b.After(a) {
				spans = append(spans, span{a, b})
			}
		}
		// Google merges overlapping and touching busy periods.
		slices.SortFunc(spans, func(x, y span) int { return x.a.Compare(y.a) })
		var merged []span
		for _, sp := range spans {
			if n := len(merged); n > 0 && !sp.a.After(merged[n-1].b) {
				merged[n-1].b = later(merged[n-1].b, sp.b)
				continue
			}
			merged = append(merged, sp)
		}
		busy := []*calendar.TimePeriod{}
		for _, sp := range merged {
			busy = append(busy, &calendar.TimePeriod{Start: sp.a.UTC().Format(time.RFC3339), End: sp.b.UTC().Format(time.RFC3339)})
		}
		resp.Calendars[item.Id] = calendar.FreeBusyCalendar{Busy: busy}
	}
	writeJSON(w, http.StatusOK, &resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with Google's error body.
func writeError(w http.ResponseWriter, status int, reason, message string) {
	domain := "global"
	if strings.Contains(reason, "RateLimit") || reason == "rateLimitExceeded" || reason == "quotaExceeded" {
		domain = "usageLimits"
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"errors":  []map[string]string{{"domain": domain, "reason": reason, "message": message}},
		"code":    status,
		"message": message,
	}})
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

func randomID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
