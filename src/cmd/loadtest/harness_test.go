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

// TestConverseSmall: the conversational burst of issue 17 in small (40 users
// at once, no think time, so the run is short): every user talks to a final
// answer, nothing lost or doubled, the steps counted and their rate and CPU
// reported, so CI runs the mode the throughput figure comes from.
func TestConverseSmall(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	r, err := loadtest(context.Background(), ltOptions{
		DatabaseURL: pgtest.URL(t), Channel: "telegram", ServerBin: salonbookBin,
		SalonFile: filepath.Join("..", "..", "..", "scripts", "demo-salon.yaml"),
		Clients:   40, Limits: "raised", Timeout: 40 * time.Second, ReplyTimeout: 30 * time.Second,
		Workers: 4, Seed: 3, Log: &log, Converse: true, MaxServerMB: 150,
	})
	require.NoError(t, err, log.String())
	r.print(&log)
	t.Log(log.String())
	require.Equal(t, 40, r.Parallel, "every user at once")
	require.Zero(t, r.Stuck)
	require.Zero(t, r.Unfinished)
	require.Zero(t, r.Unexpected, "unexpected reply: %s", r.Example)
	require.Zero(t, r.LostUpdates)
	require.Zero(t, r.Duplicates)
	require.Zero(t, r.DoubleBookings)
	require.Zero(t, r.PacedUpdates, "no paced phase")
	require.Zero(t, r.Scrapes, "no scrapes")
	require.Greater(t, r.Steps, 40*5, "several steps each")
	require.Positive(t, r.StepsPerSec)
	require.Positive(t, r.ConvP99)
	require.Positive(t, r.ServerCPU, "the server's CPU is counted")
	require.Contains(t, log.String(), "dialog steps (replies)/s")
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

// TestReminderLoadSmall: 50 bookings over the next 30 hours of a clock 4,000
// times faster than real time, on the fake Bot API with Telegram's limits:
// every reminder due after its booking was made arrives once, none early, none
// of a reminder already due at booking time. (Counts only; lateness and rates
// are figures of the full run, scripts/loadtest.sh reminders.)
func TestReminderLoadSmall(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	r, err := reminderLoad(context.Background(), rmOptions{
		DatabaseURL: pgtest.URL(t),
		ServerBin:   salonbookBin,
		Bookings:    50,
		Window:      30 * time.Hour,
		Speed:       4000,
		Parallel:    4,
		Log:         &log,
	})
	require.NoError(t, err, log.String())
	var out bytes.Buffer
	r.print(&out)
	t.Log(log.String(), out.String())
	require.Positive(t, r.ExpectedBy[0], "some 24h reminders are due")
	require.Positive(t, r.ExpectedBy[1], "some 2h reminders are due")
	require.Positive(t, r.NotDue, "some reminders were due before their booking")
	require.Equal(t, r.Expected, r.Received)
	require.Zero(t, r.Lost)
	require.Zero(t, r.Doubled)
	require.Zero(t, r.Early)
	require.Zero(t, r.Unexpected)
	require.Zero(t, r.Stray)
	require.Zero(t, r.Other)
	require.Zero(t, r.UnsentOutbox)
}

// TestDoubleBookingsCountsBookingsAwaitingPayment: the harness's check counts
// an overlap with a booking awaiting its deposit (it holds its time). The
// rows go into a temporary bookings table of one connection, which shadows
// the real one there: the constraints that forbid them stay untouched.
func TestDoubleBookingsCountsBookingsAwaitingPayment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgtest.Pool(t).Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `CREATE TEMP TABLE bookings (salon_id text, master_id text, booking_id uuid, status text, occupied tstzrange)`)
	require.NoError(t, err)
	defer func() { _, _ = conn.Exec(ctx, `DROP TABLE pg_temp.bookings`) }()
	_, err = conn.Exec(ctx, `INSERT INTO bookings VALUES
		('s', 'anna', gen_random_uuid(), 'confirmed', tstzrange('2027-03-02 09:00Z', '2027-03-02 10:00Z')),
		('s', 'anna', gen_random_uuid(), 'awaiting_payment', tstzrange('2027-03-02 09:30Z', '2027-03-02 10:30Z')),
		('s', 'anna', gen_random_uuid(), 'expired', tstzrange('2027-03-02 09:30Z', '2027-03-02 10:30Z'))`)
	require.NoError(t, err)
	var n int
	require.NoError(t, conn.QueryRow(ctx, doubleBookingsSQL, "s").Scan(&n))
	require.Equal(t, 1, n)
}
