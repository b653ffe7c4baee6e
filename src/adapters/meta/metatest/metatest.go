// Package metatest is a faithful fake of Meta's Conversions API endpoint,
// POST /{version}/{dataset_id}/events: the real JSON in and out
// ({"events_received":1,"messages":[],"fbtrace_id":…}), Graph's error shape
// for what Meta refuses (an unknown dataset, a bad token, an event without a
// name or time, one older than 7 days, an unknown action source,
// business_messaging without messaging_channel, unhashed keys, no user data,
// a Purchase without value and currency, a WhatsApp event without ctwa_clid),
// and 429, 5xx, Graph's throttling (HTTP 400) and a revoked token on demand. It keeps what it accepted for tests to read.
package metatest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"

	"salonbook/src/adapters/meta"
)

// Options configure the fake.
type Options struct {
	Version   string // "" accepts any v<major>.<minor>
	DatasetID string // "" is "1234567890"
	Token     string // "" is "capi-token"
	// Now is the fake's clock (event_time is checked against it); nil is
	// time.Now.
	Now func() time.Time
}

// Received is one event the fake accepted.
type Received struct {
	meta.ServerEvent
	TestEventCode string
}

// Server is the fake.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu       sync.Mutex
	received []Received
	fail     []int // statuses to answer the next requests with, in order
	refused  []meta.GraphError
	requests int
}

// New starts the fake on a local port of its own.
func New(o Options) *Server {
	s := Unstarted(o)
	s.srv = httptest.NewServer(s)
	return s
}

// Unstarted returns the fake as an http.Handler only, for a server of the
// caller's (the load harness serves it for demos); URL and Client are then
// the caller's too.
func Unstarted(o Options) *Server {
	if o.DatasetID == "" {
		o.DatasetID = "1234567890"
	}
	if o.Token == "" {
		o.Token = "capi-token"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Server{opts: o}
}

// URL is the fake's root, for meta.Options.URL.
func (s *Server) URL() string { return s.srv.URL }

// Client is an HTTP client for the fake.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close stops the fake.
func (s *Server) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

// Options returns the fake's options (the dataset and token it expects).
func (s *Server) Options() Options { return s.opts }

// Pseudo statuses for FailNext: Graph's throttling as it usually comes, an
// HTTP 400 without is_transient (code 80004, the ads-account rate limit, or
// code 17, the user request limit), and a revoked token (HTTP 400, code 190).
const (
	Throttled     = -80004
	UserThrottled = -17
	TokenRevoked  = -190
	// TokenQuoted is Graph's code 190 quoting the token it was sent, as
	// "Malformed access token …" does.
	TokenQuoted = -1901
	// TokenQuotedCut quotes the token's first 32 characters.
	TokenQuotedCut = -1902
)

// FailNext makes the next requests answer with these statuses, one each
// (429: Graph's rate limit error, code 80004; 5xx: a transient error, code 2;
// 400: a validation error, code 100; Throttled, UserThrottled, TokenRevoked,
// TokenQuoted, TokenQuotedCut).
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, statuses...)
}

// Events returns the events accepted so far, in order.
func (s *Server) Events() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Refused returns the errors the fake answered 400 with, in order.
func (s *Server) Refused() []meta.GraphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]meta.GraphError(nil), s.refused...)
}

// Requests counts every request that reached the fake.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

var pathRE = regexp.MustCompile(`^/(v[0-9]+\.[0-9]+)/([0-9A-Za-z_]+)/events$`)

// ServeHTTP answers one request as Graph does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	var status int
	if len(s.fail) > 0 {
		status, s.fail = s.fail[0], s.fail[1:]
	}
	s.mu.Unlock()
	switch {
	case status == Throttled:
		s.graphError(w, http.StatusBadRequest, meta.GraphError{Message: "(#80004) There have been too many calls to this ad-account. Wait a bit and try again.",
			Type: "OAuthException", Code: 80004, ErrorSubcode: 2446079})
		return
	case status == UserThrottled:
		s.graphError(w, http.StatusBadRequest, meta.GraphError{Message: "(#17) User request limit reached",
			Type: "OAuthException", Code: 17, ErrorSubcode: 2446079})
		return
	case status == TokenRevoked:
		s.graphError(w, http.StatusBadRequest, meta.GraphError{Message: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
			Type: "OAuthException", Code: 190, ErrorSubcode: 460})
		return
	case status == TokenQuoted || status == TokenQuotedCut:
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if status == TokenQuotedCut {
			token = token[:min(len(token), 32)]
		}
		s.graphError(w, http.StatusBadRequest, meta.GraphError{Message: "Malformed access token " + token,
			Type: "OAuthException", Code: 190})
		return
	case status == http.StatusTooManyRequests:
		s.graphError(w, status, meta.GraphError{Message: "(#80004) There have been too many calls to this ad-account. Wait a bit and try again.",
			Type: "OAuthException", Code: 80004, ErrorSubcode: 2446079, IsTransient: true})
		return
	case status >= 500:
		s.graphError(w, status, meta.GraphError{Message: "An unexpected error has occurred. Please retry your request later.",
			Type: "OAuthException", Code: 2, IsTransient: true})
		return
	case status != 0:
		s.graphError(w, status, meta.GraphError{Message: "Invalid parameter", Type: "OAuthException", Code: 100})
		return
	}
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if r.Method != http.MethodPost || m == nil || (s.opts.Version != "" && m[1] != s.opts.Version) {
		s.graphError(w, http.StatusBadRequest, meta.GraphError{Message: "Unknown path components: " + r.URL.Path,
			Type: "OAuthException", Code: 2500})
		return
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = r.URL.Query().Get("access_token")
	}
	if token != s.opts.Token {
		s.refuse(w, meta.GraphError{Message: "Invalid OAuth access token - Cannot parse access token", Type: "OAuthException", Code: 190})
		return
	}
	if m[2] != s.opts.DatasetID {
		s.refuse(w, meta.GraphError{Message: fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", m[2]),
			Type: "GraphMethodException", Code: 100, ErrorSubcode: 33})
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	var body struct {
		Data          []json.RawMessage `json:"data"`
		TestEventCode string            `json:"test_event_code"`
	}
	if err != nil || json.Unmarshal(raw, &body) != nil {
		s.refuse(w, meta.GraphError{Message: "(#100) The parameter data is required", Type: "OAuthException", Code: 100})
		return
	}
	if len(body.Data) == 0 || len(body.Data) > 1000 {
		s.refuse(w, meta.GraphError{Message: "(#100) The parameter data is required", Type: "OAuthException", Code: 100})
		return
	}
	var accepted []Received
	for i, d := range body.Data {
		var ev meta.ServerEvent
		if err := json.Unmarshal(d, &ev); err != nil {
			s.refuse(w, invalid(2804019, "Invalid parameter", fmt.Sprintf("event %d is not an object of server event fields", i)))
			return
		}
		if ge := s.validate(ev); ge != nil {
			s.refuse(w, *ge)
			return
		}
		accepted = append(accepted, Received{ServerEvent: ev, TestEventCode: body.TestEventCode})
	}
	s.mu.Lock()
	s.received = append(s.received, accepted...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(meta.Response{EventsReceived: len(accepted), Messages: []string{}, FBTraceID: trace()})
}

var (
	hashRE   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	fbcRE    = regexp.MustCompile(`^fb\.[0-9]\.[0-9]{13}\.[^.\s]+$`)
	currency = regexp.MustCompile(`^[A-Z]{3}$`)
	sources  = map[string]bool{"email": true, "website": true, "app": true, "phone_call": true, "chat": true,
		"physical_store": true, "system_generated": true, "business_messaging": true, "other": true}
	channels = map[string]bool{"messenger": true, "whatsapp": true, "instagram": true}
)

// invalid is Graph's "Invalid parameter" with a user message.
func invalid(subcode int, title, msg string) meta.GraphError {
	return meta.GraphError{Message: "Invalid parameter", Type: "OAuthException", Code: 100, ErrorSubcode: subcode,
		UserTitle: title, UserMsg: msg}
}

// validate checks one event as Meta does (the rules this project can break).
func (s *Server) validate(ev meta.ServerEvent) *meta.GraphError {
	now := s.opts.Now()
	var e meta.GraphError
	switch {
	case ev.EventName == "":
		e = meta.GraphError{Message: "(#100) The parameter event_name is required", Type: "OAuthException", Code: 100}
	case ev.EventTime == 0:
		e = meta.GraphError{Message: "(#100) The parameter event_time is required", Type: "OAuthException", Code: 100}
	case time.Unix(ev.EventTime, 0).After(now.Add(time.Minute)):
		e = invalid(2804004, "Event Timestamp Too Far Ahead", "The timestamp for this event is in the future.")
	case now.Sub(time.Unix(ev.EventTime, 0)) > 7*24*time.Hour:
		e = invalid(2804003, "Event Timestamp Too Old", "The timestamp for this event is more than 7 days in the past.")
	case !sources[ev.ActionSource]:
		e = invalid(2804050, "Invalid action_source", "action_source must be one of email, website, app, phone_call, chat, physical_store, system_generated, business_messaging, other.")
	case ev.ActionSource == "business_messaging" && ev.MessagingChannel == "":
		e = invalid(2804050, "Missing messaging_channel", "The messaging_channel parameter is required for business_messaging events.")
	case ev.ActionSource == "business_messaging" && !channels[ev.MessagingChannel]:
		e = invalid(2804050, "Invalid messaging_channel", "messaging_channel must be messenger, whatsapp or instagram.")
	case ev.ActionSource == "website" && (ev.EventSourceURL == "" || ev.UserData.ClientUserAgent == ""):
		e = invalid(2804050, "Missing website parameters", "Website events need event_source_url and client_user_agent.")
	case ev.MessagingChannel == "whatsapp" && (ev.UserData.CtwaClid == "" || ev.UserData.WhatsAppBusinessAccountID == ""):
		e = invalid(2804050, "Missing ctwa_clid", "WhatsApp business messaging events need user_data.ctwa_clid and whatsapp_business_account_id.")
	case !hashed(ev.UserData.ExternalID) || !hashed(ev.UserData.Phone) || !hashed(ev.UserData.Email):
		e = invalid(2804029, "Invalid hashed parameter", "em, ph and external_id must be SHA-256 hashes (64 lower-case hex characters) of normalised values.")
	case ev.UserData.FBC != "" && !fbcRE.MatchString(ev.UserData.FBC):
		e = invalid(2804019, "Invalid fbc", "fbc must be fb.<subdomain index>.<creation time in ms>.<fbclid>.")
	case len(ev.UserData.ExternalID) == 0 && len(ev.UserData.Phone) == 0 && len(ev.UserData.Email) == 0 &&
		ev.UserData.FBC == "" && ev.UserData.FBP == "" && ev.UserData.CtwaClid == "" && ev.UserData.ClientIPAddress == "":
		e = invalid(2804015, "Missing user data", "The event has no customer information parameters.")
	case ev.EventName == "Purchase" && (ev.CustomData == nil || ev.CustomData.Value == nil || ev.CustomData.Currency == ""):
		e = invalid(2804008, "Missing value or currency", "Purchase events need custom_data.value and custom_data.currency.")
	case ev.CustomData != nil && ev.CustomData.Currency != "" && !currency.MatchString(ev.CustomData.Currency):
		e = invalid(2804009, "Invalid currency", "currency must be a three-letter ISO 4217 code.")
	default:
		return nil
	}
	return &e
}

// hashed reports whether every value looks like a SHA-256 hex digest.
func hashed(vs []string) bool {
	for _, v := range vs {
		if !hashRE.MatchString(v) {
			return false
		}
	}
	return true
}

func (s *Server) refuse(w http.ResponseWriter, e meta.GraphError) {
	s.mu.Lock()
	s.refused = append(s.refused, e)
	s.mu.Unlock()
	s.graphError(w, http.StatusBadRequest, e)
}

func (s *Server) graphError(w http.ResponseWriter, status int, e meta.GraphError) {
	e.FBTraceID = trace()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(meta.ErrorBody{Error: e})
}

// trace is an fbtrace_id-like random id.
func trace() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "A" + strings.ToUpper(hex.EncodeToString(b))[:10]
}
