package gcal_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core/calsync"
)

// TestEventReminders: the event carries the policy's reminders as popup
// overrides within Google's limits (at most 5, 0..40320 minutes), a patch
// replaces them, and none is the calendar's defaults.
func TestEventReminders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake, c := setup(t)
	id := calsync.EventID("s", "b1")
	overrides := func() (bool, []int64) {
		ev, ok := fake.Event(cal, id)
		require.True(t, ok)
		require.NotNil(t, ev.Reminders)
		var mins []int64
		for _, o := range ev.Reminders.Overrides {
			require.Equal(t, "popup", o.Method)
			mins = append(mins, o.Minutes)
		}
		return ev.Reminders.UseDefault, mins
	}
	ev := event(id)
	ev.Reminders = []time.Duration{24 * time.Hour, 2 * time.Hour}
	require.NoError(t, c.Insert(ctx, cal, ev))
	def, mins := overrides()
	require.False(t, def)
	require.Equal(t, []int64{1440, 120}, mins)

	// More than Google takes: the first five; beyond four weeks: four weeks.
	ev.Reminders = []time.Duration{50 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, 2 * time.Hour, time.Hour, 15 * time.Minute}
	require.NoError(t, c.Update(ctx, cal, ev))
	_, mins = overrides()
	require.Equal(t, []int64{40320, 10080, 1440, 120, 60}, mins)

	ev.Reminders = nil
	require.NoError(t, c.Update(ctx, cal, ev))
	def, mins = overrides()
	require.True(t, def, "off: the calendar's own defaults again")
	require.Empty(t, mins)
}
