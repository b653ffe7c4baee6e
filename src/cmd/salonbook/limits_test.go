package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// call is one request the bot made to the Bot API, as a recording transport saw it.
type call struct {
	start      time.Time // the request left
	at         time.Time // its answer came back
	method     string
	status     int
	retryAfter time.Duration
}

type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	var parsed struct {
		Parameters struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	_ = json.Unmarshal(body, &parsed)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{start: start, at: time.Now(), method: req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:],
		status: resp.StatusCode, retryAfter: time.Duration(parsed.Parameters.RetryAfter) * time.Second})
	return resp, nil
}

func (r *recorder) all() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// sendBurst queues n replies to each of chats and drains them with the real sender,
// transport and client against the fake Bot API limited by fakeLimits.
func sendBurst(t *testing.T, n int, chats []string, fakeLimits *telegramtest.Limits, senderLimits messaging.Limits) (*telegramtest.Server, *recorder) {
	t.Helper()
	fake, fakeURL := telegramtest.Start(t, telegramtest.Options{Limits: fakeLimits})
	rec := &recorder{}
	b, err := telegram.NewBot(fake.Token(), fakeURL, &http.Client{Transport: rec, Timeout: 10 * time.Second}, nil)
	require.NoError(t, err)
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	inbox, outbox := pipeline.NewInbox(pool, salonID), pipeline.NewOutbox(pool, salonID)
	for _, chat := range chats {
		require.NoError(t, inbox.Add(context.Background(), "telegram", "u"+chat, chat, []byte("{}"), ""))
		_, err = inbox.Next(context.Background(), "telegram", func(p messaging.Pending) (messaging.Handled, error) {
			var out []messaging.Outgoing
			for i := range n {
				out = append(out, messaging.Outgoing{ChatID: p.ChatID, Reply: &dialog.Reply{Text: fmt.Sprint("message ", i)}})
			}
			return messaging.Handled{Out: out}, nil
		})
		require.NoError(t, err)
	}
	sender := &messaging.Sender{Channel: "telegram", Outbox: outbox, Transport: telegram.NewTransport(b), Limits: senderLimits,
		Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sender.Run(ctx); close(done) }()
	require.Eventually(t, func() bool { return len(fake.Sent()) == n*len(chats) }, 60*time.Second, 50*time.Millisecond,
		"every message is delivered in the end")
	cancel()
	<-done
	return fake, rec
}

// TestSenderKeepsTelegramsLimits: with the sender's limits at Telegram's, a burst
// to one chat never draws a 429 and arrives in order.
func TestSenderKeepsTelegramsLimits(t *testing.T) {
	t.Parallel()
	fake, rec := sendBurst(t, 6, []string{"4242"}, nil, messaging.Limits{
		Global:  messaging.Rate{Count: 30, Per: time.Second, Burst: 30},
		PerChat: messaging.Rate{Count: 1, Per: time.Second, Burst: 3},
	})
	for _, c := range rec.all() {
		require.NotEqual(t, http.StatusTooManyRequests, c.status)
	}
	for i, m := range fake.SentTo(4242) {
		require.Equal(t, fmt.Sprint("message ", i), m.Text, "in order")
	}
}

// TestSenderWaitsOutRetryAfter: when Telegram is stricter than the sender thinks
// (a chat limited to one message per 2 s), the sender gets 429s, loses nothing,
// and sends nothing at all (to any chat) before retry_after has passed.
func TestSenderWaitsOutRetryAfter(t *testing.T) {
	t.Parallel()
	strict := &telegramtest.Limits{PerChat: telegramtest.Limit{Count: 1, Per: 2 * time.Second, Burst: 1}}
	_, rec := sendBurst(t, 3, []string{"4242", "4343"}, strict, messaging.Limits{})
	calls := rec.all()
	limited := 0
	for _, c := range calls {
		if c.status != http.StatusTooManyRequests {
			continue
		}
		limited++
		require.GreaterOrEqual(t, c.retryAfter, time.Second)
		// Sends run in parallel (to different chats): one already decided when
		// the 429 came back cannot be recalled (the sender learns of the 429 a
		// fraction of a millisecond after the transport does), but none may
		// leave later than that before retry_after has passed.
		const together = 10 * time.Millisecond
		for _, d := range calls {
			if d.start.After(c.at.Add(together)) {
				require.GreaterOrEqual(t, d.start.Sub(c.at), c.retryAfter-50*time.Millisecond,
					"a request left %v after a 429 that asked for %v", d.start.Sub(c.at), c.retryAfter)
			}
		}
	}
	require.Positive(t, limited, "the fake did limit the sender")
}

// TestSenderPausesEveryChatOnA429: a 429 for one chat stops sends to all chats
// (Telegram's flood control is per bot): a chat whose message is queued right
// after the 429, and which the fake would accept, still waits out retry_after.
func TestSenderPausesEveryChatOnA429(t *testing.T) {
	t.Parallel()
	strict := &telegramtest.Limits{PerChat: telegramtest.Limit{Count: 1, Per: 2 * time.Second, Burst: 1}}
	fake, fakeURL := telegramtest.Start(t, telegramtest.Options{Limits: strict})
	rec := &recorder{}
	b, err := telegram.NewBot(fake.Token(), fakeURL, &http.Client{Transport: rec, Timeout: 10 * time.Second}, nil)
	require.NoError(t, err)
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	inbox, outbox := pipeline.NewInbox(pool, salonID), pipeline.NewOutbox(pool, salonID)
	queue := func(chat string, n int) {
		require.NoError(t, inbox.Add(context.Background(), "telegram", "u"+chat, chat, []byte("{}"), ""))
		_, err := inbox.Next(context.Background(), "telegram", func(p messaging.Pending) (messaging.Handled, error) {
			var out []messaging.Outgoing
			for i := range n {
				out = append(out, messaging.Outgoing{ChatID: p.ChatID, Reply: &dialog.Reply{Text: fmt.Sprint("message ", i)}})
			}
			return messaging.Handled{Out: out}, nil
		})
		require.NoError(t, err)
	}
	queue("4242", 2)
	sender := &messaging.Sender{Channel: "telegram", Outbox: outbox, Transport: telegram.NewTransport(b), Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sender.Run(ctx); close(done) }()
	var limitedAt time.Time
	require.Eventually(t, func() bool {
		for _, c := range rec.all() {
			if c.status == http.StatusTooManyRequests {
				limitedAt = c.at
				return true
			}
		}
		return false
	}, 20*time.Second, time.Millisecond)
	queue("4343", 1) // a fresh chat: the fake would take it at once
	require.Eventually(t, func() bool { return len(fake.SentTo(4343)) == 1 && len(fake.SentTo(4242)) == 2 }, 30*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	for _, c := range rec.all() {
		if c.start.After(limitedAt) && c.status != http.StatusTooManyRequests {
			require.GreaterOrEqual(t, c.start.Sub(limitedAt), 2*time.Second-50*time.Millisecond,
				"a send left %v after a 429 that asked for 2s", c.start.Sub(limitedAt))
		}
	}
}
