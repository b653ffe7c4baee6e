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
