package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// ErrNoWebhook is returned by Deliver when no webhook is registered.
var ErrNoWebhook = errors.New("telegramtest: no webhook set")

// SecretHeader is the header in which Telegram sends the webhook's secret_token.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

const defaultMaxConnections = 40

type webhook struct {
	url            string
	secret         string
	maxConnections int
	allowedUpdates []string
	// slots bounds concurrent deliveries to max_connections.
	slots            chan struct{}
	lastErrorDate    int64
	lastErrorMessage string
}

func (s *Server) setWebhook(_ context.Context, p params) reply {
	raw := p["url"]
	if raw == "" {
		// Telegram treats an empty url as deleteWebhook.
		return s.removeWebhook(p)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return badRequest("Bad Request: invalid webhook URL specified")
	}
	if s.requireHTTPS {
		if u.Scheme != "https" {
			return badRequest("Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
		}
		switch u.Port() {
		case "", "443", "80", "88", "8443":
		default:
			return badRequest("Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
		}
	}
	secret := p["secret_token"]
	if secret != "" && !validSecret(secret) {
		return badRequest("Bad Request: secret token contains unallowed characters")
	}
	maxConns := defaultMaxConnections
	if n, present, valid := p.int64("max_connections"); present {
		if !valid {
			return badRequest("Bad Request: invalid max_connections specified")
		}
		// Telegram documents 1-100; out-of-range values are clamped here.
		maxConns = int(min(max(n, 1), 100))
	}
	var allowed []string
	if a := p["allowed_updates"]; a != "" {
		if json.Unmarshal([]byte(a), &allowed) != nil {
			return badRequest("Bad Request: can't parse allowed updates")
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if p.bool("drop_pending_updates") {
		s.queue = nil
	}
	s.webhook = webhook{
		url: raw, secret: secret, maxConnections: maxConns, allowedUpdates: allowed,
		slots: make(chan struct{}, maxConns),
	}
	// A poller waiting now would be served by a queue that no longer feeds it.
	if s.poll != nil {
		close(s.poll)
		s.poll = nil
	}
	rep := okReply(true)
	rep.description = "Webhook was set"
	return rep
}

// validSecret reports whether s is a valid secret_token: 1-256 characters of
// A-Z, a-z, 0-9, '_' and '-'.
func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func (s *Server) deleteWebhook(_ context.Context, p params) reply { return s.removeWebhook(p) }

func (s *Server) removeWebhook(p params) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.bool("drop_pending_updates") {
		s.queue = nil
	}
	rep := okReply(true)
	rep.description = "Webhook is already deleted"
	if s.webhook.url != "" {
		rep.description = "Webhook was deleted"
	}
	s.webhook = webhook{}
	return rep
}

type webhookInfoJSON struct {
	URL                  string   `json:"url"`
	HasCustomCertificate bool     `json:"has_custom_certificate"`
	PendingUpdateCount   int      `json:"pending_update_count"`
	LastErrorDate        int64    `json:"last_error_date,omitempty"`
	LastErrorMessage     string   `json:"last_error_message,omitempty"`
	MaxConnections       int      `json:"max_connections,omitempty"`
	AllowedUpdates       []string `json:"allowed_updates,omitempty"`
}

func (s *Server) getWebhookInfo(context.Context, params) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.webhook
	return okReply(webhookInfoJSON{
		URL: w.url, PendingUpdateCount: len(s.queue), LastErrorDate: w.lastErrorDate,
		LastErrorMessage: w.lastErrorMessage, MaxConnections: w.maxConnections,
		AllowedUpdates: w.allowedUpdates,
	})
}

// Deliver POSTs update to the registered webhook as Telegram does: Content-Type
// application/json and, when a secret_token was set, the SecretHeader. It returns
// the webhook's HTTP status; err is set only when no answer came (no webhook, a
// network error, ctx ended). At most max_connections deliveries run at once.
//
// The bytes are sent as given, so tests can send malformed bodies too. A valid
// update also registers its callback query id and messages, as Enqueue does. A
// status other than 2xx shows in getWebhookInfo's last_error_message. Telegram
// would retry; the fake leaves retrying to the caller.
func (s *Server) Deliver(ctx context.Context, update []byte) (status int, err error) {
	s.mu.Lock()
	w := s.webhook
	var u updateShape
	if json.Unmarshal(update, &u) == nil {
		s.registerLocked(&u, s.now())
	}
	s.mu.Unlock()
	if w.url == "" {
		return 0, ErrNoWebhook
	}

	select {
	case w.slots <- struct{}{}:
		defer func() { <-w.slots }()
	case <-ctx.Done():
		return 0, fmt.Errorf("telegramtest: deliver: %w", ctx.Err())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(update))
	if err != nil {
		return 0, fmt.Errorf("telegramtest: deliver: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if w.secret != "" {
		req.Header.Set(SecretHeader, w.secret)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.webhookError(w.url, "Connection refused")
		return 0, fmt.Errorf("telegramtest: deliver: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()

	s.mu.Lock()
	s.stats.Delivered++
	s.mu.Unlock()
	if resp.StatusCode/100 != 2 {
		s.webhookError(w.url, "Wrong response from the webhook: "+strconv.Itoa(resp.StatusCode)+" "+http.StatusText(resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// webhookError records a failed delivery for getWebhookInfo, if the webhook is
// still the one delivered to.
func (s *Server) webhookError(url, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhook.url == url {
		s.webhook.lastErrorDate = s.now().Unix()
		s.webhook.lastErrorMessage = message
	}
}
