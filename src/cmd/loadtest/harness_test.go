package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

// salonbookBin is the salonbook binary the harness runs, built by TestMain.
var salonbookBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "loadtest-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	salonbookBin = filepath.Join(dir, "salonbook")
	if out, err := exec.Command("go", "build", "-o", salonbookBin, "salonbook/src/cmd/salonbook").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build salonbook: %v\n%s", err, out)
		os.Exit(1)
	}
	code := pgtest.Main(m)
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// smallRun runs the load harness on channel with 20 clients (fake limits
// raised), so CI exercises it.
func smallRun(t *testing.T, channel string) *ltResult {
	t.Helper()
	var log bytes.Buffer
	r, err := loadtest(context.Background(), ltOptions{
		DatabaseURL:  pgtest.URL(t),
		Channel:      channel,
		ServerBin:    salonbookBin,
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
	require.NoError(t, err, log.String())
	r.print(&log)
	t.Log(log.String())
	return r
}

// TestLoadtestSmall: through Telegram, nothing lost, nothing booked twice, and
// every client either booked or was told its time was taken.
func TestLoadtestSmall(t *testing.T) {
	t.Parallel()
	r := smallRun(t, "telegram")
	require.Zero(t, r.Stuck, "lost updates")
	require.Zero(t, r.Unfinished)
	require.Zero(t, r.Unexpected, "unexpected reply: %s", r.Example)
	require.Zero(t, r.NotAcked)
	require.Zero(t, r.LostUpdates)
	require.Zero(t, r.DoubleBookings)
	require.Zero(t, r.ClientsBookedTwice)
	require.Zero(t, r.Duplicates, "duplicate replies")
	require.Equal(t, 20, r.Booked+r.Taken+r.Full)
	require.Equal(t, r.Booked, r.BookingsMade)
	require.Positive(t, r.Booked)
	require.Positive(t, r.ServerPeakKB, "the server ran as a process of its own")
	require.Positive(t, r.Scrapes, "/metrics was scraped during the run")
	require.Zero(t, r.ScrapeErrors)
	require.NoError(t, r.verdict())
}

// TestLoadtestWhatsAppSmall: the same harness through WhatsApp: nothing lost,
// nothing doubled, nothing refused by the fake, and every client booked or told
// its time was taken.
func TestLoadtestWhatsAppSmall(t *testing.T) {
	t.Parallel()
	r := smallRun(t, "whatsapp")
	require.Zero(t, r.Stuck, "lost messages")
	require.Zero(t, r.Unfinished)
	require.Zero(t, r.Unexpected, "unexpected reply: %s", r.Example)
	require.Empty(t, r.Example, "nothing refused by the fake")
	require.Zero(t, r.NotAcked)
	require.Zero(t, r.LostUpdates)
	require.Zero(t, r.DoubleBookings)
	require.Zero(t, r.ClientsBookedTwice)
	require.Zero(t, r.Duplicates, "duplicate replies")
	require.Equal(t, 20, r.Booked+r.Taken+r.Full)
	require.Equal(t, r.Booked, r.BookingsMade)
	require.Positive(t, r.Booked)
	require.NoError(t, r.verdict())
}
