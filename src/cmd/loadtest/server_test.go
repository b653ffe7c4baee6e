package main

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
)

// TestLostUpdatesCountsDeadLetters: an acknowledged update that is missing from
// the inbox or was given up there (a dead letter) is lost; one handled or still
// pending is not; an id acknowledged twice (a redelivery) counts once.
func TestLostUpdatesCountsDeadLetters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	_, err := pool.Exec(ctx, `INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload, handled_at, dead) VALUES
		($1, 'telegram', '1', '7', '{}', now(), NULL),
		($1, 'telegram', '2', '7', '{}', now(), 'gave up after 8 failed attempts'),
		($1, 'telegram', '4', '7', '{}', NULL, NULL),
		($1, 'whatsapp', '5', '7', '{}', now(), NULL)`, salonID)
	require.NoError(t, err)

	lost, dead, err := lostUpdates(ctx, pool, salonID, "telegram", []string{"1", "1", "2", "2", "3", "4"})
	require.NoError(t, err)
	require.Equal(t, 2, lost, "3 is missing, 2 was dead-lettered")
	require.Equal(t, 1, dead)

	lost, dead, err = lostUpdates(ctx, pool, salonID, "telegram", []string{"5"})
	require.NoError(t, err)
	require.Equal(t, 1, lost, "another channel's update is not this one's")
	require.Zero(t, dead)

	lost, dead, err = lostUpdates(ctx, pool, salonID, "telegram", nil)
	require.NoError(t, err)
	require.Zero(t, lost)
	require.Zero(t, dead)
}

// TestVerdict: a run fails on any lost update, double booking, client booked
// twice or stuck client; on replies sent twice only when no SIGKILL explains them.
func TestVerdict(t *testing.T) {
	t.Parallel()
	require.NoError(t, (&ltResult{Booked: 10, BookingsMade: 10}).verdict())
	require.NoError(t, (&ltResult{Killed: true, Duplicates: 3}).verdict(), "the at-least-once window is measured, not failed")
	require.NoError(t, (&ltResult{Converse: true, ConvP99: 10 * time.Millisecond, P99: time.Second, MaxAckP99: 20 * time.Millisecond,
		StepsPerSec: 2100, MinStepsPerSec: 2000, ServerPeakKB: 149 << 10, MaxServerMB: 150}).verdict(), "targets met: the first messages' burst is not the conversations' p99")
	for name, r := range map[string]ltResult{
		"1 lost updates (0 dead-lettered)":          {LostUpdates: 1},
		"2 lost updates (2 dead-lettered)":          {LostUpdates: 2, DeadLettered: 2, Killed: true},
		"1 double bookings":                         {DoubleBookings: 1},
		"1 clients booked twice":                    {ClientsBookedTwice: 1, Killed: true},
		"4 stuck clients":                           {Stuck: 4},
		"3 duplicate replies":                       {Duplicates: 3},
		"150 dialog steps/s, below -min-steps 2000": {StepsPerSec: 150, MinStepsPerSec: 2000},
		"ack p99 30ms over -max-ack-p99 20ms":       {Converse: true, ConvP99: 30 * time.Millisecond, P99: time.Second, MaxAckP99: 20 * time.Millisecond},
		"server peak memory 150 MB":                 {ServerPeakKB: 150 << 10, MaxServerMB: 150},
	} {
		err := r.verdict()
		require.Error(t, err, name)
		require.Contains(t, err.Error(), name)
	}
	err := (&ltResult{LostUpdates: 1, Stuck: 1}).verdict()
	require.ErrorContains(t, err, "1 lost updates (0 dead-lettered), 1 stuck clients")
}

// TestOutboxLeaseIsPostgres: the kill run waits out outboxLease, so it must be
// the lease the postgres outbox really gives (NewOutbox's unexported field).
func TestOutboxLeaseIsPostgres(t *testing.T) {
	t.Parallel()
	lease := reflect.ValueOf(pipeline.NewOutbox(nil, "x")).Elem().FieldByName("lease")
	require.True(t, lease.IsValid(), "pipeline.Outbox has no lease field any more: update outboxLease's source")
	require.Equal(t, outboxLease, time.Duration(lease.Int()))
}

// TestSettleUntilWaitsForNotBefore: with nothing pending, settleUntil still
// waits until notBefore, and never past deadline.
func TestSettleUntilWaitsForNotBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	var r ltResult
	t0 := time.Now()
	require.NoError(t, r.settleUntil(ctx, pool, salonID, t0.Add(time.Second), t0.Add(time.Minute)))
	require.GreaterOrEqual(t, time.Since(t0), time.Second)

	_, err := pool.Exec(ctx, `INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload) VALUES ($1, 'telegram', '1', '7', '{}')`, salonID)
	require.NoError(t, err)
	t0 = time.Now()
	require.NoError(t, r.settleUntil(ctx, pool, salonID, time.Time{}, t0.Add(time.Second)))
	require.Less(t, time.Since(t0), 10*time.Second, "bounded by deadline")
	require.Equal(t, 1, r.PendingInbox, "what is left is recorded")
}
