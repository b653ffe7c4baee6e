package booking

import (
	"context"
	"errors"
	"slices"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/availability"
)

// Deposits: a client asked for one (Policy.DepositWhen, the service's
// Deposit) confirms into StatusAwaitingPayment instead of StatusConfirmed; the
// booking keeps its time for Policy.PaymentHold and is confirmed by Paid, or
// expires as a hold does.

// PayChats tells the service which booking sources can pay a deposit (a chat
// of a channel with a payment provider): a deposit due of any other source is
// refused (EUnavailable "deposit.unavailable") rather than waived. Call it
// before the service is used; unset, every chat can pay.
func (s *Service) PayChats(payable func(source string) bool) { s.payable = payable }

// Payment is a deposit a provider reports paid.
type Payment struct {
	Provider string // "telegram", "stripe": a name, never interpreted here
	// ChargeID is the provider's id of the charge, unique per provider: a
	// report of a charge already stored changes nothing.
	ChargeID string
	// ProviderChargeID is the payment provider's own id of the charge when the
	// channel sits between (Telegram's provider_payment_charge_id): what the
	// owner refunds by.
	ProviderChargeID string
	SessionID        string // the hosted payment page's session, unique per provider; "" when none
	EventID          string // the provider's id of the report, unique per provider; "" when none
	Amount           core.Money
}

// PaidOutcome says what a reported payment did.
type PaidOutcome string

// The outcomes of Paid.
const (
	PaidConfirmed PaidOutcome = "confirmed" // the booking is confirmed with its deposit paid
	PaidRefund    PaidOutcome = "refund"    // the payment is to be given back (Reason)
)

// Reasons a payment is to be refunded (PaidResult.Reason; payments.refund_reason).
const (
	RefundLate      = "late"      // it came after the payment window and the time was gone
	RefundUnpaid    = "unpaid"    // the booking was cancelled before it came
	RefundDuplicate = "duplicate" // the booking's deposit was paid already
	RefundAmount    = "amount"    // not the deposit asked (amount or currency)
	RefundCancelled = "cancelled" // the client cancelled before the refund cutoff
	RefundSalon     = "salon"     // the salon cancelled
)

// PaidResult is what Paid did.
type PaidResult struct {
	Booking *core.Booking // as it is now
	Outcome PaidOutcome
	Reason  string // with PaidRefund: one of the Refund… reasons
	// Repeat: the provider reported this payment before; nothing changed and
	// Outcome is what the first report decided.
	Repeat bool
	// Alternatives: with RefundLate, the nearest free times to book instead.
	Alternatives []availability.Slot
}

// StoredPayment is a payment as stored.
type StoredPayment struct {
	State  string // paid, refund_due, refunded
	Reason string // why it is refunded; "" while paid
}

// errRepeat rolls back what the transaction of a payment reported before did.
var errRepeat = errors.New("booking: a payment reported before")

// Paid records a deposit a provider reports paid for a booking, once per
// charge (and per session and event where the provider has them), and
// confirms the booking: at once while it awaits payment; after its window
// (lapsed or expired) only if its time can still be had, else the payment is
// to be refunded and the nearest free times come back. A payment of a
// cancelled booking, of one paid already, or of another amount is to be
// refunded too. A confirmed booking is followed as a Confirm's is (Tx.Changed,
// in the same transaction). ENotFound for an unknown booking; EInvalid for a
// payment without a provider or charge id.
func (s *Service) Paid(ctx context.Context, salonID, bookingID string, p Payment) (_ *PaidResult, err error) {
	defer s.observed(OpPaid)(&err)
	if p.Provider == "" || p.ChargeID == "" || p.Amount.Minor <= 0 || p.Amount.Currency == "" {
		return nil, core.Errorf(core.EInvalid, "request.invalid", "booking: a payment needs a provider, a charge id and an amount")
	}
	now := s.clock.Now()
	res := &PaidResult{}
	rec := s.record(ctx, now, StaffChange{})
	rec.Action = ActPaid
	err = s.store.WithTx(ctx, func(tx Tx) error {
		b, err := tx.Booking(ctx, salonID, bookingID, true)
		if err != nil {
			return err
		}
		before := *b
		res.Outcome, res.Reason, res.Alternatives = PaidConfirmed, "", nil
		refund := func(reason string) { res.Outcome, res.Reason = PaidRefund, reason }
		late := func(err error) error {
			ce, ok := errors.AsType[*ConflictError](err)
			if !ok {
				return err
			}
			refund(RefundLate)
			res.Alternatives = ce.Alternatives
			return nil
		}
		paid := *b
		if paid.Deposit.Minor == 0 {
			paid.Deposit = p.Amount
		}
		paid.Status, paid.HoldExpiresAt, paid.DepositState = core.StatusConfirmed, time.Time{}, core.DepositPaid
		salon, err := tx.Salon(ctx, salonID)
		if err != nil {
			return err
		}
		// The refund deadline is fixed now: a later move does not push it on.
		paid.RefundUntil = paid.Start.Add(-salon.Policy.RefundCutoff())
		switch {
		case p.Amount.Currency != paid.Deposit.Currency || p.Amount.Minor < paid.Deposit.Minor:
			refund(RefundAmount)
		case b.Status == core.StatusConfirmed && b.DepositState == core.DepositDue:
			// Confirmed by the salon meanwhile: the deposit is paid all the same.
			err = tx.UpdateBooking(ctx, &paid, rec)
		case b.Status == core.StatusConfirmed, b.DepositState == core.DepositPaid:
			refund(RefundDuplicate)
		case b.Status == core.StatusCancelled:
			refund(RefundUnpaid)
		case b.HoldLive(now):
			if err = late(s.paidInTime(ctx, tx, b, now)); err == nil && res.Outcome == PaidConfirmed {
				err = tx.UpdateBooking(ctx, &paid, rec)
			}
		default: // lapsed or expired: the time again, if nobody took it since
			err = late(s.retake(ctx, tx, &paid, now, rec))
		}
		if err != nil {
			return err
		}
		if res.Outcome == PaidConfirmed {
			*b = paid
		} else if b.Status != core.StatusConfirmed && (!b.HoldLive(now) || res.Reason == RefundLate) && !slices.Contains([]core.DepositState{
			core.DepositRefundDue, core.DepositKept, core.DepositRefunded}, b.DepositState) {
			// Paid for a booking that does not stand: its deposit goes back.
			// A deposit kept or refunded already stays so: this payment is
			// refunded by itself (its reason). A live booking whose time the
			// calendar took (late) expires: its deposit came and goes back.
			if b.Deposit.Minor == 0 {
				b.Deposit = p.Amount
			}
			a := rec
			a.Action = ActRefundDue
			if b.Status.Pending() {
				b.Status, a.Action = core.StatusExpired, ActExpired // lapsed, and its time is gone
			}
			b.DepositState = core.DepositRefundDue
			if err := tx.UpdateBooking(ctx, b, a); err != nil {
				return err
			}
		}
		inserted, stored, err := tx.RecordPayment(ctx, salonID, bookingID, p, res.Reason)
		if err != nil {
			return err
		}
		if !inserted {
			res.Repeat, res.Outcome, res.Reason, res.Alternatives = true, PaidConfirmed, stored.Reason, nil
			if stored.Reason != "" {
				res.Outcome = PaidRefund
			}
			return errRepeat
		}
		res.Booking = b
		if c := changeOf(before, *b); c != nil {
			return tx.Changed(ctx, *c) // reminders, calendar, staff notice: as a Confirm's
		}
		if before.Status == core.StatusConfirmed && before.DepositState != core.DepositPaid && b.DepositState == core.DepositPaid {
			return tx.Changed(ctx, Change{Kind: DepositPaid, Booking: *b}) // confirmed by the salon before: paid now
		}
		return nil
	})
	if errors.Is(err, errRepeat) {
		res.Booking, err = s.Get(ctx, salonID, bookingID)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// paidInTime checks that the master's own calendar has not taken the time of
// a live booking awaiting payment (their calendar wins, as for a Confirm); a
// *ConflictError when it has.
func (s *Service) paidInTime(ctx context.Context, tx Tx, b *core.Booking, now time.Time) error {
	busy, err := tx.Busy(ctx, b.SalonID, []string{b.MasterID}, b.Occupied, now, b.ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(busy[b.MasterID], func(o Occupancy) bool { return o.External }) {
		return nil
	}
	return s.takenFor(ctx, tx, b, now)
}

// retake writes b (lapsed or expired, made confirmed by the caller) if its
// time is still free and ahead: the exclusion constraints decide, holds lapsed
// in its way are expired first. A *ConflictError (with the nearest free times)
// when the time is gone or has passed; then nothing is written.
func (s *Service) retake(ctx context.Context, tx Tx, b *core.Booking, now time.Time, rec Audit) error {
	if !b.Start.After(now) {
		return s.takenFor(ctx, tx, b, now)
	}
	if err := s.paidInTime(ctx, tx, b, now); err != nil {
		return err
	}
	if _, err := tx.ExpireHolds(ctx, b.SalonID, b.MasterID, b.ClientID, b.Occupied, now); err != nil {
		return err
	}
	if err := tx.UpdateBooking(ctx, b, rec); err != nil {
		if core.ErrorCode(err) != core.EConflict {
			return err
		}
		return s.takenFor(ctx, tx, b, now)
	}
	return nil
}

// takenFor is taken for a booking's own time: a *ConflictError with the
// nearest free times of its service and master.
func (s *Service) takenFor(ctx context.Context, tx Tx, b *core.Booking, now time.Time) error {
	sc, err := s.scope(ctx, tx, b.SalonID, b.ServiceID, b.MasterID)
	if err != nil {
		// A service or master gone since: nothing to offer instead.
		if code := core.ErrorCode(err); code == core.ENotFound || code == core.EInvalid {
			return &ConflictError{Err: &core.Error{Code: core.EConflict, Key: "booking.slot_taken", Detail: "booking: the time is gone"}}
		}
		return err
	}
	return s.taken(ctx, tx, sc, b.Start, now, b.ID)
}

// depositDue returns the deposit a hold of b's source must pay before it is
// confirmed: the service's (core.Service.DepositAmount) when the policy asks
// it of this client (always, or after a no-show within NoShowLookback), none
// for the owner's bookings. EUnavailable "deposit.unavailable" when one is due
// and b's chat cannot pay (see PayChats).
func (s *Service) depositDue(ctx context.Context, tx Tx, b *core.Booking, now time.Time) (core.Money, error) {
	if b.Source == OwnerSource || b.Source == "" {
		return core.Money{}, nil
	}
	salon, err := tx.Salon(ctx, b.SalonID)
	if err != nil || !salon.Policy.AsksDeposits() {
		return core.Money{}, err
	}
	services, err := tx.Services(ctx, b.SalonID)
	if err != nil {
		return core.Money{}, err
	}
	i := slices.IndexFunc(services, func(v core.Service) bool { return v.ID == b.ServiceID })
	if i < 0 {
		return core.Money{}, nil // no longer offered: nothing to ask
	}
	amount := services[i].DepositAmount()
	if amount.Minor == 0 {
		return core.Money{}, nil
	}
	if salon.Policy.DepositWhen == core.DepositAfterNoShow {
		n, err := tx.NoShows(ctx, b.SalonID, b.ClientID, now.Add(-core.NoShowLookback))
		if err != nil || n == 0 {
			return core.Money{}, err
		}
	}
	if s.payable != nil && !s.payable(b.Source) {
		return core.Money{}, core.Errorf(core.EUnavailable, "deposit.unavailable", "booking: a deposit is due but the chat of %s cannot pay", b.ID)
	}
	return amount, nil
}

// PaymentExpired ends a booking still awaiting its deposit when its payment
// page closed unpaid (the provider's expiry): it is marked expired (the time
// goes to the wait-list), as when its window lapses. It reports whether it
// did; any other booking is left alone.
func (s *Service) PaymentExpired(ctx context.Context, salonID, bookingID string) (bool, error) {
	now := s.clock.Now()
	var done bool
	err := s.store.Auto(ctx, func(tx Tx) error {
		var err error
		done, err = tx.ExpirePayment(ctx, salonID, bookingID, now)
		return err
	})
	return done, err
}

// CancelByClient is the client's cancel (a chat's): as Cancel, except that a
// paid deposit is refunded only when the cancel comes at least the policy's
// RefundCutoff before the start, and kept otherwise.
func (s *Service) CancelByClient(ctx context.Context, salonID, bookingID string) (_ *core.Booking, err error) {
	defer s.observed(OpCancel)(&err)
	return s.cancel(ctx, salonID, bookingID, StaffChange{}, true)
}

// refundOnCancel settles a paid deposit of a confirmed booking being
// cancelled: the salon's cancel gives it back, the client's before the refund
// cutoff too; later it is kept. The cutoff is the deadline fixed when the
// deposit was paid (b.RefundUntil), or the current start's if that is earlier:
// moving a booking never buys a refund. It sets b.DepositState.
func refundOnCancel(ctx context.Context, tx Tx, salon *core.Salon, b *core.Booking, byClient bool, now time.Time) error {
	if b.DepositState != core.DepositPaid {
		return nil
	}
	reason := RefundSalon
	if byClient {
		until := b.Start.Add(-salon.Policy.RefundCutoff())
		if !b.RefundUntil.IsZero() && b.RefundUntil.Before(until) {
			until = b.RefundUntil
		}
		if now.After(until) {
			b.DepositState = core.DepositKept
			return nil
		}
		reason = RefundCancelled
	}
	if _, err := tx.RefundPayments(ctx, b.SalonID, b.ID, reason); err != nil {
		return err
	}
	b.DepositState = core.DepositRefundDue
	return nil
}
