package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/dialog"
)

// textDecoder reads "choice:ID", "text:..." or anything else as undecodable.
type textDecoder struct{}

func (textDecoder) Decode(raw []byte) (Decoded, error) {
	kind, arg, _ := strings.Cut(string(raw), ":")
	switch kind {
	case "choice":
		return Decoded{Inbound: dialog.Inbound{Kind: dialog.KindChoice, Choice: arg}, Ack: "cb-" + arg}, nil
	case "press": // press:ORIGIN:CHOICE, a press on message ORIGIN
		origin, choice, _ := strings.Cut(arg, ":")
		seq, _ := strconv.ParseInt(origin, 10, 64)
		return Decoded{Inbound: dialog.Inbound{Kind: dialog.KindChoice, Choice: choice}, Ack: "cb-" + choice, Origin: origin, Seq: seq}, nil
	case "said": // said:SEQ:TEXT, text the client typed as message SEQ of the chat
		at, text, _ := strings.Cut(arg, ":")
		seq, err := strconv.ParseInt(at, 10, 64)
		return Decoded{Inbound: dialog.Inbound{Kind: dialog.KindText, Text: text}, Seq: seq}, err
	case "text":
		return Decoded{Inbound: dialog.Inbound{Kind: dialog.KindText, Text: arg}}, nil
	case "sent": // sent:UNIX:TEXT, a message the client sent at UNIX
		at, text, _ := strings.Cut(arg, ":")
		sec, err := strconv.ParseInt(at, 10, 64)
		return Decoded{Inbound: dialog.Inbound{Kind: dialog.KindText, Text: text}, Sent: time.Unix(sec, 0).UTC()}, err
	}
	return Decoded{}, errors.New("not an update")
}

// countingChat answers every event with one reply and counts them.
type countingChat struct{ calls int }

func (c *countingChat) Handle(context.Context, dialog.ChatKey, dialog.Inbound) ([]dialog.Reply, error) {
	c.calls++
	return []dialog.Reply{{Text: "answer"}}, nil
}

// fixedChat answers every event with the same replies.
type fixedChat []dialog.Reply

func (c fixedChat) Handle(context.Context, dialog.ChatKey, dialog.Inbound) ([]dialog.Reply, error) {
	return c, nil
}

func TestWorkerEditsPressedMessage(t *testing.T) {
	t.Parallel()
	menu := dialog.Reply{Text: "What now?", Choices: []dialog.Choice{{ID: "book", Label: "Book"}}}
	times := dialog.Reply{Text: "Which time?", Choices: []dialog.Choice{{ID: "t:1", Label: "10:00"}}}
	info := dialog.Reply{Text: "I can book you an appointment."}
	step := func(t *testing.T, chat fixedChat, payload string) []Outgoing {
		t.Helper()
		w := &Worker{SalonID: "s", Channel: "tg", Decoder: textDecoder{}, Chat: chat, Log: slog.New(slog.DiscardHandler)}
		h, err := w.step(Pending{ChatID: "7", Payload: []byte(payload)})
		require.NoError(t, err)
		require.Empty(t, h.Dead)
		return h.Out
	}

	t.Run("FirstReplyWithChoicesReplacesIt", func(t *testing.T) {
		t.Parallel()
		out := step(t, fixedChat{times, menu}, "press:42:book")
		require.Equal(t, []Outgoing{
			{ChatID: "7", Ack: "cb-book"},
			{ChatID: "7", Reply: &times, Edit: "42"},
			{ChatID: "7", Reply: &menu}, // further replies are new messages
		}, out)
	})

	t.Run("APressOnAnOldMessageIsAnsweredBelow", func(t *testing.T) {
		t.Parallel()
		w := &Worker{SalonID: "s", Channel: "tg", Decoder: textDecoder{}, Chat: fixedChat{times}, Log: slog.New(slog.DiscardHandler)}
		after := func(prev, payload string) []Outgoing {
			h, err := w.step(Pending{ChatID: "7", Payload: []byte(payload), Previous: &Pending{ChatID: "7", Payload: []byte(prev)}})
			require.NoError(t, err)
			return h.Out
		}
		require.Equal(t, "42", after("press:42:book", "press:42:t:1")[1].Edit, "pressing on in the same message edits it")
		require.Equal(t, "42", after("said:41:hi", "press:42:book")[1].Edit, "the message the client typed came before the keyboard")
		require.Empty(t, after("said:50:hi", "press:42:book")[1].Edit, "the client typed since: the keyboard is old")
		require.Empty(t, after("press:60:x", "press:42:book")[1].Edit, "a newer message was pressed before: this one is old")
	})

	t.Run("AReplyMarkedNoEditLeavesThePressedMessage", func(t *testing.T) {
		t.Parallel()
		// "I'll come" on a reminder: the reminder (its time, its address) stays.
		thanks := dialog.Reply{Text: "Thank you!", Choices: menu.Choices, NoEdit: true}
		out := step(t, fixedChat{thanks}, "press:42:ok:b1:1")
		require.Equal(t, []Outgoing{{ChatID: "7", Ack: "cb-ok:b1:1"}, {ChatID: "7", Reply: &thanks}}, out)
	})

	t.Run("FirstReplyWithoutChoicesKeepsOrder", func(t *testing.T) {
		t.Parallel()
		// Help text, then the menu: both new, so the menu stays below the text.
		out := step(t, fixedChat{info, menu}, "press:42:help")
		require.Equal(t, []Outgoing{{ChatID: "7", Ack: "cb-help"}, {ChatID: "7", Reply: &info}, {ChatID: "7", Reply: &menu}}, out)
	})

	t.Run("UnknownMessageOrTypedTextIsNew", func(t *testing.T) {
		t.Parallel()
		out := step(t, fixedChat{times}, "choice:book") // a press the channel cannot place
		require.Equal(t, []Outgoing{{ChatID: "7", Ack: "cb-book"}, {ChatID: "7", Reply: &times}}, out)
		out = step(t, fixedChat{times}, "text:10:00")
		require.Equal(t, []Outgoing{{ChatID: "7", Reply: &times}}, out)
	})
}

func TestWorkerStep(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	newWorker := func() (*Worker, *countingChat) {
		chat := &countingChat{}
		return &Worker{SalonID: "s", Channel: "tg", Decoder: textDecoder{}, Chat: chat, Log: slog.New(slog.DiscardHandler),
			FloodNotice: func(string) string { return "slow down" }}, chat
	}
	// pending is an update received now after recent others received just before it.
	pending := func(payload string, recent int, prev *Pending) Pending {
		var earlier []time.Time
		for i := range recent {
			earlier = append(earlier, now.Add(-time.Duration(i+1)*10*time.Millisecond))
		}
		return Pending{ChatID: "7", UpdateID: "u", Payload: []byte(payload), Received: now, Earlier: earlier, Previous: prev}
	}

	t.Run("AnswersAndAcknowledges", func(t *testing.T) {
		t.Parallel()
		w, chat := newWorker()
		h, err := w.step(pending("choice:book", 0, nil))
		require.NoError(t, err)
		require.Empty(t, h.Dead)
		require.Equal(t, []Outgoing{{ChatID: "7", Ack: "cb-book"}, {ChatID: "7", Reply: &dialog.Reply{Text: "answer"}}}, h.Out)
		require.Equal(t, 1, chat.calls)
	})

	t.Run("PastedFloodGetsOneNotice", func(t *testing.T) {
		t.Parallel()
		w, chat := newWorker()
		var notices, handled int
		for i := range 50 { // a client pastes 50 messages: the first twenty are answered
			h, err := w.step(pending("text:spam", i, nil))
			require.NoError(t, err)
			for _, o := range h.Out {
				if o.Reply != nil && o.Reply.Text == "slow down" {
					notices++
				}
			}
			handled = chat.calls
		}
		require.Equal(t, 1, notices, "one polite notice, not fifty")
		require.Equal(t, 20, handled, "bursts never become outbound bursts")
	})

	t.Run("FloodIsJudgedByWhenSent", func(t *testing.T) {
		t.Parallel()
		// 30 messages a client sent 20 s apart while the service was away: the
		// provider delivers them together when it is back. Each is answered.
		w, chat := newWorker()
		var earlier []time.Time
		for i := range 30 {
			sent := now.Add(-10 * time.Minute).Add(time.Duration(i) * 20 * time.Second)
			p := Pending{ChatID: "7", Payload: []byte(fmt.Sprintf("sent:%d:hello", sent.Unix())), Received: now.Add(time.Duration(i) * time.Millisecond),
				Earlier: slices.Clone(earlier)}
			h, err := w.step(p)
			require.NoError(t, err)
			require.Equal(t, sent, h.Sent, "the provider's time is kept for later updates")
			require.Len(t, h.Out, 1)
			require.Equal(t, "answer", h.Out[0].Reply.Text)
			earlier = append([]time.Time{h.Sent}, earlier...)
		}
		require.Equal(t, 30, chat.calls)

		// The same 30 sent within one second are a flood.
		w, chat = newWorker()
		earlier = nil
		for i := range 30 {
			sent := now.Add(time.Duration(i) * 30 * time.Millisecond).Truncate(time.Second)
			h, err := w.step(Pending{ChatID: "7", Payload: []byte(fmt.Sprintf("sent:%d:hello", sent.Unix())), Received: now, Earlier: slices.Clone(earlier)})
			require.NoError(t, err)
			earlier = append([]time.Time{h.Sent}, earlier...)
		}
		require.Equal(t, 20, chat.calls)
	})

	t.Run("DoubleTapActsOnce", func(t *testing.T) {
		t.Parallel()
		w, chat := newWorker()
		first := pending("choice:ok", 0, nil)
		second := pending("choice:ok", 1, &first)
		second.Received = now.Add(400 * time.Millisecond)
		h, err := w.step(second)
		require.NoError(t, err)
		require.Equal(t, []Outgoing{{ChatID: "7", Ack: "cb-ok"}}, h.Out, "answered (the spinner stops) but not acted on")
		require.Zero(t, chat.calls)

		later := second
		later.Received = now.Add(5 * time.Second)
		_, err = w.step(later)
		require.NoError(t, err)
		require.Equal(t, 1, chat.calls, "the same button pressed again later is a new press")
	})

	t.Run("UndecodableIsADeadLetter", func(t *testing.T) {
		t.Parallel()
		w, chat := newWorker()
		h, err := w.step(pending("garbage", 0, nil))
		require.NoError(t, err)
		require.Empty(t, h.Out)
		require.Contains(t, h.Dead, "undecodable")
		require.Zero(t, chat.calls)
	})
}

// timedInbox records when NextBatch is called, and how often Busy had been asked by
// then, and never has anything.
type timedInbox struct {
	mu    sync.Mutex
	busy  *atomic.Int64
	calls []time.Time
	asked []int64
}

func (in *timedInbox) NextBatch(context.Context, string, int, func(Pending) (Handled, error)) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.calls, in.asked = append(in.calls, time.Now()), append(in.asked, in.busy.Load())
	return 0, nil
}

func (in *timedInbox) Add(context.Context, string, string, string, []byte, string) error { return nil }

// TestWorkerHoldsBackWhileTheProviderWaits: while Busy (webhook deliveries
// waiting for their commit), a worker waits before its next step, 2 ms at a
// time, but at most 10 times: steps go on however long the burst lasts.
func TestWorkerHoldsBackWhileTheProviderWaits(t *testing.T) {
	t.Parallel()
	run := func(busy bool) *timedInbox {
		var asked atomic.Int64
		in := &timedInbox{busy: &asked}
		w := &Worker{Channel: "tg", Inbox: in, Log: slog.New(slog.DiscardHandler),
			Busy: func() bool { asked.Add(1); return busy }}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx, 1); close(done) }()
		require.Eventually(t, func() bool {
			in.mu.Lock()
			defer in.mu.Unlock()
			return len(in.calls) >= 2
		}, 5*time.Second, time.Millisecond, "the worker goes on")
		cancel()
		<-done
		in.mu.Lock()
		defer in.mu.Unlock()
		return in
	}
	start := time.Now()
	in := run(true)
	require.Equal(t, int64(10), in.asked[0], "always busy: it waits ten times, then takes the next update")
	require.GreaterOrEqual(t, in.calls[0].Sub(start), 20*time.Millisecond)
	require.Equal(t, int64(1), run(false).asked[0], "nothing waiting: the update is taken at once")
}

// TestWorkerAwaitsTheAcksAheadOfEachStep: with AwaitAcks set, a worker calls
// it before every Next (and Busy is not asked): the deliveries waiting then
// are acknowledged first, and the step goes on as soon as they are.
func TestWorkerAwaitsTheAcksAheadOfEachStep(t *testing.T) {
	t.Parallel()
	var asked, awaited atomic.Int64
	in := &timedInbox{busy: &awaited}
	w := &Worker{Channel: "tg", Inbox: in, Log: slog.New(slog.DiscardHandler),
		Busy:      func() bool { asked.Add(1); return true },
		AwaitAcks: func(context.Context) { awaited.Add(1) }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx, 1); close(done) }()
	require.Eventually(t, func() bool {
		in.mu.Lock()
		defer in.mu.Unlock()
		return len(in.calls) >= 3
	}, 5*time.Second, time.Millisecond, "the worker goes on")
	cancel()
	<-done
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, n := range in.asked[:3] {
		require.Equal(t, int64(i+1), n, "AwaitAcks is called once before each Next")
	}
	require.Zero(t, asked.Load(), "Busy is not polled when AwaitAcks is set")
}

// TestWorkerForgetsTheErasingUpdate: a step that erased the chat's data
// (a reply marked Forget) makes the update's handling say so, so that the
// inbox blanks it; other steps do not.
func TestWorkerForgetsTheErasingUpdate(t *testing.T) {
	t.Parallel()
	for _, forget := range []bool{true, false} {
		w := &Worker{SalonID: "s", Channel: "tg", Decoder: textDecoder{}, Log: slog.New(slog.DiscardHandler),
			Chat: fixedChat{{Text: "Done: erased.", Forget: forget}, {Text: "What now?"}}}
		h, err := w.step(Pending{ChatID: "7", Payload: []byte("choice:erase:yes")})
		require.NoError(t, err)
		require.Equal(t, forget, h.Forget)
	}
}

// TestWorkerKeyboardOnlyReply: the reply that only takes a contact keyboard
// away is a message of its own, before the reply it makes room for, on a
// channel with such a keyboard; elsewhere it is never queued.
func TestWorkerKeyboardOnlyReply(t *testing.T) {
	t.Parallel()
	gone := dialog.Reply{Text: "👍 Got it", RemoveKeyboard: true, KeyboardOnly: true, Lang: "en"}
	menu := dialog.Reply{Text: "What now?", Choices: []dialog.Choice{{ID: "book", Label: "Book"}}}
	step := func(t *testing.T, replyKeyboard bool, payload string) []Outgoing {
		t.Helper()
		w := &Worker{SalonID: "s", Channel: "c", Decoder: textDecoder{}, Chat: fixedChat{gone, menu},
			ReplyKeyboard: replyKeyboard, Log: slog.New(slog.DiscardHandler)}
		h, err := w.step(Pending{ChatID: "7", Payload: []byte(payload)})
		require.NoError(t, err)
		return h.Out
	}

	t.Run("AMessageOfItsOwnFirst", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []Outgoing{{ChatID: "7", Reply: &gone}, {ChatID: "7", Reply: &menu}}, step(t, true, "text:+49 151 1"))
		out := step(t, true, "press:42:menu")
		require.Equal(t, []Outgoing{{ChatID: "7", Ack: "cb-menu"}, {ChatID: "7", Reply: &gone}, {ChatID: "7", Reply: &menu}}, out,
			"neither replaces the pressed message: the removal cannot be edited in")
	})

	t.Run("DroppedWithoutAReplyKeyboard", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []Outgoing{{ChatID: "7", Reply: &menu}}, step(t, false, "text:+49 151 1"))
		require.Equal(t, []Outgoing{{ChatID: "7", Ack: "cb-menu"}, {ChatID: "7", Reply: &menu, Edit: "42"}}, step(t, false, "press:42:menu"),
			"the reply with buttons is the first again")
	})
}

// batchInbox hands its updates out up to the limit asked at a time, stepping
// each through handle, and records what happened in order (events, shared
// with the worker's callbacks).
type batchInbox struct {
	mu      sync.Mutex
	pending []Pending
	limits  []int
	events  *events
}

func (in *batchInbox) NextBatch(_ context.Context, _ string, limit int, handle func(Pending) (Handled, error)) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.limits = append(in.limits, limit)
	n := min(limit, len(in.pending))
	for _, p := range in.pending[:n] {
		h, err := handle(p)
		in.events.add(fmt.Sprintf("step %s: %d out, %v", p.ChatID, len(h.Out), err))
	}
	in.pending = in.pending[n:]
	if n > 0 {
		in.events.add("commit")
	}
	return n, nil
}

func (in *batchInbox) Add(context.Context, string, string, string, []byte, string) error { return nil }

type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(event string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, event)
}

// TestWorkerTakesBatches: a worker asks the inbox for up to Batch chats'
// updates at a time (1 when unset), steps each of them as it would alone
// (awaiting the acks before each, as before each batch), and wakes the sender
// once per batch, after it, when a step queued something.
func TestWorkerTakesBatches(t *testing.T) {
	t.Parallel()
	run := func(batch int, acks bool, payloads ...string) (*batchInbox, []string) {
		in := &batchInbox{events: &events{}}
		for i, p := range payloads {
			in.pending = append(in.pending, Pending{ID: int64(i + 1), ChatID: fmt.Sprint("c", i), Payload: []byte(p)})
		}
		w := &Worker{SalonID: "s", Channel: "tg", Inbox: in, Decoder: textDecoder{}, Chat: &countingChat{},
			Log: slog.New(slog.DiscardHandler), Batch: batch, Queued: func() { in.events.add("queued") }, Clock: stoppedNow{}}
		if acks {
			w.AwaitAcks = func(context.Context) { in.events.add("acks") }
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx, 1); close(done) }()
		require.Eventually(t, func() bool {
			in.mu.Lock()
			defer in.mu.Unlock()
			return len(in.pending) == 0 && len(in.limits) > len(payloads)/max(batch, 1)
		}, 5*time.Second, time.Millisecond)
		cancel()
		<-done
		in.mu.Lock()
		defer in.mu.Unlock()
		return in, in.events.list
	}
	in, got := run(3, false, "text:a", "garbage", "text:c", "text:d")
	require.Equal(t, 3, in.limits[0])
	require.Equal(t, []string{
		"step c0: 1 out, <nil>", "step c1: 0 out, <nil>", "step c2: 1 out, <nil>", "commit", "queued",
		"step c3: 1 out, <nil>", "commit", "queued",
	}, got, "each update stepped as alone; the sender woken after each batch")
	_, got = run(2, true, "text:a", "text:b", "text:c")
	require.Equal(t, []string{
		"acks", "step c0: 1 out, <nil>", "acks", "step c1: 1 out, <nil>", "commit", "queued",
		"acks", "step c2: 1 out, <nil>", "commit", "queued", "acks",
	}, got[:11], "the acks waiting go first before every step")
	_, got = run(0, false, "garbage")
	require.Equal(t, []string{"step c0: 0 out, <nil>", "commit"}, got, "nothing queued: the sender is not woken")
	in, _ = run(0, false, "text:a")
	require.Equal(t, 1, in.limits[0], "unset: one at a time")
}

// stoppingChat answers every event with one reply, and stops its worker's
// run (stop) at the first.
type stoppingChat struct{ stop func() }

func (c stoppingChat) Handle(context.Context, dialog.ChatKey, dialog.Inbound) ([]dialog.Reply, error) {
	c.stop()
	return []dialog.Reply{{Text: "answer"}}, nil
}

// TestWorkerStoppingFinishesOnlyTheStepInHand: a worker stopped during a
// batch finishes the step in hand, as without batches, and skips the batch's
// others (ErrSkipped: the inbox leaves them pending), so shutdown waits for
// one step, not a batch of them.
func TestWorkerStoppingFinishesOnlyTheStepInHand(t *testing.T) {
	t.Parallel()
	in := &batchInbox{events: &events{}}
	for i := range 3 {
		in.pending = append(in.pending, Pending{ID: int64(i + 1), ChatID: fmt.Sprint("c", i), Payload: []byte("text:hi")})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &Worker{SalonID: "s", Channel: "tg", Inbox: in, Decoder: textDecoder{}, Chat: stoppingChat{stop: cancel},
		Log: slog.New(slog.DiscardHandler), Batch: 3, Queued: func() { in.events.add("queued") }, Clock: stoppedNow{},
		AwaitAcks: func(context.Context) { in.events.add("acks") }}
	w.Run(ctx, 1)
	require.Equal(t, []string{
		"acks", "step c0: 1 out, <nil>", "acks", "step c1: 0 out, messaging: update not stepped",
		"acks", "step c2: 0 out, messaging: update not stepped", "commit", "queued",
	}, in.events.list)
}

// stoppedNow is a clock whose time stands still (a batch's steps take no time
// by it, however slow the machine) while its waits are real.
type stoppedNow struct{}

func (stoppedNow) Now() time.Time                         { return time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC) }
func (stoppedNow) After(d time.Duration) <-chan time.Time { return time.After(d) }

// slowChat answers every event with one reply; an event "text:slow" takes
// longer than batchBudget by the clock (it waits on it), "text:almost" just
// less.
type slowChat struct{ clock core.Timer }

func (c slowChat) Handle(_ context.Context, _ dialog.ChatKey, in dialog.Inbound) ([]dialog.Reply, error) {
	switch in.Text {
	case "slow":
		<-c.clock.After(batchBudget + 5*time.Millisecond)
	case "almost":
		<-c.clock.After(batchBudget - time.Millisecond)
	}
	return []dialog.Reply{{Text: "answer"}}, nil
}

// TestWorkerEndsABatchEarly: a batch's replies commit only after its last
// step, so once its steps have taken longer than batchBudget (a slow step;
// the acks awaited before its steps count too), the batch's other chats are
// skipped (left pending, taken again next) and what was done commits now.
func TestWorkerEndsABatchEarly(t *testing.T) {
	t.Parallel()
	run := func(payloads []string, slowAcks int) []string {
		in := &batchInbox{events: &events{}}
		for i, p := range payloads {
			in.pending = append(in.pending, Pending{ID: int64(i + 1), ChatID: fmt.Sprint("c", i), Payload: []byte(p)})
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		clock := &stepClock{t: time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)}
		w := &Worker{SalonID: "s", Channel: "tg", Inbox: in, Decoder: textDecoder{}, Chat: slowChat{clock: clock},
			Log: slog.New(slog.DiscardHandler), Batch: len(payloads), Clock: clock,
			Queued: func() { in.events.add("queued"); cancel() }}
		if slowAcks > 0 {
			calls := 0
			w.AwaitAcks = func(context.Context) {
				calls++
				in.events.add("acks")
				if calls == slowAcks { // deliveries waited for: longer than the budget
					<-clock.After(batchBudget + time.Millisecond)
				}
			}
		}
		w.Run(ctx, 1)
		return in.events.list
	}
	skipped := "0 out, messaging: update not stepped"
	require.Equal(t, []string{
		"step c0: 1 out, <nil>", "step c1: 1 out, <nil>", "step c2: " + skipped, "step c3: " + skipped, "commit", "queued",
	}, run([]string{"text:a", "text:slow", "text:c", "text:d"}, 0), "after a slow step the batch ends")
	require.Equal(t, []string{
		"step c0: 1 out, <nil>", "step c1: 1 out, <nil>", "step c2: 1 out, <nil>", "commit", "queued",
	}, run([]string{"text:a", "text:b", "text:c"}, 0), "fast steps: the whole batch")
	require.Equal(t, []string{
		"step c0: 1 out, <nil>", "step c1: 1 out, <nil>", "step c2: 1 out, <nil>", "commit", "queued",
	}, run([]string{"text:a", "text:almost", "text:c"}, 0), "steps within the budget: the whole batch")
	require.Equal(t, []string{
		"acks", "step c0: 1 out, <nil>", "acks", "step c1: 1 out, <nil>", "acks", "step c2: 1 out, <nil>", "step c3: " + skipped, "commit", "queued",
	}, run([]string{"text:a", "text:b", "text:c", "text:d"}, 3), "the time acks were awaited counts")
}
