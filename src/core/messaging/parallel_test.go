package messaging

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core/dialog"
)

// onceOutbox hands out its messages in one batch, then nothing.
type onceOutbox struct {
	memOutbox
	batch []Queued
	given bool
}

func (o *onceOutbox) Due(context.Context, string, int) ([]Queued, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.given {
		return nil, nil
	}
	o.given = true
	return o.batch, nil
}

// gateTransport holds every send until want sends are in flight together: a
// sender that sends one at a time never gets past the first.
type gateTransport struct {
	want    int
	mu      sync.Mutex
	flying  int
	most    int
	release chan struct{}
	open    bool
}

func (t *gateTransport) Send(ctx context.Context, _ Outgoing) Result {
	t.mu.Lock()
	t.flying++
	t.most = max(t.most, t.flying)
	if t.flying == t.want && !t.open {
		t.open = true
		close(t.release)
	}
	t.mu.Unlock()
	select {
	case <-t.release:
	case <-time.After(20 * time.Second): // a failing sender: let the test report it
	}
	t.mu.Lock()
	t.flying--
	t.mu.Unlock()
	return Result{}
}

func TestSenderSendsToChatsInParallel(t *testing.T) {
	t.Parallel()
	out := &onceOutbox{memOutbox: *newMemOutbox()}
	for i := range 6 {
		out.batch = append(out.batch, Queued{ID: int64(i + 1), Outgoing: Outgoing{ChatID: fmt.Sprint(i), Reply: &dialog.Reply{Text: "hi"}}})
	}
	tr := &gateTransport{want: 4, release: make(chan struct{})}
	s := &Sender{Channel: "x", Outbox: out, Transport: tr, Parallel: 4, Log: slog.New(slog.DiscardHandler),
		Limits: Limits{Global: Rate{Count: 1000, Per: time.Second, Burst: 1000}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	require.Eventually(t, func() bool {
		out.mu.Lock()
		defer out.mu.Unlock()
		return len(out.done) == 6
	}, 15*time.Second, 5*time.Millisecond, "four sends in flight at once released the gate")
	cancel()
	<-done
	tr.mu.Lock()
	defer tr.mu.Unlock()
	require.Equal(t, 4, tr.most, "never more than Parallel in flight")
}

func TestSenderPauseIsTheLongestAsked(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	s := &Sender{}
	// Two sends in flight together: the 30 s answer comes back first, then the 1 s one.
	s.pauseUntil(now.Add(30 * time.Second))
	s.pauseUntil(now.Add(time.Second))
	require.Equal(t, now.Add(30*time.Second), s.pausedUntil(), "a 1 s answer must not shorten a 30 s pause")
}
