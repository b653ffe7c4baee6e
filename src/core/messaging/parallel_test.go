package messaging

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
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

func (o *onceOutbox) Due(context.Context, string, int, int) ([]Queued, error) {
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

// chatOutbox keeps Due's contract: it hands out only the oldest unsent message
// of each chat, and not while that one is out (leased); it also checks that Due
// is never asked for more than the free slots.
type chatOutbox struct {
	parallel int

	mu         sync.Mutex
	queued     []Queued        // unsent, in id order
	leased     map[string]bool // chats whose head is out
	sent       []Queued        // in the order Done was called
	dues       []time.Time     // when Due was called for messages (not only answers)
	overAsked  int             // Due calls asking for more than the free slots
	handedBack int             // Later calls
}

func (o *chatOutbox) add(chatID string, n int) {
	for range n {
		o.queued = append(o.queued, Queued{ID: int64(len(o.queued) + 1), Outgoing: Outgoing{ChatID: chatID, Reply: &dialog.Reply{Text: "hi"}}})
	}
}

func (o *chatOutbox) Due(_ context.Context, _ string, answers, messages int) ([]Queued, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if messages > 0 {
		o.dues = append(o.dues, time.Now())
	}
	if len(o.leased)+messages > o.parallel {
		o.overAsked++
	}
	var out []Queued
	seen := map[string]bool{}
	for _, q := range o.queued {
		lane, limit := q.Outgoing.ChatID, &messages
		if q.Outgoing.Reply == nil {
			lane, limit = lane+"/answer", &answers
		}
		if seen[lane] {
			continue
		}
		seen[lane] = true
		if !o.leased[lane] && *limit > 0 {
			*limit--
			o.leased[lane] = true
			out = append(out, q)
		}
	}
	return out, nil
}

func (o *chatOutbox) Done(_ context.Context, q Queued, _ string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.queued = slices.DeleteFunc(o.queued, func(x Queued) bool { return x.ID == q.ID })
	delete(o.leased, laneOf(q))
	o.sent = append(o.sent, q)
	return nil
}

func (o *chatOutbox) Later(_ context.Context, q Queued, _ time.Time, _ bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.handedBack++
	delete(o.leased, laneOf(q))
	return nil
}

func laneOf(q Queued) string {
	if q.Outgoing.Reply == nil {
		return q.Outgoing.ChatID + "/answer"
	}
	return q.Outgoing.ChatID
}

func (o *chatOutbox) Block(context.Context, Queued) error { return nil }

func (o *chatOutbox) sentTo(pred func(chatID string) bool) []Queued {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Queued
	for _, q := range o.sent {
		if pred(q.Outgoing.ChatID) {
			out = append(out, q)
		}
	}
	return out
}

// slowTransport holds every send to chat "slow" until release is closed; the
// others go at once.
type slowTransport struct {
	release chan struct{}
	mu      sync.Mutex
	flying  int
	most    int
}

func (t *slowTransport) Send(_ context.Context, o Outgoing) Result {
	t.mu.Lock()
	t.flying++
	t.most = max(t.most, t.flying)
	t.mu.Unlock()
	if o.ChatID == "slow" {
		select {
		case <-t.release:
		case <-time.After(20 * time.Second): // a failing sender: let the test report it
		}
	}
	t.mu.Lock()
	t.flying--
	t.mu.Unlock()
	return Result{}
}

func TestSenderKeepsSendingWhileOneSendHangs(t *testing.T) {
	t.Parallel()
	// One chat's send hangs (a provider that does not answer); eight other chats
	// have five messages each, 40 in all: far more than one Due's worth (10 at
	// Parallel 4). A sender that waits for a whole batch before taking the next
	// sends only the first batch until the hung send ends.
	out := &chatOutbox{parallel: 4, leased: map[string]bool{}}
	out.add("slow", 1)
	for range 5 {
		for c := range 8 {
			out.add(fmt.Sprint("c", c), 1)
		}
	}
	tr := &slowTransport{release: make(chan struct{})}
	s := &Sender{Channel: "x", Outbox: out, Transport: tr, Parallel: 4, Log: slog.New(slog.DiscardHandler),
		Limits: Limits{Global: Rate{Count: 1000, Per: time.Second, Burst: 1000}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()

	others := func(chatID string) bool { return chatID != "slow" }
	require.Eventually(t, func() bool { return len(out.sentTo(others)) == 40 }, 10*time.Second, 5*time.Millisecond,
		"the other chats' messages go on while one send hangs")
	require.Empty(t, out.sentTo(func(c string) bool { return c == "slow" }), "the hung send is still in flight")
	lastID := map[string]int64{}
	for _, q := range out.sentTo(others) {
		require.Greater(t, q.ID, lastID[q.Outgoing.ChatID], "a chat's messages go in order")
		lastID[q.Outgoing.ChatID] = q.ID
	}

	// Stopping: Run waits for the send in flight and records its result.
	cancel()
	require.Never(t, func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}, 100*time.Millisecond, 5*time.Millisecond, "Run returns only after its sends in flight have finished")
	close(tr.release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its last send finished")
	}
	require.Len(t, out.sentTo(func(c string) bool { return c == "slow" }), 1, "the send in flight at the stop is recorded")

	out.mu.Lock()
	defer out.mu.Unlock()
	require.Zero(t, out.overAsked, "Due is asked for no more than the free slots")
	tr.mu.Lock()
	defer tr.mu.Unlock()
	require.LessOrEqual(t, tr.most, 4, "never more than Parallel in flight")
}

// pauseTransport answers the first send to chat "a" with a 429.
type pauseTransport struct {
	pause  time.Duration
	mu     sync.Mutex
	paused time.Time // when the 429 was answered
	starts []time.Time
}

func (t *pauseTransport) Send(_ context.Context, o Outgoing) Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o.ChatID == "a" && t.paused.IsZero() {
		t.paused = time.Now()
		return Result{Err: errTest("429"), RetryAfter: t.pause}
	}
	t.starts = append(t.starts, time.Now())
	return Result{}
}

func TestSenderPipelinePausesOn429(t *testing.T) {
	t.Parallel()
	out := &chatOutbox{parallel: 4, leased: map[string]bool{}}
	out.add("a", 1)
	for c := range 60 {
		out.add(fmt.Sprint("c", c%12), 1)
	}
	tr := &pauseTransport{pause: 500 * time.Millisecond}
	s := &Sender{Channel: "x", Outbox: out, Transport: tr, Parallel: 4, Log: slog.New(slog.DiscardHandler),
		// 100 a second: the sends spread over the pause rather than all going before it.
		Limits: Limits{Global: Rate{Count: 100, Per: time.Second, Burst: 1}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	require.Eventually(t, func() bool { return len(out.sentTo(func(string) bool { return true })) == 61 }, 15*time.Second, 5*time.Millisecond,
		"everything is sent once the pause is over, the refused message too")
	cancel()
	<-done

	tr.mu.Lock()
	defer tr.mu.Unlock()
	require.False(t, tr.paused.IsZero())
	// A send that had passed the pause check when the 429 came back may still
	// start a moment later; nothing starts after that until the pause ends.
	from, until := tr.paused.Add(200*time.Millisecond), tr.paused.Add(tr.pause)
	for _, at := range tr.starts {
		require.False(t, at.After(from) && at.Before(until), "a send started %v into a %v pause", at.Sub(tr.paused), tr.pause)
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	for _, at := range out.dues {
		require.False(t, at.After(from) && at.Before(until), "Due was asked for messages %v into a %v pause", at.Sub(tr.paused), tr.pause)
	}
}

// TestSenderTakesWhatItCanSend: under the bot's overall limit the sender takes
// from the outbox only what the limit lets go out soon, rather than taking
// messages to hand them back (each a write, and another scan to find them).
func TestSenderTakesWhatItCanSend(t *testing.T) {
	t.Parallel()
	out := &chatOutbox{parallel: 8, leased: map[string]bool{}}
	for i := range 40 {
		out.add(fmt.Sprint("c", i), 1)
	}
	s := &Sender{Channel: "x", Outbox: out, Transport: &slowTransport{}, Log: slog.New(slog.DiscardHandler), Parallel: 8,
		Limits: Limits{Global: Rate{Count: 20, Per: time.Second, Burst: 1}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	require.Eventually(t, func() bool { return len(out.sentTo(func(string) bool { return true })) == 40 }, 10*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	out.mu.Lock()
	defer out.mu.Unlock()
	require.LessOrEqual(t, out.handedBack, 4, "40 messages at 20/s: taken as tokens come, hardly any handed back")
}

// TestSenderAnswersPressesWhileMessagesWait: callback answers need no token, so
// one queued behind a backlog held back by the overall limit goes at once, not
// after the messages ahead of it.
func TestSenderAnswersPressesWhileMessagesWait(t *testing.T) {
	t.Parallel()
	out := &chatOutbox{parallel: 8, leased: map[string]bool{}}
	for i := range 60 {
		out.add(fmt.Sprint("c", i), 1)
	}
	out.queued = append(out.queued, Queued{ID: 1000, Outgoing: Outgoing{ChatID: "presser", Ack: "cb"}})
	s := &Sender{Channel: "x", Outbox: out, Transport: &slowTransport{}, Log: slog.New(slog.DiscardHandler), Parallel: 8,
		Limits: Limits{Global: Rate{Count: 30, Per: time.Second, Burst: 1}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	require.Eventually(t, func() bool { return len(out.sentTo(func(c string) bool { return c == "presser" })) == 1 },
		10*time.Second, 5*time.Millisecond)
	messages := len(out.sentTo(func(c string) bool { return c != "presser" }))
	cancel()
	<-done
	require.Less(t, messages, 20, "the answer went before most of the 60 messages (2 s at 30/s)")
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Zero(t, s.claimed, "every message taken gave its claim back")
}

// answerPauseTransport answers the first message with a 429 asking for a long
// wait; everything else goes.
type answerPauseTransport struct {
	mu     sync.Mutex
	paused bool
}

func (t *answerPauseTransport) Send(_ context.Context, o Outgoing) Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o.Reply != nil && !t.paused {
		t.paused = true
		return Result{Err: errTest("429"), RetryAfter: 30 * time.Second}
	}
	return Result{}
}

// TestSenderAnswersDuringA429Pause: after a 429 no message goes before the
// pause ends, but a callback answer (no message) still does, so the client's
// button stops spinning.
func TestSenderAnswersDuringA429Pause(t *testing.T) {
	t.Parallel()
	out := &chatOutbox{parallel: 8, leased: map[string]bool{}}
	out.add("c0", 1)
	tr := &answerPauseTransport{}
	s := &Sender{Channel: "x", Outbox: out, Transport: tr, Log: slog.New(slog.DiscardHandler), Parallel: 8}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	require.Eventually(t, func() bool { return !s.pausedUntil().IsZero() }, 5*time.Second, time.Millisecond)
	out.mu.Lock()
	out.queued = append(out.queued, Queued{ID: 1000, Outgoing: Outgoing{ChatID: "presser", Ack: "cb"}})
	out.mu.Unlock()
	require.Eventually(t, func() bool { return len(out.sentTo(func(c string) bool { return c == "presser" })) == 1 },
		5*time.Second, 5*time.Millisecond, "the answer goes within the 30 s pause")
	require.Empty(t, out.sentTo(func(c string) bool { return c == "c0" }), "the message waits the pause out")
	cancel()
	<-done
}

// hangingTransport hangs every send to a chat named "slow…" until release.
type hangingTransport struct {
	release chan struct{}
}

func (t *hangingTransport) Send(_ context.Context, o Outgoing) Result {
	if strings.HasPrefix(o.ChatID, "slow") {
		select {
		case <-t.release:
		case <-time.After(20 * time.Second):
		}
	}
	return Result{}
}

// TestSenderFillsFreeSlotsWhileWoken: with most slots held by hung sends, the
// sender fills the free ones after 20 ms without a send finishing, even while
// workers wake it without pause (a steady stream of steps).
func TestSenderFillsFreeSlotsWhileWoken(t *testing.T) {
	t.Parallel()
	out := &chatOutbox{parallel: 4, leased: map[string]bool{}}
	for c := range 3 {
		out.add(fmt.Sprint("slow", c), 1)
	}
	for range 3 {
		for c := range 4 {
			out.add(fmt.Sprint("c", c), 1)
		}
	}
	tr := &hangingTransport{release: make(chan struct{})}
	defer close(tr.release)
	wake := make(chan struct{}, 1)
	s := &Sender{Channel: "x", Outbox: out, Transport: tr, Parallel: 4, Log: slog.New(slog.DiscardHandler), Wake: wake,
		Limits: Limits{Global: Rate{Count: 1000, Per: time.Second, Burst: 1000}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	go func() { // a step commits every 2 ms
		for ctx.Err() == nil {
			select {
			case wake <- struct{}{}:
			default:
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	others := func(chatID string) bool { return !strings.HasPrefix(chatID, "slow") }
	require.Eventually(t, func() bool { return len(out.sentTo(others)) == 12 }, 10*time.Second, 5*time.Millisecond,
		"the free slot is filled beside three hung sends, wakes or not")
}
