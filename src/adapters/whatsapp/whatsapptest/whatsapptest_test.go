package whatsapptest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/whatsapp"
	"salonbook/src/adapters/whatsapp/whatsapptest"
)

type graphError struct {
	Error struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
		FBTraceID string `json:"fbtrace_id"`
	} `json:"error"`
}

// TestFakeAnswersAsMeta: the fake's error bodies have Meta's shape and codes,
// its limits hold on its own clock, and its webhooks are signed as Meta signs.
func TestFakeAnswersAsMeta(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	fake, url := whatsapptest.Start(t, whatsapptest.Options{Now: func() time.Time { return now },
		Limits: &whatsapptest.Limits{Throughput: 2, PairEvery: 6 * time.Second, PairBurst: 1}})
	post := func(token string, body string) (int, graphError) {
		req, _ := http.NewRequest(http.MethodPost, url+"/v24.0/"+fake.PhoneNumberID()+"/messages", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var e graphError
		raw, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(raw, &e)
		return resp.StatusCode, e
	}
	text := func(to string) string {
		return `{"messaging_product":"whatsapp","recipient_type":"individual","to":"` + to + `","type":"text","text":{"body":"hi"}}`
	}
	status, e := post("wrong", text("491"))
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, 190, e.Error.Code)
	require.Equal(t, "OAuthException", e.Error.Type)

	_, e = post(fake.Token(), text("491"))
	require.Equal(t, 131047, e.Error.Code, "nobody wrote: the window is closed")
	fake.SetInbound("491", now)
	fake.SetInbound("492", now)
	fake.SetInbound("493", now)
	status, _ = post(fake.Token(), text("491"))
	require.Equal(t, http.StatusOK, status)
	id, ok := strings.CutPrefix(fake.SentTo("491")[0].ID, "wamid.")
	require.True(t, ok, "Meta's form: wamid. and base64")
	raw, err := base64.StdEncoding.DecodeString(id)
	require.NoError(t, err)
	require.Equal(t, []byte{0x1c, 0x18, 3, '4', '9', '1'}, raw[:6], "embedding the recipient's number, as Meta's do")
	_, e = post(fake.Token(), text("491"))
	require.Equal(t, 131056, e.Error.Code, "the pair limit")
	require.Equal(t, "(#131056) (Business Account, Consumer Account) pair rate limit hit", e.Error.Message)
	status, _ = post(fake.Token(), text("492"))
	require.Equal(t, http.StatusOK, status)
	status, e = post(fake.Token(), text("493"))
	require.Equal(t, 130429, e.Error.Code, "2 a second for the number")
	require.Equal(t, http.StatusBadRequest, status, "Meta answers limit errors with 400: the code decides")
	now = now.Add(6 * time.Second)
	status, e = post(fake.Token(), text("491"))
	require.Equal(t, http.StatusOK, status, "6 s later the pair has a token again: %+v", e)

	// A signed notification, as the webhook checks it.
	var got []byte
	var sig string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		sig = r.Header.Get(whatsapp.SignatureHeader)
	}))
	defer hook.Close()
	fake.SetWebhook(hook.URL)
	_, err = fake.Deliver(t.Context(), fake.TextMessage(whatsapptest.Client{WaID: "491", Name: "A"}, "wamid.1", "hi"))
	require.NoError(t, err)
	require.True(t, whatsapp.ValidSignature([]byte(fake.AppSecret()), got, sig))
	items, _, bad, err := whatsapp.Split(got)
	require.NoError(t, err)
	require.Zero(t, bad)
	require.Equal(t, "wamid.1", items[0].WAMID)
	require.Equal(t, now, items[0].At)
}
