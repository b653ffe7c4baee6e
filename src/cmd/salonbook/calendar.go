package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"salonbook/src/adapters/gcal"
	"salonbook/src/adapters/jobs"
	"salonbook/src/adapters/metrics"
	"salonbook/src/adapters/postgres"
	"salonbook/src/core"
	"salonbook/src/core/calsync"
)

// startCalendar runs calendar sync: every change to a confirmed booking inserts
// a push job in its own transaction (store.FollowChanges), and so does an
// erase of a client's data for their bookings' events (privacy.FollowChanges);
// river workers push to Google and read busy time on a schedule. Jobs use a
// pool of their own (a push holds one connection while it talks to Google). It
// returns what /readyz shows.
func startCalendar(ctx, bg context.Context, wg *sync.WaitGroup, g GoogleConfig, dbURL, salonID string,
	store *postgres.Store, privacy *postgres.Privacy, clock core.Clock, log *slog.Logger, m *metrics.Metrics) (func(), func(context.Context) map[string]any, error) {
	cal, err := gcal.New(ctx, gcal.Options{CredentialsJSON: g.Credentials, Subject: g.Impersonate, Endpoint: g.Endpoint})
	if err != nil {
		return nil, nil, err
	}
	jobPool, err := postgres.OpenSized(ctx, dbURL, 10)
	if err != nil {
		return nil, nil, err
	}
	m.AddPool("jobs", jobPool)
	calendars := postgres.NewCalendars(jobPool)
	syncer := &calsync.Syncer{Store: calendars, Calendar: cal, Clock: clock, Log: log}
	runner, err := jobs.New(jobPool, jobs.Config{Sync: syncer, SalonIDs: []string{salonID}, Refresh: g.Refresh, Log: log})
	if err != nil {
		jobPool.Close()
		return nil, nil, err
	}
	store.FollowChanges(runner.Record)
	privacy.FollowChanges(runner.Record)
	if err := runner.Start(bg); err != nil {
		jobPool.Close()
		return nil, nil, err
	}
	wg.Go(func() {
		<-bg.Done()
		// Jobs in hand finish (a bounded wait); the rest stay queued for next time.
		stop, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := runner.Stop(stop); err != nil {
			log.Warn("calendar jobs did not stop in time", slog.String("error", err.Error()))
		}
	})
	log.Info("google calendar sync is on", slog.Duration("refresh", g.Refresh))
	details := func(ctx context.Context) map[string]any {
		problems, err := calendars.Problems(ctx)
		if err != nil {
			log.Warn("calendar problems not read", slog.String("error", err.Error()))
			return map[string]any{"calendars": map[string]any{"sync": "on", "problems": "unknown"}}
		}
		// Master ids and what went wrong; never a calendar id (a person's address).
		list := []map[string]string{}
		for _, p := range problems {
			if p.SalonID == salonID {
				list = append(list, map[string]string{"master": p.MasterID, "problem": p.Problem, "since": p.Since.Format(time.RFC3339)})
			}
		}
		return map[string]any{"calendars": map[string]any{"sync": "on", "problems": list}}
	}
	return jobPool.Close, details, nil
}

// calendarOff drops busy time read while sync was on: with sync off nothing
// refreshes it, and stale blocks must not keep refusing bookings.
func calendarOff(ctx context.Context, calendars *postgres.Calendars, salonID string, log *slog.Logger) error {
	n, err := calendars.Forget(ctx, salonID)
	if err != nil {
		return err
	}
	if n > 0 {
		log.Info("google calendar sync is off: busy time read earlier dropped", slog.Int64("rows", n))
	}
	return nil
}
