package messaging

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/dialog"
)

type recordedSends struct {
	mu       sync.Mutex
	outcomes map[string]int
	waits    []time.Duration
}

func (r *recordedSends) Sent(channel, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes[channel+"/"+outcome]++
}

func (r *recordedSends) Paused(channel string, wait time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, wait)
}

// TestSenderTellsItsObserver: each send's outcome, and each 429's wait, reach
// the observer once, under the sender's channel.
func TestSenderTellsItsObserver(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	obs := &recordedSends{outcomes: map[string]int{}}
	s := &Sender{
		Channel: "x", Outbox: newMemOutbox(), Log: slog.New(slog.DiscardHandler), Clock: &core.FixedClock{T: now}, Observer: obs,
		Transport: scriptedTransport{byChat: map[string]Result{
			"ok":      {ProviderID: "p-1"},
			"429":     {Err: errTest("too many"), RetryAfter: 7 * time.Second},
			"pair":    {Err: errTest("pair limit"), ChatRetryAfter: 6 * time.Second},
			"blocked": {Err: errTest("forbidden"), Blocked: true},
			"flaky":   {Err: errTest("502"), Retry: true},
			"bad":     {Err: errTest("400")},
		}},
	}
	reply := &dialog.Reply{Text: "hi"}
	for i, chat := range []string{"ok", "ok", "pair", "blocked", "flaky", "bad", "429"} {
		s.one(context.Background(), Queued{ID: int64(i), Outgoing: Outgoing{ChatID: chat, Reply: reply}})
	}
	require.Equal(t, map[string]int{"x/sent": 2, "x/chat_limited": 1, "x/blocked": 1, "x/retry": 1, "x/given_up": 1, "x/rate_limited": 1},
		obs.outcomes)
	require.Equal(t, []time.Duration{7 * time.Second}, obs.waits)
}

// countingTransport answers every send with res and counts the calls.
type countingTransport struct {
	mu    sync.Mutex
	calls int
	res   Result
}

func (c *countingTransport) Send(context.Context, Outgoing) Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	return c.res
}

// TestSenderOnRefusedCredentials: a 401 (a revoked bot token) pauses the
// channel and is counted as "unauthorized", not as a 429 and its wait; the
// message waits for the new token. A callback answer met by it is given up
// (worthless a minute later), and the callback answers that come while the
// channel is refused are given up without a call, so an outage does not retry
// each one every minute with an error line each.
func TestSenderOnRefusedCredentials(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	obs := &recordedSends{outcomes: map[string]int{}}
	out := newMemOutbox()
	tr := &countingTransport{res: Result{Err: errTest("401"), RetryAfter: time.Minute, Unauthorized: true}}
	clock := &core.FixedClock{T: now}
	s := &Sender{Channel: "x", Outbox: out, Log: slog.New(slog.DiscardHandler), Clock: clock, Observer: obs, Transport: tr,
		Limits: Limits{Global: Rate{Count: 100, Per: time.Second, Burst: 100}}}

	s.one(context.Background(), Queued{ID: 1, Outgoing: Outgoing{ChatID: "a", Reply: &dialog.Reply{Text: "hi"}}})
	require.Equal(t, now.Add(time.Minute), out.later[1], "the message waits for the new token")
	require.False(t, out.fails[1], "and is never given up for it")
	require.Equal(t, map[string]int{"x/unauthorized": 1}, obs.outcomes)
	require.Empty(t, obs.waits, "not a 429 wait")

	for i := range 5 {
		s.one(context.Background(), Queued{ID: int64(10 + i), Outgoing: Outgoing{ChatID: "b", Ack: "q"}})
		require.Contains(t, out.done, int64(10+i), "a callback answer in the outage is given up")
	}
	require.Equal(t, 1, tr.calls, "no call for callback answers while the token is refused")

	clock.T = now.Add(time.Minute)
	s.one(context.Background(), Queued{ID: 20, Outgoing: Outgoing{ChatID: "b", Ack: "q"}})
	require.Equal(t, 2, tr.calls, "after the pause one is tried")
	require.Contains(t, out.done, int64(20), "met by the 401, it is given up too, not retried")
	require.Equal(t, map[string]int{"x/unauthorized": 2}, obs.outcomes)
}
