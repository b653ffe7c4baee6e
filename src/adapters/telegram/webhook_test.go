package telegram_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/core/messaging"
)

const secret = "Salon_webhook-secret_1"

// stored is one Add call.
type stored struct {
	channel, updateID, chatID string
	payload                   []byte
	dead                      string
}

// inboxRecorder is a messaging.Inbox that keeps what it is given; only Add
// matters to the webhook.
type inboxRecorder struct {
	mu   sync.Mutex
	rows []stored
	fail error
}

var _ messaging.Inbox = (*inboxRecorder)(nil)

func (r *inboxRecorder) Add(_ context.Context, channel, updateID, chatID string, payload []byte, dead string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.rows = append(r.rows, stored{channel, updateID, chatID, append([]byte(nil), payload...), dead})
	return nil
}

func (r *inboxRecorder) NextBatch(context.Context, string, int, func(messaging.Pending) (messaging.Handled, error)) (int, error) {
	return 0, nil
}

func (r *inboxRecorder) stored() []stored {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]stored(nil), r.rows...)
}

type webhookBundle struct {
	inbox   *inboxRecorder
	handler http.Handler
	logs    *bytes.Buffer
}

func setupWebhook(t *testing.T) *webhookBundle {
	t.Helper()
	b := &webhookBundle{inbox: &inboxRecorder{}, logs: &bytes.Buffer{}}
	b.handler = telegram.NewWebhook(b.inbox, secret, slog.New(slog.NewTextHandler(b.logs, nil)))
	return b
}

// post sends body with the secret header (omitted when secret is "").
func (b *webhookBundle) post(t *testing.T, secret string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/telegram/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(telegramtest.SecretHeader, secret)
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return rec
}

func TestWebhook(t *testing.T) {
	t.Parallel()

	t.Run("StoresAMessage", func(t *testing.T) {
		t.Parallel()
		b := setupWebhook(t)
		update := telegramtest.TextUpdate(500000001, anna.ID, anna, "my secret text")
		rec := b.post(t, secret, update)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, []stored{{"telegram", "500000001", "111222333", update, ""}}, b.inbox.stored())
		require.Contains(t, b.logs.String(), "status=200")
		require.Contains(t, b.logs.String(), "update=500000001")
		require.NotContains(t, b.logs.String(), "secret")
		require.Equal(t, 1, strings.Count(b.logs.String(), "\n"), "one line per request")
	})

	t.Run("StoresACallbackUnderItsChat", func(t *testing.T) {
		t.Parallel()
		b := setupWebhook(t)
		update := telegramtest.CallbackUpdate(7, -1001234567890, anna, 43, "cb", "menu")
		require.Equal(t, http.StatusOK, b.post(t, secret, update).Code)
		require.Equal(t, []stored{{"telegram", "7", "-1001234567890", update, ""}}, b.inbox.stored())
	})

	t.Run("WrongOrMissingSecret", func(t *testing.T) {
		t.Parallel()
		b := setupWebhook(t)
		update := telegramtest.TextUpdate(1, anna.ID, anna, "hi")
		for _, s := range []string{"", "wrong", secret + "x", secret[:len(secret)-1], strings.ToLower(secret)} {
			require.Equal(t, http.StatusUnauthorized, b.post(t, s, update).Code, s)
		}
		require.Empty(t, b.inbox.stored())
		require.Contains(t, b.logs.String(), "status=401")
	})

	t.Run("EmptyConfiguredSecretRefusesAll", func(t *testing.T) {
		t.Parallel()
		inbox := &inboxRecorder{}
		h := telegram.NewWebhook(inbox, "", nil)
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", bytes.NewReader(telegramtest.TextUpdate(1, 1, anna, "hi")))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		require.Empty(t, inbox.stored())
	})

	t.Run("OnlyPost", func(t *testing.T) {
		t.Parallel()
		b := setupWebhook(t)
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodHead} {
			req := httptest.NewRequestWithContext(t.Context(), method, "/telegram/webhook", nil)
			req.Header.Set(telegramtest.SecretHeader, secret)
			rec := httptest.NewRecorder()
			b.handler.ServeHTTP(rec, req)
			require.Equal(t, http.StatusMethodNotAllowed, rec.Code, method)
			require.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
		}
		require.Empty(t, b.inbox.stored())
	})

	t.Run("BodyOverOneMebibyte", func(t *testing.T) {
		t.Parallel()
		b := setupWebhook(t)
		huge := append([]byte(`{"update_id":1,"message":{"text":"`), bytes.Repeat([]byte("a"), 2<<20)...)
		require.Equal(t, http.StatusRequestEntityTooLarge, b.post(t, secret, huge).Code)
		require.Empty(t, b.inbox.stored())
	})

	t.Run("MalformedBodyIsKeptAsDeadLetter", func(t *testing.T) {
		t.Parallel()
		b := setupWebhook(t)
		for range 2 { // a redelivery gets the same key: the inbox stores it once
			require.Equal(t, http.StatusOK, b.post(t, secret, []byte(`{"update_id":1,"message":{"text":"my secret te`)).Code)
		}
		require.Equal(t, http.StatusOK, b.post(t, secret, []byte(editedMessage)).Code)
		rows := b.inbox.stored()
		require.Len(t, rows, 3)
		require.Equal(t, rows[0].updateID, rows[1].updateID)
		require.NotEqual(t, rows[0].updateID, rows[2].updateID)
		for _, r := range rows {
			require.Regexp(t, regexp.MustCompile(`^dead:[0-9a-f]{16}$`), r.updateID)
			require.Equal(t, "telegram", r.channel)
			require.Empty(t, r.chatID)
			require.Equal(t, "undecodable", r.dead)
		}
		require.Equal(t, []byte(editedMessage), rows[2].payload)
		require.NotContains(t, b.logs.String(), "secret te")
		require.Contains(t, b.logs.String(), "update="+rows[0].updateID)
	})

	t.Run("StorageFailureIs500", func(t *testing.T) {
		t.Parallel()
		b := setupWebhook(t)
		b.inbox.fail = errors.New("postgres: connection refused")
		require.Equal(t, http.StatusInternalServerError, b.post(t, secret, telegramtest.TextUpdate(3, anna.ID, anna, "hi")).Code)
		require.Equal(t, http.StatusInternalServerError, b.post(t, secret, []byte("garbage")).Code)
		require.Contains(t, b.logs.String(), "status=500")
	})
}

func TestWebhookDeliveredByTheFake(t *testing.T) {
	t.Parallel()
	srv, apiURL := telegramtest.Start(t, telegramtest.Options{})
	inbox := &inboxRecorder{}
	hook := httptest.NewServer(telegram.NewWebhook(inbox, secret, nil))
	t.Cleanup(hook.Close)

	b, err := telegram.NewBot(srv.Token(), apiURL, nil, nil)
	require.NoError(t, err)
	require.NoError(t, telegram.RegisterWebhook(t.Context(), b, hook.URL, secret))
	info, err := b.GetWebhookInfo(t.Context())
	require.NoError(t, err)
	require.Equal(t, hook.URL, info.URL)
	require.Equal(t, []string{"message", "callback_query", "pre_checkout_query"}, info.AllowedUpdates, "pre-checkout queries are answered by the webhook")

	text := telegramtest.TextUpdate(41, anna.ID, anna, "Hallo")
	callback := telegramtest.CallbackUpdate(42, anna.ID, anna, 43, "cb-42", "menu")
	for _, u := range [][]byte{text, callback, text} { // the last one: a redelivery
		status, err := srv.Deliver(t.Context(), u)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
	}
	require.Equal(t, []stored{
		{"telegram", "41", "111222333", text, ""},
		{"telegram", "42", "111222333", callback, ""},
		{"telegram", "41", "111222333", text, ""}, // the inbox makes this a no-op
	}, inbox.stored())

	// Registered with another secret: Telegram's deliveries are refused and
	// nothing is stored.
	require.NoError(t, telegram.RegisterWebhook(t.Context(), b, hook.URL, "another-secret"))
	status, err := srv.Deliver(t.Context(), telegramtest.TextUpdate(43, anna.ID, anna, "hi"))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Len(t, inbox.stored(), 3)
}

// TestWebhookGroupCommit: the webhook as serve runs it, on the inbox's group
// commit. Concurrent deliveries, redeliveries among them, are all answered 200
// and stored once; once the group commit is closed (shutting down) updates are
// answered 500, so that Telegram delivers them again, and nothing is stored.
func TestWebhookGroupCommit(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	gc := pipeline.NewGroupCommit(pool, salonID, pipeline.GroupCommitOptions{MaxBatch: 8, Flushers: 2})
	srv, apiURL := telegramtest.Start(t, telegramtest.Options{})
	hook := httptest.NewServer(telegram.NewWebhook(gc, secret, nil))
	t.Cleanup(hook.Close)
	b, err := telegram.NewBot(srv.Token(), apiURL, nil, nil)
	require.NoError(t, err)
	require.NoError(t, telegram.RegisterWebhook(t.Context(), b, hook.URL, secret))

	var updates [][]byte
	for i := range 60 {
		u := telegramtest.TextUpdate(int64(1000+i), int64(500+i%6), telegramtest.User{ID: int64(500 + i%6), FirstName: "A"}, "hi")
		updates = append(updates, u)
		if i%5 == 0 {
			updates = append(updates, u) // redelivered
		}
	}
	updates = append(updates, []byte("not an update"), []byte("not an update"))
	statuses, errs := make([]int, len(updates)), make([]error, len(updates))
	var wg sync.WaitGroup
	for i, u := range updates {
		wg.Go(func() { statuses[i], errs[i] = srv.Deliver(t.Context(), u) })
	}
	wg.Wait()
	for i := range updates {
		require.NoError(t, errs[i])
		require.Equal(t, http.StatusOK, statuses[i])
	}
	var n, dead int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*), count(dead) FROM inbox WHERE salon_id = $1`, salonID).Scan(&n, &dead))
	require.Equal(t, 61, n)
	require.Equal(t, 1, dead)

	gc.Close()
	status, err := srv.Deliver(t.Context(), telegramtest.TextUpdate(2000, 500, telegramtest.User{ID: 500, FirstName: "A"}, "late"))
	require.NoError(t, err)
	require.Equal(t, http.StatusInternalServerError, status)
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM inbox WHERE salon_id = $1`, salonID).Scan(&n))
	require.Equal(t, 61, n)
}
