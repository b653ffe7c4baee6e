package booking

import (
	"context"
	"slices"
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
// EConflict for a booking that is not live, ENotFound (the booking, or the
// master).
func (s *Service) Move(ctx context.Context, salonID, bookingID, masterID string, start time.Time) (_ *core.Booking, err error) {
	defer s.observed(OpReschedule)(&err)
	if masterID == AnyMaster {
		return nil, core.Errorf(core.EInvalid, "request.invalid", "booking: a move names its master")
	}
	now := s.clock.Now()
	start = start.UTC()
	return s.change(ctx, salonID, bookingID, func(tx Tx, b *core.Booking) (bool, error) {
		if b.Status != core.StatusConfirmed && !b.HoldLive(now) {
			return false, core.Errorf(core.EConflict, "booking.not_active", "booking: %s is not live", b.ID)
		}
		master := b.MasterID
		if masterID != "" {
			master = masterID
		}
		if b.Start.Equal(start) && master == b.MasterID {
			return false, nil
		}
		sc, err := s.scope(ctx, tx, salonID, b.ServiceID, master)
		if err != nil {
			return false, err
		}
		if b.Status == core.StatusConfirmed && b.Start.Sub(now) < sc.salon.Policy.CancelCutoff {
			return false, core.Errorf(core.EForbidden, "booking.cancel_too_late", "booking: %s starts within the cancellation cutoff", b.ID)
		}
		if _, err := s.offered(sc, start, now); err != nil {
			return false, err
		}
		svc := sc.service
		b.MasterID = master
		b.Start, b.End, b.Occupied = start, start.Add(svc.Duration), svc.Occupied(start)
		b.ComingAt = time.Time{} // "I'll come" was said of the old time
		// The exclusion constraint guards against bookings; the master's own
		// calendar is checked here (the move is not the hot path).
		busy, err := tx.Busy(ctx, salonID, []string{b.MasterID}, b.Occupied, now, b.ID)
		if err != nil {
			return false, err
		}
		if slices.ContainsFunc(busy[b.MasterID], func(o Occupancy) bool { return o.External }) {
			return false, s.taken(ctx, tx, sc, start, now, b.ID)
		}
		if _, err := tx.ExpireHolds(ctx, salonID, b.MasterID, b.ClientID, b.Occupied, now); err != nil {
			return false, err
		}
		if err := tx.UpdateBooking(ctx, b); err != nil {
			if core.ErrorCode(err) != core.EConflict {
				return false, err
			}
			busy, cerr := tx.ClientBusy(ctx, salonID, b.ClientID, core.TimeRange{Start: b.Start, End: b.End}, now, b.ID)
			if cerr != nil {
				return false, cerr
			}
			if busy {
				return false, core.Errorf(core.EConflict, "booking.client_overlap", "booking: client already has a booking at that time")
			}
			return false, s.taken(ctx, tx, sc, start, now, b.ID)
		}
		return false, nil // already written
	})
}
