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

// TestLoadtestWhatsAppSmall runs the WhatsApp load harness with 20 clients
// (fake limits raised): nothing lost, nothing doubled, nothing refused by the
// fake, and every client booked or told its time was taken.
func TestLoadtestWhatsAppSmall(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	r, err := loadtestWhatsApp(context.Background(), ltOptions{
		DatabaseURL: pgtest.URL(t), SalonFile: filepath.Join("..", "..", "..", "scripts", "demo-salon.yaml"),
		Clients: 20, Parallel: 20, Limits: "raised", Timeout: 25 * time.Second, ReplyTimeout: 20 * time.Second,
		Workers: 4, Seed: 7, Log: &log,
	})
	require.NoError(t, err)
	r.printWhatsApp(&log)
	t.Log(log.String())
	require.Zero(t, r.Stuck, "lost messages")
	require.Zero(t, r.Unfinished)
	require.Zero(t, r.Unexpected, "unexpected reply: %s", r.Example)
	require.Empty(t, r.Example, "nothing refused by the fake")
	require.Zero(t, r.NotAcked)
	require.Zero(t, r.DoubleBookings)
	require.Zero(t, r.ClientsBookedTwice)
	require.Zero(t, r.Duplicates, "duplicate replies")
	require.Equal(t, 20, r.Booked+r.Taken+r.Full)
	require.Equal(t, r.Booked, r.BookingsMade)
	require.Positive(t, r.Booked)
}
