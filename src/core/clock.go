package core

import "time"

// Clock tells the current instant. Core code never calls time.Now: the clock is
// injected so that tests can fix "now" and the availability rules stay pure.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now returns the current instant in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// FixedClock always answers the same instant; tests move it by assigning T.
type FixedClock struct{ T time.Time }

// Now returns c.T in UTC.
func (c *FixedClock) Now() time.Time { return c.T.UTC() }
