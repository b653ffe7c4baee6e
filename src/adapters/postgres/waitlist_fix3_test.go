package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

// Review 3, 1: Record (a booking or a move of the chat's) locks the held
// offers of the entries it answers before the entries, as Leave does: staff
// moving a waiting client's booking into the day while the client taps Leave
// never deadlock.
func TestWaitlistRecordLocksLikeLeave(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	e := w.joinAs(t, 1, "anna")
	mine, err := w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: "manicure", MasterID: "anna",
		Start: w.at(3, 10, 0), Client: core.Client{Name: "Waiting 1", Phone: "+491520000001"},
		IdempotencyKey: "mine", Source: "telegram:1", Confirm: true})
	require.NoError(t, err)
	w.free(t, 10)
	require.Equal(t, 1, w.pass(t))
	offer := w.offers(t)["telegram:1"]

	// holder keeps the entry locked, so that both sides queue behind it.
	holder, err := w.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = holder.Rollback(ctx) }()
	_, err = holder.Exec(ctx, `SELECT 1 FROM waitlist WHERE id = $1 FOR UPDATE`, e)
	require.NoError(t, err)
	var holderPID int
	require.NoError(t, holder.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&holderPID))

	// move: staff move chat 1's booking into the day it waits for (the
	// booking locked, then Record), failing fast rather than hanging.
	move, err := w.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = move.Rollback(ctx) }()
	_, err = move.Exec(ctx, `SET LOCAL lock_timeout = '5s'`)
	require.NoError(t, err)
	_, err = move.Exec(ctx, `SELECT 1 FROM bookings WHERE booking_id = $1::uuid FOR UPDATE`, mine.ID)
	require.NoError(t, err)
	var movePID int
	require.NoError(t, move.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&movePID))
	moved := *mine
	moved.Start, moved.End = w.at(2, 12, 0), w.at(2, 12, 0).Add(mine.End.Sub(mine.Start))
	recorded := make(chan error, 1)
	go func() {
		recorded <- w.wl.Record(ctx, move, booking.Change{Kind: booking.Moved, Booking: moved, From: mine.Start})
	}()
	w.waitLockWaiters(t, 1, holderPID, movePID)

	left := make(chan error, 1)
	go func() {
		_, err := w.wl.Leave(ctx, dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "1"}, e)
		left <- err
	}()
	w.waitLockWaiters(t, 2, holderPID, movePID)

	require.NoError(t, holder.Commit(ctx))
	require.NoError(t, <-recorded, "Record waits for no lock Leave holds")
	require.NoError(t, move.Commit(ctx))
	require.NoError(t, <-left)
	got, err := w.svc.Get(ctx, w.salonID, offer.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusCancelled, got.Status)
	require.Equal(t, 0, w.count(t, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, w.salonID))
}

// waitLockWaiters waits until n sessions wait on locks the sessions pids hold.
func (w *wlWorld) waitLockWaiters(t *testing.T, n int, pids ...int) {
	t.Helper()
	require.Eventually(t, func() bool {
		return w.count(t, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pg_blocking_pids(pid) && $1::int[]`, pids) >= n
	}, 10*time.Second, 5*time.Millisecond)
}

// Review 3, 2: staff cancelling a held offer (the API) ends it as the
// client's "No, thanks" does: its message is given up and the matcher woken.
func TestWaitlistStaffCancelOfAnOffer(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	w.join(t, 1)
	w.free(t, 10)
	require.Equal(t, 1, w.pass(t))
	offer := w.offers(t)["telegram:1"]
	_, err := w.pool.Exec(ctx, `DELETE FROM waitlist_wakes WHERE salon_id = $1`, w.salonID)
	require.NoError(t, err)

	got, err := w.svc.Cancel(ctx, w.salonID, offer.ID)
	require.NoError(t, err)
	require.Equal(t, offer.ID, got.ID)
	require.Equal(t, core.StatusCancelled, got.Status)
	require.True(t, got.HoldExpiresAt.IsZero())
	failed, _ := w.offerMessage(t, "1")
	require.Equal(t, "offer ended", failed)
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, w.salonID))

	again, err := w.svc.Cancel(ctx, w.salonID, offer.ID)
	require.NoError(t, err, "idempotent")
	require.Equal(t, core.StatusCancelled, again.Status)
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, w.salonID), "no second wake")
}
