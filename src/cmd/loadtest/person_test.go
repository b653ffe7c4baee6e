package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/telegram/telegramtest"
)

// TestPersonTalksToTheBotThroughTheFake: what a person says or presses at
// /person/{chat} reaches the bot as the update Telegram would send (getUpdates),
// and the chat shows the bot's messages with their buttons.
func TestPersonTalksToTheBotThroughTheFake(t *testing.T) {
	t.Parallel()
	fake := telegramtest.New(telegramtest.Options{Limits: &telegramtest.Limits{}})
	t.Cleanup(fake.Close)
	p := newPerson(fake)
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
