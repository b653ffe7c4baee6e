package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/core/messaging"
)

// pollCall is one request the fake answered, as the poller sent it.
type pollCall struct {
	method string
	offset int64 // getUpdates' offset
	status int
	at     time.Time
}

// pollSpy sits in front of the fake and records the poller's requests.
type pollSpy struct {
	next  http.Handler
	mu    sync.Mutex
	calls []*pollCall
	// polling is signalled when a getUpdates request reaches the fake.
	polling chan struct{}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *pollSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	c := pollCall{method: r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:], at: time.Now()}
	if c.method == "getUpdates" {
		var p struct {
			Offset int64 `json:"offset"`
		}
		_ = json.Unmarshal(body, &p)
		c.offset = p.Offset
		select {
		case s.polling <- struct{}{}:
		default:
		}
	}
	// Recorded when it arrives (a long poll may never be answered), its status
	// once answered.
	s.mu.Lock()
	s.calls = append(s.calls, &c)
	s.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.next.ServeHTTP(sw, r)
	s.mu.Lock()
	c.status = sw.status
	s.mu.Unlock()
}

func (s *pollSpy) recorded() []pollCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]pollCall, len(s.calls))
	for i, c := range s.calls {
		out[i] = *c
	}
	return out
}

// offsetsSent returns the offsets of the getUpdates requests not failed by the
// fake (answered with 200, or still waiting).
func (s *pollSpy) offsetsSent() []int64 {
	var out []int64
	for _, c := range s.recorded() {
		if c.method == "getUpdates" && (c.status == 0 || c.status == http.StatusOK) {
			out = append(out, c.offset)
		}
	}
	return out
}

// startFake runs a fake Bot API behind a pollSpy.
func startFake(t *testing.T) (*telegramtest.Server, *pollSpy, string) {
	t.Helper()
	srv := telegramtest.New(telegramtest.Options{})
	spy := &pollSpy{next: srv, polling: make(chan struct{}, 1)}
	ts := httptest.NewServer(spy)
	t.Cleanup(func() {
		srv.Close() // ends long polls first
		ts.Close()
	})
	return srv, spy, ts.URL
}

// countingInbox counts Add calls and can fail the first few.
type countingInbox struct {
	messaging.Inbox
	mu    sync.Mutex
	added []string
	fail  int
}

func (c *countingInbox) Add(ctx context.Context, channel, updateID, chatID string, payload []byte, dead string) error {
	c.mu.Lock()
	if c.fail > 0 {
		c.fail--
		c.mu.Unlock()
		return errors.New("inbox down")
	}
	c.added = append(c.added, updateID)
	c.mu.Unlock()
	return c.Inbox.Add(ctx, channel, updateID, chatID, payload, dead)
}

func (c *countingInbox) adds() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.added...)
}

// lockedBuffer is a log sink for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is a poller's Run in a goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

func runPoller(t *testing.T, p *telegram.Poller) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx) }()
	t.Cleanup(func() { _ = r.stop(t) })
	return r
}

// stop cancels the poller and returns what Run returned; Run must return
// within 2 s.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	start := time.Now()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if !ok {
			return nil
		}
		close(r.done)
		require.Less(t, time.Since(start), 2*time.Second)
		return err
	case <-time.After(2 * time.Second):
		t.Fatal("the poller did not stop within 2 s of its context ending")
		return nil
	}
}

type inboxRow struct {
	UpdateID, ChatID, Dead string
	Payload                []byte
}

func inboxRows(t *testing.T, pool *pgxpool.Pool, salonID string) []inboxRow {
	t.Helper()
	rows, err := pool.Query(t.Context(), `
		SELECT update_id, chat_id, coalesce(dead, ''), payload FROM inbox
		WHERE salon_id = $1 AND channel = 'telegram' ORDER BY id`, salonID)
	require.NoError(t, err)
	defer rows.Close()
	var out []inboxRow
	for rows.Next() {
		var r inboxRow
		require.NoError(t, rows.Scan(&r.UpdateID, &r.ChatID, &r.Dead, &r.Payload))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

func savedOffset(t *testing.T, offsets *pipeline.Offsets) int64 {
	t.Helper()
	next, err := offsets.Load(t.Context())
	require.NoError(t, err)
	return next
}

// malformedUpdate has an update_id (the fake queues it) but a chat id that is
// not a number: it cannot be read and becomes a dead letter.
const malformedUpdate = `{"update_id":500000003,"message":{"message_id":9,"chat":{"id":"not a number"},"date":1}}`

func TestPollerStoresConfirmsAndResumes(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	srv, spy, url := startFake(t)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	text := telegramtest.TextUpdate(500000001, anna.ID, anna, "my private words")
	callback := telegramtest.CallbackUpdate(500000002, anna.ID, anna, 43, "cb-2", "menu")
	for _, u := range [][]byte{text, callback, []byte(malformedUpdate)} {
		require.NoError(t, srv.Enqueue(u))
	}

	inbox := &countingInbox{Inbox: pipeline.NewInbox(pool, salonID)}
	offsets := pipeline.NewOffsets(pool, salonID)
	first := runPoller(t, telegram.NewPoller(url, srv.Token(), nil, inbox, offsets, log))

	require.Eventually(t, func() bool {
		// Stored, saved, and confirmed to the fake by the next request.
		return len(inboxRows(t, pool, salonID)) == 3 && savedOffset(t, offsets) == 500000004 &&
			len(spy.offsetsSent()) >= 2 && spy.offsetsSent()[len(spy.offsetsSent())-1] == 500000004
	}, 5*time.Second, 20*time.Millisecond)
	require.NoError(t, first.stop(t))

	rows := inboxRows(t, pool, salonID)
	require.Equal(t, "500000001", rows[0].UpdateID)
	require.Equal(t, "111222333", rows[0].ChatID)
	require.Empty(t, rows[0].Dead)
	require.JSONEq(t, string(text), string(rows[0].Payload), "the raw update is stored")
	require.Equal(t, "500000002", rows[1].UpdateID)
	require.Equal(t, "111222333", rows[1].ChatID)
	require.Empty(t, rows[1].Dead)
	require.True(t, strings.HasPrefix(rows[2].UpdateID, "dead:"), "a malformed update is kept as the webhook keeps it")
	require.Empty(t, rows[2].ChatID)
	require.Equal(t, "undecodable", rows[2].Dead)

	calls := spy.recorded()
	require.Equal(t, "deleteWebhook", calls[0].method, "the webhook is deleted before polling")
	require.Equal(t, []int64{0, 500000004}, spy.offsetsSent()[:2], "no offset saved yet, then last+1")
	require.NotContains(t, logs.String(), "my private words", "updates are never logged")
	require.NotContains(t, logs.String(), srv.Token())

	// A restart goes on from the saved offset. Had Telegram still held the three
	// (a fresh queue here), that offset confirms them unseen: they are not
	// stored again; only the new one is.
	srv2, spy2, url2 := startFake(t)
	for _, u := range [][]byte{text, callback, []byte(malformedUpdate)} {
		require.NoError(t, srv2.Enqueue(u))
	}
	require.NoError(t, srv2.Enqueue(telegramtest.TextUpdate(500000004, anna.ID, anna, "again")))
	inbox2 := &countingInbox{Inbox: pipeline.NewInbox(pool, salonID)}
	offsets2 := pipeline.NewOffsets(pool, salonID) // nothing shared in memory
	second := runPoller(t, telegram.NewPoller(url2, srv2.Token(), nil, inbox2, offsets2, nil))
	require.Eventually(t, func() bool { return savedOffset(t, offsets2) == 500000005 }, 5*time.Second, 20*time.Millisecond)
	require.NoError(t, second.stop(t))
	require.Equal(t, int64(500000004), spy2.offsetsSent()[0], "the first request of the restart uses the saved offset")
	require.Equal(t, []string{"500000004"}, inbox2.adds(), "only the new update is stored")
	require.Len(t, inboxRows(t, pool, salonID), 4)
}

func TestPollerMovesTheOffsetOnlyAfterStoring(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	srv, spy, url := startFake(t)
	require.NoError(t, srv.Enqueue(telegramtest.TextUpdate(10, anna.ID, anna, "one")))
	require.NoError(t, srv.Enqueue(telegramtest.TextUpdate(11, anna.ID, anna, "two")))

	// The inbox fails the second update's first Add: the batch is not confirmed
	// and comes again, and the first update, stored already, is a redelivery.
	inbox := &countingInbox{Inbox: pipeline.NewInbox(pool, salonID)}
	offsets := pipeline.NewOffsets(pool, salonID)
	p := telegram.NewPoller(url, srv.Token(), nil, &failSecond{countingInbox: inbox}, offsets, nil)
	r := runPoller(t, p)
	require.Eventually(t, func() bool {
		sent := spy.offsetsSent()
		return savedOffset(t, offsets) == 12 && len(sent) >= 3 && sent[len(sent)-1] == 12
	}, 5*time.Second, 20*time.Millisecond)
	require.NoError(t, r.stop(t))

	sent := spy.offsetsSent()
	require.Equal(t, []int64{0, 0, 12}, sent[:3], "the offset stayed until both were stored")
	require.Equal(t, []string{"10", "10", "11"}, inbox.adds())
	require.Len(t, inboxRows(t, pool, salonID), 2)
}

// failSecond fails the first Add of update 11.
type failSecond struct {
	*countingInbox
	once sync.Once
}

func (f *failSecond) Add(ctx context.Context, channel, updateID, chatID string, payload []byte, dead string) error {
	failed := false
	if updateID == "11" {
		f.once.Do(func() { failed = true })
	}
	if failed {
		return errors.New("inbox down")
	}
	return f.countingInbox.Add(ctx, channel, updateID, chatID, payload, dead)
}

func TestPollerDeletesTheWebhook(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	srv, _, url := startFake(t)
	resp, err := http.Post(url+"/bot"+srv.Token()+"/setWebhook", "application/json",
		strings.NewReader(`{"url":"http://127.0.0.1:9/telegram/webhook","secret_token":"s3cret"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, srv.Enqueue(telegramtest.TextUpdate(1, anna.ID, anna, "hi")))

	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	r := runPoller(t, telegram.NewPoller(url, srv.Token(), nil, pipeline.NewInbox(pool, salonID), pipeline.NewOffsets(pool, salonID), log))
	require.Eventually(t, func() bool { return len(inboxRows(t, pool, salonID)) == 1 }, 5*time.Second, 20*time.Millisecond)
	require.NoError(t, r.stop(t))

	_, err = srv.Deliver(t.Context(), telegramtest.TextUpdate(2, anna.ID, anna, "hi"))
	require.ErrorIs(t, err, telegramtest.ErrNoWebhook, "the webhook is gone")
	require.Contains(t, logs.String(), "webhook deleted")
}

func TestPollerRetries(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	srv, spy, url := startFake(t)
	srv.FailNext("getUpdates", http.StatusBadGateway, 2)
	srv.FailNext("getUpdates", http.StatusConflict, 1)
	srv.FailNext("getUpdates", http.StatusTooManyRequests, 1) // retry_after 1
	require.NoError(t, srv.Enqueue(telegramtest.TextUpdate(5, anna.ID, anna, "hi")))

	r := runPoller(t, telegram.NewPoller(url, srv.Token(), nil, pipeline.NewInbox(pool, salonID), pipeline.NewOffsets(pool, salonID), nil))
	require.Eventually(t, func() bool { return len(inboxRows(t, pool, salonID)) == 1 }, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, r.stop(t))

	var polls []pollCall
	for _, c := range spy.recorded() {
		if c.method == "getUpdates" {
			polls = append(polls, c)
		}
	}
	require.GreaterOrEqual(t, len(polls), 5)
	want := []int{http.StatusBadGateway, http.StatusBadGateway, http.StatusConflict, http.StatusTooManyRequests, http.StatusOK}
	for i, status := range want {
		require.Equal(t, status, polls[i].status, "poll %d", i)
	}
	require.GreaterOrEqual(t, polls[1].at.Sub(polls[0].at), 100*time.Millisecond, "backoff")
	require.GreaterOrEqual(t, polls[2].at.Sub(polls[1].at), 200*time.Millisecond, "backoff doubles")
	require.GreaterOrEqual(t, polls[4].at.Sub(polls[3].at), time.Second, "retry_after is waited out")
}

func TestPollerWrongToken(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	_, _, url := startFake(t)
	const wrong = "7000000001:WrongTokenWrongTokenWrongToken00000"
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	p := telegram.NewPoller(url, wrong, nil, pipeline.NewInbox(pool, salonID), pipeline.NewOffsets(pool, salonID), log)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	err := p.Run(ctx)
	require.Error(t, err)
	require.ErrorContains(t, err, "unauthorized")
	for _, s := range []string{err.Error(), logs.String()} {
		require.NotContains(t, s, wrong)
		require.NotContains(t, s, "WrongToken")
		require.NotContains(t, s, url)
	}
	require.ErrorContains(t, telegram.NewPoller(url, " ", nil, nil, nil, nil).Run(t.Context()), "token is empty")
}

func TestPollerStopsMidPoll(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	srv, spy, url := startFake(t)
	r := runPoller(t, telegram.NewPoller(url, srv.Token(), nil, pipeline.NewInbox(pool, salonID), pipeline.NewOffsets(pool, salonID), nil))
	select {
	case <-spy.polling:
	case <-time.After(5 * time.Second):
		t.Fatal("no getUpdates request")
	}
	time.Sleep(100 * time.Millisecond) // the fake is waiting on its 25 s long poll
	require.NoError(t, r.stop(t), "a cancelled poller returns nil, promptly")
}
