package messaging

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/dialog"
)

// Chat runs one conversation step; *dialog.Service is one.
type Chat interface {
	Handle(ctx context.Context, key dialog.ChatKey, in dialog.Inbound) ([]dialog.Reply, error)
}

// Worker takes updates from the inbox and answers them through the conversation.
type Worker struct {
	SalonID string
	Channel string
	Inbox   Inbox
	Decoder Decoder
	Chat    Chat
	// FloodLimit is how many updates one chat may send in FloodWindow
	// before the rest are absorbed: answered once with FloodNotice, then only
	// acknowledged. Zero means 20: a client tapping through a booking as fast as
	// replies come sends about ten in ten seconds and must never be taken for a
	// flood (the load harness found that 10 did).
	FloodLimit int
	// FloodNotice gives the polite notice in the client's language (from the
	// channel's hint).
	FloodNotice func(langHint string) string
	// FloodWindow is how far back, by the provider's times, a chat's updates
	// count towards FloodLimit. Zero means 10 s. Updates that queued at the
	// provider while the service was away arrive together but were sent over
	// minutes: by their own times they are no flood.
	FloodWindow time.Duration
	// DoubleTap is how soon a repeat of the same button counts as one press. Zero
	// means 3 s.
	DoubleTap time.Duration
	// Busy, when set, reports that the provider is waiting on us (webhook
	// deliveries not yet stored and acknowledged). A worker about to take the
	// next update waits while it is, 2 ms at a time, at most 20 ms: acks come
	// first, as a slow ack holds back the provider's whole delivery queue, and
	// steps still go on at a bounded pace however long the burst lasts.
	Busy func() bool
	// AwaitAcks, when set, is used instead of Busy: a worker about to take
	// its next update calls it (and again before each further step of a
	// batch), and it returns once the provider's deliveries
	// waiting at the call are stored and acknowledged (about one group commit),
	// or after a bound of its own. Acks still come first, but a step waits for
	// the deliveries ahead of it only, not for a moment with none waiting
	// (under a steady stream of deliveries Busy is nearly always true, and
	// every step waited its whole 20 ms: 4 workers made at most 200 steps a
	// second). Its waits inside a batch count toward batchBudget.
	AwaitAcks func(ctx context.Context)
	// Queued, when set, is called after a batch of steps was handled and its
	// transaction ended, when a step of it queued something (its replies are
	// in the outbox): the channel's sender looks at once.
	Queued func()
	// Batch is how many chats' updates a worker takes in one inbox
	// transaction at most (Inbox.NextBatch): their steps run one after
	// another and their effects commit together, one commit for many steps.
	// Only as many as are waiting are taken. Zero means 1: a step each.
	Batch int
	// Clock waits between polls of an idle inbox and while Busy. Nil means
	// core.MonotonicClock.
	Clock core.Timer
	Log   *slog.Logger
	// ReplyKeyboard: the channel's contact button stays on the client's
	// screen until a message takes it away (Telegram's reply keyboard): the
	// replies that only do that (dialog.Reply.KeyboardOnly) go to the outbox.
	// False: they are dropped, never queued.
	ReplyKeyboard bool
	// Ads, when set, is told of the ad click an update carries (Decoded.Ad)
	// before the step; nil (ad reporting off) keeps nothing of it.
	Ads Ads
}

// batchBudget is how long a batch's steps may run before its other chats are
// skipped (taken again by the next batch) and what was done commits. The
// first chat's replies wait for the batch's last step, so a slow step (a
// dialog that hangs until its 30 s timeout) must not hold the replies of the
// Batch-1 chats after it, nor a long batch the acks (the waits for them
// count). It is checked before each step: it bounds the steps started after
// it, not one already running, which still holds the replies before it until
// its own timeout. Longer than a batch of 8 ordinary steps (about 1 ms each)
// takes: on the idle 2-core machine converse-ceiling made 736–756 steps/s with
// 25 ms against 613–644 with 5 ms, ack p99 11.7–13.2 ms against 10.2–10.9 ms.
const batchBudget = 25 * time.Millisecond

// Run handles updates with n workers until ctx ends; a step under way is finished
// first (its own context is not cancelled with ctx).
func (w *Worker) Run(ctx context.Context, n int) {
	clock := w.Clock
	if clock == nil {
		clock = core.MonotonicClock{}
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			idle := 10 * time.Millisecond
			for ctx.Err() == nil {
				if w.AwaitAcks != nil {
					w.AwaitAcks(ctx)
				}
				for i := 0; w.AwaitAcks == nil && w.Busy != nil && i < 10 && ctx.Err() == nil && w.Busy(); i++ {
					select {
					case <-ctx.Done():
					case <-clock.After(2 * time.Millisecond):
					}
				}
				if ctx.Err() != nil {
					break
				}
				queued, first, ended := false, true, false
				var began time.Time
				taken, err := w.Inbox.NextBatch(context.WithoutCancel(ctx), w.Channel, max(w.Batch, 1), func(p Pending) (Handled, error) {
					if !first {
						// The batch's replies commit only after its last
						// step: once it has run batchBudget (a step that
						// took long, or acks awaited), the rest are skipped
						// (left pending, taken again next), so that the
						// steps done are committed and sent now. Ending it
						// as soon as acks had to be awaited at all was tried:
						// fewer steps (median 338 against 416 a second) and
						// worse acks (p99 26.7 against 18.3 ms) in
						// converse-ceiling, as more batches meant more
						// commits.
						ended = ended || clock.Now().Sub(began) > batchBudget
						if !ended && w.AwaitAcks != nil {
							// Acks first still holds per step: the batch's next
							// step waits for the deliveries waiting now (the
							// batch's transaction holds no lock their commits
							// take: they insert updates; the chats' rows are
							// written only after the last step).
							w.AwaitAcks(ctx)
						}
						if ended || ctx.Err() != nil {
							// Ended, or stopping: only the step in hand is
							// finished, as without batches; the rest stay
							// pending.
							return Handled{}, ErrSkipped
						}
					} else {
						began = clock.Now()
					}
					first = false
					h, err := w.step(p)
					queued = queued || err == nil && len(h.Out) > 0
					return h, err
				})
				if err != nil {
					w.Log.Warn("update not handled; retried later", slog.String("channel", w.Channel), slog.String("error", err.Error()))
				}
				if taken > 0 {
					// After the batch's commit, never before (a batch whose
					// transaction failed took none: the pause below).
					if queued && w.Queued != nil {
						w.Queued()
					}
					idle = 10 * time.Millisecond
					continue
				}
				select {
				case <-ctx.Done():
				case <-clock.After(idle):
				}
				idle = min(2*idle, 200*time.Millisecond)
			}
		})
	}
	wg.Wait()
}

// step handles one pending update; it is what NextBatch calls for each.
func (w *Worker) step(p Pending) (Handled, error) {
	d, paid := DecodePayment(p.Payload)
	var err error
	if !paid {
		d, err = w.Decoder.Decode(p.Payload)
	}
	if err != nil {
		w.Log.Info("dead letter", slog.String("channel", w.Channel), slog.Int64("inbox_id", p.ID), slog.String("reason", err.Error()))
		return Handled{Dead: "undecodable: " + err.Error()}, nil
	}
	h := Handled{Sent: d.Sent}
	if d.Ack != "" {
		h.Out = append(h.Out, Outgoing{ChatID: p.ChatID, Ack: d.Ack})
	}
	limit := w.FloodLimit
	if limit == 0 {
		limit = 20
	}
	limit = min(limit, FloodLookback-1) // Earlier holds no more: a higher limit would never be reached
	switch recent := w.recent(p, d); {
	case d.Inbound.Kind == dialog.KindPaid:
		// A payment is never absorbed: money was taken and the booking waits.
	case recent > limit: // already told: absorb
		return h, nil
	case recent == limit:
		h.Out = append(h.Out, Outgoing{ChatID: p.ChatID, Reply: &dialog.Reply{Text: w.FloodNotice(d.Inbound.LangHint)}})
		return h, nil
	case w.doubleTap(p, d):
		return h, nil
	}
	key := dialog.ChatKey{SalonID: w.SalonID, Channel: w.Channel, ChatID: p.ChatID}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if d.Ad != nil && w.Ads != nil && !d.Inbound.Shared {
		// A failure loses the click (the chat's bookings go unreported),
		// never the chat: the step runs.
		if err := w.Ads.Clicked(ctx, key, *d.Ad, p.Received); err != nil {
			w.Log.Warn("ad click not noted", slog.String("channel", w.Channel), slog.Int64("inbox_id", p.ID), slog.String("error", err.Error()))
		}
	}
	replies, err := w.Chat.Handle(ctx, key, d.Inbound)
	if err != nil {
		return Handled{}, err
	}
	if !w.ReplyKeyboard {
		kept := replies[:0:0]
		for _, r := range replies {
			if !r.KeyboardOnly {
				kept = append(kept, r)
			}
		}
		replies = kept
	}
	for i := range replies {
		h.Forget = h.Forget || replies[i].Forget
		o := Outgoing{ChatID: p.ChatID, Reply: &replies[i]}
		if i == 0 && d.Origin != "" && len(replies[i].Choices) > 0 && !replies[i].NoEdit && !w.pressedOld(p, d) {
			// A press answered with a new question: the question replaces the
			// message pressed, so the chat does not fill with spent keyboards.
			// Only the first reply can, so the step's replies stay in reading
			// order: when it has no choices (help text before a menu), all go
			// as new messages rather than the menu landing above the text. A
			// reply marked NoEdit (a press on a reminder, which keeps its time
			// and address) goes as a new message too.
			o.Edit = d.Origin
		}
		h.Out = append(h.Out, o)
	}
	w.Log.Info("update", slog.String("channel", w.Channel), slog.Int64("inbox_id", p.ID), slog.Int("replies", len(replies)))
	return h, nil
}

// recent counts the chat's updates sent within FloodWindow before this one, by
// the provider's times (the time received where it gives none).
func (w *Worker) recent(p Pending, d Decoded) int {
	window := w.FloodWindow
	if window == 0 {
		window = 10 * time.Second
	}
	at := d.Sent
	if at.IsZero() {
		at = p.Received
	}
	n := 0
	for _, e := range p.Earlier {
		if e.After(at.Add(-window)) {
			n++
		}
	}
	return n
}

// pressedOld reports whether d presses a button on a message older than the
// chat's previous update (a message the client typed since, or a press on a
// newer message): the answer then goes as a new message at the bottom of the
// chat rather than into a message scrolled out of view.
func (w *Worker) pressedOld(p Pending, d Decoded) bool {
	if p.Previous == nil || d.Seq == 0 {
		return false
	}
	prev, err := w.Decoder.Decode(p.Previous.Payload)
	return err == nil && prev.Seq > d.Seq
}

// doubleTap reports whether d presses the same button as the chat's previous
// update did a moment before: a double tap acts once.
func (w *Worker) doubleTap(p Pending, d Decoded) bool {
	if p.Previous == nil || d.Inbound.Kind != dialog.KindChoice {
		return false
	}
	window := w.DoubleTap
	if window == 0 {
		window = 3 * time.Second
	}
	if p.Received.Sub(p.Previous.Received) > window {
		return false
	}
	prev, err := w.Decoder.Decode(p.Previous.Payload)
	return err == nil && prev.Inbound.Kind == dialog.KindChoice && prev.Inbound.Choice == d.Inbound.Choice
}
