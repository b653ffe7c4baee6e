package whatsapp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"salonbook/src/core/messaging"
)

// Meta's error codes that decide what the sender does.
const (
	ErrorThroughput   = 130429 // the number's messages per second
	ErrorPairLimit    = 131056 // too many messages to one recipient
	ErrorTokenInvalid = 190    // access token expired or revoked
)

// Window is the customer-service window: free-form messages may go for this long
// after the client's last message; after it, only templates.
const Window = 24 * time.Hour

// windowMargin is taken off the window: a message that leaves just before the
// end may arrive after it.
const windowMargin = 5 * time.Minute

// How long to wait after a limit error (TransportConfig's defaults): Meta gives
// no retry-after. The throughput is per second; the pair limit about one
// message per 6 s. Each further error in a row doubles the pause, up to
// maxPause. A refused token pauses the channel for tokenPause.
const (
	throughputPause = time.Second
	pairPause       = 6 * time.Second
	maxPause        = time.Minute
	tokenPause      = time.Minute
)

// TemplateMaxParam bounds the one template parameter (Meta: the body, fixed
// text included, at most 1024 characters).
const TemplateMaxParam = 900

// TemplateName is an approved template: its name and the language code it was
// approved under.
type TemplateName struct {
	Name string
	Code string // "en", "en_US", …
}

// TransportConfig configures a Transport.
type TransportConfig struct {
	Client  *Client
	Windows Windows
	// Templates by conversation language: what goes out when the window is
	// closed. Each has one body parameter, {{1}}, which receives the reply's
	// text and its numbered choices on one line (see TemplateText).
	Templates map[string]TemplateName
	// ReminderTemplates by conversation language: what a booking reminder
	// (messaging.TemplateReminder) goes as when the window is closed, an
	// approved utility template with the same one body parameter; none: the
	// Templates.
	ReminderTemplates map[string]TemplateName
	// DefaultLang picks the template when the chat's language has none.
	DefaultLang string
	// Labels gives the words the rendering adds, by language; nil is English.
	Labels func(lang string) Labels
	Now    func() time.Time // nil is time.Now
	Log    *slog.Logger     // nil logs nothing
	// TagKey keys the chat tags in logs (TagKey of the app secret); nil is a
	// random key.
	TagKey []byte
	// Pauses after Meta's limit errors (zero: the defaults, 1 s for the
	// throughput, 6 s for the pair limit, each doubled per further error in a
	// row up to MaxPause, 1 min) and after a refused token (TokenPause, 1 min).
	ThroughputPause, PairPause, MaxPause, TokenPause time.Duration
}

// Transport sends replies (messaging.Transport): inside the client's 24-hour
// window as Render lays them out, outside it (or when Meta answers 131047) as
// the configured template of the chat's language. The window is the client's
// last message time recorded by the Webhook; a 131047 records it closed.
type Transport struct {
	cfg TransportConfig

	mu         sync.Mutex
	throughput int             // throughput errors in a row
	pausedTill time.Time       // the end of the last throughput pause
	pairs      map[string]int  // pair-limit errors in a row, by chat
	noReminder map[string]bool // languages without a reminder template, logged once each
}

var _ messaging.Transport = (*Transport)(nil)

// NewTransport returns a Transport.
func NewTransport(cfg TransportConfig) *Transport {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.TagKey == nil {
		cfg.TagKey = TagKey("")
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&cfg.ThroughputPause, throughputPause}, {&cfg.PairPause, pairPause}, {&cfg.MaxPause, maxPause}, {&cfg.TokenPause, tokenPause}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if cfg.Labels == nil {
		cfg.Labels = func(string) Labels { return Labels{Choose: "Choose", SharePhone: "Use this number"} }
	}
	return &Transport{cfg: cfg, pairs: map[string]int{}, noReminder: map[string]bool{}}
}

// missingReminder logs, once per language, that a reminder to a chat of lang
// goes without a reminder template of its language.
func (t *Transport) missingReminder(lang string) {
	t.mu.Lock()
	seen := t.noReminder[lang]
	t.noReminder[lang] = true
	t.mu.Unlock()
	if !seen {
		t.cfg.Log.Warn("whatsapp: no reminder template for the chat's language (WHATSAPP_REMINDER_TEMPLATES): "+
			"its general template goes, else the default language's reminder template", slog.String("lang", lang))
	}
}

// Send sends o.Reply (WhatsApp has nothing like a callback to answer: o.Ack is
// never set by the Decoder and is ignored).
//
// The result, by Meta's error code: 130429 (and the app limits 4 and 80007)
// pauses the channel (RetryAfter); 131056 holds this chat only
// (ChatRetryAfter), both for longer with each further error in a row; 190 or
// HTTP 401 (the token was refused) pauses the channel for TokenPause, so the
// outbox waits for a new token instead of giving every message up, and is
// logged as an error each time; a 5xx, codes 1, 2, 131000, 131016 and no
// answer are retried with backoff; every other error is not retried, and
// reported (the sender logs it).
func (t *Transport) Send(ctx context.Context, o messaging.Outgoing) messaging.Result {
	if o.Reply == nil {
		return messaging.Result{}
	}
	last, closed, lang, err := t.cfg.Windows.Window(ctx, o.ChatID)
	if err != nil {
		return messaging.Result{Err: err, Retry: true}
	}
	labels := t.cfg.Labels(lang)
	now := t.cfg.Now()
	if !last.IsZero() && last.After(closed) && now.Sub(last) < Window-windowMargin {
		id, err := t.cfg.Client.Send(ctx, Render(o.ChatID, *o.Reply, labels))
		if e, ok := errors.AsType[*APIError](err); !ok || e.Code != ErrorWindowClosed {
			return t.result(id, err, o.ChatID, now)
		}
		// Meta says the window has closed (our clock or record is behind):
		// remember it, and send the template instead.
		if err := t.cfg.Windows.Closed(ctx, o.ChatID, now); err != nil {
			return messaging.Result{Err: err, Retry: true}
		}
	}
	// A reminder goes as a reminder template of the chat's language, else as
	// the general template of the chat's language (the text inside is in the
	// chat's language: another language's template around it would mix two),
	// else as the default language's reminder template, else as the general
	// one.
	var tpl TemplateName
	ok := false
	if o.Template == messaging.TemplateReminder {
		key := lang
		if key == "" { // a chat of no known language: the default's
			key = t.cfg.DefaultLang
		}
		if tpl, ok = t.cfg.ReminderTemplates[key]; !ok && len(t.cfg.ReminderTemplates) > 0 {
			t.missingReminder(key)
		}
	}
	if !ok {
		tpl, ok = t.cfg.Templates[lang]
	}
	if !ok && o.Template == messaging.TemplateReminder {
		tpl, ok = t.cfg.ReminderTemplates[t.cfg.DefaultLang]
	}
	if !ok {
		tpl, ok = t.cfg.Templates[t.cfg.DefaultLang]
		if ok {
			t.cfg.Log.Info("whatsapp: no template for the chat's language (WHATSAPP_TEMPLATES): the default language's goes",
				slog.String("lang", lang), slog.String("default", t.cfg.DefaultLang), slog.String("chat", ChatTag(t.cfg.TagKey, o.ChatID)))
		}
	}
	if !ok {
		t.cfg.Log.Warn("whatsapp: window closed and no template configured (WHATSAPP_TEMPLATES)", slog.String("chat", ChatTag(t.cfg.TagKey, o.ChatID)))
		return messaging.Result{Err: errors.New("whatsapp: send: the 24-hour window is closed and no template is configured")}
	}
	m := Message{MessagingProduct: "whatsapp", RecipientType: "individual", To: o.ChatID, Type: "template",
		Template: &Template{Name: tpl.Name, Language: Language{Code: tpl.Code}, Components: []Component{{
			Type: "body", Parameters: []Parameter{{Type: "text", Text: TemplateText(*o.Reply, TemplateMaxParam)}},
		}}}}
	id, err := t.cfg.Client.Send(ctx, m)
	return t.result(id, err, o.ChatID, now)
}

// result says what the outcome of a send started at started means for the
// sender.
func (t *Transport) result(id string, err error, chat string, started time.Time) messaging.Result {
	if err == nil {
		t.sent(chat)
		if id == "" {
			t.cfg.Log.Warn("whatsapp: message accepted without a wamid: its statuses cannot be matched", slog.String("chat", ChatTag(t.cfg.TagKey, chat)))
		}
		return messaging.Result{ProviderID: id}
	}
	res := messaging.Result{Err: err}
	e, ok := errors.AsType[*APIError](err)
	switch {
	case !ok: // no answer
		res.Retry = true
	case e.Code == ErrorThroughput || e.Code == 4 || e.Code == 80007:
		res.RetryAfter = t.throughputPause(started)
	case e.Code == ErrorPairLimit:
		res.ChatRetryAfter = t.pairPause(chat)
	case e.Code == ErrorTokenInvalid || e.HTTPStatus == http.StatusUnauthorized:
		res.RetryAfter, res.Unauthorized = t.cfg.TokenPause, true
		t.cfg.Log.Error("whatsapp: the access token was refused: check WHATSAPP_TOKEN; sending is paused until it is accepted",
			slog.Int("code", e.Code), slog.Int("http_status", e.HTTPStatus), slog.Duration("retry_after", t.cfg.TokenPause))
	case e.HTTPStatus >= 500, e.Code == 1, e.Code == 2, e.Code == 131000, e.Code == 131016:
		res.Retry = true
	default:
		t.cfg.Log.Warn("whatsapp: message refused", slog.Int("code", e.Code), slog.String("chat", ChatTag(t.cfg.TagKey, chat)))
	}
	return res
}

// sent resets the limit errors in a row after a message went.
func (t *Transport) sent(chat string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.throughput = 0
	delete(t.pairs, chat)
}

// throughputPause is the channel's pause after a throughput error of a send
// started at started: doubled for each error in a row, but not for sends
// started before the last pause ended (errors of sends that were under way
// together say nothing new).
func (t *Transport) throughputPause(started time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !started.Before(t.pausedTill) {
		t.throughput++
	}
	d := grow(t.cfg.ThroughputPause, t.throughput, t.cfg.MaxPause)
	t.pausedTill = t.cfg.Now().Add(d)
	return d
}

// pairPause is the chat's pause after a pair-limit error, doubled for each
// error in a row to that chat (the outbox has one message per chat in flight).
func (t *Transport) pairPause(chat string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.pairs) > 100_000 { // chats that never got through again: start afresh
		clear(t.pairs)
	}
	t.pairs[chat]++
	return grow(t.cfg.PairPause, t.pairs[chat], t.cfg.MaxPause)
}

// grow is base doubled for each error after the first, at most limit.
func grow(base time.Duration, errs int, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < errs && d < limit; i++ {
		d *= 2
	}
	return min(d, max(limit, base))
}
