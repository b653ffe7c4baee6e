// Package booking holds the use cases of booking a time: see free slots, hold,
// confirm, cancel, reschedule, get and list. It decides; its Store persists.
//
// Double booking is impossible by construction, not by checking here: the Store
// must enforce in the database that two held-or-confirmed bookings of one master
// never overlap. The checks in this package only turn the common failures into
// clear answers before the database has to.
package booking

import (
	"context"
	"time"

	"salonbook/src/core"
)

// Store persists salons and bookings.
type Store interface {
	// WithTx runs fn in one transaction; an error from fn rolls it back.
	WithTx(ctx context.Context, fn func(Tx) error) error
	// Auto runs fn with each statement committing on its own: for reads, and
	// for writes that must not wait inside a transaction (ExpireLapsed).
	Auto(ctx context.Context, fn func(Tx) error) error
}

// Tx is what the use cases may do inside one transaction. Besides the codes each
// method names, any method may fail with EUnavailable (the database is busy or the
// request was cancelled) or EInternal.
type Tx interface {
	// Salon returns the salon. ENotFound when there is none.
	Salon(ctx context.Context, salonID string) (*core.Salon, error)
	// Services returns the salon's active services in the salon file's order.
	Services(ctx context.Context, salonID string) ([]core.Service, error)
	// Masters returns the salon's active masters in the salon file's order.
	Masters(ctx context.Context, salonID string) ([]core.Master, error)
	// Busy returns, per master, the live bookings (confirmed, or held and unexpired
	// at now) whose occupied range overlaps window, leaving out the booking exclude
	// (which may be "").
	Busy(ctx context.Context, salonID string, masterIDs []string, window core.TimeRange, now time.Time, exclude string) (map[string][]Occupancy, error)
	// UpsertClient finds the client by the first of identities that exists
	// (see Identities), creating one with the last, and sets c.ID. A chat's or
	// a verified number's client takes c's name and phone (it is their own
	// record); an owner-keyed client keeps the name they were first stored
	// with. With lock, in a transaction, the client's row is locked until it
	// ends, so one client's capped bookings take turns (Policy.MaxUpcoming
	// counts what the one before committed), and a client erased meanwhile
	// (its identity changed) is not found. A client it created is gone if the
	// transaction rolls back.
	UpsertClient(ctx context.Context, c *core.Client, identities []string, lock bool) error
	// LockChat takes a lock on the bookings of source (a chat) held until the
	// transaction ends, so one chat's bookings take turns.
	LockChat(ctx context.Context, salonID, source string) error
	// ReleaseChatHolds cancels the live holds at now made through source, except
	// the one with the idempotency key keep and wait-list offers (keys starting
	// with OfferKeyPrefix), and says how many; each is recorded as released by
	// actor.
	ReleaseChatHolds(ctx context.Context, salonID, source, keep string, now time.Time, actor string) (int64, error)
	// ExpireLapsed marks expired the holds past their expiry at now of the
	// client with identity and those made through source (none when
	// source is ""), and says how many (each recorded as expired by the
	// system). Run on its own (Auto) before a
	// transaction that counts them: a Confirm racing the expiry (it locks the
	// booking's row) then either is counted or fails, and the transaction holds
	// no changed row while it waits on others.
	ExpireLapsed(ctx context.Context, salonID, identity, source string, now time.Time) (int64, error)
	// CountUpcoming counts the held or confirmed bookings that have not ended at
	// now: the client's, leaving out those made through OwnerSource, and those
	// made through source (0 when source is ""). Holds past their expiry count
	// until marked expired: run ExpireLapsed at now first.
	CountUpcoming(ctx context.Context, salonID string, clientID int64, source string, now time.Time) (client, chat int, err error)
	// Client returns a client. ENotFound.
	Client(ctx context.Context, salonID string, clientID int64) (*core.Client, error)
	// ExpireHolds marks as expired the holds past their expiry at now that would
	// stand in the way of occupied for master or client, and says how many
	// (each recorded as expired by the system).
	ExpireHolds(ctx context.Context, salonID, masterID string, clientID int64, occupied core.TimeRange, now time.Time) (int64, error)
	// InsertBooking stores b (an appointment, or a block) and sets its ID and
	// timestamps, with a, the record of its making, in the same statement. It
	// returns false, and writes nothing, when the time is taken or the
	// idempotency key exists. An appointment is also refused where the
	// master's own calendar is busy; a block is not (it is the salon's own).
	InsertBooking(ctx context.Context, b *core.Booking, a Audit) (bool, error)
	// BookingByKey returns the booking created with the idempotency key. ENotFound.
	BookingByKey(ctx context.Context, salonID, key string) (*core.Booking, error)
	// ClientBusy reports whether the client has a live booking overlapping r,
	// leaving out the booking exclude (the one being moved; "" for none).
	ClientBusy(ctx context.Context, salonID string, clientID int64, r core.TimeRange, now time.Time, exclude string) (bool, error)
	// Booking returns a booking, locked for update when lock is set. ENotFound.
	Booking(ctx context.Context, salonID, bookingID string, lock bool) (*core.Booking, error)
	// ReleaseHold cancels the booking only while it is still held, in one
	// conditional statement with a (its record, action released), and reports
	// whether it did: a hold confirmed meanwhile is left alone. An unknown id
	// releases nothing.
	ReleaseHold(ctx context.Context, salonID, bookingID string, a Audit) (bool, error)
	// CancelAwaiting cancels the booking only while it awaits its deposit, as
	// ReleaseHold does a hold (a wait-list offer's message given up), and
	// wakes the wait-list as its expiry would; it reports whether it did.
	CancelAwaiting(ctx context.Context, salonID, bookingID string, a Audit) (bool, error)
	// UpdateBooking writes b's status, master, times, occupied range, hold
	// expiry, "I'll come" (ComingAt), attendance and the deposit's refund
	// deadline, with a, the change's record, in
	// the same statement. EConflict when the new time overlaps another live
	// booking (nothing is written then).
	UpdateBooking(ctx context.Context, b *core.Booking, a Audit) error
	// SourceBookings lists the live bookings made through source that end after
	// from, by start.
	SourceBookings(ctx context.Context, salonID, source string, from time.Time) ([]core.Booking, error)
	// Changed records, in this transaction, that a confirmed booking was booked,
	// moved or cancelled (or a block made or lifted), so that the work that
	// follows it (the master's calendar, the staff notice) happens if and only
	// if the change commits. EInternal
	// outside a transaction (Auto) when changes are followed: that would be after
	// the commit.
	Changed(ctx context.Context, c Change) error
	// NoShows counts the client's bookings marked as a no-show (the desk's
	// attendance mark) that started at or after since.
	NoShows(ctx context.Context, salonID string, clientID int64, since time.Time) (int, error)
	// RecordPayment stores p, a payment of the booking: paid, or to be refunded
	// for reason when reason is not "". It reports false and writes nothing
	// when the provider reported it before (its charge, session or event id is
	// stored), and then returns the payment as stored.
	RecordPayment(ctx context.Context, salonID, bookingID string, p Payment, reason string) (bool, StoredPayment, error)
	// RefundPayments marks the booking's paid payments to be refunded for
	// reason, and says how many.
	RefundPayments(ctx context.Context, salonID, bookingID, reason string) (int64, error)
	// ExpirePayment marks the booking expired if it still awaits its deposit,
	// whatever its window says, waking the wait-list as the expiry does; it
	// reports whether it did.
	ExpirePayment(ctx context.Context, salonID, bookingID string, now time.Time) (bool, error)
	// Offered stores, in this transaction, that the hold b is offered to the
	// wait-list entry, and queues the offer's message (Store's followers).
	// ENotFound when the entry is gone; EConflict "waitlist.offer_live" when
	// the entry's chat or client has another offer held at now (one at a time,
	// however many matchers run).
	Offered(ctx context.Context, entry int64, b core.Booking, now time.Time) error
}

// Occupancy is a claim on a master's time: a live booking, or busy time read
// from the master's own calendar.
type Occupancy struct {
	Start    time.Time      // the appointment's start, which day it counts for
	Occupied core.TimeRange // the appointment widened by its buffers
	External bool           // busy in the master's calendar, not a booking
	Block    bool           // blocked time on the desk, not a booking
}

// ChangeKind says what happened to a booking, for the people who must know.
type ChangeKind string

// The changes followers are told of. Booked, Moved and Cancelled change an
// appointment's time or status; Coming changes neither (a follower that only
// mirrors the time, like the calendar, has nothing to do for it). Blocked and
// Unblocked are a master's blocked time made and lifted: no client, no
// service; only the calendar (an event "Blocked") and the wait-list (a time
// freed) follow them. A follower ignores the kinds it does not know.
const (
	Booked    ChangeKind = "booked"    // a booking was confirmed
	Moved     ChangeKind = "moved"     // a confirmed booking got a new time, or another master (or both)
	Cancelled ChangeKind = "cancelled" // a confirmed booking was cancelled
	Coming    ChangeKind = "coming"    // the client said "I'll come" (from a reminder)
	Blocked   ChangeKind = "blocked"   // a master's time was blocked
	Unblocked ChangeKind = "unblocked" // a block was lifted
	// Erased: the client's personal data was erased ("delete my data"); the
	// booking's time and status are as they were, its calendar event is
	// written again without the name. Only the calendar follows it.
	Erased ChangeKind = "erased"
	// DepositPaid: the deposit of a booking the salon had confirmed before
	// it was paid came in; time and status are as they were (a booking
	// confirmed by its payment is Booked, its deposit paid). Only the ad
	// report (a Purchase) follows it.
	DepositPaid ChangeKind = "deposit_paid"
)

// Change is a stored change to a confirmed booking.
type Change struct {
	Kind    ChangeKind
	Booking core.Booking
	From    time.Time // the old start, for Moved
	// FromMaster is the old master, for Moved: another than Booking.MasterID
	// when the move changed the master.
	FromMaster string
}
