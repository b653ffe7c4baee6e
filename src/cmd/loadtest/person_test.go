package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/adapters/whatsapp/whatsapptest"
)

// TestPersonTalksToTheBotThroughTheFake: what a person says or presses at
// /person/{chat} reaches the bot as the update Telegram would send (getUpdates),
// and the chat shows the bot's messages with their buttons.
func TestPersonTalksToTheBotThroughTheFake(t *testing.T) {
	t.Parallel()
	fake := telegramtest.New(telegramtest.Options{Limits: &telegramtest.Limits{}})
	t.Cleanup(fake.Close)
	p := newPerson(newTelegramPerson(fake))
	p.wait = 200 * time.Millisecond // no bot answers here
	mux := http.NewServeMux()
	p.routes(mux)
	mux.Handle("/", fake)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	bot := srv.URL + "/bot" + fake.Token()

	post := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "text/plain", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	updates := func() []map[string]any {
		t.Helper()
		resp, err := http.Get(bot + "/getUpdates?timeout=0")
		require.NoError(t, err)
		defer resp.Body.Close()
		var got struct{ Result []map[string]any }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
		return got.Result
	}

	code, _ := post("/person/1001/say?lang=ru", "/start")
	require.Equal(t, http.StatusOK, code)
	got := updates()
	require.Len(t, got, 1)
	msg := got[0]["message"].(map[string]any)
	require.Equal(t, "/start", msg["text"])
	require.Equal(t, "ru", msg["from"].(map[string]any)["language_code"])
	require.Equal(t, "private", msg["chat"].(map[string]any)["type"])

	// The bot answers with a button; the person presses it by its label.
	resp, err := http.Post(bot+"/sendMessage", "application/json", strings.NewReader(
		`{"chat_id":1001,"text":"What would you like?","reply_markup":{"inline_keyboard":[[{"text":"Book","callback_data":"m:book"}]]}}`))
	require.NoError(t, err)
	resp.Body.Close()
	code, chat := post("/person/1001/press", "book")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, chat, "bot: What would you like?\n     [Book]")
	got = updates()
	require.Len(t, got, 2, "/start (not yet confirmed: no offset was sent) and the press")
	press := got[1]["callback_query"].(map[string]any)
	require.Equal(t, "m:book", press["data"])
	require.Equal(t, "ru", press["from"].(map[string]any)["language_code"], "the person's language is remembered")

	code, _ = post("/person/1001/press", "No such button")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = post("/person/-5/say", "hi")
	require.Equal(t, http.StatusBadRequest, code)
}

// TestPersonTalksToTheBotThroughTheWhatsAppFake: what a person says or presses
// reaches salonbook's webhook as Meta would sign and send it, and a press picks
// the button of the bot's message by its title.
func TestPersonTalksToTheBotThroughTheWhatsAppFake(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !whatsapp.ValidSignature([]byte("fake-app-secret-0123456789"), body, r.Header.Get(whatsapp.SignatureHeader)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, body)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	fake := whatsapptest.New(whatsapptest.Options{Limits: &whatsapptest.Limits{}, AppSecret: "fake-app-secret-0123456789"})
	fake.SetWebhook(hook.URL)
	p := newPerson(whatsappPerson{fake})
	p.wait = 200 * time.Millisecond
	mux := http.NewServeMux()
	p.routes(mux)
	mux.Handle("/", fake)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	post := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "text/plain", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, _ := post("/person/4915112345678/say", "hi")
	require.Equal(t, http.StatusOK, code)
	mu.Lock()
	require.Len(t, got, 1)
	require.Contains(t, string(got[0]), `"body":"hi"`)
	mu.Unlock()

	// The bot answers with reply buttons (the window is open: the person wrote).
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v24.0/"+fake.PhoneNumberID()+"/messages", strings.NewReader(
		`{"messaging_product":"whatsapp","to":"4915112345678","type":"interactive","interactive":{"type":"button",`+
			`"body":{"text":"What would you like?"},"action":{"buttons":[{"type":"reply","reply":{"id":"book","title":"Book"}}]}}}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+fake.Token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	code, chat := post("/person/4915112345678/press", "book")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, chat, "bot: What would you like?\n     [Book]")
	mu.Lock()
	require.Len(t, got, 2)
	require.Contains(t, string(got[1]), `"button_reply":{"id":"book","title":"Book"}`)
	mu.Unlock()
	code, _ = post("/person/4915112345678/press", "Nope")
	require.Equal(t, http.StatusNotFound, code)
}
