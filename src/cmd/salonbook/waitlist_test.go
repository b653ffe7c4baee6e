package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/waitlist"
)

// movingClock is a clock tests move while loops read it.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movingClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// stuckBookings blocks every matcher pass (its first read) until ctx ends.
type stuckBookings struct {
	*booking.Service
	entered chan struct{}
	once    sync.Once
}

func (s *stuckBookings) Catalog(ctx context.Context, salonID string) (*booking.Catalog, error) {
	s.once.Do(func() { close(s.entered) })
	<-ctx.Done()
	return nil, ctx.Err()
}

// Finding 5: a hold lapses on time while a matcher pass is stuck.
func TestHoldsExpireWhileAPassIsStuck(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	store, salonID := pgtest.Salon(t)
	clock := &movingClock{t: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	svc := booking.New(store, clock)
	hold, err := svc.Book(context.Background(), booking.BookRequest{SalonID: salonID, ServiceID: "haircut", MasterID: "anna",
		Start: time.Date(2027, 3, 2, 10, 0, 0, 0, pgtest.Berlin), Client: core.Client{Name: "Olga", Phone: "+491512345678"},
		IdempotencyKey: "stuck-1"})
	require.NoError(t, err)
	wl := postgres.NewWaitlist(pool)
	defer wl.Close()
	stuck := &stuckBookings{Service: svc, entered: make(chan struct{})}
	m := &waitlist.Matcher{SalonID: salonID, Store: wl, Bookings: stuck, Clock: clock, Channels: []string{"telegram"}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runWaitlist(ctx, wl, m, clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-stuck.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no pass started")
	}
	clock.set(hold.HoldExpiresAt)
	require.Eventually(t, func() bool {
		b, err := svc.Get(context.Background(), salonID, hold.ID)
		return err == nil && b.Status == core.StatusExpired
	}, 10*time.Second, 50*time.Millisecond, "the hold lapsed while the pass was stuck, and stayed held")
}

// Finding 8: with no chat channel on, wakes do not pile up.
func TestWakesDrainWithNoChannel(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	store, salonID := pgtest.Salon(t)
	clock := &movingClock{t: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	wl := postgres.NewWaitlist(pool)
	defer wl.Close()
	for range 3 {
		require.NoError(t, wl.Wake(context.Background(), salonID))
	}
	m := &waitlist.Matcher{SalonID: salonID, Store: wl, Bookings: booking.New(store, clock), Clock: clock}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runWaitlist(ctx, wl, m, clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	defer func() { cancel(); <-done }()
	require.Eventually(t, func() bool {
		var n int
		return pool.QueryRow(context.Background(), `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, salonID).Scan(&n) == nil && n == 0
	}, 10*time.Second, 50*time.Millisecond, "the wakes stay")
}

// countingStore says on passes each time a matcher pass reads the waiting entries.
type countingStore struct {
	waitlist.Store
	passes chan struct{}
}

func (s *countingStore) Waiting(ctx context.Context, salonID string, today core.Date, now time.Time, channels []string) ([]waitlist.Entry, error) {
	s.passes <- struct{}{}
	return s.Store.Waiting(ctx, salonID, today, now, channels)
}

// A hold the expiry marks expired makes the matcher pass at once, not after
// its idle sleep (an hour here, so only the expiry's word can start the pass).
func TestExpiryWakesTheMatcherAtOnce(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	store, salonID := pgtest.Salon(t)
	clock := &movingClock{t: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	svc := booking.New(store, clock)
	wl := postgres.NewWaitlist(pool)
	defer wl.Close()
	counting := &countingStore{Store: wl, passes: make(chan struct{}, 16)}
	m := &waitlist.Matcher{SalonID: salonID, Store: counting, Bookings: svc, Clock: clock, Channels: []string{"telegram"}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	expired := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); runMatcher(ctx, wl, m, clock, log, expired, time.Hour) }()
	defer func() { cancel(); wg.Wait() }()
	select {
	case <-counting.passes: // the first pass (the sweep)
	case <-time.After(10 * time.Second):
		t.Fatal("no first pass")
	}
	hold, err := svc.Book(context.Background(), booking.BookRequest{SalonID: salonID, ServiceID: "haircut", MasterID: "anna",
		Start: time.Date(2027, 3, 2, 10, 0, 0, 0, pgtest.Berlin), Client: core.Client{Name: "Olga", Phone: "+491512345678"},
		IdempotencyKey: "wake-1"})
	require.NoError(t, err)
	clock.set(hold.HoldExpiresAt)
	wg.Add(1)
	go func() { defer wg.Done(); runExpiry(ctx, wl, salonID, clock, log, expired) }()
	select {
	case <-counting.passes:
	case <-time.After(10 * time.Second):
		t.Fatal("the hold expired and the matcher slept on")
	}
	b, err := svc.Get(context.Background(), salonID, hold.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusExpired, b.Status)
}

// Review 2, G: the expiry never loops faster than expiryRetry on a hold that
// stays lapsed (row-locked) nor after a failure.
func TestExpiryWait(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	require.Equal(t, expiryRetry, expiryWait(now, now.Add(-time.Minute), true, false), "lapsed and still held")
	require.Equal(t, expiryRetry, expiryWait(now, now, true, false))
	require.Equal(t, waitlistTick, expiryWait(now, now.Add(-time.Minute), true, true), "ExpireDue failed")
	require.Equal(t, waitlistTick, expiryWait(now, time.Time{}, false, false), "nothing held")
	require.Equal(t, 300*time.Millisecond, expiryWait(now, now.Add(300*time.Millisecond), true, false), "until the next expiry")
	require.Equal(t, 10*time.Millisecond, expiryWait(now, now.Add(time.Millisecond), true, false))
	require.Equal(t, waitlistTick, expiryWait(now, now.Add(time.Hour), true, false))
}
