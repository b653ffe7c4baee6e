package calsync_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPushAMoveToAnotherMaster: a booking moved to another master (same
// booking, same event id) leaves the old master's calendar and appears in the
// new master's, once.
func TestPushAMoveToAnotherMaster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, march1)
	bk := b.book(t, "anna", berlin(2027, 3, 3, 10, 0), "1")
	require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
	require.Len(t, b.fake.Events(annaCal), 1)

	moved, err := b.svc.Move(ctx, b.salonID, bk.ID, "boris", berlin(2027, 3, 4, 12, 0))
	require.NoError(t, err)
	require.Equal(t, "boris", moved.MasterID)
	require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
	require.Empty(t, b.fake.Events(annaCal), "gone from the old master's calendar")
	evs := b.fake.Events(borisCal)
	require.Len(t, evs, 1)
	require.Equal(t, berlin(2027, 3, 4, 12, 0), instant(t, evs[0].Start.DateTime))
	require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID), "pushed again: nothing to do")
	require.Len(t, b.fake.Events(borisCal), 1)
	require.Empty(t, b.fake.Events(annaCal))
}
