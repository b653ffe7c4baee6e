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

// memOutbox records what the sender did with each message.
type memOutbox struct {
	mu    sync.Mutex
	done  map[int64]Queued
	later map[int64]time.Time
	fails map[int64]bool
}

func newMemOutbox() *memOutbox {
	return &memOutbox{done: map[int64]Queued{}, later: map[int64]time.Time{}, fails: map[int64]bool{}}
}

func (o *memOutbox) Due(context.Context, string, int, int) ([]Queued, error) { return nil, nil }
func (o *memOutbox) Done(_ context.Context, q Queued, _ string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done[q.ID] = q
	return nil
}
func (o *memOutbox) Later(_ context.Context, q Queued, at time.Time, failed bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.later[q.ID], o.fails[q.ID] = at, failed
	return nil
}
func (o *memOutbox) Block(context.Context, Queued) error { return nil }

// scriptedTransport answers each chat with its scripted result.
type scriptedTransport struct{ byChat map[string]Result }

func (t scriptedTransport) Send(_ context.Context, o Outgoing) Result { return t.byChat[o.ChatID] }

func TestSenderChatRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	out := newMemOutbox()
	s := &Sender{
		Channel: "x", Outbox: out, Log: slog.New(slog.DiscardHandler), Clock: &core.FixedClock{T: now},
		Limits: Limits{Global: Rate{Count: 100, Per: time.Second, Burst: 100}, PerChat: Rate{Count: 1, Per: 6 * time.Second, Burst: 5}},
		Transport: scriptedTransport{byChat: map[string]Result{
			"busy": {Err: errTest("pair limit"), ChatRetryAfter: 6 * time.Second},
			"ok":   {ProviderID: "p-1"},
		}},
	}
	reply := &dialog.Reply{Text: "hi"}
	s.one(context.Background(), Queued{ID: 1, Outgoing: Outgoing{ChatID: "busy", Reply: reply}})
	s.one(context.Background(), Queued{ID: 2, Outgoing: Outgoing{ChatID: "ok", Reply: reply}})

	require.Equal(t, now.Add(6*time.Second), out.later[1], "the refused chat is retried after the provider's wait")
	require.False(t, out.fails[1], "a per-chat limit is not a failed attempt: the message is never given up for it")
	require.NotContains(t, out.done, int64(1))
	require.Equal(t, "p-1", out.done[2].ProviderID, "the provider's id is kept for its delivery statuses")
	require.True(t, s.pausedUntil().IsZero(), "the other chats are not paused")

	// Nothing goes to the refused chat before then, although its burst had tokens.
	at, ok := s.take("busy", now.Add(5*time.Second))
	require.False(t, ok)
	require.Equal(t, now.Add(6*time.Second), at)
	_, ok = s.take("busy", now.Add(6*time.Second))
	require.True(t, ok)
	_, ok = s.take("busy", now.Add(6*time.Second))
	require.False(t, ok, "after the wait the chat has one token, not a fresh burst")
}

// hungTransport never answers: it returns only when its context ends.
type hungTransport struct{}

func (hungTransport) Send(ctx context.Context, _ Outgoing) Result {
	<-ctx.Done()
	return Result{Err: ctx.Err(), Retry: true}
}

// TestSenderCutsOffAHungSend: a send that never returns is cut off after
// SendTimeout and retried later as a failed attempt, well inside the outbox
// lease, so no other sender takes the message while this one still might send it.
func TestSenderCutsOffAHungSend(t *testing.T) {
	t.Parallel()
	out := newMemOutbox()
	s := &Sender{Channel: "x", Outbox: out, Log: slog.New(slog.DiscardHandler), Transport: hungTransport{}, SendTimeout: 50 * time.Millisecond}
	done := make(chan struct{})
	go func() {
		s.one(context.Background(), Queued{ID: 1, Outgoing: Outgoing{ChatID: "c", Reply: &dialog.Reply{Text: "hi"}}})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the hung send was never cut off")
	}
	require.True(t, out.fails[1], "counted as a failed attempt")
	require.NotContains(t, out.done, int64(1))
}

type errTest string

func (e errTest) Error() string { return string(e) }

// stepClock is a clock whose time passes only by the waits asked of it.
type stepClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

// TestSenderWaitsForATokenOnItsClock: a message a moment away from its token
// waits on the sender's clock, then goes.
func TestSenderWaitsForATokenOnItsClock(t *testing.T) {
	t.Parallel()
	clock := &stepClock{t: time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)}
	out := newMemOutbox()
	s := &Sender{
		Channel: "x", Outbox: out, Log: slog.New(slog.DiscardHandler), Clock: clock,
		Limits:    Limits{Global: Rate{Count: 20, Per: time.Second, Burst: 1}},
		Transport: scriptedTransport{byChat: map[string]Result{"a": {}, "b": {}}},
	}
	reply := &dialog.Reply{Text: "hi"}
	s.one(context.Background(), Queued{ID: 1, Outgoing: Outgoing{ChatID: "a", Reply: reply}})
	s.one(context.Background(), Queued{ID: 2, Outgoing: Outgoing{ChatID: "b", Reply: reply}})
	require.Contains(t, out.done, int64(1))
	require.Contains(t, out.done, int64(2), "sent after waiting for the overall limit's next token")
	require.Equal(t, []time.Duration{50 * time.Millisecond}, clock.waits)
}
