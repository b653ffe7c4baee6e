package main

import (
	"time"

	"salonbook/src/core"
)

// fastClock is serve's core.Clock in a load run, and only there
// (LOADTEST_CLOCK_START, LOADTEST_CLOCK_AT, LOADTEST_CLOCK_RATE; see
// ClockConfig): it reads start at the wall-clock instant at and runs rate
// times faster than real time, so that two days of bookings, dialogs and
// reminders pass in minutes. It feeds every "now" the booking, dialog and
// after-booking code reads; the message pipeline's pacing (token buckets, 429
// pauses) keeps core.MonotonicClock, since a provider's limits are real time.
//
// The mapping is anchored to a wall-clock instant, not to the process's start,
// so a server killed and started again with the same settings reads the same
// time as the one before it, and the harness can turn any instant of the clock
// into the real instant it falls on.
type fastClock struct {
	start time.Time // what the clock reads at the real instant at
	rate  float64
	// offset is how far real time had gone past at when the clock was made, and
	// began the real (monotonic) instant it was made: later readings measure
	// from began, so a step of the wall clock does not move this one.
	offset time.Duration
	began  time.Time
	wall   func() time.Time // time.Now; tests replace it
}

// newFastClock makes the clock of c with wall as the real clock (time.Now).
func newFastClock(c ClockConfig, wall func() time.Time) *fastClock {
	now := wall()
	at := c.At
	if at.IsZero() {
		at = now
	}
	rate := c.Rate
	if rate == 0 {
		rate = 1
	}
	start := c.Start
	if start.IsZero() {
		start = at
	}
	return &fastClock{start: start.UTC(), rate: float64(rate), offset: now.Round(0).Sub(at), began: now, wall: wall}
}

// Now is start plus rate times the real time since at, in UTC.
func (c *fastClock) Now() time.Time {
	elapsed := c.offset + c.wall().Sub(c.began)
	return c.start.Add(time.Duration(float64(elapsed) * c.rate)).UTC()
}

// After waits d of this clock's time: d/rate of real time.
func (c *fastClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	time.AfterFunc(time.Duration(float64(d)/c.rate), func() { ch <- c.Now() })
	return ch
}

var _ core.Timer = (*fastClock)(nil)
