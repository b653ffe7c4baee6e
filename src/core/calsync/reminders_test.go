package calsync_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
)

// TestPushEventReminders: a booking's event reminds the master as the salon's
// policy.reminders say (popups 24h and 2h before), the only reminder a booking
// made through the API gets.
func TestPushEventReminders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, march1)
	s := pgtest.Setup(b.salonID)
	s.Masters[0].Calendar, s.Masters[1].Calendar = annaCal, borisCal
	s.Salon.Policy.Reminders = []time.Duration{24 * time.Hour, 2 * time.Hour}
	_, err := postgres.NewStore(pgtest.Pool(t)).Apply(ctx, s)
	require.NoError(t, err)
	bk := b.book(t, "anna", berlin(2027, 3, 3, 10, 0), "1")
	require.NoError(t, b.sync.Push(ctx, b.salonID, bk.ID))
	evs := b.fake.Events(annaCal)
	require.Len(t, evs, 1)
	require.False(t, evs[0].Reminders.UseDefault)
	var mins []int64
	for _, o := range evs[0].Reminders.Overrides {
		require.Equal(t, "popup", o.Method)
		mins = append(mins, o.Minutes)
	}
	require.Equal(t, []int64{1440, 120}, mins)
}
