package booking

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"salonbook/src/core"
)

// The use cases of the salon's staff (the owner's desk): a cancel or a move
// with a reason and, for an owner, past the cancellation cutoff; attendance
// marks; blocked time. Who may do what is the caller's to decide (staff.Account):
// these only keep the booking rules, and the database's constraints decide
// every overlap, as for a client's booking.

// StaffChange is what staff add to a cancel or a move.
type StaffChange struct {
	Reason string // why; recorded with the change (at most MaxReason characters)
	// OverrideCutoff lets the change through inside the salon's cancellation
	// cutoff (an owner's right; the caller checks the role). A reason is then
	// required; the record says the cutoff was overridden. It ends at the
	// booking's start: a booking that has begun is only marked (Mark), never
	// cancelled or moved (EConflict "booking.started").
	OverrideCutoff bool
}

// MaxReason is the longest reason or block note, in characters.
const MaxReason = 200

func (sc StaffChange) check() error {
	r := strings.TrimSpace(sc.Reason)
	if utf8.RuneCountInString(r) > MaxReason || hasControl(r) || !utf8.ValidString(r) {
		return core.Errorf(core.EInvalid, "booking.bad_reason", "booking: a reason must be 0..%d characters on one line", MaxReason)
	}
	if sc.OverrideCutoff && r == "" {
		return core.Errorf(core.EInvalid, "booking.reason_needed", "booking: a change inside the cutoff needs a reason")
	}
	return nil
}

// CancelBy is Cancel with staff's reason, and their override of the cutoff.
// EInvalid for a missing or bad reason; otherwise as Cancel.
func (s *Service) CancelBy(ctx context.Context, salonID, bookingID string, sc StaffChange) (_ *core.Booking, err error) {
	defer s.observed(OpCancel)(&err)
	return s.cancel(ctx, salonID, bookingID, sc, false)
}

// RescheduleBy is Reschedule with staff's reason, and their override of the
// cutoff. EInvalid for a missing or bad reason; otherwise as Reschedule.
func (s *Service) RescheduleBy(ctx context.Context, salonID, bookingID string, start time.Time, sc StaffChange) (_ *core.Booking, err error) {
	defer s.observed(OpReschedule)(&err)
	return s.reschedule(ctx, salonID, bookingID, "", start, sc)
}

// Mark records whether the client came (core.Arrived) or not (core.NoShow),
// on a confirmed appointment whose start has come (by the service's clock).
// Marking it again the same way changes nothing; another mark needs Unmark
// first. EInvalid for another attendance, EConflict "booking.not_active" (not
// confirmed), "booking.not_started", "booking.marked" (marked otherwise),
// ENotFound (a block too).
func (s *Service) Mark(ctx context.Context, salonID, bookingID string, a core.Attendance) (*core.Booking, error) {
	if a != core.Arrived && a != core.NoShow {
		return nil, core.Errorf(core.EInvalid, "request.invalid", "booking: attendance must be arrived or no_show")
	}
	now := s.clock.Now()
	return s.change(ctx, salonID, bookingID, false, s.record(ctx, now, StaffChange{}), func(_ Tx, b *core.Booking, _ *Audit) (bool, error) {
		switch {
		case b.Status != core.StatusConfirmed:
			return false, core.Errorf(core.EConflict, "booking.not_active", "booking: %s is %s", b.ID, b.Status)
		case now.Before(b.Start):
			return false, core.Errorf(core.EConflict, "booking.not_started", "booking: %s has not started", b.ID)
		case b.Attendance == a:
			return false, nil
		case b.Attendance != "":
			return false, core.Errorf(core.EConflict, "booking.marked", "booking: %s is marked %s", b.ID, b.Attendance)
		}
		b.Attendance, b.AttendanceAt = a, now
		return true, nil
	})
}

// Unmark undoes an attendance mark (an owner's right; the caller checks), with
// an optional reason; a booking with none is returned unchanged. EInvalid for a
// bad reason, ENotFound.
func (s *Service) Unmark(ctx context.Context, salonID, bookingID, reason string) (*core.Booking, error) {
	sc := StaffChange{Reason: reason}
	if err := sc.check(); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	return s.change(ctx, salonID, bookingID, false, s.record(ctx, now, sc), func(_ Tx, b *core.Booking, _ *Audit) (bool, error) {
		if b.Attendance == "" {
			return false, nil
		}
		b.Attendance, b.AttendanceAt = "", time.Time{}
		return true, nil
	})
}

// BlockRequest asks to block a master's time: a break, a sick hour.
type BlockRequest struct {
	SalonID, MasterID string
	Start, End        time.Time
	Note              string // what it is ("Break"); shown to staff, not to clients
	IdempotencyKey    string // the form's: a second send returns the first block
	Source            string // who blocks: DeskActor(login)
}

// MaxBlock is the longest time one block may cover (a day off belongs in the
// salon file).
const MaxBlock = 24 * time.Hour

// Block stores blocked time of a master as a booking row the exclusion
// constraint counts: no booking can be placed over it, it cannot be placed
// over a live booking or hold, slot searches leave it out, and it is followed
// like a booking (Blocked: the master's calendar shows it). Start and End are
// whole minutes, End after now, at most MaxBlock apart. Repeating a request
// with the same key returns the first block. EInvalid for a bad request,
// ENotFound for an unknown master, EConflict "booking.block_overlap" when a
// booking or another block stands in that time, "booking.key_reused".
func (s *Service) Block(ctx context.Context, req BlockRequest) (*core.Booking, error) {
	now := s.clock.Now()
	start, end := req.Start.UTC(), req.End.UTC()
	note := strings.TrimSpace(req.Note)
	switch {
	case req.IdempotencyKey == "" || len(req.IdempotencyKey) > 200 || hasControl(req.IdempotencyKey) || !utf8.ValidString(req.IdempotencyKey):
		return nil, core.Errorf(core.EInvalid, "request.invalid", "booking: idempotency key must be 1..200 bytes")
	case !end.After(start) || end.Sub(start) > MaxBlock || start.Truncate(time.Minute) != start || end.Truncate(time.Minute) != end:
		return nil, core.Errorf(core.EInvalid, "booking.bad_block", "booking: a block is 1 minute to %s, in whole minutes", MaxBlock)
	case !end.After(now):
		return nil, core.Errorf(core.EInvalid, "booking.in_past", "booking: the block ends in the past")
	}
	if err := (StaffChange{Reason: note}).check(); err != nil {
		return nil, err
	}
	var out *core.Booking
	err := s.store.WithTx(ctx, func(tx Tx) error {
		masters, err := tx.Masters(ctx, req.SalonID)
		if err != nil {
			return err
		}
		if masterByID(masters, req.MasterID) == nil {
			return core.Errorf(core.ENotFound, "master.not_found", "booking: no active master %q", req.MasterID)
		}
		b := &core.Booking{
			SalonID: req.SalonID, MasterID: req.MasterID, Start: start, End: end,
			Occupied: core.TimeRange{Start: start, End: end}, Status: core.StatusConfirmed,
			Block: true, Note: note, IdempotencyKey: req.IdempotencyKey, Source: req.Source,
		}
		rec := Audit{Actor: actor(ctx, req.Source, false), Action: ActBlocked, Reason: note, At: now}
		ok, err := tx.InsertBooking(ctx, b, rec)
		if err == nil && !ok {
			// A lapsed hold in the way is no booking: mark it expired and try again.
			if _, err = tx.ExpireHolds(ctx, b.SalonID, b.MasterID, 0, b.Occupied, now); err == nil {
				ok, err = tx.InsertBooking(ctx, b, rec)
			}
		}
		if err != nil {
			return err
		}
		if !ok {
			first, kerr := tx.BookingByKey(ctx, req.SalonID, req.IdempotencyKey)
			if kerr == nil {
				if !first.Block || first.MasterID != req.MasterID || !first.Start.Equal(start) || !first.End.Equal(end) {
					return core.Errorf(core.EConflict, "booking.key_reused", "booking: idempotency key was used for another request")
				}
				out = first
				return errReplay
			}
			return core.Errorf(core.EConflict, "booking.block_overlap", "booking: a booking or a block stands in that time")
		}
		out = b
		return tx.Changed(ctx, Change{Kind: Blocked, Booking: *b})
	})
	if err != nil && !errors.Is(err, errReplay) {
		return nil, err
	}
	return out, nil
}

// Unblock lifts a block (it becomes cancelled; the calendar's event goes and
// the time is free again), with an optional reason; lifting a lifted one
// changes nothing. ENotFound when bookingID is no block.
func (s *Service) Unblock(ctx context.Context, salonID, bookingID, reason string) (*core.Booking, error) {
	sc := StaffChange{Reason: reason}
	if err := sc.check(); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	return s.change(ctx, salonID, bookingID, true, s.record(ctx, now, sc), func(_ Tx, b *core.Booking, _ *Audit) (bool, error) {
		if b.Status != core.StatusConfirmed {
			return false, nil
		}
		b.Status = core.StatusCancelled
		return true, nil
	})
}
