package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

// SummaryPoll is the longest the summaries' loop sleeps: it also wakes at the
// next due instant, and every minute sees a changed policy (a salon file
// applied) or a master given a staff chat.
const SummaryPoll = time.Minute

// StaffSummaries queues each master's morning summary (policy.staff_summary)
// to their staff chat (the salon file's telegram_chat_id), once per master and
// local day: the row in staff_summaries that says so is inserted in the
// transaction that queues the message, so a restart, a kill -9 or a second
// replica running the same loop queues nothing twice (the primary key
// decides; the loser's insert waits for the winner's commit, then conflicts).
// The words are core's (dialog.StaffSummaryText), the instants too
// (dialog.SummaryDue, dialog.SummaryTooLate).
type StaffSummaries struct {
	pool    *pgxpool.Pool
	salonID string
	channel string
	salon   func(context.Context) (*core.Salon, error)
	catalog *i18n.Catalog
	clock   core.Timer
	log     *slog.Logger
}

// NewStaffSummaries returns the summaries of salonID, sent through channel (the
// one the staff chat ids belong to). salon reads the salon (its zone, languages
// and policy) at every tick, so a salon file applied while serving takes effect.
func NewStaffSummaries(pool *pgxpool.Pool, salonID, channel string, salon func(context.Context) (*core.Salon, error),
	catalog *i18n.Catalog, clock core.Timer, log *slog.Logger) *StaffSummaries {
	return &StaffSummaries{pool: pool, salonID: salonID, channel: channel, salon: salon, catalog: catalog, clock: clock, log: log}
}

// Run queues the summaries as they fall due until ctx ends: it wakes at the
// next due instant, and at least every SummaryPoll. A failed tick is logged
// and tried again at the next wake.
func (s *StaffSummaries) Run(ctx context.Context) {
	for ctx.Err() == nil {
		next, err := s.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("staff summaries", slog.String("error", err.Error()))
		}
		wait := next.Sub(s.clock.Now())
		if wait > SummaryPoll || err != nil {
			wait = SummaryPoll
		}
		select {
		case <-ctx.Done():
		case <-s.clock.After(max(wait, 0)):
		}
	}
}

// Tick queues the summaries due now that no one queued yet (the masters with a
// staff chat that have no row for today), and returns when to look again: the
// next due instant or SummaryPoll from now, whichever comes first.
func (s *StaffSummaries) Tick(ctx context.Context) (time.Time, error) {
	now := s.clock.Now()
	next := now.Add(SummaryPoll)
	salon, err := s.salon(ctx)
	if err != nil {
		return next, fmt.Errorf("pipeline: staff summaries: %w", err)
	}
	if at, ok := dialog.NextSummary(salon, now); ok && at.Before(next) {
		next = at
	}
	day, due, ok := dialog.SummaryDue(salon, now)
	if !ok {
		return next, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT m.master_id FROM masters m
		WHERE m.salon_id = $1 AND m.active AND m.telegram_chat_id IS NOT NULL
		  AND NOT EXISTS (SELECT FROM staff_summaries d WHERE d.salon_id = $1 AND d.master_id = m.master_id AND d.day = $2)
		ORDER BY m.position, m.master_id`, s.salonID, day.String())
	if err != nil {
		return next, mapErr(err, "select masters without a summary")
	}
	masters, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return next, mapErr(err, "select masters without a summary")
	}
	text := dialog.StaffSummaryText(s.catalog, salon)
	var errs []error
	for _, master := range masters {
		if err := s.queue(ctx, salon, text, master, day, due, now); err != nil {
			errs = append(errs, fmt.Errorf("master %s: %w", master, err))
		}
	}
	return next, errors.Join(errs...)
}

// summaryBookingsSQL reads a master's confirmed bookings that start in
// [$3, $4) (a local day), with their service's names and client's name; not
// the master's blocks.
// occupied contains starts_at: the overlap and the live statuses let the
// master's exclusion constraint's index (salon, master, occupied) find them,
// with no statistics and a generic plan too (TestStaffSummaryBookingsPlan).
const summaryBookingsSQL = `
	SELECT b.starts_at, s.names, c.name, b.coming_at IS NOT NULL
	FROM bookings b JOIN services s USING (salon_id, service_id) JOIN clients c USING (client_id)
	WHERE b.salon_id = $1 AND b.master_id = $2 AND b.status IN ('held', 'confirmed') AND b.status = 'confirmed'
	  AND b.occupied && tstzrange($3, $4) AND b.starts_at >= $3 AND b.starts_at < $4
	  AND b.kind = 'appointment' -- a block is no booking to tell of (the joins drop it too)
	ORDER BY b.starts_at`

// queue decides master's summary of day in one transaction: it reads the day's
// confirmed bookings, then claims the day (the insert that decides who sends)
// and queues the message, or records why there is none.
func (s *StaffSummaries) queue(ctx context.Context, salon *core.Salon, text func(dialog.StaffDay) string,
	master string, day core.Date, due, now time.Time) error {
	span := core.ClockRange{Start: 0, End: 24 * 60}.On(day, salon.Timezone) // the local day, 00:00 to 24:00
	outcome := ""
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		sd := dialog.StaffDay{Day: day}
		var chat *int64
		err := tx.QueryRow(ctx, `SELECT name, names, telegram_chat_id FROM masters WHERE salon_id = $1 AND master_id = $2`,
			s.salonID, master).Scan(&sd.Master, &sd.MasterNames, &chat)
		if err != nil {
			return mapErr(err, "select master")
		}
		if chat == nil {
			return nil // its chat went while we looked
		}
		rows, err := tx.Query(ctx, summaryBookingsSQL, s.salonID, master, span.Start, span.End)
		if err != nil {
			return mapErr(err, "select the day's bookings")
		}
		sd.Bookings, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (dialog.StaffDayBooking, error) {
			var b dialog.StaffDayBooking
			err := r.Scan(&b.Start, &b.Service, &b.Client, &b.Coming)
			b.Start = b.Start.UTC()
			return b, err
		})
		if err != nil {
			return mapErr(err, "select the day's bookings")
		}
		outcome = "sent"
		switch {
		case len(sd.Bookings) == 0:
			outcome = "empty"
		case dialog.SummaryTooLate(due, sd, now):
			outcome = "late"
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO staff_summaries (salon_id, master_id, day, outcome) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, s.salonID, master, day.String(), outcome)
		if err != nil {
			return mapErr(err, "insert staff summary")
		}
		if tag.RowsAffected() == 0 || outcome != "sent" {
			if tag.RowsAffected() == 0 {
				outcome = "" // queued (or decided) by another loop
			}
			return nil
		}
		out := messaging.Outgoing{ChatID: strconv.FormatInt(*chat, 10), Reply: &dialog.Reply{Text: text(sd)}}
		body, err := json.Marshal(out)
		if err != nil {
			return fmt.Errorf("pipeline: staff summary: %w", err)
		}
		var blocked bool
		if err := tx.QueryRow(ctx, insertOutbox, s.salonID, s.channel, out.ChatID, nil, body).Scan(&blocked); err != nil {
			return mapErr(err, "queue staff summary")
		}
		if blocked {
			outcome = "blocked"
			_, err = tx.Exec(ctx, `UPDATE staff_summaries SET outcome = 'blocked' WHERE salon_id = $1 AND master_id = $2 AND day = $3`,
				s.salonID, master, day.String())
			return mapErr(err, "mark staff summary")
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch outcome {
	case "late":
		s.log.Info("staff summary skipped: it was due while the service was down, and the master's day has begun",
			slog.String("master", master), slog.String("day", day.String()))
	case "blocked":
		s.log.Warn("staff summary not sent: the master's chat blocked the bot; summaries resume once it writes to the bot",
			slog.String("master", master), slog.String("day", day.String()))
	}
	return nil
}
