package telegram

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot"

	"salonbook/src/core/messaging"
)

// OffsetStore keeps the getUpdates offset across restarts (pipeline.Offsets).
type OffsetStore interface {
	// Load returns the saved offset, 0 when there is none.
	Load(ctx context.Context) (int64, error)
	// Save records next as the offset; it never moves it backwards.
	Save(ctx context.Context, next int64) error
}

// Long polling's parameters: Telegram's maximum batch, and a poll short enough
// for proxies that cut idle connections at 30 s.
const (
	pollLimit   = 100
	pollSeconds = 25
	// pollDeadline bounds one getUpdates request: the long poll and some slack,
	// so a connection that went silent is given up.
	pollDeadline = pollSeconds*time.Second + 10*time.Second
	// callDeadline bounds the other requests.
	callDeadline = 15 * time.Second
	// maxPollBody caps a getUpdates answer: 100 updates of a few KiB each.
	maxPollBody = 64 << 20

	pollBackoffFirst = 100 * time.Millisecond
	pollBackoffMax   = 5 * time.Second
)

// pollUpdates are the kinds of update the Decoder reads, as the webhook
// registers them.
var pollUpdates = []string{"message", "callback_query", "pre_checkout_query"}

// Poller fetches updates with getUpdates (TELEGRAM_MODE=polling, for
// development) into the same inbox the webhook writes to.
//
// The offset, which confirms updates to Telegram, moves only once a whole batch
// is committed to the inbox, and is saved in the OffsetStore, so neither a
// crash nor a restart loses an update; an update fetched twice (after a crash
// between the inbox and the offset) is a redelivery the inbox ignores. This is
// why go-telegram's Start is not used: it keeps the offset in memory and moves
// it before the update is handled.
//
// The token is in every request's URL, so no error or log line quotes a URL,
// a client error or Telegram's description: they name the method and the class
// of failure only. Updates are never logged, only their ids.
type Poller struct {
	base    string // apiURL + "/bot" + token + "/": never logged
	token   string
	client  *http.Client
	inbox   messaging.Inbox
	offsets OffsetStore
	log     *slog.Logger
	// checkout answers pre-checkout queries as they are fetched; nil: they
	// are dead letters.
	checkout *checkout
}

// AnswerPreCheckout makes the poller answer pre_checkout_query updates as it
// fetches them, with decide's verdict through b (see the webhook's).
func (p *Poller) AnswerPreCheckout(b *bot.Bot, decide PreCheckout) {
	p.checkout = &checkout{bot: b, decide: decide}
}

// NewPoller returns a poller for the bot with token at apiURL (DefaultAPIURL
// when empty), storing into inbox and keeping its offset in offsets. client
// sends the requests (nil: a new client); its Timeout is not used, since each
// request has a deadline of its own above the long poll's. A nil log logs
// nothing.
func NewPoller(apiURL, token string, client *http.Client, inbox messaging.Inbox, offsets OffsetStore, log *slog.Logger) *Poller {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	c := &http.Client{}
	if client != nil {
		copied := *client
		c = &copied
	}
	c.Timeout = 0
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{
		base:  strings.TrimRight(apiURL, "/") + "/bot" + token + "/",
		token: token, client: c, inbox: inbox, offsets: offsets, log: log,
	}
}

// Run polls until ctx ends, then returns nil. It first removes the bot's
// webhook (keeping its pending updates), since getUpdates does not work while
// one is set. Failures are retried: a 409 (a webhook set again, or another
// poller) and network errors and 5xx back off from 100 ms, doubling up to
// 5 s; a 429 waits its retry_after. Run returns an error only when polling
// cannot work: the token is empty or refused (401, or 404 for a token Telegram
// cannot parse).
func (p *Poller) Run(ctx context.Context) error {
	if strings.TrimSpace(p.token) == "" {
		return errors.New("telegram: poll: the bot token is empty")
	}
	var b pollBackoff
	for {
		_, err := p.call(ctx, "deleteWebhook", map[string]any{"drop_pending_updates": false}, callDeadline, 1<<20)
		if err == nil {
			break
		}
		if stop, ferr := p.failure(ctx, err, &b); stop {
			return ferr
		}
	}
	p.log.Info("telegram polling: webhook deleted (pending updates kept), polling getUpdates")

	b = pollBackoff{}
	var next int64
	for {
		var err error
		if next, err = p.offsets.Load(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		d := b.next()
		p.log.Warn("telegram polling: load offset", slog.String("error", err.Error()), slog.Duration("retry_in", d))
		if !pollSleep(ctx, d) {
			return nil
		}
	}

	b = pollBackoff{}
	for {
		ups, err := p.getUpdates(ctx, next)
		if err != nil {
			if stop, ferr := p.failure(ctx, err, &b); stop {
				return ferr
			}
			continue
		}
		if len(ups) == 0 {
			b.reset()
			continue
		}
		last, err := p.store(ctx, ups)
		if err != nil {
			// Nothing is confirmed: the batch comes again, and what was stored
			// of it is a redelivery.
			if ctx.Err() != nil {
				return nil
			}
			d := b.next()
			p.log.Warn("telegram polling: store updates", slog.String("error", err.Error()), slog.Duration("retry_in", d))
			if !pollSleep(ctx, d) {
				return nil
			}
			continue
		}
		if last == 0 {
			// No update of the batch had an id, so none can be confirmed; Telegram
			// never sends such a batch.
			d := b.next()
			p.log.Warn("telegram polling: updates without update_id", slog.Int("updates", len(ups)), slog.Duration("retry_in", d))
			if !pollSleep(ctx, d) {
				return nil
			}
			continue
		}
		b.reset()
		next = max(next, last+1)
		// The rows are committed: the next request confirms them to Telegram. The
		// saved offset only spares a restart refetching them, so a failure to
		// save is logged, not retried (the next batch saves a later one).
		if err := p.offsets.Save(ctx, next); err != nil && ctx.Err() == nil {
			p.log.Warn("telegram polling: save offset", slog.String("error", err.Error()), slog.Int64("offset", next))
		}
		p.log.Debug("telegram polling: updates stored", slog.Int("updates", len(ups)), slog.Int64("offset", next))
	}
}

// failure handles a failed request: it reports stop when Run must return (with
// the error to return), after waiting as the failure asks otherwise.
func (p *Poller) failure(ctx context.Context, err error, b *pollBackoff) (stop bool, _ error) {
	if ctx.Err() != nil {
		return true, nil
	}
	var ce *pollError
	if !errors.As(err, &ce) {
		ce = &pollError{method: "request", class: "failed"}
	}
	var wait time.Duration
	switch {
	case ce.status == http.StatusUnauthorized || ce.status == http.StatusNotFound:
		p.log.Error("telegram polling: the bot token is refused", slog.String("method", ce.method), slog.Int("status", ce.status))
		return true, ce
	case ce.status == http.StatusTooManyRequests:
		wait = time.Duration(max(ce.retryAfter, 1)) * time.Second
	default:
		// 409 (a webhook, or another poller), 5xx, network errors, answers that
		// are not the Bot API's.
		wait = b.next()
	}
	p.log.Warn("telegram polling: request failed", slog.String("method", ce.method), slog.String("error", ce.class),
		slog.Int("status", ce.status), slog.Duration("retry_in", wait))
	return !pollSleep(ctx, wait), nil
}

// getUpdates fetches the updates from offset on, each as Telegram sent it.
func (p *Poller) getUpdates(ctx context.Context, offset int64) ([]json.RawMessage, error) {
	result, err := p.call(ctx, "getUpdates", map[string]any{
		"offset": offset, "limit": pollLimit, "timeout": pollSeconds, "allowed_updates": pollUpdates,
	}, pollDeadline, maxPollBody)
	if err != nil {
		return nil, err
	}
	var ups []json.RawMessage
	if err := json.Unmarshal(result, &ups); err != nil {
		return nil, &pollError{method: "getUpdates", class: "result is not a list of updates"}
	}
	return ups, nil
}

// store adds a batch to the inbox, each update as the webhook would, and
// returns the highest update_id in it (0 when none has one). It stops at the
// first failure.
func (p *Poller) store(ctx context.Context, ups []json.RawMessage) (last int64, _ error) {
	for _, raw := range ups {
		var head struct {
			UpdateID int64 `json:"update_id"`
		}
		if json.Unmarshal(raw, &head) == nil && head.UpdateID > 0 {
			last = max(last, head.UpdateID)
		}
		if q, ok := preCheckoutOf(raw); ok && p.checkout != nil {
			// Answered now (10 s): a failure stops the batch, whose offset
			// stays, so the query is fetched and answered again.
			if _, err := p.checkout.answer(ctx, q); err != nil {
				return 0, err
			}
			continue
		}
		updateID, chatID, err := ChatOf(raw)
		if err != nil {
			sum := sha256.Sum256(raw)
			key := "dead:" + hex.EncodeToString(sum[:])[:16]
			if err := p.inbox.Add(ctx, Channel, key, "", raw, "undecodable"); err != nil {
				return 0, err
			}
			p.log.Warn("telegram polling: undecodable update kept as dead letter", slog.String("update", key))
			continue
		}
		if err := p.inbox.Add(ctx, Channel, updateID, chatID, raw, ""); err != nil {
			return 0, err
		}
	}
	return last, nil
}

// pollError is a failed Bot API request, in the poller's own words: no URL
// (it holds the token), no client error text, no description from the server.
type pollError struct {
	method     string
	class      string
	status     int // Telegram's error_code, or the HTTP status; 0 when no answer came
	retryAfter int // seconds, for a 429
	cause      error
}

func (e *pollError) Error() string {
	msg := "telegram: " + e.method + ": " + e.class
	if e.status != 0 {
		msg += " (" + strconv.Itoa(e.status) + ")"
	}
	return msg
}

func (e *pollError) Unwrap() error { return e.cause }

// call POSTs params as JSON to method and returns the result of a successful
// answer.
func (p *Poller) call(ctx context.Context, method string, params any, deadline time.Duration, maxBody int64) (json.RawMessage, error) {
	body, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("telegram: %s: encode parameters: %w", method, err)
	}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+method, bytes.NewReader(body))
	if err != nil {
		// The parse error quotes the URL, token and all.
		return nil, &pollError{method: method, class: "invalid API URL or token"}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		// A *url.Error quotes the URL: only its class is kept.
		class := "network error"
		var ne net.Error
		switch {
		case errors.Is(err, context.Canceled):
			class = "cancelled"
		case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
			class = "timed out"
		}
		return nil, &pollError{method: method, class: class, cause: ctx.Err()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, &pollError{method: method, class: "answer cut off", status: resp.StatusCode, cause: ctx.Err()}
	}
	var env struct {
		OK         bool            `json:"ok"`
		Result     json.RawMessage `json:"result"`
		ErrorCode  int             `json:"error_code"`
		Parameters *struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if int64(len(raw)) > maxBody || json.Unmarshal(raw, &env) != nil {
		return nil, &pollError{method: method, class: "answer is not the Bot API's", status: resp.StatusCode}
	}
	if env.OK && resp.StatusCode == http.StatusOK {
		return env.Result, nil
	}
	ce := &pollError{method: method, status: env.ErrorCode}
	if ce.status == 0 {
		ce.status = resp.StatusCode
	}
	if env.Parameters != nil {
		ce.retryAfter = env.Parameters.RetryAfter
	}
	switch {
	case ce.status == http.StatusUnauthorized:
		ce.class = "unauthorized (wrong bot token)"
	case ce.status == http.StatusNotFound:
		ce.class = "not found (malformed bot token or wrong API URL)"
	case ce.status == http.StatusConflict:
		ce.class = "conflict (a webhook is set or another poller runs)"
	case ce.status == http.StatusTooManyRequests:
		ce.class = "too many requests"
	case ce.status >= 500:
		ce.class = "server error"
	default:
		ce.class = "refused"
	}
	return nil, ce
}

// pollBackoff is the wait after a passing failure: 100 ms, doubling up to 5 s.
type pollBackoff struct{ d time.Duration }

func (b *pollBackoff) next() time.Duration {
	if b.d == 0 {
		b.d = pollBackoffFirst
	} else {
		b.d = min(2*b.d, pollBackoffMax)
	}
	return b.d
}

func (b *pollBackoff) reset() { b.d = 0 }

// pollSleep waits d, and reports false when ctx ended first.
func pollSleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
