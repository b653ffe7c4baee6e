package telegramtest

import (
	"net/http"
	"strconv"
	"time"
)

// Limit is a token bucket: up to Burst messages may go at once, and the bucket
// refills at Count messages per Per. In any span W it admits at most
// Burst + W×Count/Per messages. The zero Limit (Count or Per zero) is no limit.
type Limit struct {
	Count int
	Per   time.Duration
	// Burst is the bucket size; zero means Count.
	Burst int
}

// Limits are Telegram's flood limits as the fake enforces them on sendMessage and
// editMessageText. Telegram publishes them as guidance (Bot FAQ), not as exact
// figures.
type Limits struct {
	// PerChat applies to every chat.
	PerChat Limit
	// PerGroup applies, on top of PerChat, to groups (negative chat ids).
	PerGroup Limit
	// Global applies to all chats of the bot together.
	Global Limit
}

// DefaultLimits are Telegram's published figures: about 1 message per second per
// chat, with a burst of 3 tolerated (Telegram says "short bursts"; 3 is the fake's
// choice); 20 messages per minute per group; about 30 messages per second in total.
func DefaultLimits() Limits {
	return Limits{
		PerChat:  Limit{Count: 1, Per: time.Second, Burst: 3},
		PerGroup: Limit{Count: 20, Per: time.Minute},
		Global:   Limit{Count: 30, Per: time.Second},
	}
}

func (l Limit) unlimited() bool { return l.Count <= 0 || l.Per <= 0 }

func (l Limit) interval() time.Duration { return l.Per / time.Duration(l.Count) }

func (l Limit) burst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return l.Count
}

// bucket holds a limit's state as the theoretical arrival time of the next
// message (GCRA): a message is admitted when tat is at most Burst-1 intervals ahead
// of now.
type bucket struct{ tat time.Time }

// wait returns how long until b admits one more message under l; zero means now.
func (b *bucket) wait(l Limit, now time.Time) time.Duration {
	if l.unlimited() {
		return 0
	}
	allowAt := b.tat.Add(-time.Duration(l.burst()-1) * l.interval())
	if allowAt.Sub(now) > jitter {
		return allowAt.Sub(now)
	}
	return 0
}

// jitter is how early a message may arrive and still be admitted: a sender
// that paces exactly at the limit sees its requests arrive with the network's
// jitter (a request taken at t+1 s may land 999.7 ms after the one taken at t),
// and Telegram's limits are guidance ("about 1 per second"), not a stopwatch.
const jitter = 25 * time.Millisecond

// take spends one message of b under l.
func (b *bucket) take(l Limit, now time.Time) {
	if l.unlimited() {
		return
	}
	if b.tat.Before(now) {
		b.tat = now
	}
	b.tat = b.tat.Add(l.interval())
}

// admitLocked checks every limit that applies to a message to chat c and spends
// one message of each, or spends nothing and returns the 429 reply. Checking all
// before spending any means a refused message costs nothing.
func (s *Server) admitLocked(c *chat, now time.Time) (reply, bool) {
	wait := max(s.global.wait(s.limits.Global, now), c.bucket.wait(s.limits.PerChat, now))
	if c.id < 0 {
		wait = max(wait, c.groupBucket.wait(s.limits.PerGroup, now))
	}
	if wait > 0 {
		n := retryAfter(wait)
		rep := failReply(http.StatusTooManyRequests, "Too Many Requests: retry after "+strconv.Itoa(n))
		rep.retryAfter = n
		return rep, false
	}
	s.global.take(s.limits.Global, now)
	c.bucket.take(s.limits.PerChat, now)
	if c.id < 0 {
		c.groupBucket.take(s.limits.PerGroup, now)
	}
	return reply{}, true
}

// retryAfter is Telegram's retry_after: whole seconds until a slot frees, at
// least 1.
func retryAfter(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
