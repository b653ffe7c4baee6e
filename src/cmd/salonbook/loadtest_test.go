package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

// TestLoadtestSmall runs the load harness with 20 clients (fake limits raised) so
// CI exercises it: nothing lost, nothing booked twice, and every client either
// booked or was told its time was taken.
func TestLoadtestSmall(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	r, err := loadtest(context.Background(), ltOptions{
		DatabaseURL:  pgtest.URL(t),
		SalonFile:    filepath.Join("..", "..", "..", "scripts", "demo-salon.yaml"),
		Clients:      20,
		Parallel:     20,
		Limits:       "raised",
		Timeout:      25 * time.Second,
		ReplyTimeout: 20 * time.Second,
		Workers:      4,
		Seed:         7,
		Log:          &log,
	})
	require.NoError(t, err)
	r.print(&log)
	t.Log(log.String())
	require.Zero(t, r.Stuck, "lost updates")
	require.Zero(t, r.Unfinished)
	require.Zero(t, r.Unexpected, "unexpected reply: %s", r.Example)
	require.Zero(t, r.NotAcked)
	require.Zero(t, r.DoubleBookings)
	require.Zero(t, r.ClientsBookedTwice)
	require.Zero(t, r.Duplicates, "duplicate replies")
	require.Equal(t, 20, r.Booked+r.Taken+r.Full)
	require.Equal(t, r.Booked, r.BookingsMade)
	require.Positive(t, r.Booked)
}
