package telegramtest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultToken is the bot token a Server accepts when Options.Token is empty. Its
// numeric part is the bot's user id, as with real tokens.
const DefaultToken = "7000000001:AAFakeSalonbookTelegramToken000000000"

// maxBody caps a request body. Telegram takes uploads up to 50 MB; the fake serves
// no upload methods, so 10 MB is plenty and keeps a runaway client from exhausting
// memory.
const maxBody = 10 << 20

// Options configures a Server. The zero value is a bot with DefaultToken, the real
// clock and Telegram's limits (DefaultLimits).
type Options struct {
	// Token is the only bot token the server accepts; any other gets 401.
	// Default DefaultToken.
	Token string
	// BotFirstName and BotUsername describe the bot in getMe and in the messages it
	// sends. Defaults "SalonBot" and "salonbook_bot".
	BotFirstName string
	BotUsername  string
	// Now is the server's clock: message dates, flood limits, callback expiry and
	// the 24-hour update retention use it. Default time.Now. Long polls wait in
	// real time whatever the clock says.
	Now func() time.Time
	// Limits are the flood limits. Nil means DefaultLimits(); a pointer to the zero
	// Limits means no limits at all.
	Limits *Limits
	// CallbackTTL, when positive, makes a callback query unanswerable once it is
	// older than this, as Telegram does after an undocumented while. Zero means
	// callbacks never expire.
	CallbackTTL time.Duration
	// RequireHTTPSWebhook makes setWebhook accept only https URLs on ports 443, 80,
	// 88 and 8443, as Telegram does. Off by default so the webhook can be an
	// httptest server.
	RequireHTTPSWebhook bool
	// WebhookClient sends Deliver's requests. Default: a 10 s timeout, no redirects
	// followed (Telegram follows none), and a connection pool of 100 per host.
	WebhookClient *http.Client
	// PaymentProviderToken, when set, is the only payment provider token
	// sendInvoice accepts (BotFather's, for the bot); any other non-empty one
	// is refused as PAYMENT_PROVIDER_INVALID. Empty accepts any non-empty token.
	PaymentProviderToken string
}

// Server is a fake Telegram Bot API. It is an http.Handler: mount it on
// httptest.NewServer in tests (or use Start), or on a real listener for demos. All
// methods are safe for concurrent use.
type Server struct {
	token        string
	bot          botJSON
	now          func() time.Time
	limits       Limits
	callbackTTL  time.Duration
	requireHTTPS bool
	client       *http.Client
	ownClient    bool
	paymentToken string

	closeOnce sync.Once
	closed    chan struct{}

	mu sync.Mutex
	// changed is closed and replaced whenever an update is queued or a message
	// recorded, waking long polls and WaitSent.
	changed   chan struct{}
	queue     []queued
	confirmed int64         // updates with update_id < confirmed were confirmed by an offset
	poll      chan struct{} // closed to end the running getUpdates with 409
	chats     map[int64]*chat
	callbacks map[string]*callback
	answered  []string
	sent      []SentMessage
	blocked   map[int64]bool
	failures  map[string][]int
	global    bucket
	webhook   webhook
	stats     Stats
	// preCheckouts are the pre-checkout queries sent, by id (payments.go).
	preCheckouts map[string]*preCheckout
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	s := &Server{
		token:        opts.Token,
		now:          opts.Now,
		callbackTTL:  opts.CallbackTTL,
		requireHTTPS: opts.RequireHTTPSWebhook,
		client:       opts.WebhookClient,
		closed:       make(chan struct{}),
		changed:      make(chan struct{}),
		chats:        map[int64]*chat{},
		callbacks:    map[string]*callback{},
		blocked:      map[int64]bool{},
		failures:     map[string][]int{},
		preCheckouts: map[string]*preCheckout{},
		paymentToken: opts.PaymentProviderToken,
	}
	if s.token == "" {
		s.token = DefaultToken
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.Limits == nil {
		s.limits = DefaultLimits()
	} else {
		s.limits = *opts.Limits
	}
	if s.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 100
		s.client = &http.Client{
			Timeout:       10 * time.Second,
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		s.ownClient = true
	}
	s.bot = newBot(s.token, opts.BotFirstName, opts.BotUsername)
	return s
}

// Token returns the token the server accepts, for building a client.
func (s *Server) Token() string { return s.token }

// Close ends running long polls (they answer with no updates) and releases the
// webhook client's idle connections. The handler keeps answering afterwards.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	if s.ownClient {
		s.client.CloseIdleConnections()
	}
}

// reply is a method's answer before it is written.
type reply struct {
	status      int // 200, or the Telegram error_code
	result      any
	description string
	retryAfter  int
}

func okReply(result any) reply { return reply{status: http.StatusOK, result: result} }

func failReply(status int, description string) reply {
	return reply{status: status, description: description}
}

func badRequest(description string) reply { return failReply(http.StatusBadRequest, description) }

type envelope struct {
	OK          bool            `json:"ok"`
	Result      any             `json:"result,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  *responseParams `json:"parameters,omitempty"`
}

type responseParams struct {
	RetryAfter int `json:"retry_after"`
}

func writeReply(w http.ResponseWriter, r reply) {
	env := envelope{OK: r.status == http.StatusOK, Description: r.description}
	if env.OK {
		env.Result = r.result
	} else {
		env.ErrorCode = r.status
	}
	if r.retryAfter > 0 {
		env.Parameters = &responseParams{RetryAfter: r.retryAfter}
	}
	body, err := json.Marshal(env)
	if err != nil {
		// Only the fake's own result types are marshalled; this is a bug in it.
		body = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
		r.status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(r.status)
	_, _ = w.Write(body)
}

type methodFunc func(s *Server, ctx context.Context, p params) reply

// methods maps lower-cased method names to handlers: Telegram matches method
// names case-insensitively.
var methods = map[string]methodFunc{
	"getme":               (*Server).getMe,
	"getupdates":          (*Server).getUpdates,
	"setwebhook":          (*Server).setWebhook,
	"deletewebhook":       (*Server).deleteWebhook,
	"getwebhookinfo":      (*Server).getWebhookInfo,
	"sendmessage":         (*Server).sendMessage,
	"editmessagetext":     (*Server).editMessageText,
	"answercallbackquery": (*Server).answerCallbackQuery,
	// Payments (payments.go).
	"sendinvoice":            (*Server).sendInvoice,
	"answerprecheckoutquery": (*Server).answerPreCheckoutQuery,
}

// ServeHTTP answers a Bot API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, method, ok := splitPath(r.URL.Path)
	if !ok {
		writeReply(w, failReply(http.StatusNotFound, "Not Found"))
		return
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1 {
		writeReply(w, failReply(http.StatusUnauthorized, "Unauthorized"))
		return
	}
	name := strings.ToLower(method)
	h, ok := methods[name]
	if !ok {
		writeReply(w, failReply(http.StatusNotFound, "Not Found"))
		return
	}
	p, rep := readParams(w, r)
	if rep.status != 0 {
		writeReply(w, rep)
		return
	}

	s.mu.Lock()
	s.stats.Requests++
	injected, fail := s.takeFailureLocked(name)
	s.mu.Unlock()
	if fail {
		writeReply(w, injected)
		return
	}

	rep = h(s, r.Context(), p)
	s.mu.Lock()
	switch rep.status {
	case http.StatusBadRequest:
		s.stats.BadRequests++
	case http.StatusForbidden:
		s.stats.Forbidden++
	case http.StatusTooManyRequests:
		s.stats.TooManyRequests++
	}
	s.mu.Unlock()
	writeReply(w, rep)
}

// splitPath takes "/bot<token>/<method>" or "/bot<token>/test/<method>" apart.
func splitPath(path string) (token, method string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/bot")
	if !ok {
		return "", "", false
	}
	token, method, ok = strings.Cut(rest, "/")
	if !ok {
		return "", "", false
	}
	method = strings.TrimPrefix(method, "test/")
	if method == "" || strings.Contains(method, "/") {
		return "", "", false
	}
	return token, method, true
}

// params are a request's parameters as strings; nested objects (reply_markup) are
// JSON text, whichever encoding the request used.
type params map[string]string

// readParams reads the query string and the body: multipart/form-data (what
// go-telegram sends), application/x-www-form-urlencoded or application/json. A
// body parameter overrides a query parameter of the same name.
func readParams(w http.ResponseWriter, r *http.Request) (params, reply) {
	p := params{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, failReply(http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		}
		return nil, badRequest("Bad Request: can't read request body")
	}
	// go-telegram sends an empty body with a multipart Content-Type for methods
	// without parameters (getMe, getWebhookInfo).
	if len(bytes.TrimSpace(body)) == 0 {
		return p, reply{}
	}
	mediaType, mediaParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), mediaParams["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, badRequest("Bad Request: can't parse multipart/form-data body")
			}
			v, err := io.ReadAll(part)
			if err != nil {
				return nil, badRequest("Bad Request: can't parse multipart/form-data body")
			}
			if part.FormName() != "" && part.FileName() == "" {
				p[part.FormName()] = string(v)
			}
		}
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, badRequest("Bad Request: can't parse urlencoded body")
		}
		for k, v := range vals {
			p[k] = v[0]
		}
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, badRequest("Bad Request: can't parse JSON object")
		}
		for k, raw := range m {
			var str string
			switch {
			case json.Unmarshal(raw, &str) == nil:
				p[k] = str
			case string(raw) == "null":
			default:
				p[k] = string(raw)
			}
		}
	}
	return p, reply{}
}

// int64 returns the integer parameter k; present is false when it is missing or
// empty, valid false when it is not an integer.
func (p params) int64(k string) (v int64, present, valid bool) {
	str := strings.TrimSpace(p[k])
	if str == "" {
		return 0, false, true
	}
	v, err := strconv.ParseInt(str, 10, 64)
	return v, true, err == nil
}

// bool reads a Boolean parameter the way Telegram does: "true" or a non-zero
// number is true.
func (p params) bool(k string) bool {
	str := strings.ToLower(strings.TrimSpace(p[k]))
	if str == "true" {
		return true
	}
	n, err := strconv.ParseInt(str, 10, 64)
	return err == nil && n != 0
}

// chatID reads chat_id. The fake knows no channel or group usernames, so
// "@name" is a chat it cannot find, as Telegram answers for unknown chats.
func (p params) chatID() (int64, reply) {
	id, present, valid := p.int64("chat_id")
	switch {
	case !present:
		return 0, badRequest("Bad Request: chat_id is empty")
	case !valid || id == 0:
		return 0, badRequest("Bad Request: chat not found")
	}
	return id, reply{}
}

// notifyLocked wakes everyone waiting on s.changed.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// FailNext makes the next n calls of method (any case) fail with HTTP status and
// a Telegram error body, before anything else is checked: for retry tests. A 429
// carries retry_after 1. Calls add up: FailNext twice queues both.
func (s *Server) FailNext(method string, status int, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := strings.ToLower(method)
	for range n {
		s.failures[name] = append(s.failures[name], status)
	}
}

func (s *Server) takeFailureLocked(name string) (reply, bool) {
	q := s.failures[name]
	if len(q) == 0 {
		return reply{}, false
	}
	status := q[0]
	s.failures[name] = q[1:]
	s.stats.Injected++
	rep := failReply(status, http.StatusText(status))
	switch status {
	case http.StatusBadRequest:
		rep.description = "Bad Request: injected failure"
	case http.StatusForbidden:
		rep.description = "Forbidden: bot was blocked by the user"
	case http.StatusTooManyRequests:
		rep.description = "Too Many Requests: retry after 1"
		rep.retryAfter = 1
	}
	if rep.description == "" {
		rep.description = "Error"
	}
	return rep, true
}

func (s *Server) getMe(context.Context, params) reply { return okReply(s.bot) }
