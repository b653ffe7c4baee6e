package core

import "time"

// Clock tells the current instant. Core code never calls time.Now: the clock is
// injected so that tests can fix "now" and the availability rules stay pure.
type Clock interface {
	Now() time.Time
}

// Timer is a Clock that can also wait. Core code that paces itself (the chat
// pipeline's workers and sender) waits through it, never with time.Sleep or
// time.After, so that tests decide how time passes.
type Timer interface {
	Clock
	// After sends the time on the returned channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock, in UTC: for instants that are stored or shown.
// UTC drops the monotonic reading, so to measure durations use MonotonicClock.
type SystemClock struct{}

// Now returns the current instant in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// After waits d on the real clock.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// MonotonicClock is the real clock for measuring durations (pacing, token
// buckets, pauses): its times keep the monotonic reading, so a step of the wall
// clock neither stalls nor hurries a wait. They are in the local zone; call UTC
// (which drops the monotonic reading) on one before storing or showing it.
type MonotonicClock struct{}

// Now returns the current instant with its monotonic reading.
func (MonotonicClock) Now() time.Time { return time.Now() }

// After waits d on the real clock.
func (MonotonicClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// FixedClock always answers the same instant; tests move it by assigning T.
type FixedClock struct{ T time.Time }

// Now returns c.T in UTC.
func (c *FixedClock) Now() time.Time { return c.T.UTC() }

// After does not wait: a fixed clock's time does not pass, so every wait is
// over at once (the channel holds c's time).
func (c *FixedClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}
