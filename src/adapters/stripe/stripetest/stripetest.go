// Package stripetest is a fake of the parts of Stripe's API that deposits
// use, for tests and demos: Checkout Sessions (create, retrieve, expire) and
// Refunds (create, retrieve) on Stripe's own paths, with form-encoded
// parameters as stripe-go sends them, Bearer authentication, Stripe's JSON
// objects and error shapes ({"error": {"type", "code", "message", "param"}}),
// and idempotency keys honoured as Stripe does (the same key and parameters:
// the first answer again, with Idempotent-Replayed; the same key with other
// parameters: a 400 idempotency_error). Point the real stripe-go client at it
// (BackendConfig.URL).
//
// It plays the client's side too: Pay completes a session (a payment intent
// is made) and Expire lets one lapse, each sending the event Stripe would
// (checkout.session.completed, checkout.session.expired) to the webhook,
// signed as Stripe signs (Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
// "t.body" with the endpoint's secret>). Send delivers an event again, signed
// anew, as Stripe retries; Signed gives a delivery signed at any time, for
// tests of old or forged signatures.
//
// It never logs, and never writes a key or secret into a response.
package stripetest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	stripego "github.com/stripe/stripe-go/v82"
)

// DefaultKey is the secret key a Server accepts when Options.Key is empty.
const DefaultKey = "sk_test_51FakeSalonbookStripeKey000000000000"

// DefaultWebhookSecret signs events when Options.WebhookSecret is empty.
const DefaultWebhookSecret = "whsec_FakeSalonbookWebhookSecret0000000000"

// Options configures a Server.
type Options struct {
	Key           string           // the only secret key accepted; default DefaultKey
	WebhookURL    string           // where events are sent; "" sends none (Events still lists them)
	WebhookSecret string           // the endpoint's signing secret; default DefaultWebhookSecret
	Now           func() time.Time // the server's clock (created, expires_at checks, signatures); default time.Now
	Client        *http.Client     // sends events; default a 10 s timeout
}

// Server is a fake Stripe API. All methods are safe for concurrent use.
type Server struct {
	key, secret, hook string
	now               func() time.Time
	client            *http.Client

	mu        sync.Mutex
	sessions  map[string]*session
	intents   map[string]*intent
	refunds   map[string]*refund
	idem      map[string]idemEntry
	events    []Event
	requests  int
	delivered []Delivery
}

type session struct {
	obj     map[string]any
	amount  int64
	curr    string
	created time.Time
	expires time.Time
}

type intent struct {
	id, charge, currency string
	amount, refunded     int64
}

type refund struct{ obj map[string]any }

type idemEntry struct {
	request string // method, path and the canonical parameters
	status  int
	body    []byte
}

// Event is an event the server made.
type Event struct {
	ID   string
	Type string
	Body []byte // the event as delivered
}

// Delivery is one webhook request the server sent, and the answer.
type Delivery struct {
	EventID string
	Status  int // 0: no answer
}

// New returns a Server.
func New(opts Options) *Server {
	s := &Server{key: opts.Key, secret: opts.WebhookSecret, hook: opts.WebhookURL, now: opts.Now, client: opts.Client,
		sessions: map[string]*session{}, intents: map[string]*intent{}, refunds: map[string]*refund{}, idem: map[string]idemEntry{}}
	if s.key == "" {
		s.key = DefaultKey
	}
	if s.secret == "" {
		s.secret = DefaultWebhookSecret
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	return s
}

// Start runs a Server on an httptest server for the length of the test and
// returns it with its URL (for STRIPE_API_URL, BackendConfig.URL).
func Start(t testing.TB, opts Options) (*Server, string) {
	t.Helper()
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// Key is the secret key the server accepts.
func (s *Server) Key() string { return s.key }

// WebhookSecret is the secret events are signed with.
func (s *Server) WebhookSecret() string { return s.secret }

// SetWebhook points event deliveries at url (a server started after this one).
func (s *Server) SetWebhook(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = url
}

// apiError is Stripe's error body.
type apiError struct {
	status              int
	typ, code, msg, par string
}

func (e apiError) write(w http.ResponseWriter) {
	body := map[string]any{"type": e.typ, "message": e.msg}
	if e.code != "" {
		body["code"] = e.code
		body["doc_url"] = "https://stripe.com/docs/error-codes/" + strings.ReplaceAll(e.code, "_", "-")
	}
	if e.par != "" {
		body["param"] = e.par
	}
	writeJSON(w, e.status, map[string]any{"error": body})
}

func invalid(param, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", par: param, msg: msg}
}

func missing(kind, id string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "invalid_request_error", code: "resource_missing", par: "id",
		msg: fmt.Sprintf("No such %s: '%s'", kind, id)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_"+randomID(14))
	w.Header().Set("Stripe-Version", stripego.APIVersion)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var (
	sessionPath = regexp.MustCompile(`^/v1/checkout/sessions/([A-Za-z0-9_]+)$`)
	expirePath  = regexp.MustCompile(`^/v1/checkout/sessions/([A-Za-z0-9_]+)/expire$`)
	refundPath  = regexp.MustCompile(`^/v1/refunds/([A-Za-z0-9_]+)$`)
)

// ServeHTTP answers an API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(auth), []byte(s.key)) != 1 {
		masked := "****"
		if len(auth) > 4 {
			masked = auth[:min(8, len(auth)-4)] + "****" + auth[len(auth)-4:]
		}
		(&apiError{status: http.StatusUnauthorized, typ: "invalid_request_error",
			msg: "Invalid API Key provided: " + masked}).write(w)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		invalid("", "Invalid request body.").write(w)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		invalid("", "Invalid request body.").write(w)
		return
	}
	p := map[string]string{}
	for k, v := range form {
		p[k] = v[0]
	}
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()

	key := r.Header.Get("Idempotency-Key")
	if r.Method == http.MethodPost && key != "" {
		if len(key) > 255 {
			invalid("", "Idempotency keys can be at most 255 characters long.").write(w)
			return
		}
		request := r.Method + " " + r.URL.Path + " " + canonical(p)
		s.mu.Lock()
		prev, seen := s.idem[key]
		if !seen {
			s.idem[key] = idemEntry{request: request} // in flight: status 0
		}
		s.mu.Unlock()
		if seen {
			if prev.status == 0 {
				(&apiError{status: http.StatusConflict, typ: "invalid_request_error", code: "idempotency_key_in_use",
					msg: "There is currently another in-progress request using this Stripe-Idempotency-Key (that probably means " +
						"you submitted twice, and the other request is still going through): " + key + ". Please try again later."}).write(w)
				return
			}
			if prev.request != request {
				(&apiError{status: http.StatusBadRequest, typ: "idempotency_error",
					msg: "Keys for idempotent requests can only be used with the same parameters they were first used with. " +
						"Try using a key other than '" + key + "' if you meant to execute a different request."}).write(w)
				return
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Idempotency-Key", key)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(prev.status)
			_, _ = w.Write(prev.body)
			return
		}
		rec := httptest.NewRecorder()
		s.route(rec, r, p)
		s.mu.Lock()
		if rec.Code < 500 { // Stripe keeps a key's result unless the server failed
			s.idem[key] = idemEntry{request: request, status: rec.Code, body: rec.Body.Bytes()}
		} else {
			delete(s.idem, key)
		}
		s.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Idempotency-Key", key)
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	s.route(w, r, p)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, p map[string]string) {
	path := r.URL.Path
	var res any
	var e *apiError
	switch {
	case r.Method == http.MethodPost && path == "/v1/checkout/sessions":
		res, e = s.createSession(p)
	case r.Method == http.MethodGet && sessionPath.MatchString(path):
		res, e = s.session(sessionPath.FindStringSubmatch(path)[1])
	case r.Method == http.MethodPost && expirePath.MatchString(path):
		var id string
		res, id, e = s.expire(expirePath.FindStringSubmatch(path)[1])
		if e == nil {
			go func() { _, _ = s.sendEvent(context.Background(), id) }() // Stripe sends it after answering
		}
	case r.Method == http.MethodPost && path == "/v1/refunds":
		res, e = s.createRefund(p)
	case r.Method == http.MethodGet && refundPath.MatchString(path):
		res, e = s.refund(refundPath.FindStringSubmatch(path)[1])
	default:
		e = &apiError{status: http.StatusNotFound, typ: "invalid_request_error",
			msg: fmt.Sprintf("Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", r.Method, path)}
	}
	if e != nil {
		e.write(w)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// canonical is the parameters in one order, for comparing requests.
func canonical(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(p[k]) + "&")
	}
	return b.String()
}

// minimumCharge is Stripe's smallest charge in a few currencies (minor units).
var minimumCharge = map[string]int64{"eur": 50, "usd": 50, "gbp": 30, "chf": 50, "pln": 200, "czk": 1500, "sek": 300, "nok": 300, "dkk": 250}

// locales Checkout shows itself in.
var locales = map[string]bool{"auto": true, "bg": true, "cs": true, "da": true, "de": true, "el": true, "en": true, "en-GB": true,
	"es": true, "es-419": true, "et": true, "fi": true, "fil": true, "fr": true, "fr-CA": true, "hr": true, "hu": true, "id": true,
	"it": true, "ja": true, "ko": true, "lt": true, "lv": true, "ms": true, "mt": true, "nb": true, "nl": true, "pl": true,
	"pt": true, "pt-BR": true, "ro": true, "ru": true, "sk": true, "sl": true, "sv": true, "th": true, "tr": true, "vi": true,
	"zh": true, "zh-HK": true, "zh-TW": true}

func (s *Server) createSession(p map[string]string) (any, *apiError) {
	switch p["mode"] {
	case "":
		return nil, invalid("mode", "Missing required param: mode.")
	case "payment":
	default:
		return nil, invalid("mode", "The fake serves payment mode only.")
	}
	const li = "line_items[0]"
	if p[li+"[quantity]"] == "" && p[li+"[price_data][currency]"] == "" && p[li+"[price]"] == "" {
		return nil, invalid("line_items", "You must specify `line_items` in `payment` mode.")
	}
	if p[li+"[price]"] != "" {
		return nil, invalid(li+"[price]", "No such price: '"+p[li+"[price]"]+"'")
	}
	if _, ok := p["line_items[1][quantity]"]; ok {
		return nil, invalid("line_items[1]", "The fake takes one line item.")
	}
	currency := p[li+"[price_data][currency]"]
	if currency == "" {
		return nil, invalid(li+"[price_data][currency]", "Missing required param: line_items[0][price_data][currency].")
	}
	if !regexp.MustCompile(`^[a-z]{3}$`).MatchString(currency) {
		return nil, invalid(li+"[price_data][currency]", "Invalid currency: "+currency+".")
	}
	unit, err := strconv.ParseInt(p[li+"[price_data][unit_amount]"], 10, 64)
	if err != nil || unit < 0 {
		return nil, invalid(li+"[price_data][unit_amount]", "Invalid integer: "+p[li+"[price_data][unit_amount]"])
	}
	qty, err := strconv.ParseInt(p[li+"[quantity]"], 10, 64)
	if err != nil || qty < 1 {
		return nil, invalid(li+"[quantity]", "Quantity is required. Add `quantity` to `line_items[0]`")
	}
	if p[li+"[price_data][product_data][name]"] == "" && p[li+"[price_data][product]"] == "" {
		return nil, invalid(li+"[price_data][product_data]", "You must specify either `product` or `product_data` when creating a price.")
	}
	total := unit * qty
	if m, ok := minimumCharge[currency]; ok && total < m {
		return nil, invalid("line_items", fmt.Sprintf("The Checkout Session's total amount due must add up to at least %d.%02d %s", m/100, m%100, currency))
	}
	for _, u := range []string{"success_url", "cancel_url"} {
		if v, ok := p[u]; ok {
			if parsed, err := url.Parse(v); err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
				return nil, invalid(u, "Not a valid URL")
			}
		}
	}
	if l := p["locale"]; l != "" && !locales[l] {
		return nil, invalid("locale", "Invalid locale: "+l)
	}
	now := s.now()
	expires := now.Add(24 * time.Hour)
	if v := p["expires_at"]; v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, invalid("expires_at", "Invalid integer: "+v)
		}
		expires = time.Unix(sec, 0)
		switch {
		case expires.Before(now.Add(30 * time.Minute)):
			return nil, invalid("expires_at", "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.")
		case expires.After(now.Add(24 * time.Hour)):
			return nil, invalid("expires_at", "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.")
		}
	}
	id := "cs_test_" + randomID(58)
	obj := map[string]any{
		"id": id, "object": "checkout.session", "amount_subtotal": total, "amount_total": total, "currency": currency,
		"cancel_url": nullable(p["cancel_url"]), "success_url": nullable(p["success_url"]),
		"client_reference_id": nullable(p["client_reference_id"]), "created": now.Unix(), "expires_at": expires.Unix(),
		"livemode": false, "locale": nullable(p["locale"]), "metadata": prefixed(p, "metadata"), "mode": "payment",
		"payment_intent": nil, "payment_method_types": []string{"card"}, "payment_status": "unpaid", "status": "open",
		"url": "https://checkout.stripe.com/c/pay/" + id + "#fidkdWxOYHwnPyd1blpxYHZxWjA0",
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[id] = &session{obj: obj, amount: total, curr: currency, created: now, expires: expires}
	s.sessions[id].intentMeta(prefixed(p, "payment_intent_data[metadata]"))
	return obj, nil
}

// intentMeta keeps the metadata the session's payment intent will carry.
func (ss *session) intentMeta(m map[string]string) { ss.obj["_intent_metadata"] = m }

func (s *Server) session(id string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[id]
	if ss == nil {
		return nil, missing("checkout.session", id)
	}
	return public(ss.obj), nil
}

// public is a session as the API shows it (without the fake's own fields).
func public(obj map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range obj {
		if !strings.HasPrefix(k, "_") {
			out[k] = v
		}
	}
	return out
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// prefixed collects "<name>[key]" parameters into a map.
func prefixed(p map[string]string, name string) map[string]string {
	out := map[string]string{}
	for k, v := range p {
		if rest, ok := strings.CutPrefix(k, name+"["); ok && strings.HasSuffix(rest, "]") && !strings.Contains(rest, "[") {
			out[strings.TrimSuffix(rest, "]")] = v
		}
	}
	return out
}

// expire closes an open session, by the client's lapse (Expire) or the API
// (POST …/expire), and returns it and its event's id.
func (s *Server) expire(id string) (any, string, *apiError) {
	s.mu.Lock()
	ss := s.sessions[id]
	if ss == nil {
		s.mu.Unlock()
		return nil, "", missing("checkout.session", id)
	}
	if ss.obj["status"] != "open" {
		s.mu.Unlock()
		return nil, "", &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "checkout_session_not_open",
			msg: "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"" +
				fmt.Sprint(ss.obj["status"]) + "\"."}
	}
	ss.obj["status"], ss.obj["url"] = "expired", nil
	obj := public(ss.obj)
	s.mu.Unlock()
	return obj, s.emit("checkout.session.expired", obj), nil
}

func (s *Server) createRefund(p map[string]string) (any, *apiError) {
	pi := p["payment_intent"]
	if pi == "" && p["charge"] == "" {
		return nil, invalid("", "One of the following params should be provided for this request: payment_intent or charge.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var in *intent
	if pi != "" {
		in = s.intents[pi]
		if in == nil {
			return nil, missing("payment_intent", pi)
		}
	} else {
		for _, x := range s.intents {
			if x.charge == p["charge"] {
				in = x
			}
		}
		if in == nil {
			return nil, missing("charge", p["charge"])
		}
	}
	left := in.amount - in.refunded
	amount := left
	if v := p["amount"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return nil, invalid("amount", "Invalid positive integer")
		}
		amount = n
	}
	switch {
	case left == 0:
		return nil, &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "charge_already_refunded",
			msg: fmt.Sprintf("Charge %s has already been refunded.", in.charge)}
	case amount > left:
		return nil, &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "amount_too_large", par: "amount",
			msg: fmt.Sprintf("Refund amount (%d) is greater than unrefunded amount on charge (%d)", amount, left)}
	}
	in.refunded += amount
	id := "re_" + randomID(24)
	obj := map[string]any{"id": id, "object": "refund", "amount": amount, "currency": in.currency, "charge": in.charge,
		"payment_intent": in.id, "created": s.now().Unix(), "metadata": prefixed(p, "metadata"), "reason": nullable(p["reason"]),
		"status": "succeeded"}
	s.refunds[id] = &refund{obj: obj}
	return obj, nil
}

func (s *Server) refund(id string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.refunds[id]
	if r == nil {
		return nil, missing("refund", id)
	}
	return r.obj, nil
}

// Refunded returns how much of the payment intent was refunded.
func (s *Server) Refunded(paymentIntent string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.intents[paymentIntent]; in != nil {
		return in.refunded
	}
	return 0
}

// Refunds returns how many refunds were made.
func (s *Server) Refunds() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.refunds)
}

// Session returns a session as the API shows it; nil when there is none.
func (s *Server) Session(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[id]; ss != nil {
		return public(ss.obj)
	}
	return nil
}

// IntentMetadata returns the metadata the payment intent of session id
// carries (payment_intent_data[metadata]); nil when there is none.
func (s *Server) IntentMetadata(id string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[id]; ss != nil {
		m, _ := ss.obj["_intent_metadata"].(map[string]string)
		return maps.Clone(m)
	}
	return nil
}

// Sessions returns the ids of the sessions made, oldest first.
func (s *Server) Sessions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	type kv struct {
		id string
		at int64
	}
	var all []kv
	for id, ss := range s.sessions {
		all = append(all, kv{id, ss.created.UnixNano()})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].at < all[j].at || (all[i].at == all[j].at && all[i].id < all[j].id) })
	out := make([]string, len(all))
	for i, x := range all {
		out[i] = x.id
	}
	return out
}

// SessionByURL returns the id of the session whose page is at u.
func (s *Server) SessionByURL(u string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ss := range s.sessions {
		if ss.obj["url"] == u {
			return id
		}
	}
	return ""
}

// Pay plays the client paying the open session id on its page: the session
// completes with a new payment intent (and charge) and
// checkout.session.completed is sent. It returns the event's id.
func (s *Server) Pay(ctx context.Context, id string) (string, error) {
	s.mu.Lock()
	ss := s.sessions[id]
	switch {
	case ss == nil:
		s.mu.Unlock()
		return "", errors.New("stripetest: pay: no such session")
	case ss.obj["status"] != "open":
		s.mu.Unlock()
		return "", fmt.Errorf("stripetest: pay: the session is %v", ss.obj["status"])
	}
	in := &intent{id: "pi_" + randomID(24), charge: "ch_" + randomID(24), currency: ss.curr, amount: ss.amount}
	s.intents[in.id] = in
	ss.obj["status"], ss.obj["payment_status"], ss.obj["payment_intent"], ss.obj["url"] = "complete", "paid", in.id, nil
	obj := public(ss.obj)
	s.mu.Unlock()
	ev := s.emit("checkout.session.completed", obj)
	_, err := s.sendEvent(ctx, ev)
	return ev, err
}

// Expire lets the open session id lapse unpaid: checkout.session.expired is
// sent. It returns the event's id.
func (s *Server) Expire(ctx context.Context, id string) (string, error) {
	_, ev, e := s.expire(id)
	if e != nil {
		return "", errors.New("stripetest: expire: " + e.msg)
	}
	_, err := s.sendEvent(ctx, ev)
	return ev, err
}

// emit records an event of typ about obj and returns its id (sent by the
// caller, or by the API call that made it).
func (s *Server) emit(typ string, obj map[string]any) string {
	id := "evt_" + randomID(24)
	ev := map[string]any{"id": id, "object": "event", "api_version": stripego.APIVersion, "created": s.now().Unix(),
		"data": map[string]any{"object": obj}, "livemode": false, "pending_webhooks": 1,
		"request": map[string]any{"id": nil, "idempotency_key": nil}, "type": typ}
	body, _ := json.Marshal(ev)
	s.mu.Lock()
	s.events = append(s.events, Event{ID: id, Type: typ, Body: body})
	s.mu.Unlock()
	return id
}

// sendEvent sends the event id when a webhook is set; an answer other than
// 2xx is an error (Stripe would retry: Send again).
func (s *Server) sendEvent(ctx context.Context, id string) (int, error) {
	if s.webhook() == "" {
		return 0, nil
	}
	status, err := s.Send(ctx, id)
	if err == nil && status/100 != 2 {
		err = fmt.Errorf("stripetest: the webhook answered %d", status)
	}
	return status, err
}

func (s *Server) webhook() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hook
}

// Events returns the events made, oldest first.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Deliveries returns the webhook requests sent, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.delivered...)
}

// Signed returns the event eventID as a delivery signed at at: its body and
// its Stripe-Signature header.
func (s *Server) Signed(eventID string, at time.Time) (body []byte, signature string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		if e.ID == eventID {
			return e.Body, Sign(e.Body, at, s.secret), nil
		}
	}
	return nil, "", errors.New("stripetest: no such event")
}

// Sign is the Stripe-Signature header of body signed at at with secret:
// "t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<body>">".
func Sign(body []byte, at time.Time, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", at.Unix())
	mac.Write(body)
	return fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(mac.Sum(nil)))
}

// Send delivers the event eventID to the webhook, signed now, as Stripe does
// (and as it retries: each delivery is signed anew). It returns the answer's
// status.
func (s *Server) Send(ctx context.Context, eventID string) (int, error) {
	body, sig, err := s.Signed(eventID, s.now())
	if err != nil {
		return 0, err
	}
	return s.Post(ctx, body, sig, eventID)
}

// Post sends a delivery as given (body and Stripe-Signature header) to the
// webhook: for replays and forgeries.
func (s *Server) Post(ctx context.Context, body []byte, signature, eventID string) (int, error) {
	hook := s.webhook()
	if hook == "" {
		return 0, errors.New("stripetest: no webhook set")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	if signature != "" {
		req.Header.Set("Stripe-Signature", signature)
	}
	resp, err := s.client.Do(req)
	status := 0
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		status = resp.StatusCode
	}
	s.mu.Lock()
	s.delivered = append(s.delivered, Delivery{EventID: eventID, Status: status})
	s.mu.Unlock()
	return status, err
}

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
