package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

// fakeReal is a real clock that a test moves.
type fakeReal struct{ t time.Time }

func (f *fakeReal) now() time.Time { return f.t }

// TestFastClockRunsFasterFromItsStart: the clock reads Start at At and moves
// Rate times as far as real time, in UTC.
func TestFastClockRunsFasterFromItsStart(t *testing.T) {
	t.Parallel()
	wall := &fakeReal{t: time.Date(2026, 12, 7, 5, 0, 0, 0, time.FixedZone("x", 3600))}
	start := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	c := newFastClock(ClockConfig{Start: start, At: wall.t, Rate: 240}, wall.now)
	require.Equal(t, start, c.Now())
	require.Equal(t, time.UTC, c.Now().Location())
	wall.t = wall.t.Add(1500 * time.Millisecond)
	require.Equal(t, start.Add(6*time.Minute), c.Now())
	wall.t = wall.t.Add(time.Hour)
	require.Equal(t, start.Add(6*time.Minute+240*time.Hour), c.Now())
}

// TestFastClockKeepsItsMappingAcrossARestart: a server started later with the
// same settings (killed and started again) reads the same time as the first,
// not Start again.
func TestFastClockKeepsItsMappingAcrossARestart(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	cfg := ClockConfig{Start: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC), At: at, Rate: 100}
	first := &fakeReal{t: at}
	c1 := newFastClock(cfg, first.now)
	first.t = at.Add(90 * time.Second)
	restarted := &fakeReal{t: at.Add(90 * time.Second)}
	c2 := newFastClock(cfg, restarted.now)
	require.Equal(t, c1.Now(), c2.Now())
	require.Equal(t, cfg.Start.Add(9000*time.Second), c2.Now())
}

// TestFastClockDefaults: without At it starts when made; without Start it
// reads the real time then; without Rate it runs in real time.
func TestFastClockDefaults(t *testing.T) {
	t.Parallel()
	wall := &fakeReal{t: time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)}
	made := wall.t
	start := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	c := newFastClock(ClockConfig{Start: start}, wall.now)
	wall.t = wall.t.Add(time.Minute)
	require.Equal(t, start.Add(time.Minute), c.Now())

	wall.t = made
	c = newFastClock(ClockConfig{Rate: 60}, wall.now)
	wall.t = wall.t.Add(time.Second)
	require.Equal(t, made.Add(time.Minute), c.Now())
}

// TestFastClockWaitsItsOwnTime: After(d) waits d/Rate of real time.
func TestFastClockWaitsItsOwnTime(t *testing.T) {
	t.Parallel()
	c := newFastClock(ClockConfig{Rate: 100_000}, time.Now)
	select {
	case <-c.After(time.Hour): // 36 ms of real time
	case <-time.After(30 * time.Second):
		t.Fatal("After(1h) at 100000× did not end within 30 s")
	}
}

// TestClockConfig: LOADTEST_CLOCK_* are read, checked, and off when unset.
func TestClockConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "x"}
	load := func(extra map[string]string) (Config, error) {
		vars := map[string]string{}
		for k, v := range base {
			vars[k] = v
		}
		for k, v := range extra {
			vars[k] = v
		}
		return loadConfig(env(vars), need{database: true})
	}
	cfg, err := load(nil)
	require.NoError(t, err)
	require.False(t, cfg.Clock.On())

	cfg, err = load(map[string]string{"LOADTEST_CLOCK_START": "2027-03-01T10:00:00+01:00", "LOADTEST_CLOCK_AT": "2026-12-07T05:00:00.5Z",
		"LOADTEST_CLOCK_RATE": "240"})
	require.NoError(t, err)
	require.True(t, cfg.Clock.On())
	require.Equal(t, time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC), cfg.Clock.Start)
	require.Equal(t, time.Date(2026, 12, 7, 5, 0, 0, 5e8, time.UTC), cfg.Clock.At)
	require.Equal(t, 240, cfg.Clock.Rate)

	for _, c := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"LOADTEST_CLOCK_START": "tomorrow"}, "LOADTEST_CLOCK_START must be"},
		{map[string]string{"LOADTEST_CLOCK_START": "2027-03-01T09:00:00Z", "LOADTEST_CLOCK_AT": "now"}, "LOADTEST_CLOCK_AT must be"},
		{map[string]string{"LOADTEST_CLOCK_AT": "2027-03-01T09:00:00Z"}, "LOADTEST_CLOCK_AT needs"},
		{map[string]string{"LOADTEST_CLOCK_RATE": "0"}, "LOADTEST_CLOCK_RATE must be"},
		{map[string]string{"LOADTEST_CLOCK_RATE": "1.5"}, "LOADTEST_CLOCK_RATE must be"},
	} {
		_, err := load(c.vars)
		require.ErrorContains(t, err, c.want, "%v", c.vars)
	}
}

// TestServeRunsOnTheMovedClock: with LOADTEST_CLOCK_START years ahead, serve
// offers times from that day on (the booking use cases read the moved clock)
// and warns that the clock is moved.
func TestServeRunsOnTheMovedClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2031, 3, 3, 6, 0, 0, 0, time.UTC)
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "clock-token-0123456789",
		"LOADTEST_CLOCK_START": start.Format(time.RFC3339)}
	applyDemo(t, vars, "movedclock", nil)
	ctx, stop := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	var logs syncBuffer
	go func() { done <- run(ctx, []string{"serve"}, env(vars), &logs, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/slots?service=haircut&days=7", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer clock-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var body struct {
		Slots []struct{ Start time.Time } `json:"slots"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	resp.Body.Close()
	require.NotEmpty(t, body.Slots)
	first := body.Slots[0].Start
	require.False(t, first.Before(start.Add(2*time.Hour)), "the first slot %v is after the moved now plus min_notice", first)
	require.True(t, first.Before(start.Add(7*24*time.Hour)), "the first slot %v is within a week of the moved now", first)
	stop()
	require.NoError(t, <-done)
	require.Contains(t, logs.String(), "for load tests only")
}
