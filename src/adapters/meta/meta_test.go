package meta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/meta"
	"salonbook/src/adapters/meta/metatest"
	"salonbook/src/core"
	"salonbook/src/core/adreport"
)

var now = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

func fake(t *testing.T) *metatest.Server {
	t.Helper()
	s := metatest.New(metatest.Options{Version: "v24.0", Now: func() time.Time { return now }})
	t.Cleanup(s.Close)
	return s
}

func client(t *testing.T, s *metatest.Server, token string) *meta.Client {
	t.Helper()
	c, err := meta.New(meta.Options{URL: s.URL(), Version: "v24.0", DatasetID: s.Options().DatasetID, Token: token,
		WhatsAppBusinessAccountID: "102290129340398", HTTPClient: s.Client(), BaseDelay: time.Millisecond})
	require.NoError(t, err)
	return c
}

func event(channel string) adreport.Event {
	ev := adreport.Event{ID: "b1-schedule", Name: adreport.Schedule, Time: now.Add(-time.Minute), Channel: channel,
		Value: core.Money{Minor: 3550, Currency: "EUR"}, ClientKey: adreport.ClientKey("demo", 7)}
	if channel == "whatsapp" {
		ev.CtwaClid = "ARAkLkA8rmlFeiCk"
	} else {
		ev.FBC = adreport.FBC("IwAR2x", now.Add(-time.Hour))
	}
	return ev
}

// post sends a raw body to the fake, as any client would.
func post(t *testing.T, s *metatest.Server, body string) (int, meta.ErrorBody) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/v24.0/"+s.Options().DatasetID+"/events", bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.Options().Token)
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var e meta.ErrorBody
	if resp.StatusCode != http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	}
	return resp.StatusCode, e
}

// The fake refuses what Meta refuses, in Graph's error shape: the naive
// Telegram event (business_messaging without a messaging channel) first.
func TestFakeRefusesAsGraphDoes(t *testing.T) {
	t.Parallel()
	s := fake(t)
	ts := now.Unix()
	for name, c := range map[string]struct {
		body    string
		subcode int
	}{
		"BusinessMessagingWithoutChannel": {`{"data":[{"event_name":"Schedule","event_time":` + itoa(ts) + `,"action_source":"business_messaging","user_data":{"external_id":["` + adreport.Hash("x") + `"]}}]}`, 2804050},
		"TelegramIsNoMessagingChannel":    {`{"data":[{"event_name":"Schedule","event_time":` + itoa(ts) + `,"action_source":"business_messaging","messaging_channel":"telegram","user_data":{"external_id":["` + adreport.Hash("x") + `"]}}]}`, 2804050},
		"WhatsAppWithoutClickID":          {`{"data":[{"event_name":"Schedule","event_time":` + itoa(ts) + `,"action_source":"business_messaging","messaging_channel":"whatsapp","user_data":{"external_id":["` + adreport.Hash("x") + `"]}}]}`, 2804050},
		"UnhashedPhone":                   {`{"data":[{"event_name":"Schedule","event_time":` + itoa(ts) + `,"action_source":"other","user_data":{"ph":["+4915112345678"]}}]}`, 2804029},
		"TooOld":                          {`{"data":[{"event_name":"Schedule","event_time":` + itoa(ts-8*86400) + `,"action_source":"other","user_data":{"external_id":["` + adreport.Hash("x") + `"]}}]}`, 2804003},
		"NoUserData":                      {`{"data":[{"event_name":"Schedule","event_time":` + itoa(ts) + `,"action_source":"other","user_data":{}}]}`, 2804015},
		"PurchaseWithoutValue":            {`{"data":[{"event_name":"Purchase","event_time":` + itoa(ts) + `,"action_source":"other","user_data":{"external_id":["` + adreport.Hash("x") + `"]}}]}`, 2804008},
	} {
		status, e := post(t, s, c.body)
		require.Equal(t, http.StatusBadRequest, status, name)
		require.Equal(t, "OAuthException", e.Error.Type, name)
		require.Equal(t, 100, e.Error.Code, name)
		require.Equal(t, c.subcode, e.Error.ErrorSubcode, name)
		require.NotEmpty(t, e.Error.FBTraceID, name)
	}
	require.Empty(t, s.Events())
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// The client sends Telegram's events as "other" and WhatsApp's as
// business_messaging on whatsapp; both are taken as Meta takes them.
func TestClientSendsWhatMetaTakes(t *testing.T) {
	t.Parallel()
	s := fake(t)
	c := client(t, s, s.Options().Token)
	ctx := context.Background()
	require.NoError(t, c.Send(ctx, event("telegram")))
	require.NoError(t, c.Send(ctx, event("whatsapp")))
	evs := s.Events()
	require.Len(t, evs, 2)
	require.Equal(t, "other", evs[0].ActionSource)
	require.Equal(t, "fb.1."+itoa(now.Add(-time.Hour).UnixMilli())+".IwAR2x", evs[0].UserData.FBC)
	require.Equal(t, "business_messaging", evs[1].ActionSource)
	require.Equal(t, "whatsapp", evs[1].MessagingChannel)
	require.Equal(t, "102290129340398", evs[1].UserData.WhatsAppBusinessAccountID)
	require.InDelta(t, 35.50, *evs[1].CustomData.Value, 0.001)
	require.Equal(t, now.Add(-time.Minute).Unix(), evs[1].EventTime)
}

// 429 and 5xx are tried again; Graph's throttling (HTTP 400, codes 80004
// and 17, no is_transient) and a bad or revoked token are errors worth
// retrying later (the token's a ConfigError naming the settings); only a
// validation error is an adreport.RefusedError, at once, with Meta's code
// and no token.
func TestClientRetriesAndRefusals(t *testing.T) {
	t.Parallel()
	s := fake(t)
	c := client(t, s, s.Options().Token)
	ctx := context.Background()
	s.FailNext(429, 503)
	require.NoError(t, c.Send(ctx, event("telegram")))
	require.Equal(t, 3, s.Requests())

	s.FailNext(500, 500, 500)
	err := c.Send(ctx, event("telegram"))
	require.Error(t, err)
	require.False(t, adreport.Refused(err), "worth retrying later")

	for _, th := range []int{metatest.Throttled, metatest.UserThrottled} {
		before := s.Requests()
		s.FailNext(th)
		err = c.Send(ctx, event("telegram"))
		require.Error(t, err)
		require.False(t, adreport.Refused(err), "throttled %d: retried later", th)
		require.Equal(t, before+1, s.Requests(), "a throttle is not hammered within the send")
	}

	bad := client(t, s, "EAAB-wrong-token")
	err = bad.Send(ctx, event("telegram"))
	require.False(t, adreport.Refused(err), "a token problem loses no event")
	_, ok := errors.AsType[*adreport.ConfigError](err)
	require.True(t, ok)
	require.Contains(t, err.Error(), "code 190")
	require.Contains(t, err.Error(), "META_CAPI_TOKEN")
	require.NotContains(t, err.Error(), "EAAB-wrong-token")
	s.FailNext(metatest.TokenRevoked)
	err = c.Send(ctx, event("telegram"))
	_, ok = errors.AsType[*adreport.ConfigError](err)
	require.True(t, ok, "revoked")

	other, err := meta.New(meta.Options{URL: s.URL(), Version: "v24.0", DatasetID: "999", Token: s.Options().Token, HTTPClient: s.Client()})
	require.NoError(t, err)
	err = other.Send(ctx, event("telegram"))
	_, ok = errors.AsType[*adreport.ConfigError](err)
	require.True(t, ok, "a dataset the token may not post to (code 100 subcode 33)")
	require.Contains(t, err.Error(), "META_PIXEL_ID")

	before := s.Requests()
	ev := event("whatsapp")
	ev.CtwaClid = ""
	err = c.Send(ctx, ev)
	require.True(t, adreport.Refused(err))
	require.Equal(t, before+1, s.Requests(), "a refusal is not tried again")
}

// Graph's code 190 may quote the token ("Malformed access token EAAB…"):
// the error (logged, kept in river_job.errors) has neither the token nor
// anything shaped like one.
func TestAQuotedTokenIsRedacted(t *testing.T) {
	t.Parallel()
	token := "EAABsbCS1iHgBAKZCv7q2wZBkZCZAxZBZCZA9ZAZBk1x3y"
	s := metatest.New(metatest.Options{Version: "v24.0", Token: token, Now: func() time.Time { return now }})
	t.Cleanup(s.Close)
	c := client(t, s, token)
	s.FailNext(metatest.TokenQuoted)
	err := c.Send(context.Background(), event("telegram"))
	_, ok := errors.AsType[*adreport.ConfigError](err)
	require.True(t, ok)
	require.Contains(t, err.Error(), "Malformed access token [token]")
	require.NotContains(t, err.Error(), token)

	// Cut: not the token any more, still not in clear.
	s.FailNext(metatest.TokenQuotedCut)
	err = c.Send(context.Background(), event("telegram"))
	require.Contains(t, err.Error(), "Malformed access token [token]")
	require.NotContains(t, err.Error(), token[:32])
	require.NotContains(t, err.Error(), token[:22])
}
