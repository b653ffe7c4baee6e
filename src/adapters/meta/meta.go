// Package meta sends booking events to Meta's Conversions API (Graph API
// POST /{version}/{dataset_id}/events): the adreport.API port. metatest is a
// faithful fake of the endpoint.
//
// It picks each event's action source by the chat's channel: a WhatsApp chat's
// events are business_messaging with messaging_channel whatsapp (Meta takes
// business_messaging only with messenger, whatsapp or instagram); every other
// channel's (Telegram) are "other". The token goes in the Authorization header,
// never in a URL, a log line or an error.
package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"salonbook/src/core/adreport"
)

// DefaultURL and DefaultVersion are the Graph API's.
const (
	DefaultURL     = "https://graph.facebook.com"
	DefaultVersion = "v24.0"
)

// Options configure the client.
type Options struct {
	URL       string // the Graph API's root; "" is DefaultURL
	Version   string // "" is DefaultVersion
	DatasetID string // the pixel (dataset) id events go to
	Token     string // the Conversions API access token
	// TestEventCode, when set, sends every event to Events Manager's test tab
	// (Test events) instead of counting it.
	TestEventCode string
	// WhatsAppBusinessAccountID is the WhatsApp Business account the dataset
	// is tied to: sent with WhatsApp events.
	WhatsAppBusinessAccountID string
	HTTPClient                *http.Client // nil: a client with a 15 s timeout
	// Tries is how many times a send is tried on 429, 5xx, Graph's codes 1
	// and 2 or a network error
	// before the job retries it later; 0 is 3. BaseDelay (0: 500 ms) doubles
	// between tries.
	Tries     int
	BaseDelay time.Duration
}

// Client is the Conversions API client.
type Client struct {
	o   Options
	url string
}

var _ adreport.API = (*Client)(nil)

// New returns a client; it checks the options, never the token.
func New(o Options) (*Client, error) {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if o.Tries == 0 {
		o.Tries = 3
	}
	if o.BaseDelay == 0 {
		o.BaseDelay = 500 * time.Millisecond
	}
	if o.DatasetID == "" || o.Token == "" {
		return nil, errors.New("meta: a dataset id and a token are needed")
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("meta: the API URL must be an http(s) URL")
	}
	return &Client{o: o, url: strings.TrimRight(o.URL, "/") + "/" + url.PathEscape(o.Version) + "/" + url.PathEscape(o.DatasetID) + "/events"}, nil
}

// Body is the request's JSON (exported for the fake and the tests).
type Body struct {
	Data          []ServerEvent `json:"data"`
	TestEventCode string        `json:"test_event_code,omitempty"`
}

// ServerEvent is one event of a request.
type ServerEvent struct {
	EventName        string      `json:"event_name"`
	EventTime        int64       `json:"event_time"` // seconds
	EventID          string      `json:"event_id,omitempty"`
	ActionSource     string      `json:"action_source"`
	MessagingChannel string      `json:"messaging_channel,omitempty"`
	EventSourceURL   string      `json:"event_source_url,omitempty"`
	UserData         UserData    `json:"user_data"`
	CustomData       *CustomData `json:"custom_data,omitempty"`
}

// UserData are the keys Meta matches the event to a person with: hashes and
// click ids only.
type UserData struct {
	ExternalID                []string `json:"external_id,omitempty"`
	Phone                     []string `json:"ph,omitempty"`
	Email                     []string `json:"em,omitempty"`
	FBC                       string   `json:"fbc,omitempty"`
	FBP                       string   `json:"fbp,omitempty"`
	ClientIPAddress           string   `json:"client_ip_address,omitempty"`
	ClientUserAgent           string   `json:"client_user_agent,omitempty"`
	CtwaClid                  string   `json:"ctwa_clid,omitempty"`
	WhatsAppBusinessAccountID string   `json:"whatsapp_business_account_id,omitempty"`
}

// CustomData carries the booking's value.
type CustomData struct {
	Value    *float64 `json:"value,omitempty"`
	Currency string   `json:"currency,omitempty"`
}

// Response is Meta's answer to a good request.
type Response struct {
	EventsReceived int      `json:"events_received"`
	Messages       []string `json:"messages"`
	FBTraceID      string   `json:"fbtrace_id"`
}

// ErrorBody is Graph's error answer.
type ErrorBody struct {
	Error GraphError `json:"error"`
}

// GraphError is the error object of a Graph API answer.
type GraphError struct {
	Message      string `json:"message"`
	Type         string `json:"type"`
	Code         int    `json:"code"`
	ErrorSubcode int    `json:"error_subcode,omitempty"`
	IsTransient  bool   `json:"is_transient,omitempty"`
	UserTitle    string `json:"error_user_title,omitempty"`
	UserMsg      string `json:"error_user_msg,omitempty"`
	FBTraceID    string `json:"fbtrace_id,omitempty"`
}

// Channels whose chats Meta knows as business messaging.
const whatsapp = "whatsapp"

// Event turns ev into the JSON Meta takes.
func (c *Client) Event(ev adreport.Event) ServerEvent {
	se := ServerEvent{EventName: ev.Name, EventTime: ev.Time.Unix(), EventID: ev.ID, ActionSource: "other",
		UserData: UserData{ExternalID: []string{ev.ClientKey}, FBC: ev.FBC}}
	if ev.PhoneKey != "" {
		se.UserData.Phone = []string{ev.PhoneKey}
	}
	if ev.Channel == whatsapp {
		se.ActionSource, se.MessagingChannel = "business_messaging", whatsapp
		se.UserData.CtwaClid, se.UserData.WhatsAppBusinessAccountID = ev.CtwaClid, c.o.WhatsAppBusinessAccountID
	}
	if ev.Value.Currency != "" {
		v := float64(ev.Value.Minor) / 100
		se.CustomData = &CustomData{Value: &v, Currency: ev.Value.Currency}
	}
	return se
}

// Send implements adreport.API: one event, tried up to Tries times on 429,
// 5xx, Graph's codes 1 and 2 and network errors; throttling (codes 4, 17,
// 32, 341, 613, 80000–80014) returns at once, for the job to retry later; a
// token or dataset problem is an *adreport.ConfigError (retried later too);
// only a validation error of the event (code 100) is an
// *adreport.RefusedError. Errors carry Meta's code, subcode and message,
// never the token or the body sent.
func (c *Client) Send(ctx context.Context, ev adreport.Event) error {
	body, err := json.Marshal(Body{Data: []ServerEvent{c.Event(ev)}, TestEventCode: c.o.TestEventCode})
	if err != nil {
		return fmt.Errorf("meta: encode event: %w", err)
	}
	var last error
	for try := range c.o.Tries {
		if try > 0 {
			d := c.o.BaseDelay << (try - 1)
			select {
			case <-ctx.Done():
				return fmt.Errorf("meta: send event: %w (last: %w)", ctx.Err(), last)
			case <-time.After(d/2 + rand.N(d/2+1)):
			}
		}
		var retry bool
		retry, last = c.post(ctx, body)
		if last == nil || !retry {
			return last
		}
	}
	return last
}

// post makes one request; it says whether a failure is worth another try.
func (c *Client) post(ctx context.Context, body []byte) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return false, errors.New("meta: build request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.o.Token)
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		// A *url.Error names the URL: the dataset id, never the token.
		return true, fmt.Errorf("meta: send event: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return true, fmt.Errorf("meta: read answer: %w", err)
	}
	if resp.StatusCode == http.StatusOK {
		var r Response
		if err := json.Unmarshal(raw, &r); err != nil || r.EventsReceived != 1 {
			return true, fmt.Errorf("meta: unexpected answer (events_received %d)", r.EventsReceived)
		}
		return false, nil
	}
	var e ErrorBody
	_ = json.Unmarshal(raw, &e)
	err = fmt.Errorf("meta: HTTP %d: code %d subcode %d: %s (fbtrace_id %s)", resp.StatusCode,
		e.Error.Code, e.Error.ErrorSubcode, clip(c.redact(e.Error.Message)), clip(c.redact(e.Error.FBTraceID)))
	switch classify(resp.StatusCode, e.Error) {
	case again:
		return true, err
	case configuration:
		return false, &adreport.ConfigError{Err: fmt.Errorf("%w: check META_CAPI_TOKEN (its access to the dataset) and META_PIXEL_ID", err)}
	case refused:
		return false, &adreport.RefusedError{Err: err}
	}
	return false, err
}

// What an error answer calls for.
const (
	again         = iota // a passing failure: tried again now, then by the job
	later                // throttled or unknown: the job tries again later
	configuration        // the token or the dataset: the job tries again later; the operator must act
	refused              // the event itself is invalid: never sent again
)

// classify sorts Graph's error answers by their code, as Graph's error
// handling guide does: Graph throttles with HTTP 400 or 403 and codes 4, 17,
// 32, 341, 613 or 80000–80014 (is_transient often unset), seldom with 429;
// a revoked or expired token is code 190 (102 a session), a missing
// permission 10 or 200–299, a dataset the token may not post to code 100
// subcode 33, an unknown path or version 2500. Only a validation error of
// the event (code 100, Conversions API subcodes 2804xxx) is a refusal;
// anything unknown waits for the job's next try rather than losing the event.
func classify(status int, e GraphError) int {
	code, sub := e.Code, e.ErrorSubcode
	switch {
	case status == http.StatusTooManyRequests || status >= 500 || code == 1 || code == 2:
		return again
	case code == 190 || code == 102 || code == 10 || (code >= 200 && code <= 299) || code == 2500 || (code == 100 && sub == 33):
		return configuration
	case e.IsTransient || code == 4 || code == 17 || code == 32 || code == 341 || code == 368 || code == 613 ||
		(code >= 80000 && code <= 80014):
		return later
	case code == 100 || (sub >= 2804000 && sub <= 2804999):
		return refused
	}
	return later
}

// tokenRE matches what looks like a Meta access token (they start "EA"):
// Graph's code 190 messages may quote the token, whole or cut.
var tokenRE = regexp.MustCompile(`EA[A-Za-z0-9]{20,}`)

// redact takes the token, and anything shaped like one, out of an answer's
// text before it reaches a log or an error (river keeps errors in
// river_job.errors).
func (c *Client) redact(s string) string {
	if c.o.Token != "" {
		s = strings.ReplaceAll(s, c.o.Token, "[token]")
	}
	return tokenRE.ReplaceAllString(s, "[token]")
}

// clip keeps an answer's text short in logs.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
