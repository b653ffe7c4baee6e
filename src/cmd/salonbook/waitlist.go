package main

import (
	"context"
	"log/slog"
	"time"

	"salonbook/src/adapters/postgres"
	"salonbook/src/core"
	"salonbook/src/core/waitlist"
)

// waitlistSweep is how often the matcher looks at the wait-list without a
// wake: times freed without one (a hold released by its chat, a master's
// calendar block removed, a day that opened) are offered within it.
const waitlistSweep = 30 * time.Second

// runWaitlist expires lapsed holds when they lapse (waking at the next expiry,
// at least every second) and runs the wait-list matcher after every wake and
// every waitlistSweep, until ctx ends. Every replica runs it: the expiry
// shares the rows (SKIP LOCKED), the matcher runs on one replica at a time.
func runWaitlist(ctx context.Context, wl *postgres.Waitlist, m *waitlist.Matcher, clock core.Clock, log *slog.Logger) {
	var swept time.Time
	for {
		now := clock.Now()
		for {
			n, err := wl.ExpireDue(ctx, m.SalonID, now)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("expire holds", slog.String("error", err.Error()))
				}
				break
			}
			if n < 1000 {
				break
			}
		}
		if len(m.Channels) > 0 {
			_, err := wl.Matching(ctx, m.SalonID, func(woken bool) error {
				if !woken && now.Sub(swept) < waitlistSweep {
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
		}
		wait := time.Second
		if next, ok, err := wl.NextExpiry(ctx, m.SalonID); err == nil && ok {
			wait = min(wait, max(next.Sub(clock.Now()), 10*time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
