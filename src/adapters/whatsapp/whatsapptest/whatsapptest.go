// Package whatsapptest is a fake of the WhatsApp Cloud API (Meta's Graph API)
// for tests, the load harness and demos. Like Meta it checks the bearer token,
// validates message bodies against WhatsApp's limits, enforces the number's
// throughput and the per-recipient pair limit, and refuses free-form messages
// outside the 24-hour window, each with Meta's error body and code; it records
// what was sent, and delivers signed webhook notifications (messages and
// statuses) to a URL.
//
// Its wamids have Meta's form: "wamid." and the base64 of bytes that embed the
// client's number (as Meta's do), so a test that looks for the number in a log
// also catches a logged wamid.
//
// A free-form message outside the window is answered 131047 at once by
// default; Options.WindowClosed makes the fake do what Meta mostly does
// instead: accept it (200 and a wamid) and report the failure in a signed
// `failed` status webhook with error 131047, before or after its answer.
//
// What it does not model: templates are accepted by name without a catalog of
// approved ones; the codes for an invalid body are 131009 for a value out of
// bounds and 100 for a missing or unknown field, as Meta's documentation lists
// them.
package whatsapptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Limits are the fake's limits. A zero field is no limit.
type Limits struct {
	Throughput int           // messages per second for the number (Meta: 80)
	PairEvery  time.Duration // one message per this to one recipient (Meta: about 6 s)
	PairBurst  int           // bursts to one recipient (Meta: up to 45 within 6 s)
}

// MetaLimits are Meta's default limits, as documented.
var MetaLimits = Limits{Throughput: 80, PairEvery: 6 * time.Second, PairBurst: 45}

// WindowClosed is how the fake refuses a free-form message outside the
// 24-hour window.
type WindowClosed int

const (
	// WindowClosedAnswer answers the send with error 131047.
	WindowClosedAnswer WindowClosed = iota
	// WindowClosedStatusFirst accepts the send (200 and a wamid) but first
	// delivers its `failed` status (131047) to the webhook, so the status
	// arrives before the sender has the wamid.
	WindowClosedStatusFirst
	// WindowClosedStatusAfter accepts the send and then, after its answer,
	// delivers its `failed` status (131047) to the webhook, in the background
	// (Settle waits for it).
	WindowClosedStatusAfter
)

// Options configure a Server.
type Options struct {
	Token         string           // the access token; "" makes a random one
	AppSecret     string           // signs webhooks; "" makes a random one
	PhoneNumberID string           // "" is 106540352242922
	Limits        *Limits          // nil is MetaLimits; &Limits{} is none
	Now           func() time.Time // nil is time.Now
	WindowClosed  WindowClosed     // how a free-form message outside the window fails
	// WebhookClient sends Deliver's requests. Default: a 30 s timeout,
	// keeping 256 idle connections to the webhook.
	WebhookClient *http.Client
}

// Sent is a message the fake accepted.
type Sent struct {
	ID       string // its wamid
	To       string
	Type     string // text, interactive or template
	Text     string // the text, or the interactive body
	Kind     string // interactive: button or list
	Buttons  []Choice
	ListText string // the list's button label
	Rows     []Choice
	Template string // the template's name
	Language string
	Params   []string
	Raw      []byte
	Time     time.Time
	Failed   int // the error code of the failed status the fake reported for it (0: none)
}

// Choice is a button or list row as sent.
type Choice struct {
	ID, Title, Description string
}

// Stats counts the fake's answers by error code (0: accepted).
type Stats map[int]int

// Server is the fake Graph API (an http.Handler).
type Server struct {
	opts   Options
	limits Limits

	mu       sync.Mutex
	sent     []Sent
	stats    Stats
	inbound  map[string]time.Time // wa_id → the client's last message
	global   bucket
	pairs    map[string]*bucket
	hookURL  string
	hookHTTP *http.Client
	async    int // status webhooks being delivered in the background
}

// New returns a fake.
func New(opts Options) *Server {
	if opts.Token == "" {
		opts.Token = "EAAG" + random(24)
	}
	if opts.AppSecret == "" {
		opts.AppSecret = random(16)
	}
	if opts.PhoneNumberID == "" {
		opts.PhoneNumberID = "106540352242922"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := MetaLimits
	if opts.Limits != nil {
		l = *opts.Limits
	}
	// Connections to the webhook are kept for reuse, as telegramtest's are
	// (the default keeps 2 idle per host: under 200 concurrent deliveries
	// nearly every one opened a new connection, and the load harness measured
	// that, not the webhook, against a ceiling measured with reuse).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	s := &Server{opts: opts, limits: l, stats: Stats{}, inbound: map[string]time.Time{}, pairs: map[string]*bucket{},
		hookHTTP: &http.Client{Timeout: 30 * time.Second, Transport: tr}}
	if opts.WebhookClient != nil {
		s.hookHTTP = opts.WebhookClient
	}
	if l.Throughput > 0 {
		s.global = bucket{per: time.Second / time.Duration(l.Throughput), burst: float64(l.Throughput)}
	}
	return s
}

// Start serves a fake on a test server, closed with the test; it returns the
// fake and its base URL (WHATSAPP_API_URL).
func Start(t testing.TB, opts Options) (*Server, string) {
	t.Helper()
	s := New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// Token is the access token the fake accepts.
func (s *Server) Token() string { return s.opts.Token }

// AppSecret is the secret the fake signs webhooks with.
func (s *Server) AppSecret() string { return s.opts.AppSecret }

// PhoneNumberID is the business number's id in the fake's URLs.
func (s *Server) PhoneNumberID() string { return s.opts.PhoneNumberID }

// SetWebhook sets where notifications are delivered.
func (s *Server) SetWebhook(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookURL = url
}

// Sent returns every accepted message, in order.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// SentTo returns the accepted messages to wa_id, in order.
func (s *Server) SentTo(waID string) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Sent
	for _, m := range s.sent {
		if m.To == waID {
			out = append(out, m)
		}
	}
	return out
}

// Stats returns how many sends were answered with each error code (0: accepted).
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{}
	for k, v := range s.stats {
		out[k] = v
	}
	return out
}

// ServeHTTP answers POST /{version}/{phone-number-id}/messages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 3 || parts[2] != "messages" || !strings.HasPrefix(parts[0], "v") {
		s.fail(w, http.StatusBadRequest, 100, "Unsupported post request.", "")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.opts.Token {
		s.fail(w, http.StatusUnauthorized, 190, "Invalid OAuth access token - Cannot parse access token", "")
		return
	}
	if parts[1] != s.opts.PhoneNumberID {
		s.fail(w, http.StatusBadRequest, 100, "Unsupported post request. Object does not exist", "")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		s.fail(w, http.StatusBadRequest, 100, "Invalid parameter", "unreadable body")
		return
	}
	m, code, details := parse(raw)
	if code != 0 {
		msg := "Invalid parameter"
		if code == 131009 {
			msg = "Parameter value is not valid"
		}
		s.fail(w, http.StatusBadRequest, code, msg, details)
		return
	}
	s.mu.Lock()
	now := s.opts.Now()
	if m.Type != "template" {
		last, ok := s.inbound[m.To]
		if !ok || now.Sub(last) >= 24*time.Hour {
			if s.opts.WindowClosed == WindowClosedAnswer {
				s.mu.Unlock()
				s.fail(w, http.StatusBadRequest, 131047, "Re-engagement message",
					"Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
				return
			}
			m.Failed = 131047
		}
	}
	// A refused message spends no token of either limit.
	var pair *bucket
	if s.limits.PairEvery > 0 {
		if pair = s.pairs[m.To]; pair == nil {
			pair = &bucket{per: s.limits.PairEvery, burst: float64(max(1, s.limits.PairBurst))}
			s.pairs[m.To] = pair
		}
	}
	if s.limits.Throughput > 0 && !s.global.ready(now) {
		s.mu.Unlock()
		s.fail(w, http.StatusBadRequest, 130429, "Rate limit hit", "Cloud API message throughput has been reached.")
		return
	}
	if pair != nil && !pair.ready(now) {
		s.mu.Unlock()
		s.fail(w, http.StatusBadRequest, 131056, "(Business Account, Consumer Account) pair rate limit hit",
			"Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.")
		return
	}
	if s.limits.Throughput > 0 {
		s.global.tokens--
	}
	if pair != nil {
		pair.tokens--
	}
	m.ID = wamid(m.To)
	m.Raw, m.Time = raw, now
	s.sent = append(s.sent, m)
	s.stats[0]++
	s.mu.Unlock()
	var failed []byte
	if m.Failed != 0 {
		failed = s.StatusUpdate(m.ID, m.To, "failed", m.Failed, now)
		if s.opts.WindowClosed == WindowClosedStatusFirst {
			s.deliverStatus(failed)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": m.To, "wa_id": m.To}},
		"messages":          []map[string]string{{"id": m.ID}},
	})
	if failed != nil && s.opts.WindowClosed == WindowClosedStatusAfter {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		s.mu.Lock()
		s.async++
		s.mu.Unlock()
		go func() {
			defer func() {
				s.mu.Lock()
				s.async--
				s.mu.Unlock()
			}()
			s.deliverStatus(failed)
		}()
	}
}

// deliverStatus delivers a status notification the fake makes of its own,
// again while the webhook does not answer 200 (as Meta does, here a few
// times over a second or so).
func (s *Server) deliverStatus(body []byte) {
	for i := range 6 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		status, err := s.Deliver(ctx, body)
		cancel()
		if err == nil && status == http.StatusOK {
			return
		}
		time.Sleep(time.Duration(10<<i) * time.Millisecond)
	}
}

// Settle waits until the status webhooks the fake delivers in the background
// (WindowClosedStatusAfter) are delivered or given up.
// A send that is still being answered may start one more after it returns.
func (s *Server) Settle() {
	for {
		s.mu.Lock()
		n := s.async
		s.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wamid makes a message id as Meta does: "wamid." and the base64 of a small
// Thrift-like record holding the client's number (wa_id) and a random part.
func wamid(waID string) string {
	b := append([]byte{0x1c, 0x18, byte(len(waID))}, waID...)
	b = append(b, 0x15, 0x02, 0x00, 0x11, 0x18, 0x12)
	b = append(b, strings.ToUpper(random(9))...)
	return "wamid." + base64.StdEncoding.EncodeToString(append(b, 0x00))
}

// fail answers with Meta's error body.
func (s *Server) fail(w http.ResponseWriter, status, code int, message, details string) {
	s.mu.Lock()
	s.stats[code]++
	s.mu.Unlock()
	body := map[string]any{"message": fmt.Sprintf("(#%d) %s", code, message), "type": "OAuthException", "code": code,
		"fbtrace_id": "A" + random(8)}
	if details != "" {
		body["error_data"] = map[string]string{"messaging_product": "whatsapp", "details": details}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}

// bucket is a token bucket.
type bucket struct {
	per    time.Duration
	burst  float64
	tokens float64
	at     time.Time
	used   bool
}

// ready refills the bucket to now and reports whether it holds a token.
func (b *bucket) ready(now time.Time) bool {
	if !b.used {
		b.tokens, b.at, b.used = b.burst, now, true
	}
	if now.After(b.at) {
		b.tokens = min(b.burst, b.tokens+float64(now.Sub(b.at))/float64(b.per))
		b.at = now
	}
	return b.tokens >= 1
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// post delivers a notification body, signed, to the webhook.
func (s *Server) post(ctx context.Context, body []byte, signature string) (int, error) {
	s.mu.Lock()
	url := s.hookURL
	s.mu.Unlock()
	if url == "" {
		return 0, fmt.Errorf("whatsapptest: no webhook set")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	resp, err := s.hookHTTP.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func utf8Len(s string) int { return utf8.RuneCountInString(s) }
