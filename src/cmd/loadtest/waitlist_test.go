package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

// TestLoadtestWaitlistSmall: the wait-list run in small: through salonbook
// serve on the fake Bot API, every freed time is offered to its first entry
// and passed on to the next on "No, thanks" or expiry (-lapse: at once), "Book
// it" books, no entry is offered a time twice or a time it does not fit, and
// nothing is booked twice. Counts only: the timings of a -lapse run mean
// nothing.
func TestLoadtestWaitlistSmall(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	r, err := loadtestWaitlist(context.Background(), wlOptions{
		DatabaseURL: pgtest.URL(t),
		ServerBin:   salonbookBin,
		Freed:       24,
		PerTime:     3,
		Masters:     6,
		Offer:       time.Minute,
		BookPct:     20,
		DeclinePct:  20,
		Parallel:    8,
		Limits:      "raised",
		Seed:        3,
		Timeout:     20 * time.Second,
		Lapse:       true,
		Log:         &log,
	})
	require.NoError(t, err, log.String())
	r.print(&log)
	t.Log(log.String())
	require.Equal(t, 24, r.FreedOffered, "every freed time offered")
	require.Zero(t, r.NotPassedOn, "passed on while an entry waited")
	require.Zero(t, r.Duplicates)
	require.Zero(t, r.Wrong)
	require.Zero(t, r.DoubleBookings)
	require.Zero(t, r.LeftHeld)
	require.Positive(t, r.BookPressed)
	require.Positive(t, r.Declined)
	require.Positive(t, r.Lapsed)
	require.Equal(t, r.BookPressed, r.BookedConfirmed, `every "Book it" booked`)
	require.Equal(t, r.BookedConfirmed, r.LeftBooked)
	require.Equal(t, 24, r.LeftBooked+r.LeftFree)
	// Each time went down its entries until one booked it: the offers add up.
	require.Equal(t, r.Offers, r.BookPressed+r.Declined+r.Lapsed)
	require.Zero(t, r.ServerErrors)
	require.NoError(t, r.verdict())
}
