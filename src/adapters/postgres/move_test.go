package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// TestMoveToAnotherMaster: a move may change the master, in place; the new
// master's time is guarded like any booking's, and a refused move leaves the
// booking as it was.
func TestMoveToAnotherMaster(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) (*bundle, *core.Booking) {
		t.Helper()
		b := newBundle(t)
		r := b.req("anna", b.at(3, 10, 0), "mine")
		r.Confirm = true
		bk, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		return b, bk
	}

	t.Run("SameBookingOtherMaster", func(t *testing.T) {
		t.Parallel()
		b, bk := setup(t)
		var changes []booking.Change
		var mu sync.Mutex
		b.store.FollowChanges(func(_ context.Context, _ pgx.Tx, c booking.Change) error {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, c)
			return nil
		})
		moved, err := b.svc.Move(ctx, b.salonID, bk.ID, "boris", b.at(3, 11, 0))
		require.NoError(t, err)
		require.Equal(t, bk.ID, moved.ID)
		require.Equal(t, "boris", moved.MasterID)
		require.True(t, moved.Start.Equal(b.at(3, 11, 0)))
		got, err := b.svc.Get(ctx, b.salonID, bk.ID)
		require.NoError(t, err)
		require.Equal(t, "boris", got.MasterID, "stored")
		require.Len(t, changes, 1)
		require.Equal(t, booking.Moved, changes[0].Kind)
		require.Equal(t, "anna", changes[0].FromMaster)
		require.True(t, changes[0].From.Equal(b.at(3, 10, 0)))

		// Anna's 10:00 is free again.
		again, err := b.svc.Book(ctx, b.req("anna", b.at(3, 10, 0), "other"))
		require.NoError(t, err)
		require.Equal(t, "anna", again.MasterID)
	})

	t.Run("SameTimeOtherMasterIsAMove", func(t *testing.T) {
		t.Parallel()
		b, bk := setup(t)
		moved, err := b.svc.Move(ctx, b.salonID, bk.ID, "chloe", bk.Start)
		require.NoError(t, err)
		require.Equal(t, "chloe", moved.MasterID)
	})

	t.Run("TakenAtTheNewMasterKeepsTheOld", func(t *testing.T) {
		t.Parallel()
		b, bk := setup(t)
		r := b.req("boris", b.at(3, 11, 0), "boris-busy")
		r.Confirm = true
		_, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		_, err = b.svc.Move(ctx, b.salonID, bk.ID, "boris", b.at(3, 11, 0))
		var conflict *booking.ConflictError
		require.True(t, errors.As(err, &conflict), "%v", err)
		require.NotEmpty(t, conflict.Alternatives)
		got, err := b.svc.Get(ctx, b.salonID, bk.ID)
		require.NoError(t, err)
		require.Equal(t, "anna", got.MasterID)
		require.True(t, got.Start.Equal(b.at(3, 10, 0)))
	})

	t.Run("MasterWhoDoesNotDoTheService", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		r := b.req("anna", b.at(3, 10, 0), "mani")
		r.ServiceID, r.Confirm = "manicure", true
		bk, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
		_, err = b.svc.Move(ctx, b.salonID, bk.ID, "boris", b.at(3, 11, 0))
		require.Equal(t, core.EInvalid, core.ErrorCode(err))
		require.Equal(t, "master.no_service", core.ErrorKey(err))
		_, err = b.svc.Move(ctx, b.salonID, bk.ID, "nobody", b.at(3, 11, 0))
		require.Equal(t, core.ENotFound, core.ErrorCode(err))
		_, err = b.svc.Move(ctx, b.salonID, bk.ID, booking.AnyMaster, b.at(3, 11, 0))
		require.Equal(t, core.EInvalid, core.ErrorCode(err))
	})

	t.Run("InsideTheCutoff", func(t *testing.T) {
		t.Parallel()
		b, bk := setup(t)
		b.clock.T = b.at(3, 0, 0) // ten hours before: inside the 12 h cutoff
		_, err := b.svc.Move(ctx, b.salonID, bk.ID, "boris", b.at(3, 11, 0))
		require.Equal(t, core.EForbidden, core.ErrorCode(err))
	})

	t.Run("RescheduleKeepsTheMaster", func(t *testing.T) {
		t.Parallel()
		b, bk := setup(t)
		moved, err := b.svc.Reschedule(ctx, b.salonID, bk.ID, b.at(3, 12, 0))
		require.NoError(t, err)
		require.Equal(t, "anna", moved.MasterID)
	})
}
