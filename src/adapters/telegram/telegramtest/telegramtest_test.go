package telegramtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/telegram/telegramtest"
)

var anna = telegramtest.User{ID: 111222333, FirstName: "Anna", LanguageCode: "de"}

type bundle struct {
	srv   *telegramtest.Server
	url   string
	clock *telegramtest.Clock
	bot   *bot.Bot
}

// setup starts a fake on a fixed clock and a real go-telegram client pointed at it.
func setup(t *testing.T, opts telegramtest.Options) *bundle {
	t.Helper()
	clock := telegramtest.NewClock(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC))
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	srv, u := telegramtest.Start(t, opts)
	b, err := bot.New(srv.Token(), append(quiet(), bot.WithServerURL(u), bot.WithSkipGetMe())...)
	require.NoError(t, err)
	return &bundle{srv: srv, url: u, clock: clock, bot: b}
}

// quiet keeps go-telegram's default handlers, which log whole updates, silent.
func quiet() []bot.Option {
	return []bot.Option{
		bot.WithErrorsHandler(func(error) {}),
		bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {}),
	}
}

func unlimited() *telegramtest.Limits { return &telegramtest.Limits{} }

func keyboard(rows ...[]models.InlineKeyboardButton) *models.InlineKeyboardMarkup {
	return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
}

func (b *bundle) send(t *testing.T, chatID int64, text string) (*models.Message, error) {
	t.Helper()
	return b.bot.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: chatID, Text: text})
}

// raw calls the fake without go-telegram and returns the status and body.
func (b *bundle) raw(t *testing.T, token, method, contentType, body string) (int, string) {
	t.Helper()
	status, out, err := call(t.Context(), b.url+"/bot"+token+"/"+method, contentType, body)
	require.NoError(t, err)
	return status, out
}

// call is raw for goroutines, which must not stop the test.
func call(ctx context.Context, u, contentType, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), err
}

// updateIDs calls getUpdates with a JSON body and returns the update ids.
func (b *bundle) updateIDs(t *testing.T, body string) []int64 {
	t.Helper()
	status, out := b.raw(t, b.srv.Token(), "getUpdates", "application/json", body)
	require.Equal(t, http.StatusOK, status, out)
	var resp struct {
		OK     bool `json:"ok"`
		Result []struct {
			UpdateID int64 `json:"update_id"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &resp))
	require.True(t, resp.OK)
	ids := []int64{}
	for _, u := range resp.Result {
		ids = append(ids, u.UpdateID)
	}
	return ids
}

func TestGetMe(t *testing.T) {
	t.Parallel()
	srv, u := telegramtest.Start(t, telegramtest.Options{})

	b, err := bot.New(srv.Token(), append(quiet(), bot.WithServerURL(u))...) // New calls getMe
	require.NoError(t, err)
	me, err := b.GetMe(t.Context())
	require.NoError(t, err)
	require.True(t, me.IsBot)
	require.Equal(t, "salonbook_bot", me.Username)
	require.Equal(t, b.ID(), me.ID)

	_, err = bot.New("1:wrong", append(quiet(), bot.WithServerURL(u))...)
	require.ErrorIs(t, err, bot.ErrorUnauthorized)
}

func TestPaths(t *testing.T) {
	t.Parallel()
	b := setup(t, telegramtest.Options{})

	status, body := b.raw(t, "123:WRONG", "getMe", "", "")
	require.Equal(t, http.StatusUnauthorized, status)
	require.JSONEq(t, `{"ok":false,"error_code":401,"description":"Unauthorized"}`, body)

	status, body = b.raw(t, b.srv.Token(), "getCoffee", "", "")
	require.Equal(t, http.StatusNotFound, status)
	require.JSONEq(t, `{"ok":false,"error_code":404,"description":"Not Found"}`, body)

	status, _ = b.raw(t, b.srv.Token(), "test/getMe", "", "")
	require.Equal(t, http.StatusOK, status, "test environment path")
	status, _ = b.raw(t, b.srv.Token(), "GETME", "", "")
	require.Equal(t, http.StatusOK, status, "method names are case-insensitive")

	testEnv, err := bot.New(b.srv.Token(), append(quiet(), bot.WithServerURL(b.url), bot.UseTestEnvironment())...)
	require.NoError(t, err)
	_, err = testEnv.GetMe(t.Context())
	require.NoError(t, err)
}

func TestSendMessage(t *testing.T) {
	t.Parallel()

	t.Run("InlineKeyboardIsRecorded", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{})
		msg, err := b.bot.SendMessage(t.Context(), &bot.SendMessageParams{
			ChatID: anna.ID, Text: "Pick a time",
			ReplyMarkup: keyboard(
				[]models.InlineKeyboardButton{{Text: "10:00", CallbackData: "slot:20260102T1000"}, {Text: "10:15", CallbackData: "slot:20260102T1015"}},
				[]models.InlineKeyboardButton{{Text: "Website", URL: "https://example.com"}},
			),
		})
		require.NoError(t, err)
		require.Equal(t, 1, msg.ID)
		require.Equal(t, anna.ID, msg.Chat.ID)
		require.Equal(t, models.ChatTypePrivate, msg.Chat.Type)
		require.Equal(t, "Pick a time", msg.Text)
		require.Equal(t, b.clock.Now().Unix(), int64(msg.Date))
		require.NotNil(t, msg.ReplyMarkup)
		require.Equal(t, "slot:20260102T1015", msg.ReplyMarkup.InlineKeyboard[0][1].CallbackData)

		sent := b.srv.Sent()
		require.Len(t, sent, 1)
		require.Equal(t, telegramtest.SentMessage{
			Method: "sendMessage", ChatID: anna.ID, MessageID: 1, Text: "Pick a time",
			Keyboard: [][]telegramtest.Button{
				{{Text: "10:00", CallbackData: "slot:20260102T1000"}, {Text: "10:15", CallbackData: "slot:20260102T1015"}},
				{{Text: "Website", URL: "https://example.com"}},
			},
			Time: b.clock.Now(),
		}, sent[0])
		require.Equal(t, sent, b.srv.SentTo(anna.ID))
		require.Empty(t, b.srv.SentTo(42))
	})

	t.Run("CallbackDataIsLimitedTo64Bytes", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{Limits: unlimited()})
		send := func(data string) error {
			_, err := b.bot.SendMessage(t.Context(), &bot.SendMessageParams{
				ChatID: anna.ID, Text: "x", ReplyMarkup: keyboard([]models.InlineKeyboardButton{{Text: "b", CallbackData: data}}),
			})
			return err
		}
		require.NoError(t, send(strings.Repeat("a", 64)))
		err := send(strings.Repeat("a", 65))
		require.ErrorIs(t, err, bot.ErrorBadRequest)
		require.ErrorContains(t, err, "BUTTON_DATA_INVALID")
		require.NoError(t, send(strings.Repeat("я", 32)), "32 Cyrillic letters are 64 bytes")
		require.ErrorIs(t, send(strings.Repeat("я", 33)), bot.ErrorBadRequest, "33 are 66 bytes")
		require.Len(t, b.srv.Sent(), 2, "refused messages are not recorded")
		require.Equal(t, 2, b.srv.Stats().BadRequests)
	})

	t.Run("TextButtonsAreRefused", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{})
		_, err := b.bot.SendMessage(t.Context(), &bot.SendMessageParams{
			ChatID: anna.ID, Text: "x", ReplyMarkup: keyboard([]models.InlineKeyboardButton{{Text: "only text"}}),
		})
		require.ErrorIs(t, err, bot.ErrorBadRequest)
		require.ErrorContains(t, err, "Text buttons are unallowed")
	})

	t.Run("TextLimits", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{Limits: unlimited()})
		_, err := b.send(t, anna.ID, " \n ")
		require.ErrorIs(t, err, bot.ErrorBadRequest)
		require.ErrorContains(t, err, "message text is empty")
		_, err = b.send(t, anna.ID, strings.Repeat("ж", 4097))
		require.ErrorContains(t, err, "message is too long")
		msg, err := b.send(t, anna.ID, strings.Repeat("ж", 4096))
		require.NoError(t, err)
		require.Len(t, []rune(msg.Text), 4096)
		_, err = b.send(t, 0, "hi")
		require.ErrorContains(t, err, "chat not found")
	})

	t.Run("ParseModes", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{Limits: unlimited()})
		send := func(mode models.ParseMode, text string) (*models.Message, error) {
			return b.bot.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: anna.ID, Text: text, ParseMode: mode})
		}
		msg, err := send(models.ParseModeHTML, "<b>Haircut</b> &amp; wash &lt;3")
		require.NoError(t, err)
		require.Equal(t, "Haircut & wash <3", msg.Text)
		_, err = send(models.ParseModeHTML, "Anna <3")
		require.ErrorIs(t, err, bot.ErrorBadRequest, "an unescaped < in HTML")
		_, err = send(models.ParseModeHTML, "<b>open")
		require.ErrorContains(t, err, "Can't find end tag")
		_, err = send(models.ParseModeMarkdownV1, "Booked for 10:00.")
		require.NoError(t, err, "legacy Markdown is lenient")
		_, err = send("MarkdownV3", "x")
		require.ErrorContains(t, err, "unsupported parse_mode")
		// go-telegram's ParseModeMarkdown is "MarkdownV2", where '.' must be escaped.
		_, err = send(models.ParseModeMarkdown, "Booked for 10:00.")
		require.ErrorContains(t, err, "Character '.' is reserved")
		msg, err = send(models.ParseModeMarkdown, "*Booked* for 10:00\\. `a.b` [site](https://ex.am/p-1)")
		require.NoError(t, err)
		require.Equal(t, "Booked for 10:00. a.b site", msg.Text)
	})

	t.Run("MessageIDsIncreasePerChat", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{Limits: unlimited()})
		ids := func(chatID int64) int {
			msg, err := b.send(t, chatID, "hi")
			require.NoError(t, err)
			return msg.ID
		}
		require.Equal(t, []int{1, 2, 1, 3}, []int{ids(1), ids(1), ids(2), ids(1)})
		// A private chat numbers both sides' messages in one sequence.
		require.NoError(t, b.srv.Enqueue(telegramtest.TextUpdate(77, 2, anna, "hello")))
		require.Equal(t, 78, ids(2))
	})

	t.Run("BodyEncodings", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{Limits: unlimited()})
		status, body := b.raw(t, b.srv.Token(), "sendMessage", "application/json",
			`{"chat_id":42,"text":"json","reply_markup":{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}}`)
		require.Equal(t, http.StatusOK, status, body)
		form := url.Values{"chat_id": {"42"}, "text": {"form"}, "reply_markup": {`{"inline_keyboard":[[{"text":"B","callback_data":"b"}]]}`}}
		status, body = b.raw(t, b.srv.Token(), "sendMessage", "application/x-www-form-urlencoded", form.Encode())
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, `"reply_markup":{"inline_keyboard":[[{"callback_data":"b","text":"B"}]]}`)

		sent := b.srv.Sent()
		require.Len(t, sent, 2)
		require.Equal(t, [][]telegramtest.Button{{{Text: "A", CallbackData: "a"}}}, sent[0].Keyboard)
		require.Equal(t, [][]telegramtest.Button{{{Text: "B", CallbackData: "b"}}}, sent[1].Keyboard)
	})
}

func TestLimits(t *testing.T) {
	t.Parallel()

	t.Run("PerChat", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{})
		for range 3 { // the burst
			_, err := b.send(t, anna.ID, "hi")
			require.NoError(t, err)
		}
		_, err := b.send(t, anna.ID, "one too many")
		tmr, ok := errors.AsType[*bot.TooManyRequestsError](fmt.Errorf("sender: %w", err))
		require.True(t, ok, "errors.As finds it even when wrapped: %v", err)
		require.Equal(t, 1, tmr.RetryAfter)
		require.False(t, errors.Is(err, bot.ErrorTooManyRequests), "go-telegram's 429 error does not wrap ErrorTooManyRequests")

		_, err = b.send(t, 42, "another chat is not limited")
		require.NoError(t, err)

		b.clock.Advance(time.Duration(tmr.RetryAfter) * time.Second)
		_, err = b.send(t, anna.ID, "after retry_after")
		require.NoError(t, err)
		_, err = b.send(t, anna.ID, "burst is spent")
		require.True(t, bot.IsTooManyRequestsError(err))

		st := b.srv.Stats()
		require.Equal(t, 5, st.Sent)
		require.Equal(t, 2, st.TooManyRequests)
		require.Len(t, b.srv.Sent(), 5)
	})

	t.Run("PerGroup", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{Limits: &telegramtest.Limits{PerGroup: telegramtest.Limit{Count: 20, Per: time.Minute}}})
		const group = -1001234567890
		for range 20 {
			_, err := b.send(t, group, "hi all")
			require.NoError(t, err)
		}
		_, err := b.send(t, group, "hi all")
		tmr, ok := errors.AsType[*bot.TooManyRequestsError](err)
		require.True(t, ok, err)
		require.Equal(t, 3, tmr.RetryAfter, "20 a minute frees one slot every 3 s")
		_, err = b.send(t, anna.ID, "private chats are not groups")
		require.NoError(t, err)
		b.clock.Advance(3 * time.Second)
		_, err = b.send(t, group, "hi all")
		require.NoError(t, err)
	})

	t.Run("Global", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{Limits: &telegramtest.Limits{Global: telegramtest.Limit{Count: 30, Per: time.Second}}})
		for chat := range int64(30) {
			_, err := b.send(t, chat+1, "news")
			require.NoError(t, err)
		}
		_, err := b.send(t, 31, "news")
		tmr, ok := errors.AsType[*bot.TooManyRequestsError](err)
		require.True(t, ok, err)
		require.Equal(t, 1, tmr.RetryAfter)
		b.clock.Advance(40 * time.Millisecond)
		_, err = b.send(t, 31, "news")
		require.NoError(t, err)
	})

	t.Run("RefusedMessagesCostNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{Limits: &telegramtest.Limits{
			PerChat: telegramtest.Limit{Count: 1, Per: time.Second, Burst: 1},
			Global:  telegramtest.Limit{Count: 2, Per: time.Second, Burst: 2},
		}})
		_, err := b.send(t, 1, "a")
		require.NoError(t, err)
		for range 5 {
			_, err = b.send(t, 1, "refused by the chat limit")
			require.True(t, bot.IsTooManyRequestsError(err))
		}
		_, err = b.send(t, 2, "the global bucket still has one")
		require.NoError(t, err)
	})
}

func TestBlocked(t *testing.T) {
	t.Parallel()
	b := setup(t, telegramtest.Options{})
	b.srv.Block(anna.ID)
	_, err := b.send(t, anna.ID, "reminder")
	require.ErrorIs(t, err, bot.ErrorForbidden)
	require.ErrorContains(t, err, "bot was blocked by the user")
	require.Empty(t, b.srv.Sent())
	require.Equal(t, 1, b.srv.Stats().Forbidden)

	b.srv.Unblock(anna.ID)
	_, err = b.send(t, anna.ID, "reminder")
	require.NoError(t, err)
}

func TestEditMessageText(t *testing.T) {
	t.Parallel()
	b := setup(t, telegramtest.Options{Limits: unlimited()})
	edit := func(messageID int, text string, kb *models.InlineKeyboardMarkup) (*models.Message, error) {
		p := &bot.EditMessageTextParams{ChatID: anna.ID, MessageID: messageID, Text: text}
		if kb != nil {
			p.ReplyMarkup = kb
		}
		return b.bot.EditMessageText(t.Context(), p)
	}

	_, err := edit(99, "nothing there", nil)
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	require.ErrorContains(t, err, "message to edit not found")

	msg, err := b.bot.SendMessage(t.Context(), &bot.SendMessageParams{
		ChatID: anna.ID, Text: "Pick a time", ReplyMarkup: keyboard([]models.InlineKeyboardButton{{Text: "10:00", CallbackData: "s:1"}}),
	})
	require.NoError(t, err)

	b.clock.Advance(time.Minute)
	edited, err := edit(msg.ID, "Booked for 10:00", nil)
	require.NoError(t, err)
	require.Equal(t, "Booked for 10:00", edited.Text)
	require.Equal(t, b.clock.Now().Unix(), int64(edited.EditDate))
	require.Nil(t, edited.ReplyMarkup, "an edit without reply_markup removes the keyboard")

	_, err = edit(msg.ID, "Booked for 10:00", nil)
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	require.ErrorContains(t, err, "message is not modified")
	require.Equal(t, 1, b.srv.Stats().NotModified)

	_, err = edit(msg.ID, "Booked for 10:00", keyboard([]models.InlineKeyboardButton{{Text: "Cancel", CallbackData: "c:1"}}))
	require.NoError(t, err, "a new keyboard is a modification")

	require.NoError(t, b.srv.Enqueue(telegramtest.TextUpdate(500, anna.ID, anna, "hi")))
	_, err = edit(500, "not yours", nil)
	require.ErrorContains(t, err, "message can't be edited")

	sent := b.srv.Sent()
	require.Len(t, sent, 3)
	require.Equal(t, "editMessageText", sent[2].Method)
	require.Equal(t, [][]telegramtest.Button{{{Text: "Cancel", CallbackData: "c:1"}}}, sent[2].Keyboard)
	require.Equal(t, 2, b.srv.Stats().Edited)
}

func TestAnswerCallbackQuery(t *testing.T) {
	t.Parallel()
	b := setup(t, telegramtest.Options{CallbackTTL: time.Minute})
	answer := func(id string) error {
		_, err := b.bot.AnswerCallbackQuery(t.Context(), &bot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: "Booked"})
		return err
	}
	require.NoError(t, b.srv.Enqueue(telegramtest.CallbackUpdate(10, anna.ID, anna, 43, "4382bfdwdsb323b2d9", "slot:20260102T1000")))

	require.NoError(t, answer("4382bfdwdsb323b2d9"))
	err := answer("4382bfdwdsb323b2d9")
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	require.ErrorContains(t, err, "query is too old and response timeout expired or query ID is invalid")
	require.ErrorIs(t, answer("never-sent"), bot.ErrorBadRequest)

	require.NoError(t, b.srv.Enqueue(telegramtest.CallbackUpdate(11, anna.ID, anna, 43, "late", "x")))
	b.clock.Advance(2 * time.Minute)
	require.ErrorIs(t, answer("late"), bot.ErrorBadRequest, "past CallbackTTL")

	_, err = b.bot.AnswerCallbackQuery(t.Context(), &bot.AnswerCallbackQueryParams{CallbackQueryID: "x", Text: strings.Repeat("a", 201)})
	require.ErrorIs(t, err, bot.ErrorBadRequest)

	require.Equal(t, []string{"4382bfdwdsb323b2d9"}, b.srv.Answered())

	// The callback's message is the bot's, so the bot may edit it.
	_, err = b.bot.EditMessageText(t.Context(), &bot.EditMessageTextParams{ChatID: anna.ID, MessageID: 43, Text: "Booked"})
	require.NoError(t, err)
}

func TestGetUpdates(t *testing.T) {
	t.Parallel()

	t.Run("OffsetConfirms", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{})
		for id := int64(1); id <= 3; id++ {
			require.NoError(t, b.srv.Enqueue(telegramtest.TextUpdate(id, anna.ID, anna, "hi")))
		}
		require.Equal(t, []int64{1, 2, 3}, b.updateIDs(t, `{}`))
		require.Equal(t, []int64{1, 2, 3}, b.updateIDs(t, `{"offset":0}`), "nothing confirmed yet")
		require.Equal(t, []int64{2}, b.updateIDs(t, `{"offset":2,"limit":1}`))
		require.Equal(t, []int64{2, 3}, b.updateIDs(t, `{}`), "update 1 was confirmed and is gone")
		require.Equal(t, []int64{3}, b.updateIDs(t, `{"offset":-1}`))
		require.Equal(t, []int64{}, b.updateIDs(t, `{"offset":4}`))
		require.Error(t, b.srv.Enqueue(telegramtest.TextUpdate(3, anna.ID, anna, "again")), "below the confirmed offset")

		form := url.Values{"offset": {"4"}, "timeout": {"0"}}
		status, body := b.raw(t, b.srv.Token(), "getUpdates", "application/x-www-form-urlencoded", form.Encode())
		require.Equal(t, http.StatusOK, status)
		require.JSONEq(t, `{"ok":true,"result":[]}`, body)
	})

	t.Run("LongPollWakesOnEnqueue", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{})
		got := make(chan string, 1)
		go func() {
			_, body, _ := call(t.Context(), b.url+"/bot"+b.srv.Token()+"/getUpdates", "application/json", `{"offset":1,"timeout":30}`)
			got <- body
		}()
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		require.NoError(t, b.srv.Enqueue(telegramtest.TextUpdate(7, anna.ID, anna, "hi")))
		require.Contains(t, <-got, `"update_id":7`)
		require.Less(t, time.Since(start), 5*time.Second)
	})

	t.Run("SecondPollerTerminatesTheFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t, telegramtest.Options{})
		type result struct {
			status int
			body   string
		}
		first := make(chan result, 1)
		go func() {
			s, body, _ := call(t.Context(), b.url+"/bot"+b.srv.Token()+"/getUpdates", "application/json", `{"timeout":30}`)
			first <- result{s, body}
		}()
		time.Sleep(50 * time.Millisecond)
		require.Equal(t, []int64{}, b.updateIDs(t, `{}`))
		r := <-first
		require.Equal(t, http.StatusConflict, r.status)
		require.Contains(t, r.body, "terminated by other getUpdates request")
	})

	t.Run("GoTelegramPolling", func(t *testing.T) {
		t.Parallel()
		srv, u := telegramtest.Start(t, telegramtest.Options{})
		got := make(chan *models.Update, 2)
		b, err := bot.New(srv.Token(), bot.WithServerURL(u), bot.WithSkipGetMe(),
			bot.WithErrorsHandler(func(error) {}),
			bot.WithDefaultHandler(func(_ context.Context, _ *bot.Bot, upd *models.Update) { got <- upd }))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { b.Start(ctx); close(done) }()
		defer func() { cancel(); <-done }()

		require.NoError(t, srv.Enqueue(telegramtest.CommandUpdate(500000001, anna.ID, anna, "start")))
		require.NoError(t, srv.Enqueue(telegramtest.CallbackUpdate(500000002, anna.ID, anna, 43, "cb1", "slot:1")))
		// go-telegram runs each update's handler in its own goroutine: any order.
		byID := map[int64]*models.Update{}
		for range 2 {
			upd := <-got
			byID[upd.ID] = upd
		}
		require.Equal(t, "/start", byID[500000001].Message.Text)
		require.Equal(t, "de", byID[500000001].Message.From.LanguageCode)
		require.Equal(t, "slot:1", byID[500000002].CallbackQuery.Data)
		require.Equal(t, 43, byID[500000002].CallbackQuery.Message.Message.ID)

		// The next poll's offset confirms both.
		require.Eventually(t, func() bool {
			info, err := b.GetWebhookInfo(t.Context())
			return err == nil && info.PendingUpdateCount == 0
		}, 5*time.Second, 10*time.Millisecond)
	})
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t, telegramtest.Options{})
	type request struct {
		secret, contentType, body string
	}
	got := make(chan request, 10)
	var status sync.Map
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- request{r.Header.Get(telegramtest.SecretHeader), r.Header.Get("Content-Type"), string(body)}
		if s, ok := status.Load("next"); ok {
			w.WriteHeader(s.(int))
		}
	}))
	t.Cleanup(hook.Close)

	_, err := telegramtest.New(telegramtest.Options{}).Deliver(t.Context(), []byte(`{}`))
	require.ErrorIs(t, err, telegramtest.ErrNoWebhook)

	_, err = b.bot.SetWebhook(t.Context(), &bot.SetWebhookParams{URL: hook.URL, SecretToken: "bad secret!"})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	_, err = b.bot.SetWebhook(t.Context(), &bot.SetWebhookParams{URL: hook.URL, SecretToken: strings.Repeat("s", 257)})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	ok, err := b.bot.SetWebhook(t.Context(), &bot.SetWebhookParams{URL: hook.URL, SecretToken: "Salon_secret-1", MaxConnections: 5})
	require.NoError(t, err)
	require.True(t, ok)

	info, err := b.bot.GetWebhookInfo(t.Context())
	require.NoError(t, err)
	require.Equal(t, hook.URL, info.URL)
	require.Equal(t, 5, info.MaxConnections)

	update := telegramtest.CallbackUpdate(1, anna.ID, anna, 43, "cb-hook", "slot:1")
	code, err := b.srv.Deliver(t.Context(), update)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	req := <-got
	require.Equal(t, "Salon_secret-1", req.secret)
	require.Equal(t, "application/json", req.contentType)
	require.Equal(t, string(update), req.body)

	_, err = b.bot.AnswerCallbackQuery(t.Context(), &bot.AnswerCallbackQueryParams{CallbackQueryID: "cb-hook"})
	require.NoError(t, err, "a delivered callback is answerable")

	status.Store("next", http.StatusUnauthorized)
	code, err = b.srv.Deliver(t.Context(), []byte(`not json`))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, code)
	<-got
	info, err = b.bot.GetWebhookInfo(t.Context())
	require.NoError(t, err)
	require.Equal(t, "Wrong response from the webhook: 401 Unauthorized", info.LastErrorMessage)

	st, body := b.raw(t, b.srv.Token(), "getUpdates", "", "")
	require.Equal(t, http.StatusConflict, st, body)

	ok, err = b.bot.DeleteWebhook(t.Context(), &bot.DeleteWebhookParams{DropPendingUpdates: true})
	require.NoError(t, err)
	require.True(t, ok)
	_, err = b.srv.Deliver(t.Context(), update)
	require.ErrorIs(t, err, telegramtest.ErrNoWebhook)
	require.Equal(t, []int64{}, b.updateIDs(t, `{}`))
}

func TestWebhookRequiresHTTPS(t *testing.T) {
	t.Parallel()
	b := setup(t, telegramtest.Options{RequireHTTPSWebhook: true})
	_, err := b.bot.SetWebhook(t.Context(), &bot.SetWebhookParams{URL: "http://salon.example/telegram/webhook"})
	require.ErrorContains(t, err, "An HTTPS URL must be provided")
	_, err = b.bot.SetWebhook(t.Context(), &bot.SetWebhookParams{URL: "https://salon.example:9000/telegram/webhook"})
	require.ErrorContains(t, err, "only on ports 80, 88, 443 or 8443")
	_, err = b.bot.SetWebhook(t.Context(), &bot.SetWebhookParams{URL: "https://salon.example:8443/telegram/webhook"})
	require.NoError(t, err)
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	b := setup(t, telegramtest.Options{})
	b.srv.FailNext("sendMessage", http.StatusBadGateway, 1)
	_, err := b.send(t, anna.ID, "hi")
	require.ErrorContains(t, err, "502")
	require.False(t, errors.Is(err, bot.ErrorBadRequest))
	_, err = b.send(t, anna.ID, "hi")
	require.NoError(t, err)

	b.srv.FailNext("sendmessage", http.StatusTooManyRequests, 1)
	_, err = b.send(t, anna.ID, "hi")
	tmr, ok := errors.AsType[*bot.TooManyRequestsError](err)
	require.True(t, ok, err)
	require.Equal(t, 1, tmr.RetryAfter)

	st := b.srv.Stats()
	require.Equal(t, 2, st.Injected)
	require.Equal(t, 1, st.Sent)
}

func TestWaitSent(t *testing.T) {
	t.Parallel()
	b := setup(t, telegramtest.Options{Limits: unlimited()})
	go func() {
		for range 2 {
			time.Sleep(10 * time.Millisecond)
			_, _ = b.bot.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: anna.ID, Text: "hi"})
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	sent, err := b.srv.WaitSent(ctx, 2)
	require.NoError(t, err)
	require.Len(t, sent, 2)

	short, cancel2 := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel2()
	_, err = b.srv.WaitSent(short, 3)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	b := setup(t, telegramtest.Options{Limits: unlimited()})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for chat := range int64(20) {
		wg.Go(func() {
			for range 10 {
				_, err := b.bot.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: chat + 1, Text: "hi"})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, b.srv.Sent(), 200)
	for chat := range int64(20) {
		var ids []int64
		for _, m := range b.srv.SentTo(chat + 1) {
			ids = append(ids, m.MessageID)
		}
		require.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, ids)
	}
}

func TestUpdateShapes(t *testing.T) {
	t.Parallel()

	// PROVIDERS.md A's example, with message_id equal to update_id as the builder makes it.
	want := `{"update_id":500000001,"message":{"message_id":500000001,
	 "from":{"id":111222333,"is_bot":false,"first_name":"Anna","language_code":"de"},
	 "chat":{"id":111222333,"first_name":"Anna","type":"private"},"date":1767261600,
	 "text":"/start","entities":[{"offset":0,"length":6,"type":"bot_command"}]}}`
	var got map[string]any
	require.NoError(t, json.Unmarshal(telegramtest.CommandUpdate(500000001, anna.ID, anna, "/start"), &got))
	got["message"].(map[string]any)["date"] = 1767261600
	gotJSON, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, want, string(gotJSON))

	var upd models.Update
	require.NoError(t, json.Unmarshal(telegramtest.TextUpdate(2, anna.ID, anna, "Привет"), &upd))
	require.Equal(t, "Привет", upd.Message.Text)
	require.Empty(t, upd.Message.Entities)

	upd = models.Update{}
	require.NoError(t, json.Unmarshal(telegramtest.CallbackUpdate(3, anna.ID, anna, 43, "4382bfdwdsb323b2d9", "slot:20260102T1000"), &upd))
	cq := upd.CallbackQuery
	require.Equal(t, "4382bfdwdsb323b2d9", cq.ID)
	require.Equal(t, anna.ID, cq.From.ID)
	require.Equal(t, "slot:20260102T1000", cq.Data)
	require.NotEmpty(t, cq.ChatInstance)
	require.NotNil(t, cq.Message.Message)
	require.Equal(t, 43, cq.Message.Message.ID)
	require.True(t, cq.Message.Message.From.IsBot)
	require.Equal(t, anna.ID, cq.Message.Message.Chat.ID)

	on := telegramtest.SentMessage{ChatID: anna.ID, MessageID: 5, Text: "Pick a time", Time: time.Unix(1767261605, 0),
		Keyboard: [][]telegramtest.Button{{{Text: "10:00", CallbackData: "slot:20260102T1000"}}}}
	upd = models.Update{}
	require.NoError(t, json.Unmarshal(telegramtest.CallbackUpdateOn(4, anna, on, "cb", "slot:20260102T1000"), &upd))
	m := upd.CallbackQuery.Message.Message
	require.Equal(t, "Pick a time", m.Text)
	require.Equal(t, 1767261605, m.Date)
	require.Equal(t, "slot:20260102T1000", m.ReplyMarkup.InlineKeyboard[0][0].CallbackData)
}

// TestReplyKeyboardMessages: a reply keyboard and its removal are recorded,
// and, as on Telegram, a message sent with either is edited no more.
func TestReplyKeyboardMessages(t *testing.T) {
	t.Parallel()
	b := setup(t, telegramtest.Options{Limits: unlimited()})
	ask, err := b.bot.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: anna.ID, Text: "Your phone?",
		ReplyMarkup: &models.ReplyKeyboardMarkup{Keyboard: [][]models.KeyboardButton{{{Text: "📱 Share", RequestContact: true}}}, OneTimeKeyboard: true}})
	require.NoError(t, err)
	gone, err := b.bot.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: anna.ID, Text: "Got it",
		ReplyMarkup: &models.ReplyKeyboardRemove{RemoveKeyboard: true}})
	require.NoError(t, err)

	sent := b.srv.Sent()
	require.Len(t, sent, 2)
	require.Contains(t, sent[0].Markup, `"request_contact":true`)
	require.False(t, sent[0].RemovesKeyboard)
	require.JSONEq(t, `{"remove_keyboard":true}`, sent[1].Markup)
	require.True(t, sent[1].RemovesKeyboard)

	for _, id := range []int{ask.ID, gone.ID} {
		_, err := b.bot.EditMessageText(t.Context(), &bot.EditMessageTextParams{ChatID: anna.ID, MessageID: id, Text: "Confirm?",
			ReplyMarkup: keyboard([]models.InlineKeyboardButton{{Text: "OK", CallbackData: "ok"}})})
		require.ErrorIs(t, err, bot.ErrorBadRequest)
		require.ErrorContains(t, err, "message can't be edited")
	}
	require.Len(t, b.srv.Sent(), 2)
}
