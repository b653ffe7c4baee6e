package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client sends messages with the Graph API's messages endpoint:
// POST {BaseURL}/{Version}/{PhoneNumberID}/messages with a bearer token.
type Client struct {
	base  string // BaseURL/Version/PhoneNumberID/messages
	token string
	http  *http.Client
}

// ClientConfig configures a Client.
type ClientConfig struct {
	BaseURL       string // https://graph.facebook.com (tests: the fake)
	Version       string // v21.0 and the like
	PhoneNumberID string // the business number's id (not a phone number)
	Token         string // the access token; never logged or put in an error
	HTTP          *http.Client
}

// NewClient returns a Client. A nil HTTP client is one with a 30 s timeout.
func NewClient(cfg ClientConfig) *Client {
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{
		base:  strings.TrimRight(cfg.BaseURL, "/") + "/" + url.PathEscape(cfg.Version) + "/" + url.PathEscape(cfg.PhoneNumberID) + "/messages",
		token: cfg.Token,
		http:  hc,
	}
}

// APIError is an error answer of the Graph API, reduced to what decides what to
// do: Meta's error code (not the HTTP status, and not error_subcode, which is
// deprecated) and its type. Meta's message texts are not kept: they can quote
// the recipient.
type APIError struct {
	HTTPStatus int
	Code       int    // error.code; 0 when the answer was not the Graph API's JSON
	Type       string // error.type, e.g. OAuthException
}

func (e *APIError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("whatsapp: send: HTTP %d without a Graph API error", e.HTTPStatus)
	}
	return fmt.Sprintf("whatsapp: send: error %d (HTTP %d)", e.Code, e.HTTPStatus)
}

// ErrNetwork is a send that got no answer: a network error or a timeout.
var ErrNetwork = errors.New("whatsapp: send: no answer (network error or timeout)")

// sendAnswer is a successful send's answer.
type sendAnswer struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

type errorAnswer struct {
	Error *struct {
		Code int    `json:"code"`
		Type string `json:"type"`
	} `json:"error"`
}

// Send sends m and returns its wamid ("" when the answer did not carry one: the
// message was accepted all the same). Errors: *APIError for an error answer;
// ErrNetwork (wrapping the context's error when that ended it) for no answer.
// No error carries the token, the recipient or the URL.
func (c *Client) Send(ctx context.Context, m Message) (string, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("whatsapp: send: encode message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base, bytes.NewReader(body))
	if err != nil {
		return "", errors.New("whatsapp: send: bad API URL")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", fmt.Errorf("%w: %w", ErrNetwork, ctxErr)
		}
		return "", ErrNetwork
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", ErrNetwork
	}
	if resp.StatusCode/100 == 2 {
		var a sendAnswer
		if json.Unmarshal(raw, &a) == nil && len(a.Messages) > 0 {
			return a.Messages[0].ID, nil
		}
		return "", nil
	}
	e := &APIError{HTTPStatus: resp.StatusCode}
	var a errorAnswer
	if json.Unmarshal(raw, &a) == nil && a.Error != nil {
		e.Code, e.Type = a.Error.Code, a.Error.Type
	}
	return "", e
}
