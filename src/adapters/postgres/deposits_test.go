package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/adreport"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// TestApplyStoresTheDepositPolicy: what the salon file says of deposits comes
// back from the catalog as it went in, and a second apply changes nothing.
func TestApplyStoresTheDepositPolicy(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	setup := b.setup
	setup.Services = slices.Clone(b.setup.Services)
	setup.Salon.Policy.DepositWhen = core.DepositAfterNoShow
	setup.Salon.Policy.PaymentWindow = 20 * time.Minute
	setup.Salon.Policy.DepositRefundCutoff = 48 * time.Hour
	setup.Services[0].Deposit = core.Deposit{Minor: 1000}
	setup.Services[1].Deposit = core.Deposit{Percent: 20}
	n, err := b.store.Apply(ctx, setup)
	require.NoError(t, err)
	require.Positive(t, n)
	cat, err := b.svc.Catalog(ctx, b.salonID)
	require.NoError(t, err)
	require.Equal(t, setup.Salon.Policy.DepositWhen, cat.Salon.Policy.DepositWhen)
	require.Equal(t, 20*time.Minute, cat.Salon.Policy.PaymentWindow)
	require.Equal(t, 48*time.Hour, cat.Salon.Policy.DepositRefundCutoff)
	require.Equal(t, core.Deposit{Minor: 1000}, cat.Services[0].Deposit)
	require.Equal(t, core.Money{Minor: 500, Currency: "EUR"}, cat.Services[1].DepositAmount(), "20% of 25.00")
	n, err = b.store.Apply(ctx, setup)
	require.NoError(t, err)
	require.Zero(t, n, "the same file twice changes nothing")

	// Back to none: the defaults are stored as NULL and read back as zero.
	n, err = b.store.Apply(ctx, b.setup)
	require.NoError(t, err)
	require.Positive(t, n)
	cat, err = b.svc.Catalog(ctx, b.salonID)
	require.NoError(t, err)
	require.Empty(t, cat.Salon.Policy.DepositWhen)
	require.Zero(t, cat.Salon.Policy.PaymentWindow)
	require.Zero(t, cat.Salon.Policy.DepositRefundCutoff)
	require.Equal(t, core.Deposit{}, cat.Services[0].Deposit)
}

// depositWorld is a salon that asks a 10.00 EUR deposit for a haircut of
// every chat client (policy always), with a 15-minute payment window and a
// 48-hour refund cutoff; its changes are recorded as serve's followers see them.
type depositWorld struct {
	*bundle
	wl      *postgres.Waitlist
	mu      sync.Mutex
	changes []booking.Change
}

func newDepositWorld(t *testing.T, edit func(*postgres.SalonSetup)) *depositWorld {
	t.Helper()
	w := &depositWorld{bundle: newBundle(t)}
	setup := w.setup
	setup.Services = slices.Clone(w.setup.Services)
	setup.Salon.Policy.DepositWhen = core.DepositAlways
	setup.Salon.Policy.DepositRefundCutoff = 48 * time.Hour
	setup.Services[0].Deposit = core.Deposit{Minor: 1000}
	if edit != nil {
		edit(&setup)
	}
	_, err := w.store.Apply(ctx, setup)
	require.NoError(t, err)
	w.setup = setup
	w.wl = postgres.NewWaitlist(pgtest.Pool(t))
	t.Cleanup(w.wl.Close)
	w.store.FollowChanges(w.wl.Record)
	w.store.FollowChanges(func(_ context.Context, _ pgx.Tx, c booking.Change) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.changes = append(w.changes, c)
		return nil
	})
	return w
}

// hold holds Anna's 10:00 on day d for a chat client (key also names the client).
func (w *depositWorld) hold(t *testing.T, d, hour int, key string) *core.Booking {
	t.Helper()
	r := w.req("anna", w.at(d, hour, 0), key)
	r.Source = "telegram:" + key
	b, err := w.svc.Book(ctx, r)
	require.NoError(t, err)
	require.Equal(t, core.StatusHeld, b.Status)
	return b
}

// awaiting holds and confirms: the booking awaits its deposit.
func (w *depositWorld) awaiting(t *testing.T, d, hour int, key string) *core.Booking {
	t.Helper()
	b, err := w.svc.Confirm(ctx, w.salonID, w.hold(t, d, hour, key).ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusAwaitingPayment, b.Status)
	return b
}

func (w *depositWorld) booked(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, c := range w.changes {
		if c.Kind == booking.Booked && c.Booking.ID == id {
			n++
		}
	}
	return n
}

// payment is a Telegram payment of 10.00 EUR; charge ids are unique across
// the database (as a provider's are), so each world's carry its salon's id.
func (w *depositWorld) payment(charge string) booking.Payment {
	return booking.Payment{Provider: "telegram", ChargeID: w.salonID + "-" + charge, ProviderChargeID: "prov-" + charge,
		Amount: core.Money{Minor: 1000, Currency: "EUR"}}
}

// paymentRow reads a payment's state and refund reason by its charge id.
func (w *depositWorld) paymentRow(t *testing.T, charge string) (state, reason string) {
	t.Helper()
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx,
		`SELECT state, coalesce(refund_reason, '') FROM payments WHERE charge_id = $1`, w.salonID+"-"+charge).Scan(&state, &reason))
	return state, reason
}

func TestDepositPaidInTimeConfirmsOnce(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	b := w.awaiting(t, 2, 10, "in-time")
	require.Equal(t, core.Money{Minor: 1000, Currency: "EUR"}, b.Deposit)
	require.Equal(t, core.DepositDue, b.DepositState)
	require.Equal(t, w.clock.T.Add(15*time.Minute), b.HoldExpiresAt, "the payment window")
	require.Zero(t, w.booked(b.ID), "not booked before it is paid")

	again, err := w.svc.Confirm(ctx, w.salonID, b.ID)
	require.NoError(t, err, "confirming again while it waits changes nothing")
	require.Equal(t, core.StatusAwaitingPayment, again.Status)

	// The time is taken while it waits: by the slots and by the constraint.
	slots, _, err := w.svc.Slots(ctx, booking.SlotsRequest{SalonID: w.salonID, ServiceID: "haircut", MasterID: "anna",
		From: core.Date{Year: 2027, Month: 3, Day: 2}, Days: 1})
	require.NoError(t, err)
	require.False(t, hasStart(slots, b.Start))
	_, err = w.svc.Book(ctx, w.req("anna", b.Start, "rival"))
	require.Equal(t, "booking.slot_taken", core.ErrorKey(err))

	w.clock.T = w.clock.T.Add(14 * time.Minute)
	res, err := w.svc.Paid(ctx, w.salonID, b.ID, w.payment("ch-1"))
	require.NoError(t, err)
	require.Equal(t, booking.PaidConfirmed, res.Outcome)
	require.False(t, res.Repeat)
	require.Equal(t, core.StatusConfirmed, res.Booking.Status)
	require.Equal(t, core.DepositPaid, res.Booking.DepositState)
	require.True(t, res.Booking.HoldExpiresAt.IsZero())
	require.Equal(t, 1, w.booked(b.ID), "followed as a confirm: reminders, calendar, staff notice")
	state, _ := w.paymentRow(t, "ch-1")
	require.Equal(t, "paid", state)

	// The same payment reported again (a redelivery): one confirmation.
	res, err = w.svc.Paid(ctx, w.salonID, b.ID, w.payment("ch-1"))
	require.NoError(t, err)
	require.True(t, res.Repeat)
	require.Equal(t, booking.PaidConfirmed, res.Outcome)
	require.Equal(t, core.StatusConfirmed, res.Booking.Status)
	require.Equal(t, 1, w.booked(b.ID))

	// Another charge for the same booking: paid twice, the second goes back.
	res, err = w.svc.Paid(ctx, w.salonID, b.ID, w.payment("ch-2"))
	require.NoError(t, err)
	require.Equal(t, booking.PaidRefund, res.Outcome)
	require.Equal(t, booking.RefundDuplicate, res.Reason)
	require.Equal(t, core.DepositPaid, res.Booking.DepositState)
	state, reason := w.paymentRow(t, "ch-2")
	require.Equal(t, []string{"refund_due", "duplicate"}, []string{state, reason})
}

func TestDepositPaidLateAfterTheTimeWasTakenIsRefunded(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	b := w.awaiting(t, 2, 10, "late")
	w.clock.T = w.clock.T.Add(16 * time.Minute)
	n, err := w.wl.ExpireDue(ctx, w.salonID, w.clock.T)
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the expiry loop lets an unpaid booking go")
	got, err := w.svc.Get(ctx, w.salonID, b.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusExpired, got.Status)
	var wakes int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, w.salonID).Scan(&wakes))
	require.Positive(t, wakes, "the freed time wakes the wait-list")

	r := w.req("anna", b.Start, "taker")
	r.Source = booking.OwnerSource
	r.Confirm = true
	_, err = w.svc.Book(ctx, r)
	require.NoError(t, err, "someone else takes the time")

	res, err := w.svc.Paid(ctx, w.salonID, b.ID, w.payment("late-1"))
	require.NoError(t, err)
	require.Equal(t, booking.PaidRefund, res.Outcome)
	require.Equal(t, booking.RefundLate, res.Reason)
	require.NotEmpty(t, res.Alternatives, "the client is offered times instead")
	for _, a := range res.Alternatives {
		require.False(t, a.Start.Equal(b.Start))
	}
	require.Equal(t, core.StatusExpired, res.Booking.Status)
	require.Equal(t, core.DepositRefundDue, res.Booking.DepositState)
	require.Zero(t, w.booked(b.ID))
	state, reason := w.paymentRow(t, "late-1")
	require.Equal(t, []string{"refund_due", "late"}, []string{state, reason})
}

func TestDepositPaidLateWhileTheTimeIsFreeConfirms(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	b := w.awaiting(t, 2, 10, "late-free")
	w.clock.T = w.clock.T.Add(20 * time.Minute) // lapsed, not yet marked expired
	res, err := w.svc.Paid(ctx, w.salonID, b.ID, w.payment("lf-1"))
	require.NoError(t, err)
	require.Equal(t, booking.PaidConfirmed, res.Outcome)
	require.Equal(t, core.StatusConfirmed, res.Booking.Status)
	require.Equal(t, 1, w.booked(b.ID))

	// Marked expired first, as the loop does: the same.
	c := w.awaiting(t, 3, 10, "late-free-2")
	w.clock.T = w.clock.T.Add(20 * time.Minute)
	_, err = w.wl.ExpireDue(ctx, w.salonID, w.clock.T)
	require.NoError(t, err)
	res, err = w.svc.Paid(ctx, w.salonID, c.ID, w.payment("lf-2"))
	require.NoError(t, err)
	require.Equal(t, booking.PaidConfirmed, res.Outcome)
	require.Equal(t, core.StatusConfirmed, res.Booking.Status)
}

func TestDepositPaymentOfACancelledOrWrongBooking(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	b := w.awaiting(t, 2, 10, "cx")
	got, err := w.svc.CancelByClient(ctx, w.salonID, b.ID)
	require.NoError(t, err, "a booking awaiting its deposit can be cancelled")
	require.Equal(t, core.StatusCancelled, got.Status)
	res, err := w.svc.Paid(ctx, w.salonID, b.ID, w.payment("cx-1"))
	require.NoError(t, err)
	require.Equal(t, booking.PaidRefund, res.Outcome)
	require.Equal(t, booking.RefundUnpaid, res.Reason)
	require.Equal(t, core.StatusCancelled, res.Booking.Status)

	c := w.awaiting(t, 3, 10, "short")
	short := w.payment("short-1")
	short.Amount.Minor = 999
	res, err = w.svc.Paid(ctx, w.salonID, c.ID, short)
	require.NoError(t, err)
	require.Equal(t, booking.PaidRefund, res.Outcome)
	require.Equal(t, booking.RefundAmount, res.Reason)
	require.Equal(t, core.StatusAwaitingPayment, res.Booking.Status, "still waits for the deposit asked")

	_, err = w.svc.Paid(ctx, w.salonID, c.ID, booking.Payment{Provider: "telegram", Amount: short.Amount})
	require.Equal(t, core.EInvalid, core.ErrorCode(err))
	_, err = w.svc.Paid(ctx, w.salonID, "00000000-0000-0000-0000-000000000000", w.payment("nobody"))
	require.Equal(t, core.ENotFound, core.ErrorCode(err))
}

func TestDepositRefundOnCancelBeforeTheCutoffNoneAfter(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	pay := func(b *core.Booking, charge string) {
		t.Helper()
		res, err := w.svc.Paid(ctx, w.salonID, b.ID, w.payment(charge))
		require.NoError(t, err)
		require.Equal(t, booking.PaidConfirmed, res.Outcome)
	}
	early := w.awaiting(t, 5, 10, "early") // Friday: 4 days ahead, before the 48 h refund cutoff
	pay(early, "early-1")
	late := w.awaiting(t, 2, 15, "late") // Tuesday 15:00: 31 h ahead, after the refund cutoff (cancel cutoff 12 h)
	pay(late, "late-1")
	salon := w.awaiting(t, 2, 16, "salon")
	pay(salon, "salon-1")

	got, err := w.svc.CancelByClient(ctx, w.salonID, early.ID)
	require.NoError(t, err)
	require.Equal(t, core.DepositRefundDue, got.DepositState)
	state, reason := w.paymentRow(t, "early-1")
	require.Equal(t, []string{"refund_due", "cancelled"}, []string{state, reason})

	got, err = w.svc.CancelByClient(ctx, w.salonID, late.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusCancelled, got.Status)
	require.Equal(t, core.DepositKept, got.DepositState)
	state, _ = w.paymentRow(t, "late-1")
	require.Equal(t, "paid", state, "kept: nothing to refund")

	got, err = w.svc.Cancel(ctx, w.salonID, salon.ID) // the salon's
	require.NoError(t, err)
	require.Equal(t, core.DepositRefundDue, got.DepositState)
	state, reason = w.paymentRow(t, "salon-1")
	require.Equal(t, []string{"refund_due", "salon"}, []string{state, reason})
}

// TestDepositRefundCutoffSurvivesAMove: the refund deadline is fixed when the
// deposit is paid; moving the booking later does not buy a refund.
func TestDepositRefundCutoffSurvivesAMove(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	b := w.awaiting(t, 2, 15, "mover") // Tuesday 15:00: 31 h ahead, after the 48 h refund cutoff
	res, err := w.svc.Paid(ctx, w.salonID, b.ID, w.payment("mover-1"))
	require.NoError(t, err)
	require.Equal(t, booking.PaidConfirmed, res.Outcome)
	require.Equal(t, b.Start.Add(-48*time.Hour), res.Booking.RefundUntil)
	moved, err := w.svc.Reschedule(ctx, w.salonID, b.ID, w.at(5, 10, 0)) // Friday: 4 days ahead
	require.NoError(t, err)
	require.Equal(t, res.Booking.RefundUntil, moved.RefundUntil, "the deadline stays")
	got, err := w.svc.CancelByClient(ctx, w.salonID, b.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusCancelled, got.Status)
	require.Equal(t, core.DepositKept, got.DepositState)
	state, _ := w.paymentRow(t, "mover-1")
	require.Equal(t, "paid", state, "kept: nothing to refund")
}

// TestDepositKeptStaysKeptOnASecondPayment: a payment of a booking whose
// deposit was kept (or refunded) is refunded by itself; the booking's deposit
// is not relabelled refund_due.
func TestDepositKeptStaysKeptOnASecondPayment(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	b := w.awaiting(t, 2, 15, "kept") // 31 h ahead: after the 48 h refund cutoff
	res, err := w.svc.Paid(ctx, w.salonID, b.ID, w.payment("kept-1"))
	require.NoError(t, err)
	require.Equal(t, booking.PaidConfirmed, res.Outcome)
	got, err := w.svc.CancelByClient(ctx, w.salonID, b.ID)
	require.NoError(t, err)
	require.Equal(t, core.DepositKept, got.DepositState)

	res, err = w.svc.Paid(ctx, w.salonID, b.ID, w.payment("kept-2"))
	require.NoError(t, err)
	require.Equal(t, booking.PaidRefund, res.Outcome)
	require.Equal(t, core.DepositKept, res.Booking.DepositState)
	got, err = w.svc.Get(ctx, w.salonID, b.ID)
	require.NoError(t, err)
	require.Equal(t, core.DepositKept, got.DepositState, "still kept")
	state, _ := w.paymentRow(t, "kept-1")
	require.Equal(t, "paid", state)
	state, _ = w.paymentRow(t, "kept-2")
	require.Equal(t, "refund_due", state, "the second payment goes back")
}

// TestDepositPaidAfterTheCalendarTookTheTime: paid in time, but the master's
// own calendar took the time meanwhile: the payment is refunded and the
// booking expires (it does not keep awaiting a deposit paid already).
func TestDepositPaidAfterTheCalendarTookTheTime(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	b := w.awaiting(t, 2, 10, "cal")
	_, err := pgtest.Pool(t).Exec(ctx, `INSERT INTO calendar_busy (salon_id, master_id, during) VALUES ($1, 'anna', tstzrange($2, $3))`,
		w.salonID, b.Start, b.End)
	require.NoError(t, err)
	res, err := w.svc.Paid(ctx, w.salonID, b.ID, w.payment("cal-1"))
	require.NoError(t, err)
	require.Equal(t, booking.PaidRefund, res.Outcome)
	require.Equal(t, booking.RefundLate, res.Reason)
	require.Equal(t, core.StatusExpired, res.Booking.Status)
	require.Equal(t, core.DepositRefundDue, res.Booking.DepositState)
	got, err := w.svc.Get(ctx, w.salonID, b.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusExpired, got.Status, "no longer awaits the deposit")
	state, reason := w.paymentRow(t, "cal-1")
	require.Equal(t, []string{"refund_due", "late"}, []string{state, reason})
}

// TestDepositCancelWhileAwaitingWakesTheWaitlist: cancelling a booking
// awaiting its deposit frees its time as its expiry would: the wait-list is
// woken.
func TestDepositCancelWhileAwaitingWakesTheWaitlist(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	b := w.awaiting(t, 2, 10, "cxw")
	wakes := func() int {
		var n int
		require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, w.salonID).Scan(&n))
		return n
	}
	before := wakes()
	got, err := w.svc.CancelByClient(ctx, w.salonID, b.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusCancelled, got.Status)
	require.True(t, got.HoldExpiresAt.IsZero())
	require.Equal(t, core.DepositDue, got.DepositState, "never paid")
	require.Greater(t, wakes(), before, "the freed time wakes the wait-list")
	again, err := w.svc.Cancel(ctx, w.salonID, b.ID)
	require.NoError(t, err, "cancelling again changes nothing")
	require.Equal(t, core.StatusCancelled, again.Status)
}

// TestRefundedByOwnerOnlyWhatTheLoopCannot: the owner marks refunded a
// Telegram payment, or a Stripe one Stripe refused to refund; not a Stripe
// payment the refund loop is about to refund (it would never be refunded).
func TestRefundedByOwnerOnlyWhatTheLoopCannot(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	payments := postgres.NewPayments(pgtest.Pool(t))
	b := w.awaiting(t, 5, 10, "st")
	p := w.payment("st-1")
	p.Provider, p.SessionID, p.EventID = "stripe", w.salonID+"-cs-1", w.salonID+"-evt-1"
	_, err := w.svc.Paid(ctx, w.salonID, b.ID, p)
	require.NoError(t, err)
	_, err = w.svc.Cancel(ctx, w.salonID, b.ID)
	require.NoError(t, err)
	due, err := payments.RefundsDue(ctx, w.salonID, "stripe", true, 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	done, err := payments.RefundedByOwner(ctx, w.salonID, due[0].PaymentID)
	require.NoError(t, err)
	require.False(t, done, "the refund loop's to make")
	require.NoError(t, payments.RefundFailed(ctx, w.salonID, due[0].PaymentID, "invalid_request_error charge_disputed"))
	done, err = payments.RefundedByOwner(ctx, w.salonID, due[0].PaymentID)
	require.NoError(t, err)
	require.True(t, done, "Stripe refused it: the owner's")

	c := w.awaiting(t, 6, 10, "tg")
	_, err = w.svc.Paid(ctx, w.salonID, c.ID, w.payment("tg-1"))
	require.NoError(t, err)
	_, err = w.svc.Cancel(ctx, w.salonID, c.ID)
	require.NoError(t, err)
	due, err = payments.RefundsDue(ctx, w.salonID, "telegram", true, 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	done, err = payments.RefundedByOwner(ctx, w.salonID, due[0].PaymentID)
	require.NoError(t, err)
	require.True(t, done, "Telegram's refunds are the owner's")
}

func TestDepositIsAskedOnlyOfChatsThatCanPay(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	// The owner's bookings are never asked.
	r := w.req("anna", w.at(2, 10, 0), "owner")
	r.Source = booking.OwnerSource
	held, err := w.svc.Book(ctx, r)
	require.NoError(t, err)
	got, err := w.svc.Confirm(ctx, w.salonID, held.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusConfirmed, got.Status)
	require.Empty(t, got.DepositState)

	// A manicure has no deposit.
	r = w.req("anna", w.at(3, 12, 0), "mani")
	r.ServiceID, r.Source = "manicure", "telegram:mani"
	held, err = w.svc.Book(ctx, r)
	require.NoError(t, err)
	got, err = w.svc.Confirm(ctx, w.salonID, held.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusConfirmed, got.Status)

	// A chat whose channel cannot pay is refused, not let through unpaid.
	w.svc.PayChats(func(source string) bool { return strings.HasPrefix(source, "whatsapp:") })
	held = w.hold(t, 3, 15, "nopay")
	_, err = w.svc.Confirm(ctx, w.salonID, held.ID)
	require.Equal(t, core.EUnavailable, core.ErrorCode(err))
	require.Equal(t, "deposit.unavailable", core.ErrorKey(err))
	got, err = w.svc.Get(ctx, w.salonID, held.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusHeld, got.Status)
}

func TestDepositPolicyNeverConfirmsAtOnce(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, func(s *postgres.SalonSetup) { s.Salon.Policy.DepositWhen = "" })
	got, err := w.svc.Confirm(ctx, w.salonID, w.hold(t, 2, 10, "never").ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusConfirmed, got.Status)
}

func TestDepositPaymentPageExpired(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	b := w.awaiting(t, 2, 10, "page")
	done, err := w.svc.PaymentExpired(ctx, w.salonID, b.ID)
	require.NoError(t, err)
	require.True(t, done)
	got, err := w.svc.Get(ctx, w.salonID, b.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusExpired, got.Status)
	done, err = w.svc.PaymentExpired(ctx, w.salonID, b.ID)
	require.NoError(t, err)
	require.False(t, done, "once")
	taken, err := w.svc.Book(ctx, w.req("anna", b.Start, "next"))
	require.NoError(t, err, "the time is free again")
	_, err = w.svc.Release(ctx, w.salonID, taken.ID)
	require.NoError(t, err)

	// The expiry loop sees a booking awaiting payment as it sees a hold.
	c := w.awaiting(t, 1, 10, "soon") // 10:00 today, 2 h ahead
	next, ok, err := w.wl.NextExpiry(ctx, w.salonID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, c.HoldExpiresAt, next)
}

// TestDepositAfterNoShowAsksOnlyClientsWithANoShow: with policy
// after_no_show, a client the desk marked as a no-show in the last year is
// asked the deposit; a regular (arrived) is not, nor is the same client once
// the no-show is more than a year old.
func TestDepositAfterNoShowAsksOnlyClientsWithANoShow(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, func(s *postgres.SalonSetup) { s.Salon.Policy.DepositWhen = core.DepositAfterNoShow })
	confirm := func(start time.Time, who string) *core.Booking { // who is the chat, and the client
		t.Helper()
		r := w.req("anna", start, who)
		r.Source, r.IdempotencyKey = "telegram:"+who, fmt.Sprintf("%s-%d", who, start.Unix())
		held, err := w.svc.Book(ctx, r)
		require.NoError(t, err)
		b, err := w.svc.Confirm(ctx, w.salonID, held.ID)
		require.NoError(t, err)
		return b
	}
	regular := confirm(w.at(1, 10, 0), "regular")
	flaky := confirm(w.at(1, 12, 0), "flaky")
	require.Equal(t, core.StatusConfirmed, regular.Status, "nobody has a no-show yet")
	require.Equal(t, core.StatusConfirmed, flaky.Status)

	w.clock.T = w.clock.T.Add(5 * time.Hour) // 13:00: both started
	_, err := w.svc.Mark(ctx, w.salonID, regular.ID, core.Arrived)
	require.NoError(t, err)
	_, err = w.svc.Mark(ctx, w.salonID, flaky.ID, core.NoShow)
	require.NoError(t, err)

	again := confirm(w.at(3, 10, 0), "flaky")
	require.Equal(t, core.StatusAwaitingPayment, again.Status, "a no-show in the last year: asked")
	require.Equal(t, core.Money{Minor: 1000, Currency: "EUR"}, again.Deposit)
	require.Equal(t, core.StatusConfirmed, confirm(w.at(3, 12, 0), "regular").Status, "a regular is not asked")

	// A year and a day on, the old no-show no longer counts.
	w.clock.T = w.clock.T.Add(core.NoShowLookback + 24*time.Hour)
	later := confirm(time.Date(2028, 3, 9, 10, 0, 0, 0, w.zone), "flaky")
	require.Equal(t, core.StatusConfirmed, later.Status)
}

// TestDepositAfterNoShowFollowsThePhone: the deposit rule reads the person's
// no-shows as the desk counts them (Desk.NoShows' statement): a no-show the
// desk booked under a phone counts for a chat's client who gives that phone,
// though the two are different clients (identities owner: and chat:).
func TestDepositAfterNoShowFollowsThePhone(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, func(s *postgres.SalonSetup) { s.Salon.Policy.DepositWhen = core.DepositAfterNoShow })
	const phone = "+49 151 4440009"
	desk := w.req("anna", w.at(1, 10, 0), "desk-1")
	desk.Client = core.Client{Name: "Vera Desk", Phone: phone}
	desk.Source, desk.Confirm = booking.DeskActor("olga"), true
	missed, err := w.svc.Book(ctx, desk)
	require.NoError(t, err)
	w.clock.T = w.at(1, 11, 0)
	_, err = w.svc.Mark(ctx, w.salonID, missed.ID, core.NoShow)
	require.NoError(t, err)

	chat := w.req("anna", w.at(3, 10, 0), "chat-1")
	chat.Client = core.Client{Name: "Vera Chat", Phone: phone}
	chat.Source = "telegram:4440009"
	held, err := w.svc.Book(ctx, chat)
	require.NoError(t, err)
	require.NotEqual(t, missed.ClientID, held.ClientID, "two clients: the desk's record and the chat's person")
	got, err := w.svc.Confirm(ctx, w.salonID, held.ID)
	require.NoError(t, err)
	require.Equal(t, core.StatusAwaitingPayment, got.Status, "the phone's no-show counts: asked")
}

// A deposit paid for a booking the salon confirmed while it waited is a
// change of its own (DepositPaid, not Booked: no second confirmation), and
// the ad report records its Purchase for a chat that came from an ad.
func TestDepositPaidAfterTheSalonConfirmedIsFollowed(t *testing.T) {
	t.Parallel()
	w := newDepositWorld(t, nil)
	pool := pgtest.Pool(t)
	b := w.awaiting(t, 2, 10, "salon-first")
	// The salon confirmed it meanwhile (its deposit still due).
	_, err := pool.Exec(ctx, `UPDATE bookings SET status = 'confirmed', hold_expires_at = NULL WHERE booking_id = $1`, b.ID)
	require.NoError(t, err)
	ads := postgres.NewAdReports(pool)
	require.NoError(t, ads.Clicked(ctx, dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "salon-first"},
		messaging.AdClick{ClickID: "clid-dp"}, w.clock.Now()))
	var recorded []string
	w.store.FollowChanges(func(ctx context.Context, tx pgx.Tx, c booking.Change) error {
		ids, err := ads.Record(ctx, tx, c, w.clock.Now())
		recorded = append(recorded, ids...)
		return err
	})

	res, err := w.svc.Paid(ctx, w.salonID, b.ID, w.payment("dp-1"))
	require.NoError(t, err)
	require.Equal(t, booking.PaidConfirmed, res.Outcome)
	require.Equal(t, core.DepositPaid, res.Booking.DepositState)
	require.Zero(t, w.booked(b.ID), "no second confirmation")
	w.mu.Lock()
	var kinds []booking.ChangeKind
	for _, c := range w.changes {
		if c.Booking.ID == b.ID {
			kinds = append(kinds, c.Kind)
		}
	}
	w.mu.Unlock()
	require.Equal(t, []booking.ChangeKind{booking.DepositPaid}, kinds)
	require.Equal(t, []string{adreport.EventID(b.ID, adreport.Purchase)}, recorded)
}
