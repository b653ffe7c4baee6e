package messaging

import (
	"cmp"
	"context"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"salonbook/src/core"
)

// Rate is at most Count events per Per, with bursts of up to Burst (at least 1).
type Rate struct {
	Count int
	Per   time.Duration
	Burst int
}

// Limits are a provider's sending limits. A zero Rate is no limit.
type Limits struct {
	Global  Rate // all messages of the bot (Telegram: about 30/s)
	PerChat Rate // one chat (Telegram: about 1/s)
	Group   Rate // one group chat (Telegram: 20/min), for chats IsGroup says are groups
}

// Sender drains the outbox of one channel within the provider's limits.
type Sender struct {
	Channel   string
	Outbox    Outbox
	Transport Transport
	Limits    Limits
	IsGroup   func(chatID string) bool
	// Clock tells the time and waits (for a token, for a send to finish).
	// Nil means core.MonotonicClock (its buckets measure durations).
	Clock core.Timer
	Log   *slog.Logger
	// Observer, when set, is told the outcome of each send and each pause
	// the provider asks for (metrics).
	Observer SendObserver
	// MaxAttempts is how many times a passing failure is retried. Zero means 8.
	MaxAttempts int
	// SendTimeout bounds one Send, all its calls to the provider together (a
	// client library may wait longer: go-telegram's HTTP client allows a 70 s
	// long poll). A send cut off counts as a passing failure. The outbox lease
	// must outlast it. Zero means 30 s.
	SendTimeout time.Duration
	// Parallel is how many sends may be in flight at once, each to a different
	// chat (the outbox hands out one message per chat at a time, so a chat's
	// messages still go in order). A provider 100 ms away allows 10 sends a
	// second one at a time, well under Telegram's 30 or WhatsApp's 80. Zero means 8.
	Parallel int
	// Wake, when set, tells an idle sender that messages were queued (the
	// channel's workers in this process signal it after a step that queued
	// replies commits): it looks at once instead of at its next poll. Other
	// processes' steps are still found by polling.
	Wake <-chan struct{}
	// DueGap is how long after a Due that found less than it asked for
	// (everything due was taken) the next Due waits at least: one scan of the
	// unsent messages then takes what several steps queued, rather than one
	// scan per reply. Zero means 2 ms; negative, no gap.
	DueGap time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
	paused  time.Time // after a 429: nothing is sent before this
	refused time.Time // after refused credentials: callback answers are given up before this
	claimed int       // messages taken whose send has not yet asked for its token
}

func (s *Sender) clock() core.Timer {
	if s.Clock != nil {
		return s.Clock
	}
	return core.MonotonicClock{}
}

func (s *Sender) now() time.Time { return s.clock().Now() }

// Run sends until ctx ends, then returns once the sends in flight have finished
// and their results are recorded; messages taken but not yet started are handed
// back. It is a pipeline: up to Parallel sends are in flight, and free slots are
// filled (Due is asked for as many callback answers as there are free slots, and
// as many messages as the overall limit allows too) as soon as half of them are
// free, or 20 ms after a send last finished, so one slow send never holds the
// others up and Due runs about once per Parallel/2 sends.
func (s *Sender) Run(ctx context.Context) {
	parallel := s.Parallel
	if parallel <= 0 {
		parallel = 8
	}
	// Each send that finishes says so here; the buffer holds one per slot, so a
	// send never blocks on it, even after Run has stopped reading.
	freed := make(chan struct{}, parallel)
	var inFlight sync.WaitGroup
	defer inFlight.Wait() // a send in flight is finished even when ctx ends: its result is recorded
	flying := 0
	var queue []Queued // taken but not started (Due hands out up to the free slots of each kind)
	defer func() {
		// Stopping: hand what was not started back now rather than when its lease ends.
		if len(queue) == 0 {
			return
		}
		release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, q := range queue {
			s.unclaim(q)
			s.later(release, q, s.now(), false)
		}
	}()
	// waitFor waits for d, a send to finish, a wake or ctx to end; it reports
	// whether a send finished or a wake came.
	waitFor := func(d time.Duration) bool {
		select {
		case <-freed:
			flying--
			return true
		case <-s.Wake: // nil: never
			return true
		case <-s.clock().After(d):
		case <-ctx.Done():
		}
		return false
	}
	// waitFreed waits for d, a send to finish or ctx to end; it reports whether
	// a send finished. A wake does not end it (it stays for the next waitFor):
	// under a steady stream of steps, wakes would otherwise restart the wait
	// for ever and slots freed beside hung sends would never be filled.
	waitFreed := func(d time.Duration) bool {
		select {
		case <-freed:
			flying--
			return true
		case <-s.clock().After(d):
		case <-ctx.Done():
		}
		return false
	}
	gap := s.DueGap
	if gap == 0 {
		gap = 2 * time.Millisecond
	}
	var shortAt time.Time // when a Due last found less than it asked for
	idle := 10 * time.Millisecond
	for ctx.Err() == nil {
		for drained := false; !drained; { // count the sends that finished
			select {
			case <-freed:
				flying--
			default:
				drained = true
			}
		}
		if flying == parallel {
			waitFor(time.Hour)
			continue
		}
		if free := parallel - flying; len(queue) == 0 && flying > 0 && free < (parallel+1)/2 && waitFreed(20*time.Millisecond) {
			// Refill by halves: each Due scans the channel's unsent messages,
			// so wait a moment for more slots to free. A send that hangs holds
			// only its own slot: after 20 ms without one finishing, fill what is free.
			continue
		}
		if len(queue) == 0 && !shortAt.IsZero() && gap > 0 {
			// The last Due took everything due: let a few more steps queue
			// their replies (or sends finish) before scanning again; once.
			wait := gap - s.now().Sub(shortAt)
			shortAt = time.Time{}
			if wait > 0 {
				select {
				case <-s.clock().After(wait):
				case <-ctx.Done():
				}
			}
			continue
		}
		if len(queue) == 0 {
			free, messages, nap := parallel-flying, 0, idle
			if wait := s.pausedUntil().Sub(s.now()); wait > 0 {
				// After a 429 no message goes before the pause ends; callback
				// answers (no message, no limit) still do.
				nap = min(wait, idle)
			} else {
				// Take no more messages than the bot's overall limit lets go
				// out soon: a message taken without a token is handed back (a
				// write, and another scan of the outbox by Due to find it
				// again). Answers need no token: they wait at most for the next
				// one (at 30/s, 33 ms).
				at, budget := s.budget(s.now())
				if budget == 0 {
					waitFor(max(at.Sub(s.now()), time.Millisecond))
					continue
				}
				messages = min(free, budget)
			}
			batch, err := s.Outbox.Due(ctx, s.Channel, free, messages)
			if err != nil {
				s.Log.Warn("outbox", slog.String("error", err.Error()))
			}
			if shortAt = (time.Time{}); len(batch) < free+messages {
				shortAt = s.now()
			}
			if len(batch) == 0 {
				// Nothing due. A send that finishes may make its chat's next
				// message due: look again as soon as one does.
				if waitFor(nap) {
					idle = 10 * time.Millisecond
				} else {
					idle = min(2*idle, 200*time.Millisecond)
				}
				continue
			}
			idle = 10 * time.Millisecond
			// Answers first: Due may hand out more than the free slots (answers
			// and messages have limits of their own), and the rest wait here
			// for a slot.
			slices.SortStableFunc(batch, func(a, b Queued) int {
				return cmp.Compare(boolInt(a.Outgoing.Reply != nil), boolInt(b.Outgoing.Reply != nil))
			})
			s.claim(batch)
			queue = batch
			if ctx.Err() != nil {
				break // the deferred hand-back returns them
			}
		}
		for len(queue) > 0 && flying < parallel {
			q := queue[0]
			queue = queue[1:]
			flying++
			inFlight.Go(func() {
				defer func() { freed <- struct{}{} }()
				s.one(context.WithoutCancel(ctx), q)
			})
		}
	}
}

// one sends a message, or puts it back for when the limits allow.
func (s *Sender) one(ctx context.Context, q Queued) {
	now := s.now()
	if !q.Outgoing.NotAfter.IsZero() && !now.Before(q.Outgoing.NotAfter) {
		// Too late (a reminder of an appointment that has begun): never sent.
		s.unclaim(q)
		s.observe(SendGivenUp)
		s.Log.Info("message given up", slog.String("channel", s.Channel), slog.Int64("id", q.ID), slog.String("reason", tooLate))
		s.done(ctx, q, tooLate)
		return
	}
	isMessage := q.Outgoing.Reply != nil // answering a callback is not a message: no limits, no pause
	if !isMessage && now.Before(s.refusedUntil()) {
		// The credentials were refused a moment ago: the answer would meet the
		// same refusal (and its error line), and is worthless once the pause ends.
		s.done(ctx, q, refused)
		return
	}
	if wait := s.pausedUntil().Sub(now); wait > 0 && isMessage {
		s.unclaim(q)
		s.later(ctx, q, now.Add(wait), false)
		return
	}
	if isMessage {
		at, ok := s.take(q.Outgoing.ChatID, now)
		if !ok && at.Sub(now) <= 100*time.Millisecond {
			// Only a moment to the next token (usually the global bucket): wait
			// here rather than hand the message back and take it again. The
			// claim on the overall limit is kept only while it is that limit
			// this message waits for.
			if s.globalReady(now) {
				s.unclaim(q)
				q.claimed = false
			}
			<-s.clock().After(at.Sub(now))
			now = s.now()
			at, ok = s.take(q.Outgoing.ChatID, now)
		}
		s.unclaim(q)
		if !ok {
			s.later(ctx, q, at, false)
			return
		}
	}
	if wait := s.pausedUntil().Sub(s.now()); wait > 0 && isMessage {
		// A parallel send met a 429 while this one waited for its token.
		s.later(ctx, q, s.now().Add(wait), false)
		return
	}
	timeout := s.SendTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	sendCtx, cancel := context.WithTimeout(ctx, timeout)
	res := s.Transport.Send(sendCtx, q.Outgoing)
	cancel()
	maxAttempts := s.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = 8
	}
	switch {
	case res.Err == nil && !res.Retry && res.RetryAfter == 0 && !res.Blocked && res.ChatRetryAfter == 0:
		q.ProviderID = res.ProviderID
		s.observe(SendOK)
		s.done(ctx, q, "")
	case res.Unauthorized:
		// The credentials were refused: every send would meet it until a new
		// token is in place. Messages wait (nothing is given up for it); a
		// callback answer is given up, as are those that come meanwhile.
		wait := res.RetryAfter
		if wait <= 0 {
			wait = time.Minute
		}
		until := s.now().Add(wait)
		s.pauseUntil(until)
		s.mu.Lock()
		if until.After(s.refused) {
			s.refused = until
		}
		s.mu.Unlock()
		s.observe(SendUnauthorized)
		if isMessage {
			s.later(ctx, q, until, false)
		} else {
			s.done(ctx, q, refused)
		}
	case res.RetryAfter > 0:
		// The provider says wait: nothing at all goes out before then.
		until := s.now().Add(res.RetryAfter)
		s.pauseUntil(until)
		s.observe(SendRateLimited)
		if s.Observer != nil {
			s.Observer.Paused(s.Channel, res.RetryAfter)
		}
		s.Log.Warn("rate limited by the provider", slog.String("channel", s.Channel), slog.Duration("retry_after", res.RetryAfter))
		s.later(ctx, q, until, false)
	case res.ChatRetryAfter > 0:
		// Only this chat must wait: empty its bucket so that nothing goes to it
		// before then, and hand the message back without counting an attempt.
		until := s.now().Add(res.ChatRetryAfter)
		s.holdChat(q.Outgoing.ChatID, until)
		s.observe(SendChatLimited)
		s.later(ctx, q, until, false)
	case res.Blocked:
		s.observe(SendBlocked)
		if err := s.Outbox.Block(ctx, q); err != nil {
			s.Log.Warn("outbox", slog.String("error", err.Error()))
		}
	case res.Retry && q.Attempts+1 < maxAttempts:
		s.observe(SendRetry)
		backoff := min(time.Duration(1<<q.Attempts)*time.Second, time.Minute)
		s.later(ctx, q, s.now().Add(backoff), true)
	default:
		reason := "rejected"
		if res.Err != nil {
			reason = "rejected: " + firstLine(res.Err.Error())
		}
		s.observe(SendGivenUp)
		s.Log.Warn("message given up", slog.String("channel", s.Channel), slog.Int64("id", q.ID), slog.String("reason", reason))
		s.done(ctx, q, reason)
	}
}

// refused is why a callback answer is given up while the channel's
// credentials are refused (Result.Unauthorized).
const refused = "given up: the channel's credentials were refused"

func (s *Sender) refusedUntil() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// tooLate is why a message past its Outgoing.NotAfter is given up.
const tooLate = "too late: past its not-after time"

// observe tells the Observer, if any, a send's outcome.
func (s *Sender) observe(outcome string) {
	if s.Observer != nil {
		s.Observer.Sent(s.Channel, outcome)
	}
}

// holdChat empties the chat's bucket so that it has no token before until.
func (s *Sender) holdChat(chatID string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Limits.PerChat.Count == 0 {
		return
	}
	if s.buckets == nil {
		s.buckets = map[string]*bucket{}
	}
	b := newBucket(s.Limits.PerChat, until)
	b.tokens, b.hold = 1, until // one token at until, then the usual refill
	s.buckets["chat:"+chatID] = b
}

// pauseUntil pauses the channel until at least until: with sends in parallel,
// a shorter wait answered later never cuts a longer one short.
func (s *Sender) pauseUntil(until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.After(s.paused) {
		s.paused = until
	}
}

func (s *Sender) pausedUntil() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused
}

func (s *Sender) done(ctx context.Context, q Queued, failure string) {
	if err := s.Outbox.Done(ctx, q, failure); err != nil {
		s.Log.Warn("outbox", slog.String("error", err.Error()))
	}
}

func (s *Sender) later(ctx context.Context, q Queued, at time.Time, failed bool) {
	// at is stored: in UTC, not the pacing clock's local zone.
	if err := s.Outbox.Later(ctx, q, at.UTC(), failed); err != nil {
		s.Log.Warn("outbox", slog.String("error", err.Error()))
	}
}

// take spends a token of the global, chat and group buckets, all or none; when
// one is empty it reports when to try again.
func (s *Sender) take(chatID string, now time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets == nil {
		s.buckets = map[string]*bucket{}
	}
	var bs []*bucket
	add := func(key string, r Rate) {
		if r.Count == 0 {
			return
		}
		b := s.buckets[key]
		if b == nil {
			b = newBucket(r, now)
			s.buckets[key] = b
		}
		bs = append(bs, b)
	}
	add("", s.Limits.Global)
	add("chat:"+chatID, s.Limits.PerChat)
	if s.IsGroup != nil && s.IsGroup(chatID) {
		add("group:"+chatID, s.Limits.Group)
	}
	var wait time.Time
	for _, b := range bs {
		if at := b.next(now); at.After(wait) {
			wait = at
		}
	}
	if wait.After(now) {
		return wait, false
	}
	for _, b := range bs {
		b.spend(now)
	}
	if len(s.buckets) > 100_000 { // idle chats' buckets are full anyway: forget them
		for k, b := range s.buckets {
			if k != "" && b.full(now) {
				delete(s.buckets, k)
			}
		}
	}
	return now, true
}

// budget says when to take messages from the outbox under the overall limit,
// and how many: as many as there are tokens now or within budgetLead, once the
// messages taken but not yet sent have theirs (a send waits a moment for its
// token: taking a message only once its token is there would lose the time Due
// takes from every token). No overall limit: now, any number.
func (s *Sender) budget(now time.Time) (time.Time, int) {
	r := s.Limits.Global
	if r.Count == 0 {
		return now, math.MaxInt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets == nil {
		s.buckets = map[string]*bucket{}
	}
	b := s.buckets[""]
	if b == nil {
		b = newBucket(r, now)
		s.buckets[""] = b
	}
	b.refill(now) // the overall bucket is never held: only a chat's is (holdChat)
	// The tokens there, and those that come within budgetLead (their sends
	// wait for them), less those the messages already taken will use.
	per := r.Per / time.Duration(r.Count)
	avail := b.tokens + float64(budgetLead)/float64(per) - float64(s.claimed)
	if avail >= 1 {
		return now, int(avail)
	}
	at := now.Add(time.Duration((1 - avail) * float64(per)))
	return at, 0
}

// budgetLead is how long before its token a message may be taken.
const budgetLead = 20 * time.Millisecond

// globalReady reports whether the overall limit has a token now (no limit:
// always).
func (s *Sender) globalReady(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[""]
	return b == nil || !b.next(now).After(now)
}

// claim counts taken messages against the overall limit until their sends ask
// for their tokens (unclaim).
func (s *Sender) claim(batch []Queued) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range batch {
		if batch[i].Outgoing.Reply != nil {
			batch[i].claimed = true
			s.claimed++
		}
	}
}

func (s *Sender) unclaim(q Queued) {
	if q.claimed {
		s.mu.Lock()
		s.claimed--
		s.mu.Unlock()
	}
}

// bucket is a token bucket.
type bucket struct {
	rate   Rate
	tokens float64
	at     time.Time
	hold   time.Time // no token before this (the provider asked to wait)
}

func newBucket(r Rate, now time.Time) *bucket {
	if r.Burst < 1 {
		r.Burst = 1
	}
	return &bucket{rate: r, tokens: float64(r.Burst), at: now}
}

func (b *bucket) refill(now time.Time) {
	if !now.After(b.at) { // clocks may step back: never take tokens away for it
		return
	}
	per := b.rate.Per / time.Duration(b.rate.Count)
	b.tokens = min(float64(b.rate.Burst), b.tokens+float64(now.Sub(b.at))/float64(per))
	b.at = now
}

// next is when a token is there.
func (b *bucket) next(now time.Time) time.Time {
	if now.Before(b.hold) {
		return b.hold
	}
	b.refill(now)
	if b.tokens >= 1 {
		return now
	}
	per := b.rate.Per / time.Duration(b.rate.Count)
	return now.Add(time.Duration((1 - b.tokens) * float64(per)))
}

func (b *bucket) spend(now time.Time) {
	b.refill(now)
	b.tokens--
}

func (b *bucket) full(now time.Time) bool {
	if now.Before(b.hold) {
		return false
	}
	b.refill(now)
	return b.tokens >= float64(b.rate.Burst)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
