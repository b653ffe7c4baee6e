package core_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
)

func TestParseClock(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]core.ClockTime{"00:00": 0, "09:30": 570, "23:59": 1439, "24:00": 1440} {
		got, err := core.ParseClock(s)
		require.NoError(t, err, s)
		require.Equal(t, want, got, s)
	}
	for _, s := range []string{"-1:00", "09:-5", "+9:00", " 9:00", "9:00", "24:01", "25:00", "09:60", "0900", "09:00 ", "ab:cd"} {
		_, err := core.ParseClock(s)
		require.Error(t, err, "%q must be refused", s)
	}
	r, err := core.ParseClockRange("20:00-02:00")
	require.NoError(t, err)
	require.True(t, r.CrossesMidnight())
	require.Equal(t, 6*60, r.Minutes())
	_, err = core.ParseClockRange("10:00-10:00")
	require.Error(t, err)
}
