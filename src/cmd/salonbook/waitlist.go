package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"salonbook/src/adapters/postgres"
	"salonbook/src/core"
	"salonbook/src/core/waitlist"
)

// waitlistSweep is how often the matcher looks at the wait-list without a
// wake: times freed without one (a hold released by its chat, a master's
// calendar block removed, a day that opened) are offered within it.
const waitlistSweep = 30 * time.Second

// matcherConcurrency is how many offers a pass makes at once
// (waitlist.Matcher.Concurrency): each holds one of the main pool's 32
// connections while it is made, and takes no other.
const matcherConcurrency = 4

// waitlistTick is the longest either loop sleeps: a hold lapses (and a wake
// is looked at) within it, plus the statement's time.
const waitlistTick = time.Second

// runWaitlist runs, until ctx ends, two loops of their own: the expiry, which
// marks lapsed holds expired when they lapse (waking at the next expiry, at
// least every waitlistTick), and the matcher, which looks for wakes every
// waitlistTick, and at once when this process's expiry expired a hold, and
// passes after one and every waitlistSweep. Apart, a slow
// or stuck pass never holds up the expiry. Every replica runs both: the
// expiry shares the rows (SKIP LOCKED), the matcher runs on one replica at a
// time. With no chat channel on, the matcher only takes the wakes (nobody can
// be offered anything), so they do not pile up.
func runWaitlist(ctx context.Context, wl *postgres.Waitlist, m *waitlist.Matcher, clock core.Clock, log *slog.Logger) {
	var wg sync.WaitGroup
	wg.Add(2)
	expired := make(chan struct{}, 1)
	go func() { defer wg.Done(); runExpiry(ctx, wl, m.SalonID, clock, log, expired) }()
	go func() { defer wg.Done(); runMatcher(ctx, wl, m, clock, log, expired, waitlistTick) }()
	wg.Wait()
}

// expiryRetry is how soon the expiry looks again at a hold that lapsed but
// is still held: a Confirm holds its row (ExpireDue skips it), and deciding
// takes it a moment.
const expiryRetry = 100 * time.Millisecond

// expiryWait is how long the expiry sleeps at now, next being the next hold
// expiry (ok false: none held) and failed whether its last ExpireDue failed:
// until next, at most waitlistTick; after a failure waitlistTick, and
// expiryRetry when next is already past, so that a hold row-locked for a
// while or a statement that keeps failing does not spin the loop.
func expiryWait(now, next time.Time, ok, failed bool) time.Duration {
	switch d := next.Sub(now); {
	case failed || !ok:
		return waitlistTick
	case d <= 0:
		return expiryRetry
	default:
		return min(waitlistTick, max(d, 10*time.Millisecond))
	}
}

// runExpiry marks the salon's lapsed holds expired as they lapse; after a
// statement that expired some it tells the matcher on expired (without
// waiting: one signal pending is enough, the wake is in the table).
func runExpiry(ctx context.Context, wl *postgres.Waitlist, salonID string, clock core.Clock, log *slog.Logger, expired chan<- struct{}) {
	for {
		failed := false
		for {
			n, err := wl.ExpireDue(ctx, salonID, clock.Now())
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("expire holds", slog.String("error", err.Error()))
				}
				failed = true
				break
			}
			if n > 0 {
				select {
				case expired <- struct{}{}:
				default:
				}
			}
			if n < 1000 {
				break
			}
		}
		next, ok, err := wl.NextExpiry(ctx, salonID)
		wait := expiryWait(clock.Now(), next, ok, failed || err != nil)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// runMatcher looks for wakes (and passes after one, and every waitlistSweep)
// every idle, and at once when the expiry says on expired that it expired
// holds: an offer let lapse goes on without waiting out idle.
func runMatcher(ctx context.Context, wl *postgres.Waitlist, m *waitlist.Matcher, clock core.Clock, log *slog.Logger, expired <-chan struct{}, idle time.Duration) {
	var swept time.Time
	for {
		now := clock.Now()
		_, err := wl.Matching(ctx, m.SalonID, func(woken bool) error {
			if len(m.Channels) == 0 || !woken && now.Sub(swept) < waitlistSweep {
				return nil
			}
			swept = now
			n, err := m.Pass(ctx)
			if n > 0 {
				log.Info("wait-list offers made", slog.Int("offers", n))
			}
			return err
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("wait-list matcher", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-expired:
		case <-time.After(idle):
		}
	}
}
