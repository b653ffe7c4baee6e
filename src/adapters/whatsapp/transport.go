package whatsapp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
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

// How long to wait after a limit error: Meta gives no retry-after. The
// throughput is per second; the pair limit about one message per 6 s.
const (
	throughputPause = time.Second
	pairPause       = 6 * time.Second
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
	// DefaultLang picks the template when the chat's language has none.
	DefaultLang string
	// Labels gives the words the rendering adds, by language; nil is English.
	Labels func(lang string) Labels
	Now    func() time.Time // nil is time.Now
	Log    *slog.Logger     // nil logs nothing
}

// Transport sends replies (messaging.Transport): inside the client's 24-hour
// window as Render lays them out, outside it (or when Meta answers 131047) as
// the configured template of the chat's language. The window is the client's
// last message time recorded by the Webhook; a 131047 records it closed.
type Transport struct{ cfg TransportConfig }

var _ messaging.Transport = (*Transport)(nil)

// NewTransport returns a Transport.
func NewTransport(cfg TransportConfig) *Transport {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Labels == nil {
		cfg.Labels = func(string) Labels { return Labels{Choose: "Choose", SharePhone: "Use this number"} }
	}
	return &Transport{cfg: cfg}
}

// Send sends o.Reply (WhatsApp has nothing like a callback to answer: o.Ack is
// never set by the Decoder and is ignored).
//
// The result, by Meta's error code: 130429 (and the app limits 4 and 80007)
// pauses the channel (RetryAfter); 131056 holds this chat only
// (ChatRetryAfter); a 5xx, codes 1, 2, 131000, 131016 and no answer are
// retried with backoff; 190 or HTTP 401 (the token) and every other error are
// not retried, and reported (the sender logs them; the token is logged here).
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
			return t.result(id, err, o.ChatID)
		}
		// Meta says the window has closed (our clock or record is behind):
		// remember it, and send the template instead.
		if err := t.cfg.Windows.Closed(ctx, o.ChatID, now); err != nil {
			return messaging.Result{Err: err, Retry: true}
		}
	}
	tpl, ok := t.cfg.Templates[lang]
	if !ok {
		tpl, ok = t.cfg.Templates[t.cfg.DefaultLang]
	}
	if !ok {
		t.cfg.Log.Warn("whatsapp: window closed and no template configured (WHATSAPP_TEMPLATES)", slog.String("chat", ChatTag(o.ChatID)))
		return messaging.Result{Err: errors.New("whatsapp: send: the 24-hour window is closed and no template is configured")}
	}
	m := Message{MessagingProduct: "whatsapp", RecipientType: "individual", To: o.ChatID, Type: "template",
		Template: &Template{Name: tpl.Name, Language: Language{Code: tpl.Code}, Components: []Component{{
			Type: "body", Parameters: []Parameter{{Type: "text", Text: TemplateText(*o.Reply, TemplateMaxParam)}},
		}}}}
	id, err := t.cfg.Client.Send(ctx, m)
	return t.result(id, err, o.ChatID)
}

// result says what a send's outcome means for the sender.
func (t *Transport) result(id string, err error, chat string) messaging.Result {
	if err == nil {
		return messaging.Result{ProviderID: id}
	}
	res := messaging.Result{Err: err}
	e, ok := errors.AsType[*APIError](err)
	switch {
	case !ok: // no answer
		res.Retry = true
	case e.Code == ErrorThroughput || e.Code == 4 || e.Code == 80007:
		res.RetryAfter = throughputPause
	case e.Code == ErrorPairLimit:
		res.ChatRetryAfter = pairPause
	case e.Code == ErrorTokenInvalid || e.HTTPStatus == http.StatusUnauthorized:
		t.cfg.Log.Error("whatsapp: the access token was refused: check WHATSAPP_TOKEN", slog.Int("code", e.Code))
	case e.HTTPStatus >= 500, e.Code == 1, e.Code == 2, e.Code == 131000, e.Code == 131016:
		res.Retry = true
	default:
		t.cfg.Log.Warn("whatsapp: message refused", slog.Int("code", e.Code), slog.String("chat", ChatTag(chat)))
	}
	return res
}
