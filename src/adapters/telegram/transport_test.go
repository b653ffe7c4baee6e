package telegram_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

type transportBundle struct {
	srv   *telegramtest.Server
	url   string
	clock *telegramtest.Clock
	bot   *bot.Bot
	tr    *telegram.Transport
	chat  string
}

// setupTransport starts the fake on a fixed clock, with Telegram's limits unless
// opts says otherwise, and a Transport on the real go-telegram client.
func setupTransport(t *testing.T, opts telegramtest.Options) *transportBundle {
	t.Helper()
	clock := telegramtest.NewClock(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC))
	opts.Now = clock.Now
	srv, u := telegramtest.Start(t, opts)
	return newTransportBundle(t, srv, u, clock)
}

func newTransportBundle(t *testing.T, srv *telegramtest.Server, u string, clock *telegramtest.Clock) *transportBundle {
	t.Helper()
	b, err := telegram.NewBot(srv.Token(), u, nil, nil)
	require.NoError(t, err)
	return &transportBundle{
		srv: srv, url: u, clock: clock, bot: b, tr: telegram.NewTransport(b),
		chat: strconv.FormatInt(anna.ID, 10),
	}
}

func (b *transportBundle) reply(t *testing.T, r dialog.Reply) messaging.Result {
	t.Helper()
	return b.tr.Send(t.Context(), messaging.Outgoing{ChatID: b.chat, Reply: &r})
}

func choices(pairs ...string) []dialog.Choice {
	var cs []dialog.Choice
	for i := 0; i < len(pairs); i += 2 {
		cs = append(cs, dialog.Choice{ID: pairs[i], Label: pairs[i+1]})
	}
	return cs
}

func btn(data, text string) telegramtest.Button {
	return telegramtest.Button{Text: text, CallbackData: data}
}

func TestTransportKeyboards(t *testing.T) {
	t.Parallel()

	t.Run("TimesFourToARowNavigationLast", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		res := b.reply(t, dialog.Reply{Text: "Times on Friday, 2 January:", Choices: choices(
			"t:1767348000", "10:00", "t:1767349800", "10:30", "t:1767351600", "11:00", "t:1767353400", "11:30",
			"more", "More times",
			"t:1767355200", "12:00", "t:1767357000", "12:30", "t:1767358800", "13:00",
			"days", "Another day",
		)})
		require.Equal(t, messaging.Result{}, res)

		sent := b.srv.Sent()
		require.Len(t, sent, 1)
		require.Equal(t, anna.ID, sent[0].ChatID)
		require.Equal(t, "Times on Friday, 2 January:", sent[0].Text)
		require.Empty(t, sent[0].ParseMode)
		require.Equal(t, [][]telegramtest.Button{
			{btn("t:1767348000", "10:00"), btn("t:1767349800", "10:30"), btn("t:1767351600", "11:00"), btn("t:1767353400", "11:30")},
			{btn("t:1767355200", "12:00"), btn("t:1767357000", "12:30"), btn("t:1767358800", "13:00")},
			{btn("more", "More times"), btn("days", "Another day")},
		}, sent[0].Keyboard)
	})

	t.Run("LongLabelsTwoToARow", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		res := b.reply(t, dialog.Reply{Text: "Which service?", Choices: choices(
			"s:cut", "Haircut", "s:colour", "Colouring", "s:beard", "Beard trim", "menu", "Menu",
		)})
		require.Equal(t, messaging.Result{}, res)
		require.Equal(t, [][]telegramtest.Button{
			{btn("s:cut", "Haircut"), btn("s:colour", "Colouring")},
			{btn("s:beard", "Beard trim")},
			{btn("menu", "Menu")},
		}, b.srv.Sent()[0].Keyboard)
	})

	t.Run("ChoiceIDOver64BytesIsDropped", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		var logs bytes.Buffer
		b.tr = telegram.NewTransport(b.bot, telegram.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		cyrillic64 := strings.Repeat("д", 32) // 64 bytes: fits
		res := b.reply(t, dialog.Reply{Text: "Confirm?", Choices: []dialog.Choice{
			{ID: "ok", Label: "Confirm"},
			{ID: strings.Repeat("x", 65), Label: "Too long"},
			{ID: strings.Repeat("д", 33), Label: "66 bytes"},
			{ID: cyrillic64, Label: "64 bytes"},
			{ID: "", Label: "No id"},
			{ID: "drop", Label: "Cancel"},
		}})
		require.Equal(t, messaging.Result{}, res)
		require.Equal(t, [][]telegramtest.Button{
			{btn("ok", "Confirm"), btn(cyrillic64, "64 bytes")},
			{btn("drop", "Cancel")},
		}, b.srv.Sent()[0].Keyboard)
		require.Equal(t, 3, strings.Count(logs.String(), "choice dropped"), logs.String())
		require.Contains(t, logs.String(), "bytes=65")
		require.NotContains(t, logs.String(), "xxxx", "the id is not logged")
		require.NotContains(t, logs.String(), "No id", "nor the label")
	})

	t.Run("OnlyInvalidChoicesSendsThePlainMessage", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		res := b.reply(t, dialog.Reply{Text: "Hello", Choices: choices(strings.Repeat("x", 65), "Nope")})
		require.Equal(t, messaging.Result{}, res)
		require.Nil(t, b.srv.Sent()[0].Keyboard)
	})

	t.Run("OverlongTextIsShortened", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		res := b.reply(t, dialog.Reply{Text: strings.Repeat("ü", 5000)})
		require.Equal(t, messaging.Result{}, res)
		text := b.srv.Sent()[0].Text
		require.Len(t, utf16.Encode([]rune(text)), 4096)
		require.True(t, strings.HasSuffix(text, "ü…"))
	})
}

func TestTransportAck(t *testing.T) {
	t.Parallel()

	t.Run("AnswersADeliveredCallback", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		require.NoError(t, b.srv.Enqueue(telegramtest.CallbackUpdate(1, anna.ID, anna, 43, "cb-1", "menu")))

		res := b.tr.Send(t.Context(), messaging.Outgoing{ChatID: b.chat, Ack: "cb-1"})
		require.Equal(t, messaging.Result{}, res)
		require.Equal(t, []string{"cb-1"}, b.srv.Answered())
		require.Empty(t, b.srv.Sent(), "an answer is not a message")

		// Answered already (or too old): permanent, and harmless.
		res = b.tr.Send(t.Context(), messaging.Outgoing{ChatID: b.chat, Ack: "cb-1"})
		require.Error(t, res.Err)
		require.ErrorIs(t, res.Err, bot.ErrorBadRequest)
		require.False(t, res.Retry)
		require.False(t, res.Blocked)
		require.Zero(t, res.RetryAfter)
	})

	t.Run("AnswerAndReply", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		require.NoError(t, b.srv.Enqueue(telegramtest.CallbackUpdate(2, anna.ID, anna, 43, "cb-2", "menu")))

		res := b.tr.Send(t.Context(), messaging.Outgoing{ChatID: b.chat, Ack: "cb-2", Reply: &dialog.Reply{Text: "Menu"}})
		require.Equal(t, messaging.Result{}, res)
		require.Equal(t, []string{"cb-2"}, b.srv.Answered())
		require.Len(t, b.srv.Sent(), 1)

		// An expired query does not hold the reply back.
		res = b.tr.Send(t.Context(), messaging.Outgoing{ChatID: b.chat, Ack: "cb-unknown", Reply: &dialog.Reply{Text: "Menu"}})
		require.Equal(t, messaging.Result{}, res)
		require.Len(t, b.srv.Sent(), 2)

		// A passing failure of the answer retries both.
		require.NoError(t, b.srv.Enqueue(telegramtest.CallbackUpdate(3, anna.ID, anna, 43, "cb-3", "menu")))
		b.srv.FailNext("answerCallbackQuery", http.StatusBadGateway, 1)
		res = b.tr.Send(t.Context(), messaging.Outgoing{ChatID: b.chat, Ack: "cb-3", Reply: &dialog.Reply{Text: "Menu"}})
		require.True(t, res.Retry)
		require.Len(t, b.srv.Sent(), 2, "the reply waits for the retry")
	})
}

func TestTransportFailures(t *testing.T) {
	t.Parallel()

	t.Run("PerChatLimitGivesRetryAfter", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{}) // Telegram's limits: a burst of 3, then 1/s
		for range 3 {
			require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "hi"}))
		}
		res := b.reply(t, dialog.Reply{Text: "one too many"})
		require.GreaterOrEqual(t, res.RetryAfter, time.Second)
		require.ErrorIs(t, res.Err, bot.ErrorTooManyRequests)
		require.False(t, res.Retry)
		require.False(t, res.Blocked)
		require.Len(t, b.srv.Sent(), 3)

		b.clock.Advance(res.RetryAfter)
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "after the wait"}))
	})

	t.Run("BlockedChat", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		b.srv.Block(anna.ID)
		res := b.reply(t, dialog.Reply{Text: "hi"})
		require.True(t, res.Blocked)
		require.ErrorIs(t, res.Err, bot.ErrorForbidden)
		require.False(t, res.Retry)
	})

	t.Run("BadGatewayIsRetried", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		b.srv.FailNext("sendMessage", http.StatusBadGateway, 1)
		res := b.reply(t, dialog.Reply{Text: "hi"})
		require.True(t, res.Retry)
		require.Error(t, res.Err)
		require.False(t, res.Blocked)
		require.Zero(t, res.RetryAfter)
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "hi"}))
	})

	t.Run("BadRequestIsPermanent", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		res := b.reply(t, dialog.Reply{Text: "   "}) // Telegram: message text is empty
		require.ErrorIs(t, res.Err, bot.ErrorBadRequest)
		require.False(t, res.Retry)
		require.False(t, res.Blocked)
		require.Equal(t, "telegram: sendMessage: bad request", res.Err.Error())

		res = b.tr.Send(t.Context(), messaging.Outgoing{ChatID: "not-a-chat", Reply: &dialog.Reply{Text: "hi"}})
		require.Error(t, res.Err)
		require.False(t, res.Retry)

		res = b.tr.Send(t.Context(), messaging.Outgoing{ChatID: b.chat})
		require.Error(t, res.Err)
		require.False(t, res.Retry)
	})

	t.Run("WrongTokenPausesTheChannel", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		wrong, err := telegram.NewBot("7000000001:WrongTokenWrongToken", b.url, nil, nil)
		require.NoError(t, err)
		res := telegram.NewTransport(wrong).Send(t.Context(), messaging.Outgoing{ChatID: b.chat, Reply: &dialog.Reply{Text: "hi"}})
		require.ErrorIs(t, res.Err, bot.ErrorUnauthorized)
		require.False(t, res.Retry)
		require.Equal(t, time.Minute, res.RetryAfter, "a revoked token pauses the channel: the message is kept for the new token, not given up")
		require.True(t, res.Unauthorized, "counted as unauthorized, not as a 429")
		require.NotContains(t, res.Err.Error(), "WrongToken")
	})

	t.Run("NetworkErrorIsRetriedWithoutTheToken", func(t *testing.T) {
		t.Parallel()
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		token := telegramtest.DefaultToken
		b, err := telegram.NewBot(token, gone.URL, nil, nil)
		require.NoError(t, err)
		res := telegram.NewTransport(b).Send(t.Context(), messaging.Outgoing{ChatID: "1", Reply: &dialog.Reply{Text: "hi"}})
		require.True(t, res.Retry)
		require.Equal(t, "telegram: sendMessage: network error", res.Err.Error())
		require.NotContains(t, res.Err.Error(), token)
	})

	t.Run("UnreadableAnswerIsRetriedWithoutTheBody", func(t *testing.T) {
		t.Parallel()
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html>bad gateway, chat 111222333</html>")
		}))
		t.Cleanup(proxy.Close)
		b, err := telegram.NewBot(telegramtest.DefaultToken, proxy.URL, nil, nil)
		require.NoError(t, err)
		res := telegram.NewTransport(b).Send(t.Context(), messaging.Outgoing{ChatID: "1", Reply: &dialog.Reply{Text: "hi"}})
		require.True(t, res.Retry)
		require.NotContains(t, res.Err.Error(), "111222333")
		require.NotContains(t, res.Err.Error(), "html")
	})
}

// markupSpy sits in front of the fake and records the reply_markup of every
// sendMessage, which the fake records only for inline keyboards.
type markupSpy struct {
	next http.Handler
	mu   sync.Mutex
	seen []string // "" for a message without markup
}

func (s *markupSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if strings.HasSuffix(r.URL.Path, "/sendMessage") {
		markup := ""
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			if part.FormName() == "reply_markup" {
				v, _ := io.ReadAll(part)
				markup = string(v)
			}
		}
		s.mu.Lock()
		s.seen = append(s.seen, markup)
		s.mu.Unlock()
	}
	s.next.ServeHTTP(w, r)
}

func (s *markupSpy) markups() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// germanLabels is WithLabels as serve wires it, for a catalog with German.
func germanLabels(lang string) telegram.Labels {
	if lang == "de" {
		return telegram.Labels{ShareContact: "📱 Nummer senden"}
	}
	return telegram.Labels{}
}

func TestTransportRequestContact(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(telegramtest.Options{Limits: &telegramtest.Limits{}})
	spy := &markupSpy{next: srv}
	ts := httptest.NewServer(spy)
	t.Cleanup(func() { srv.Close(); ts.Close() })
	b := newTransportBundle(t, srv, ts.URL, nil)
	b.tr = telegram.NewTransport(b.bot, telegram.WithLabels(germanLabels))

	res := b.reply(t, dialog.Reply{Text: "Ihre Telefonnummer?", Lang: "de", RequestContact: true, Choices: choices("menu", "Menü")})
	require.Equal(t, messaging.Result{}, res)
	res = b.reply(t, dialog.Reply{Text: "👍 Verstanden", Lang: "de", RemoveKeyboard: true, KeyboardOnly: true})
	require.Equal(t, messaging.Result{}, res)
	res = b.reply(t, dialog.Reply{Text: "Bestätigen?", Lang: "de", Choices: choices("ok", "Bestätigen")})
	require.Equal(t, messaging.Result{}, res)
	res = b.reply(t, dialog.Reply{Text: "Gebucht."})
	require.Equal(t, messaging.Result{}, res)

	seen := spy.markups()
	require.Len(t, seen, 4)
	var contact struct {
		Keyboard [][]struct {
			Text           string `json:"text"`
			RequestContact bool   `json:"request_contact"`
		} `json:"keyboard"`
		OneTime bool `json:"one_time_keyboard"`
		Resize  bool `json:"resize_keyboard"`
	}
	require.NoError(t, json.Unmarshal([]byte(seen[0]), &contact))
	require.Len(t, contact.Keyboard, 1)
	require.Len(t, contact.Keyboard[0], 1)
	require.Equal(t, "📱 Nummer senden", contact.Keyboard[0][0].Text, "in the reply's language")
	require.True(t, contact.Keyboard[0][0].RequestContact)
	require.True(t, contact.OneTime)
	require.True(t, contact.Resize)
	require.NotContains(t, seen[0], "inline_keyboard", "one markup per message: the contact button wins")

	require.JSONEq(t, `{"remove_keyboard":true}`, seen[1], "a message of its own removes the keyboard")
	require.Contains(t, seen[2], `"inline_keyboard"`, "and the reply keeps its inline keyboard")
	require.Empty(t, seen[3], "nothing is removed unasked")

	sent := srv.Sent()
	require.Nil(t, sent[0].Keyboard)
	require.False(t, sent[0].RemovesKeyboard)
	require.Equal(t, "👍 Verstanden", sent[1].Text)
	require.True(t, sent[1].RemovesKeyboard)
	require.Nil(t, sent[1].Keyboard)
	require.Equal(t, "Bestätigen?", sent[2].Text)
	require.Equal(t, [][]telegramtest.Button{{btn("ok", "Bestätigen")}}, sent[2].Keyboard)
	require.False(t, sent[2].RemovesKeyboard)
	require.False(t, sent[3].RemovesKeyboard)
}

// TestTransportRemoveKeyboard: the reply after a contact request takes the
// reply keyboard away, whatever process sends it.
func TestTransportRemoveKeyboard(t *testing.T) {
	t.Parallel()

	t.Run("RidesOnAReplyWithoutChoices", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "Phone?", RequestContact: true}))
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "Thanks.", RemoveKeyboard: true}))
		sent := b.srv.Sent()
		require.Len(t, sent, 2, "no extra message")
		require.Equal(t, "Thanks.", sent[1].Text)
		require.True(t, sent[1].RemovesKeyboard)
	})

	t.Run("AReplyWithChoicesKeepsThem", func(t *testing.T) {
		t.Parallel()
		// Queued by an older version (the conversation now puts a reply of
		// its own before it): one message, its inline keyboard kept.
		b := setupTransport(t, telegramtest.Options{})
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "Phone?", RequestContact: true}))
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "Confirm?", RemoveKeyboard: true, Choices: choices("ok", "Confirm")}))
		sent := b.srv.Sent()
		require.Len(t, sent, 2, "no message of the transport's own")
		require.Equal(t, [][]telegramtest.Button{{btn("ok", "Confirm")}}, sent[1].Keyboard)
		require.False(t, sent[1].RemovesKeyboard)
		require.Equal(t, 2, b.srv.Stats().Requests)
	})

	t.Run("ThePressedMessageStaysAndTheReplyGoesAsNew", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{Limits: &telegramtest.Limits{}}) // four messages in a still second
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "Menu", Choices: choices("book", "Book")}))
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "Phone?", RequestContact: true}))
		old := strconv.FormatInt(b.srv.Sent()[0].MessageID, 10)
		res := b.tr.Send(t.Context(), messaging.Outgoing{ChatID: b.chat, Edit: old,
			Reply: &dialog.Reply{Text: "Thanks.", RemoveKeyboard: true}})
		require.Equal(t, messaging.Result{}, res)
		sent := b.srv.Sent()
		require.Len(t, sent, 3)
		require.True(t, sent[2].RemovesKeyboard)
		require.Equal(t, "sendMessage", sent[2].Method)
		require.Equal(t, 0, b.srv.Stats().Edited)
	})

	t.Run("ANewContactRequestWins", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "Phone?", RequestContact: true, RemoveKeyboard: true}))
		sent := b.srv.Sent()
		require.Len(t, sent, 1)
		require.False(t, sent[0].RemovesKeyboard)
		require.Contains(t, sent[0].Markup, "request_contact")
	})

	t.Run("TheRemovalIsOneSendOfItsOwn", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{}) // 1/s per chat, burst 3; the clock stands still
		gone := dialog.Reply{Text: "👍 Got it", RemoveKeyboard: true, KeyboardOnly: true}
		confirm := dialog.Reply{Text: "Confirm?", Choices: choices("ok", "Confirm")}
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "Name?"}))
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "Phone?", RequestContact: true}))
		require.Equal(t, messaging.Result{}, b.reply(t, gone), "the chat's third message in the second: allowed")
		require.Equal(t, 3, b.srv.Stats().Requests, "one request for one Send")
		res := b.reply(t, confirm)
		require.Positive(t, res.RetryAfter, "the reply is the fourth: it waits, as any single message would")
		require.Equal(t, 4, b.srv.Stats().Requests, "nothing else was tried")
		b.clock.Advance(time.Second) // one slot frees
		require.Equal(t, messaging.Result{}, b.reply(t, confirm), "the retry sends the reply only")
		sent := b.srv.Sent()
		require.Len(t, sent, 4)
		require.True(t, sent[2].RemovesKeyboard)
		require.Equal(t, "👍 Got it", sent[2].Text)
		require.Equal(t, "Confirm?", sent[3].Text)
		require.False(t, sent[3].RemovesKeyboard)
	})

	t.Run("ARateLimitedRemovalIsRetriedAlone", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		for _, text := range []string{"Menu", "Name?"} {
			require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: text}))
		}
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "Phone?", RequestContact: true}))
		gone := dialog.Reply{Text: "👍 Got it", RemoveKeyboard: true, KeyboardOnly: true}
		res := b.reply(t, gone)
		require.Positive(t, res.RetryAfter)
		require.Equal(t, 4, b.srv.Stats().Requests)
		require.Len(t, b.srv.Sent(), 3)
		b.clock.Advance(time.Second)
		require.Equal(t, messaging.Result{}, b.reply(t, gone))
		sent := b.srv.Sent()
		require.Len(t, sent, 4, "one removal, once")
		require.True(t, sent[3].RemovesKeyboard)
	})

	t.Run("ABlockedChat", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		b.srv.Block(anna.ID)
		res := b.reply(t, dialog.Reply{Text: "👍 Got it", RemoveKeyboard: true, KeyboardOnly: true})
		require.True(t, res.Blocked)
		require.Empty(t, b.srv.Sent())
		require.Equal(t, 1, b.srv.Stats().Requests)
	})
}

func TestTransportDefaultContactLabel(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(telegramtest.Options{})
	spy := &markupSpy{next: srv}
	ts := httptest.NewServer(spy)
	t.Cleanup(func() { srv.Close(); ts.Close() })
	b := newTransportBundle(t, srv, ts.URL, nil)
	b.tr = telegram.NewTransport(b.bot, telegram.WithLabels(germanLabels))

	require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "Phone?", Lang: "fr", RequestContact: true}))
	var markup struct {
		Keyboard [][]struct {
			Text string `json:"text"`
		} `json:"keyboard"`
	}
	require.NoError(t, json.Unmarshal([]byte(spy.markups()[0]), &markup))
	require.Equal(t, telegram.DefaultLabels.ShareContact, markup.Keyboard[0][0].Text, "a language without words: the default's")
}

// TestTransportEdit: a reply with Edit replaces the pressed message in place.
func TestTransportEdit(t *testing.T) {
	t.Parallel()
	// first sends the message a client will press and returns its id.
	first := func(t *testing.T, b *transportBundle) int64 {
		t.Helper()
		require.Equal(t, messaging.Result{}, b.reply(t, dialog.Reply{Text: "What would you like to do?", Choices: choices("book", "Book")}))
		return b.srv.Sent()[0].MessageID
	}
	edit := func(t *testing.T, b *transportBundle, id int64, r dialog.Reply) messaging.Result {
		t.Helper()
		return b.tr.Send(t.Context(), messaging.Outgoing{ChatID: b.chat, Reply: &r, Edit: strconv.FormatInt(id, 10)})
	}

	t.Run("ReplacesTextAndKeyboard", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		id := first(t, b)
		res := edit(t, b, id, dialog.Reply{Text: "Which service?", Choices: choices("s:cut", "Haircut", "menu", "Menu")})
		require.Equal(t, messaging.Result{}, res)
		sent := b.srv.Sent()
		require.Len(t, sent, 2)
		require.Equal(t, "editMessageText", sent[1].Method)
		require.Equal(t, id, sent[1].MessageID, "the pressed message, not a new one")
		require.Equal(t, "Which service?", sent[1].Text)
		require.Equal(t, [][]telegramtest.Button{{btn("s:cut", "Haircut")}, {btn("menu", "Menu")}}, sent[1].Keyboard)
		require.Equal(t, 1, b.srv.Stats().Sent)
		require.Equal(t, 1, b.srv.Stats().Edited)
	})

	t.Run("SameAgainIsSent", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		id := first(t, b)
		r := dialog.Reply{Text: "Which service?", Choices: choices("s:cut", "Haircut")}
		require.Equal(t, messaging.Result{}, edit(t, b, id, r))
		// A replay (the crash window) finds the message already showing it.
		require.Equal(t, messaging.Result{}, edit(t, b, id, r), "message is not modified counts as sent")
		require.Len(t, b.srv.Sent(), 2, "and nothing new reaches the chat")
		require.Equal(t, 1, b.srv.Stats().NotModified)
	})

	t.Run("MissingMessageGoesAsNew", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		id := first(t, b)
		res := edit(t, b, id+100, dialog.Reply{Text: "Which service?", Choices: choices("s:cut", "Haircut")})
		require.Equal(t, messaging.Result{}, res)
		sent := b.srv.Sent()
		require.Len(t, sent, 2)
		require.Equal(t, "sendMessage", sent[1].Method)
		require.Equal(t, "Which service?", sent[1].Text)
		require.Equal(t, [][]telegramtest.Button{{btn("s:cut", "Haircut")}}, sent[1].Keyboard)
		require.Equal(t, telegramtest.Stats{Requests: 3, Sent: 2, BadRequests: 1}, b.srv.Stats())
	})

	t.Run("ContactRequestGoesAsNew", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{})
		id := first(t, b)
		res := edit(t, b, id, dialog.Reply{Text: "Your phone number?", RequestContact: true, Choices: choices("menu", "Menu")})
		require.Equal(t, messaging.Result{}, res)
		sent := b.srv.Sent()
		require.Len(t, sent, 2)
		require.Equal(t, "sendMessage", sent[1].Method, "a reply keyboard cannot come by an edit")
		require.Equal(t, 0, b.srv.Stats().Edited)
	})

	t.Run("CountedByTheLimits", func(t *testing.T) {
		t.Parallel()
		b := setupTransport(t, telegramtest.Options{}) // 1/s per chat, burst 3; the clock stands still
		id := first(t, b)
		r := func(i int) dialog.Reply {
			return dialog.Reply{Text: fmt.Sprint("Question ", i), Choices: choices("x", "X")}
		}
		require.Equal(t, messaging.Result{}, edit(t, b, id, r(1)))
		require.Equal(t, messaging.Result{}, edit(t, b, id, r(2)))
		res := edit(t, b, id, r(3))
		require.Positive(t, res.RetryAfter, "a fourth message in the same second: 429, the sender pauses")
		require.False(t, res.Retry)
		require.Len(t, b.srv.Sent(), 3, "and it did not go as a new message either")
	})
}
