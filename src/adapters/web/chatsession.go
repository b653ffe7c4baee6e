package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"

	"salonbook/src/core"
	"salonbook/src/core/dialog"
)

// The web chat's session: a random id in an HttpOnly cookie that the page's
// script never sees, so that the conversation (which now holds a name, a
// phone and bookings, and is read back after a reload) is reached only by the
// browser that has it. The page's own requests carry it; API clients that are
// not browsers may still name a session in the body (the loadtest harness).
//
// Where the cookie does not come back (an embed in Safari or with
// third-party cookies blocked, cookies off, SameSite=Lax over http behind a
// TLS proxy without PUBLIC_URL), a message is answered 400 reason no_session;
// the page then makes a session of its own (32 random characters of
// base64url from crypto.getRandomValues: 192 bits, as the cookie's), keeps it
// in sessionStorage (this tab only: a reload continues, another tab starts
// afresh) and sends it in the body, and as the X-Chat-Session header when it
// reads the conversation back. Such an id names a conversation as a cookie
// does: whoever knows it reaches that conversation and no other; the server
// only checks its form (16 to 64 characters of A-Za-z0-9_-) and never gives a
// conversation to a request that does not name it.
const (
	sessionCookie = "chat"
	sessionBytes  = 24 // 192 random bits, 32 characters of base64url
	sessionHeader = "X-Chat-Session"
)

// answerer is a Chat that also says the conversation's language after a step
// (dialog.Service.Answer): the page follows it with its own labels.
type answerer interface {
	Answer(ctx context.Context, key dialog.ChatKey, in dialog.Inbound) ([]dialog.Reply, string, error)
}

// transcriber is a Chat that reads a conversation back (dialog.Service.Transcript).
type transcriber interface {
	Transcript(ctx context.Context, key dialog.ChatKey) (dialog.Transcript, error)
}

// secure reports whether the session cookie must be Secure: the public URL is
// https, or, with none, the request came over TLS (behind a TLS-ending proxy
// the operator says so by PUBLIC_URL), as the desk decides.
func (c *webChat) secure(r *http.Request) bool {
	if u := c.api.cfg.PublicURL; u != "" {
		return strings.HasPrefix(strings.ToLower(u), "https://")
	}
	return r.TLS != nil
}

// cookieName is __Host-chat when Secure (no Domain, Path=/: no other host or
// path can set or shadow it), else chat.
func (c *webChat) cookieName(r *http.Request) string {
	if c.secure(r) {
		return "__Host-" + sessionCookie
	}
	return sessionCookie
}

// session returns the browser's session id from its cookie, "" when it has
// none or one that is not of the form this server gives out.
func (c *webChat) session(r *http.Request) string {
	ck, err := r.Cookie(c.cookieName(r))
	if err != nil || !validSession(ck.Value) {
		return ""
	}
	return ck.Value
}

func validSession(s string) bool { return len(s) >= 16 && len(s) <= 64 && isToken(s) }

// ensureSession gives the browser a session cookie when it has none: HttpOnly
// (the script never reads it), a year long (the conversation is kept while
// it has a client or a wait-list entry; an anonymous one is pruned after a
// week), Secure and SameSite=None with Partitioned when served over https, so
// that the chat keeps its session when a salon embeds it on its own site (a
// partitioned cookie is the embed's own, per top-level site); SameSite=Lax
// over plain http (development), where browsers refuse None. Requests that
// change something are refused from other origins (CrossOriginProtection),
// which is what SameSite would otherwise give.
func (c *webChat) ensureSession(w http.ResponseWriter, r *http.Request) {
	if c.session(r) != "" {
		return
	}
	var raw [sessionBytes]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails
	ck := &http.Cookie{Name: c.cookieName(r), Value: base64.RawURLEncoding.EncodeToString(raw[:]), Path: "/",
		MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if c.secure(r) {
		ck.Secure, ck.SameSite, ck.Partitioned = true, http.SameSiteNoneMode, true
	}
	http.SetCookie(w, ck)
}

type chatLineJSON struct {
	From    string           `json:"from"` // "client" or "bot"
	Text    string           `json:"text"`
	Choices []chatChoiceJSON `json:"choices"`
}

// history answers GET /chat/api/messages: the browser's conversation read
// back, for a page loaded again (a reload, a second tab): {"lang", "messages":
// [{from, text, choices}]}, the choices only on the bot's last messages. No
// messages (and lang "") when there is no conversation yet: the page then
// starts one. A browser without a session gets that too.
func (c *webChat) history(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		writeError(w, http.StatusForbidden, string(core.EForbidden), "the conversation is read only by the chat page", nil)
		return
	}
	now := c.clock.Now()
	addr := addrKey(ClientAddr(r, c.api.cfg.TrustedProxies))
	if !c.addrs.allow(addr, now) {
		c.tooMany(w, reasonMessages, "too many messages, slow down", c.addrs.wait(addr, now))
		return
	}
	out := map[string]any{"lang": "", "messages": []chatLineJSON{}}
	session := c.session(r)
	if h := r.Header.Get(sessionHeader); session == "" && validSession(h) {
		session = h // the page's own session where the browser keeps no cookie
	}
	tr, ok := c.api.cfg.Chat.(transcriber)
	if session == "" || !ok {
		writeJSON(w, http.StatusOK, out)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), chatStepTimeout)
	defer cancel()
	t, err := tr.Transcript(ctx, dialog.ChatKey{SalonID: c.api.cfg.SalonID, Channel: chatChannel, ChatID: session})
	if err != nil {
		c.api.fail(w, r, err)
		return
	}
	lines := make([]chatLineJSON, 0, len(t.Lines))
	for _, l := range t.Lines {
		from := "bot"
		if l.Client {
			from = "client"
		}
		choices := make([]chatChoiceJSON, 0, len(l.Choices))
		for _, ch := range l.Choices {
			choices = append(choices, chatChoiceJSON{ID: ch.ID, Label: ch.Label})
		}
		lines = append(lines, chatLineJSON{From: from, Text: l.Text, Choices: choices})
	}
	out["lang"], out["messages"] = t.Lang, lines
	writeJSON(w, http.StatusOK, out)
}
