package web

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"salonbook/src/core"
	"salonbook/src/core/dialog"
)

// Chat is the conversation as the web chat sees it: one inbound event in, the
// replies out. The dialog service implements it.
type Chat interface {
	// Handle runs one event of the conversation key. Replaying an event with the
	// same ID returns the replies of the first time and changes nothing.
	// Returns errors with code core.EInvalid, core.EUnavailable or core.EInternal.
	Handle(ctx context.Context, key dialog.ChatKey, in dialog.Inbound) ([]dialog.Reply, error)
}

// Limits of the chat API. A chat message is small; 4 KiB holds 1000 characters of
// Cyrillic text with room for the JSON around it.
const (
	maxChatBody     = 4 << 10
	maxChatText     = 1000 // runes, after trimming
	maxLangHint     = 35   // the longest language tag worth keeping (RFC 5646 suggests 35)
	floodLimit      = 20   // messages one session may send ...
	floodWindow     = 10 * time.Second
	chatStepTimeout = 15 * time.Second
	addrLimit       = 120     // messages one network address may send per window, across sessions
	maxTracked      = 100_000 // sessions or addresses tracked at once; beyond, new ones wait

	chatChannel    = "web"
	chatIDPrefix   = "web:"
	nonceBytes     = 18
	noncePlacehold = "{{NONCE}}"
)

// The budget of new sessions, for all addresses together.
const (
	// DefaultNewChatsPerMinute is Config.NewChatsPerMinute's default.
	DefaultNewChatsPerMinute = 30
	sessionMemory            = time.Hour // how long a quiet session stays admitted
	// DefaultNewChatsPerAddr is Config.NewChatsPerAddr's default: one address (an
	// IPv6 /64) may start that many sessions per newPerAddrWindow. A page keeps
	// its session across reloads, so that is ten browsers behind one address (a
	// salon's Wi-Fi) in ten minutes, and one address takes at most a thirtieth of
	// the default budget.
	DefaultNewChatsPerAddr = 10
	newPerAddrWindow       = 10 * time.Minute
)

// The reasons a 429 of the chat API gives (error.reason, with error.code
// "rate_limited"), for the page to say in the client's language.
const (
	reasonNoSession       = "no_session"        // 400: neither a session cookie nor a session in the body
	reasonMessages        = "messages"          // this session or address sends too fast
	reasonNewChats        = "new_chats"         // the server's budget of new sessions is spent
	reasonNewChatsNetwork = "new_chats_network" // this address started its share of new sessions
)

//go:embed chat.html
var chatPage []byte

// webChat serves the chat page and its message API.
type webChat struct {
	api   *api
	clock core.Clock
	flood *floodGuard // per session
	addrs *floodGuard // per remote address: new session ids do not buy new messages
	fresh *sessionBudget
	newBy *floodGuard // new sessions per remote address; nil: no such limit
}

func newWebChat(a *api) *webChat {
	clock := a.cfg.Clock
	if clock == nil {
		clock = core.SystemClock{}
	}
	perMinute := a.cfg.NewChatsPerMinute
	if perMinute <= 0 {
		perMinute = DefaultNewChatsPerMinute
	}
	c := &webChat{api: a, clock: clock, flood: newFloodGuard(floodLimit, floodWindow),
		addrs: newFloodGuard(addrLimit, floodWindow), fresh: newSessionBudget(perMinute)}
	switch perAddr := a.cfg.NewChatsPerAddr; {
	case perAddr == 0:
		c.newBy = newFloodGuard(DefaultNewChatsPerAddr, newPerAddrWindow)
	case perAddr > 0:
		c.newBy = newFloodGuard(perAddr, newPerAddrWindow)
	}
	return c
}

// page serves the chat page. Its script and style run only with this response's
// nonce, so an injected tag cannot; any site may frame it, because salons embed it.
func (c *webChat) page(w http.ResponseWriter, r *http.Request) {
	var raw [nonceBytes]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails
	nonce := base64.RawURLEncoding.EncodeToString(raw[:])
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", fmt.Sprintf("default-src 'self'; script-src 'nonce-%[1]s'; style-src 'nonce-%[1]s'; "+
		"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors *", nonce))
	c.ensureSession(w, r)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(bytes.ReplaceAll(chatPage, []byte(noncePlacehold), []byte(nonce)))
}

// chatRequest is one message from the page. Exactly one of Text, Choice and
// Command is set; pointers tell "absent" from "empty".
type chatRequest struct {
	Session string `json:"session"` // optional: the session cookie is the page's

	ID      string  `json:"id"`
	Text    *string `json:"text"`
	Choice  *string `json:"choice"`
	Command *string `json:"command"`
	Lang    string  `json:"lang"`
}

type chatReplyJSON struct {
	Text    string           `json:"text"`
	Choices []chatChoiceJSON `json:"choices"`
}

type chatChoiceJSON struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// messages takes one message from the page and answers the bot's replies.
func (c *webChat) messages(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	r.Body = http.MaxBytesReader(w, r.Body, maxChatBody)
	var req chatRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Session == "" {
		// The page's session is its cookie; API clients name one in the body,
		// and so does the page where the browser keeps no cookie (reason
		// no_session: it then makes a session of its own, chatsession.go).
		req.Session = c.session(r)
		if req.Session == "" {
			writeError(w, http.StatusBadRequest, string(core.EInvalid), "no chat session: load the chat page first (it sets the session cookie)",
				map[string]any{"reason": reasonNoSession})
			return
		}
	}
	in, problem := req.inbound()
	if problem != "" {
		writeError(w, http.StatusBadRequest, string(core.EInvalid), problem, nil)
		return
	}
	addr := addrKey(ClientAddr(r, c.api.cfg.TrustedProxies))
	now := c.clock.Now()
	const slowDown = "too many messages, slow down"
	if !c.addrs.allow(addr, now) {
		c.tooMany(w, reasonMessages, slowDown, c.addrs.wait(addr, now))
		return
	}
	admit := func() bool { return c.newBy == nil || c.newBy.allow(addr, now) }
	if ok, wait := c.fresh.allow(req.Session, now, admit); !ok {
		if wait > 0 {
			c.tooMany(w, reasonNewChats, "too many new chats at the moment; try again in a minute", wait)
		} else {
			c.tooMany(w, reasonNewChatsNetwork, "too many new chats from your network; try again in a few minutes", c.newBy.wait(addr, now))
		}
		return
	}
	if !c.flood.allow(req.Session, now) {
		c.tooMany(w, reasonMessages, slowDown, c.flood.wait(req.Session, now))
		return
	}
	key := dialog.ChatKey{SalonID: c.api.cfg.SalonID, Channel: chatChannel, ChatID: req.Session}
	// A step that cannot finish in time is abandoned (and rolled back) rather
	// than left holding a connection; the page retries with the same id.
	ctx, cancel := context.WithTimeout(r.Context(), chatStepTimeout)
	defer cancel()
	var replies []dialog.Reply
	var lang string
	var err error
	if a, ok := c.api.cfg.Chat.(answerer); ok {
		replies, lang, err = a.Answer(ctx, key, in)
	} else {
		replies, err = c.api.cfg.Chat.Handle(ctx, key, in)
	}
	if err != nil {
		c.api.fail(w, r, err)
		return
	}
	out := make([]chatReplyJSON, 0, len(replies))
	for _, rep := range replies {
		if rep.KeyboardOnly {
			continue // the page has no contact button to take away
		}
		choices := make([]chatChoiceJSON, 0, len(rep.Choices))
		for _, ch := range rep.Choices {
			choices = append(choices, chatChoiceJSON{ID: ch.ID, Label: ch.Label})
		}
		out = append(out, chatReplyJSON{Text: rep.Text, Choices: choices})
	}
	resp := map[string]any{"replies": out}
	if lang != "" {
		resp["lang"] = lang // the conversation's language now: the page's labels follow it
	}
	writeJSON(w, http.StatusOK, resp)
}

// tooMany answers 429 rate_limited with the limit's reason, English words for
// other clients, and Retry-After: the whole seconds until the limit lets one more in.
func (c *webChat) tooMany(w http.ResponseWriter, reason, msg string, wait time.Duration) {
	w.Header().Set("Retry-After", fmt.Sprint(max(1, int((wait+time.Second-1)/time.Second))))
	writeError(w, http.StatusTooManyRequests, "rate_limited", msg, map[string]any{"reason": reason})
}

// inbound checks the request and turns it into a dialog event; problem says what
// is wrong, in words fit for the client, and is empty when all is well.
func (req *chatRequest) inbound() (in dialog.Inbound, problem string) {
	if n := len(req.Session); n < 16 || n > 64 || !isToken(req.Session) {
		return in, "session must be 16 to 64 characters of A-Z, a-z, 0-9, _ and -"
	}
	if n := len(req.ID); n < 1 || n > 64 || !isToken(req.ID) {
		return in, "id must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"
	}
	if len(req.Lang) > maxLangHint || !isToken(req.Lang) {
		return in, fmt.Sprintf("lang must be a language tag of at most %d characters", maxLangHint)
	}
	given := 0
	for _, p := range []*string{req.Text, req.Choice, req.Command} {
		if p != nil {
			given++
		}
	}
	if given != 1 {
		return in, "exactly one of text, choice and command is required"
	}
	in = dialog.Inbound{ID: chatIDPrefix + req.Session + ":" + req.ID, LangHint: req.Lang}
	switch {
	case req.Text != nil:
		text := strings.TrimSpace(*req.Text)
		if n := utf8.RuneCountInString(text); n < 1 || n > maxChatText {
			return in, fmt.Sprintf("text must be 1 to %d characters", maxChatText)
		}
		in.Kind, in.Text = dialog.KindText, text
	case req.Choice != nil:
		if n := len(*req.Choice); n < 1 || n > dialog.MaxChoiceIDBytes {
			return in, fmt.Sprintf("choice must be 1 to %d bytes", dialog.MaxChoiceIDBytes)
		}
		in.Kind, in.Choice = dialog.KindChoice, *req.Choice
	default:
		// As a person types it: "/start", "start", "/Start ".
		cmd := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(*req.Command)), "/")
		switch cmd {
		case dialog.CommandStart, dialog.CommandCancel, dialog.CommandHelp, dialog.CommandLanguage:
		default:
			return in, "command must be start, cancel, help or language (with or without a /)"
		}
		in.Kind, in.Text = dialog.KindCommand, cmd
	}
	return in, ""
}

// addrKey is the remote address a limit counts: the IP, and for IPv6 its /64,
// which one host or subscriber usually holds whole.
func addrKey(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() != nil {
		return host
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// isToken reports whether s has only the characters of base64url: the page's
// session and message ids, and language tags.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}

// floodGuard limits how many messages one session may send in a sliding window.
// It is in memory: one server's protection against a stuck or hostile page, not a
// quota. Sessions silent for a whole window are dropped, so the map holds only the
// sessions of the last window.
type floodGuard struct {
	limit  int
	window time.Duration

	mu     sync.Mutex
	seen   map[string][]time.Time // per session, the accepted messages of the window, oldest first
	pruned time.Time
}

func newFloodGuard(limit int, window time.Duration) *floodGuard {
	return &floodGuard{limit: limit, window: window, seen: map[string][]time.Time{}}
}

// allow records a message of session at now and reports whether it is within the
// limit. A refused message is not recorded, so a client that slows down recovers
// one window after its burst.
func (g *floodGuard) allow(session string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Sub(g.pruned) >= g.window {
		for s, times := range g.seen {
			if now.Sub(times[len(times)-1]) >= g.window {
				delete(g.seen, s)
			}
		}
		g.pruned = now
	}
	times, known := g.seen[session]
	if !known && len(g.seen) >= maxTracked {
		return false // bounded memory: under a flood of new keys, new keys wait
	}
	old := 0
	for old < len(times) && now.Sub(times[old]) >= g.window {
		old++
	}
	times = append(times[:0], times[old:]...)
	if len(times) >= g.limit {
		g.seen[session] = times
		return false
	}
	g.seen[session] = append(times, now)
	return true
}

// wait is how long until session may send again: until the oldest message of its
// window leaves it (at least a moment; the window when nothing is recorded).
func (g *floodGuard) wait(session string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	times := g.seen[session]
	if len(times) < g.limit {
		return time.Second // the refusal was for lack of room to track new keys
	}
	return max(time.Second, g.window-now.Sub(times[0]))
}

// sessionBudget admits new chat sessions from one token bucket for the whole
// server: an address's limit holds one address, but a script with hundreds of
// addresses could otherwise start as many chats (and bookings) as it likes. A
// session once admitted goes on without a token until it is quiet for
// sessionMemory. Like floodGuard it is in memory, per server; after a restart a
// returning session takes a token again. It remembers at most maxKnown sessions
// (sessions that keep writing are never forgotten); beyond, new ones wait.
type sessionBudget struct {
	perMinute float64
	maxKnown  int

	mu     sync.Mutex
	tokens float64
	last   time.Time            // of the last refill
	known  map[string]time.Time // admitted sessions → their last message
	pruned time.Time
}

func newSessionBudget(perMinute int) *sessionBudget {
	return &sessionBudget{perMinute: float64(perMinute), maxKnown: maxTracked, tokens: float64(perMinute), known: map[string]time.Time{}}
}

// allow reports whether session may send at now: a known session always, a new
// one if a token is left and admit (its address's own limit, asked only then)
// agrees; then it is known. When the budget refuses, wait is how long until a
// token is back; when admit refuses, wait is 0.
func (b *sessionBudget) allow(session string, now time.Time, admit func() bool) (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.pruned) >= time.Minute {
		for s, seen := range b.known {
			if now.Sub(seen) >= sessionMemory {
				delete(b.known, s)
			}
		}
		b.pruned = now
	}
	if _, ok := b.known[session]; ok {
		b.known[session] = now
		return true, 0
	}
	if len(b.known) >= b.maxKnown {
		return false, time.Minute // sessions are forgotten at most once a minute
	}
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = min(b.perMinute, b.tokens+float64(now.Sub(b.last))*b.perMinute/float64(time.Minute))
	}
	if b.last.IsZero() || now.After(b.last) {
		b.last = now
	}
	if b.tokens < 1-1e-9 { // refills of a fraction each may add up to a hair under one
		return false, max(time.Second, time.Duration((1-b.tokens)*float64(time.Minute)/b.perMinute))
	}
	if !admit() {
		return false, 0
	}
	b.tokens--
	b.known[session] = now
	return true, 0
}
