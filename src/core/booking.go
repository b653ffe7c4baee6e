package core

import "time"

// BookingStatus is where a booking is in its life.
type BookingStatus string

// Booking statuses. Only held, awaiting_payment and confirmed bookings occupy
// time.
const (
	StatusHeld            BookingStatus = "held"             // waiting for the client's confirmation until HoldExpiresAt
	StatusAwaitingPayment BookingStatus = "awaiting_payment" // confirmed by the client, waiting for the deposit until HoldExpiresAt
	StatusConfirmed       BookingStatus = "confirmed"        // an appointment
	StatusCancelled       BookingStatus = "cancelled"        // by the client or the salon
	StatusExpired         BookingStatus = "expired"          // a hold (or a deposit) that did not come in time
)

// Blocks reports whether a booking in status s occupies its master's time.
func (s BookingStatus) Blocks() bool {
	return s == StatusHeld || s == StatusAwaitingPayment || s == StatusConfirmed
}

// Pending reports whether a booking in status s waits for something until its
// HoldExpiresAt: the client's confirmation, or the deposit.
func (s BookingStatus) Pending() bool { return s == StatusHeld || s == StatusAwaitingPayment }

// DepositState is where a booking's deposit stands.
type DepositState string

// Deposit states; "" when no deposit was asked.
const (
	DepositDue       DepositState = "due"        // asked, not paid (the booking awaits payment, or lapsed unpaid)
	DepositPaid      DepositState = "paid"       // held by the salon: kept on a no-show, counted toward the price on arrival
	DepositRefundDue DepositState = "refund_due" // to be given back (a provider's refund, or the owner's for Telegram)
	DepositRefunded  DepositState = "refunded"   // given back
	DepositKept      DepositState = "kept"       // the client cancelled after the refund cutoff
)

// Attendance is what staff marked of a confirmed appointment once it began.
type Attendance string

// Attendance marks; "" is none.
const (
	Arrived Attendance = "arrived" // the client came
	NoShow  Attendance = "no_show" // the client did not come
)

// Booking is one appointment of one client with one master for one service,
// or (Block) time the master is not available: a break, a sick hour.
type Booking struct {
	ID             string
	SalonID        string
	MasterID       string
	ServiceID      string
	ClientID       int64
	Start          time.Time // UTC
	End            time.Time // UTC, Start + service duration
	Occupied       TimeRange // [Start-buffer_before, End+buffer_after)
	Status         BookingStatus
	HoldExpiresAt  time.Time // zero unless held
	Price          Money
	IdempotencyKey string
	Source         string       // who asked: "api", or the chat that made it; a chat sees only its own
	ComingAt       time.Time    // when the client said "I'll come"; zero until then
	Deposit        Money        // the deposit asked of this booking, in the price's currency; zero when none
	DepositState   DepositState // "" when no deposit was asked
	// RefundUntil: a client's cancel up to this instant gets the paid deposit
	// back (the start less the refund cutoff, fixed when it was paid and never
	// later than that of the current start); zero until paid.
	RefundUntil time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time

	// Block is a master's blocked time, not an appointment: no client (ClientID
	// 0), no service (ServiceID ""), no price; confirmed while it stands,
	// cancelled when lifted. Note says what it is ("Break").
	Block        bool
	Note         string
	Attendance   Attendance // set by staff at or after the start; "" until then
	AttendanceAt time.Time  // when Attendance was set
}

// HoldLive reports whether b is a hold, or a booking awaiting its deposit, that
// still blocks its time at now.
func (b *Booking) HoldLive(now time.Time) bool {
	return b.Status.Pending() && now.Before(b.HoldExpiresAt)
}
