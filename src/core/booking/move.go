package booking

import (
	"context"
	"time"

	"salonbook/src/core"
)

// Move moves a live booking to a new start and, when masterID names another
// master who does its service, to that master, in place (same booking id, so a
// calendar event and reminders follow it): the old time is released only if
// the new one is taken, in one statement, so a refused move leaves the
// booking as it was. masterID "" keeps the master; AnyMaster is not accepted
// (a move names its master). Moving to the current start and master returns
// the booking unchanged. The change is recorded as Moved, with FromMaster set
// to the old master. Returns EForbidden inside the cancellation cutoff,
// EInvalid for a time that is not offered (or a master who does not do the
// service, "master.no_service"), a *ConflictError when the new time is taken,
// EConflict for a booking that is not live or whose attendance is marked,
// ENotFound (the booking, a block, or the master).
func (s *Service) Move(ctx context.Context, salonID, bookingID, masterID string, start time.Time) (_ *core.Booking, err error) {
	defer s.observed(OpReschedule)(&err)
	if masterID == AnyMaster {
		return nil, core.Errorf(core.EInvalid, "request.invalid", "booking: a move names its master")
	}
	return s.reschedule(ctx, salonID, bookingID, masterID, start, StaffChange{})
}
