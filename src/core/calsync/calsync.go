// Package calsync keeps each master's calendar in step with their bookings and
// reads back the time the master blocked there. It decides what a calendar must
// show; its Calendar port (Google, in src/adapters/gcal) talks to the provider and
// its Store port (PostgreSQL) remembers what was written and read.
//
// It must never make a booking wait on the provider: bookings record a change
// (booking.Tx.Changed) and a job calls Push later; slot searches read only the
// busy time Refresh stored. Nothing here names a provider or a job queue.
package calsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"salonbook/src/core"
)

// Event is what a booking looks like in its master's calendar.
type Event struct {
	ID          string // derived from the booking: EventID
	BookingID   string
	Summary     string
	Description string
	Start, End  time.Time      // instants
	Zone        *time.Location // the salon's zone: how the calendar shows them
	// Reminders are the event's popup reminders before its start (the salon's
	// policy.reminders, longest first); none: the calendar's default ones.
	Reminders []time.Duration
}

// Errors a Calendar answers with.
var (
	// ErrExists: an event with this id exists in the calendar (perhaps deleted).
	ErrExists = errors.New("calsync: event exists")
	// ErrGone: no such event, or it was deleted already.
	ErrGone = errors.New("calsync: event gone")
)

// Failure is a calendar call that failed after the Calendar's own retries.
// Permanent failures (bad request, no access, no such calendar) are not retried
// by a job either; the rest (rate limits, the provider down) are, later.
type Failure struct {
	Status    int    // the provider's HTTP status; 0 for a network failure
	Reason    string // the provider's reason ("notFound", "rateLimitExceeded"), or what went wrong
	Permanent bool
	Err       error
}

func (f *Failure) Error() string {
	if f.Status == 0 {
		return "calendar unreachable: " + f.Reason
	}
	return fmt.Sprintf("calendar answered %d %s", f.Status, f.Reason)
}

func (f *Failure) Unwrap() error { return f.Err }

// Permanent reports whether err is a failure that retrying cannot fix.
func Permanent(err error) bool {
	f, ok := errors.AsType[*Failure](err)
	return ok && f.Permanent
}

// Calendar is a provider's calendar API. Implementations retry passing failures
// (rate limits, 5xx, network) with backoff before they give up with a *Failure.
type Calendar interface {
	// Insert creates ev in the calendar. ErrExists when an event with ev.ID is
	// there already, even a deleted one.
	Insert(ctx context.Context, calendarID string, ev Event) error
	// Update writes ev over the event ev.ID and makes it live again if it was
	// deleted. ErrGone when there is no such event.
	Update(ctx context.Context, calendarID string, ev Event) error
	// Delete deletes an event. ErrGone when it is not there or deleted already.
	Delete(ctx context.Context, calendarID, eventID string) error
	// Busy returns the calendar's busy time overlapping window.
	Busy(ctx context.Context, calendarID string, window core.TimeRange) ([]core.TimeRange, error)
}

// Target is what a booking's calendar event must be, and where it is now.
type Target struct {
	SalonID, BookingID, MasterID string
	Calendar                     string // the master's calendar; "" when none
	Confirmed                    bool   // a confirmed booking has an event; any other none
	Start, End                   time.Time
	Zone                         *time.Location
	Service, ClientName          string // the service's name; the client's first name only
	Block                        bool   // the master's blocked time (a break), not an appointment
	Note                         string // a block's note ("Break")
	SalonName, SalonPhone        string
	Reminders                    []time.Duration // the salon's policy.reminders
	Placed                       *Placed         // the event as last written; nil when none was
}

// Placed is where a booking's event was written.
type Placed struct {
	Calendar, EventID string
	Start, End        time.Time
	Deleted           bool
}

// Master is a master whose calendar is read.
type Master struct {
	ID, Calendar string // Calendar "" when the master has none (any busy time kept is dropped)
}

// Problem is a master's calendar that did not work the last time it was used.
type Problem struct {
	SalonID, MasterID, Calendar string
	Problem                     string // never a token or a client's data
	Since                       time.Time
}

// Store remembers what was written to and read from calendars.
type Store interface {
	// Lock runs fn while holding the booking's calendar lock: one push of a
	// booking at a time, across processes. fn must use the Store it is given
	// (on the lock's own connection), never wait for another.
	Lock(ctx context.Context, salonID, bookingID string, fn func(context.Context, Store) error) error
	// Target returns the booking's wanted event. ENotFound when there is no booking.
	Target(ctx context.Context, salonID, bookingID string) (*Target, error)
	// Place records where a booking's event now is (or that it was deleted).
	Place(ctx context.Context, salonID, bookingID string, p Placed) error
	// Masters lists the salon's active masters and the salon's booking horizon.
	Masters(ctx context.Context, salonID string) ([]Master, time.Duration, error)
	// Written returns the events written for the master's bookings in calendar,
	// at the times they were written, that overlap window: they are busy time
	// in the calendar too, and not the master's own blocks.
	Written(ctx context.Context, salonID, masterID, calendar string, window core.TimeRange) ([]core.TimeRange, error)
	// ReplaceBusy replaces the master's stored busy time up to window's end with
	// busy (never merging into older rows), records the read, and clears the
	// master's problem. A read older than the one stored is dropped (false).
	ReplaceBusy(ctx context.Context, salonID, masterID, calendar string, window core.TimeRange, busy []core.TimeRange, readAt time.Time) (bool, error)
	// Stale lists up to limit bookings of the master, not yet ended, whose
	// calendar does not show what they are: confirmed without an event where
	// and when it should be, or not confirmed with one.
	Stale(ctx context.Context, salonID, masterID string, now time.Time, limit int) ([]string, error)
	// Report records a problem with a master's calendar; "" clears it.
	Report(ctx context.Context, salonID, masterID, calendar, problem string, at time.Time) error
	// Problems lists the masters whose calendar has a problem.
	Problems(ctx context.Context) ([]Problem, error)
}

// Syncer pushes bookings to calendars and reads busy time back.
type Syncer struct {
	Store    Store
	Calendar Calendar
	Clock    core.Clock
	Log      *slog.Logger
}

// EventID is the calendar event id of a booking: the same booking always gets
// the same id, so a retried insert finds its first event instead of making a
// second one. Hex is a subset of the base32hex ids Google accepts.
func EventID(salonID, bookingID string) string {
	sum := sha256.Sum256([]byte(salonID + "/" + bookingID))
	return hex.EncodeToString(sum[:16])
}

// Push makes the booking's calendar show what the booking is now: one event
// while it is confirmed (created, or moved), none otherwise. It is idempotent:
// a job run twice, or late, writes the same result. After a change it reads the
// master's busy time again, so the slots follow at once.
func (s *Syncer) Push(ctx context.Context, salonID, bookingID string) error {
	return s.push(ctx, salonID, bookingID, true)
}

func (s *Syncer) push(ctx context.Context, salonID, bookingID string, thenRead bool) error {
	var refresh string
	var failed *Target // the push failed at the calendar: report it once the lock is let go
	var failedCal string
	err := s.Store.Lock(ctx, salonID, bookingID, func(ctx context.Context, store Store) error {
		t, err := store.Target(ctx, salonID, bookingID)
		if core.ErrorCode(err) == core.ENotFound {
			return nil
		}
		if err != nil {
			return err
		}
		id := EventID(salonID, bookingID)
		want := t.Confirmed && t.Calendar != ""
		// An event where the booking no longer wants one (cancelled, or the
		// master's calendar changed) is deleted. With no record of one, the
		// master's calendar is asked anyway: an insert whose record was lost
		// (a crash after Google answered) must not leave an event behind.
		if !want || (t.Placed != nil && t.Placed.Calendar != t.Calendar) {
			from := t.Calendar
			if t.Placed != nil {
				from = t.Placed.Calendar
			}
			if from != "" && (t.Placed == nil || !t.Placed.Deleted) {
				if err := s.Calendar.Delete(ctx, from, id); err != nil && !errors.Is(err, ErrGone) {
					failed, failedCal = t, from
					return err
				}
				if err := store.Place(ctx, salonID, bookingID, Placed{Calendar: from, EventID: id, Deleted: true}); err != nil {
					return err
				}
				refresh = t.MasterID
			}
		}
		if !want {
			return nil
		}
		if p := t.Placed; p != nil && !p.Deleted && p.Calendar == t.Calendar && p.Start.Equal(t.Start) && p.End.Equal(t.End) {
			return nil // already there, at this time
		}
		ev := eventOf(t, id)
		err = s.Calendar.Insert(ctx, t.Calendar, ev)
		if errors.Is(err, ErrExists) {
			err = s.Calendar.Update(ctx, t.Calendar, ev)
		}
		if err != nil {
			failed, failedCal = t, t.Calendar
			return err
		}
		if err := store.Place(ctx, salonID, bookingID, Placed{Calendar: t.Calendar, EventID: id, Start: t.Start, End: t.End}); err != nil {
			return err
		}
		refresh = t.MasterID
		return nil
	})
	if failed != nil {
		return s.report(ctx, failed, failedCal, err)
	}
	if err != nil || refresh == "" || !thenRead {
		return err
	}
	if err := s.Refresh(ctx, salonID, refresh); err != nil {
		s.Log.Warn("calendar busy time not read after a push", slog.String("salon", salonID), slog.String("master", refresh), slog.String("error", err.Error()))
	}
	return nil
}

func (s *Syncer) report(ctx context.Context, t *Target, calendar string, err error) error {
	f, ok := errors.AsType[*Failure](err)
	if !ok {
		return err
	}
	s.Log.Warn("calendar push failed", slog.String("salon", t.SalonID), slog.String("master", t.MasterID),
		slog.String("booking", t.BookingID), slog.Bool("permanent", f.Permanent), slog.String("error", f.Error()))
	if rerr := s.Store.Report(ctx, t.SalonID, t.MasterID, calendar, f.Error(), s.Clock.Now()); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// eventOf builds the event a confirmed booking shows as; a block shows as
// "Blocked" (and its note).
func eventOf(t *Target, id string) Event {
	if t.Block {
		summary := "Blocked"
		if t.Note != "" {
			summary += " · " + t.Note
		}
		return Event{
			ID: id, BookingID: t.BookingID, Summary: summary,
			Description: fmt.Sprintf("Time blocked on %s's desk: no bookings. Block %s.", t.SalonName, t.BookingID),
			Start:       t.Start, End: t.End, Zone: t.Zone,
		}
	}
	desc := fmt.Sprintf("Booked through %s's chat. Booking %s.", t.SalonName, t.BookingID)
	if t.SalonPhone != "" {
		desc += " Salon: " + t.SalonPhone + "."
	}
	summary := t.Service
	if t.ClientName != "" { // erased on the client's request: no name
		summary += " · " + t.ClientName
	}
	return Event{
		ID: id, BookingID: t.BookingID,
		Summary:     summary,
		Description: desc,
		Start:       t.Start, End: t.End, Zone: t.Zone,
		Reminders: t.Reminders,
	}
}

// Window is the span of busy time read for a salon: from now to the end of its
// booking horizon, with a day to spare (a buffer or a late shift reaches past it).
func Window(now time.Time, horizon time.Duration) core.TimeRange {
	start := now.UTC().Truncate(time.Minute)
	return core.TimeRange{Start: start, End: start.Add(horizon + 24*time.Hour)}
}

// Refresh reads one master's busy time (masterID "" reads every master of the
// salon) and stores it in place of what was stored before. A master whose read
// fails keeps what was stored, and the problem is reported.
func (s *Syncer) Refresh(ctx context.Context, salonID, masterID string) error {
	return s.refresh(ctx, salonID, masterID, false)
}

// Reconcile is Refresh for every master, then, for each master whose calendar
// answered, a push of up to ReconcileBatch bookings the calendar does not show
// right: what a push given up for good (no access at the time) or a job lost
// left behind is mended once the calendar works again.
func (s *Syncer) Reconcile(ctx context.Context, salonID string) error {
	return s.refresh(ctx, salonID, "", true)
}

// ReconcileBatch bounds the pushes one Reconcile makes per master.
const ReconcileBatch = 20

func (s *Syncer) refresh(ctx context.Context, salonID, masterID string, reconcile bool) error {
	masters, horizon, err := s.Store.Masters(ctx, salonID)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	window := Window(now, horizon)
	var errs []error
	for _, m := range masters {
		if masterID != "" && m.ID != masterID {
			continue
		}
		if m.Calendar == "" { // no calendar (any more): nothing of it may block
			_, err := s.Store.ReplaceBusy(ctx, salonID, m.ID, "", window, nil, now)
			errs = append(errs, err)
			continue
		}
		busy, err := s.Calendar.Busy(ctx, m.Calendar, window)
		if err != nil {
			if f, ok := errors.AsType[*Failure](err); ok {
				s.Log.Warn("calendar busy time not read", slog.String("salon", salonID), slog.String("master", m.ID),
					slog.Bool("permanent", f.Permanent), slog.String("error", f.Error()))
				err = errors.Join(err, s.Store.Report(ctx, salonID, m.ID, m.Calendar, f.Error(), now))
			}
			errs = append(errs, err)
			continue
		}
		written, err := s.Store.Written(ctx, salonID, m.ID, m.Calendar, window)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := s.Store.ReplaceBusy(ctx, salonID, m.ID, m.Calendar, window, Subtract(busy, written), now); err != nil {
			errs = append(errs, err)
			continue
		}
		if reconcile {
			errs = append(errs, s.mend(ctx, salonID, m.ID, now))
		}
	}
	return errors.Join(errs...)
}

// mend pushes the master's bookings the calendar does not show right.
func (s *Syncer) mend(ctx context.Context, salonID, masterID string, now time.Time) error {
	stale, err := s.Store.Stale(ctx, salonID, masterID, now, ReconcileBatch)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range stale {
		errs = append(errs, s.push(ctx, salonID, id, false))
	}
	return errors.Join(errs...)
}

// Subtract returns the parts of busy that none of mine covers: the calendar's
// busy time without the master's own bookings, whose events it reports as busy
// too (a booking must not block a move of itself). Both may overlap themselves;
// the result is sorted and does not.
func Subtract(busy, mine []core.TimeRange) []core.TimeRange {
	busy, mine = merge(busy), merge(mine)
	var out []core.TimeRange
	j := 0
	for _, b := range busy {
		cur := b.Start
		for j < len(mine) && !mine[j].End.After(cur) {
			j++
		}
		for k := j; k < len(mine) && mine[k].Start.Before(b.End); k++ {
			if mine[k].Start.After(cur) {
				out = append(out, core.TimeRange{Start: cur, End: mine[k].Start})
			}
			if mine[k].End.After(cur) {
				cur = mine[k].End
			}
		}
		if b.End.After(cur) {
			out = append(out, core.TimeRange{Start: cur, End: b.End})
		}
	}
	return out
}

// merge sorts ranges and joins those that overlap or touch; empty ones go.
func merge(rs []core.TimeRange) []core.TimeRange {
	rs = slices.DeleteFunc(slices.Clone(rs), func(r core.TimeRange) bool { return !r.End.After(r.Start) })
	slices.SortFunc(rs, func(a, b core.TimeRange) int { return a.Start.Compare(b.Start) })
	var out []core.TimeRange
	for _, r := range rs {
		if n := len(out); n > 0 && !r.Start.After(out[n-1].End) {
			if r.End.After(out[n-1].End) {
				out[n-1].End = r.End
			}
			continue
		}
		out = append(out, r)
	}
	return out
}
