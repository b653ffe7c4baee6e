package booking

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/phone"
)

// AnyMaster asks for whichever master is free.
const AnyMaster = "any"

// MaxDays is the longest run of days one slot query may ask for.
const MaxDays = 62

// Service runs the booking use cases.
type Service struct {
	store    Store
	clock    core.Clock
	observer Observer // nil: none (see Observe)
	// remindable says which sources get reminders (see RemindChats); nil:
	// every source but the owner's.
	remindable func(source string) bool
	// payable says which sources can pay a deposit (see PayChats); nil: all.
	payable func(source string) bool
}

// RemindChats tells the service which booking sources can be reminded (a chat
// of a channel that can take a message): a booking made confirmed is recorded
// as a change (Tx.Changed) for its reminders only when its source is one of
// them. Call it before the service is used; unset, every source but the
// owner's is.
func (s *Service) RemindChats(remindable func(source string) bool) { s.remindable = remindable }

// New returns a Service over store, reading the time from clock.
func New(store Store, clock core.Clock) *Service {
	return &Service{store: store, clock: clock}
}

// Catalog is what a salon offers.
type Catalog struct {
	Salon    *core.Salon
	Services []core.Service
	Masters  []core.Master
}

// Catalog returns the salon with its active services and masters. ENotFound.
func (s *Service) Catalog(ctx context.Context, salonID string) (*Catalog, error) {
	var c Catalog
	err := s.store.Auto(ctx, func(tx Tx) error {
		var err error
		if c.Salon, err = tx.Salon(ctx, salonID); err != nil {
			return err
		}
		if c.Services, err = tx.Services(ctx, salonID); err != nil {
			return err
		}
		c.Masters, err = tx.Masters(ctx, salonID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// SlotsRequest asks for the free times of a service.
type SlotsRequest struct {
	SalonID   string
	ServiceID string
	MasterID  string // a master's id, or AnyMaster
	From      core.Date
	Days      int
	Exclude   string // a booking to leave out of the busy time (the one being moved); "" for none
}

// Slots lists the free starts of a service in the salon's zone, from From for
// Days days. With AnyMaster each start appears once, with the master the booking
// would get. Returns EInvalid for a bad request and ENotFound for an unknown
// service or master.
func (s *Service) Slots(ctx context.Context, req SlotsRequest) (_ []availability.Slot, _ *core.Salon, err error) {
	defer s.observed(OpSlots)(&err)
	if req.Days < 1 || req.Days > MaxDays {
		return nil, nil, core.Errorf(core.EInvalid, "request.invalid", "booking: days must be 1..%d", MaxDays)
	}
	now := s.clock.Now()
	var slots []availability.Slot
	var salon *core.Salon
	err = s.store.Auto(ctx, func(tx Tx) error {
		sc, err := s.scope(ctx, tx, req.SalonID, req.ServiceID, req.MasterID)
		if err != nil {
			return err
		}
		salon = sc.salon
		var busy map[string][]Occupancy
		slots, busy, err = s.freeSlots(ctx, tx, sc, req.From, req.Days, now, req.Exclude)
		if err == nil && req.MasterID == AnyMaster {
			slots = assignAny(sc, slots, dayLoads(sc, busy))
		}
		return err
	})
	return slots, salon, err
}

// BookRequest asks to book a time.
type BookRequest struct {
	SalonID        string
	ServiceID      string
	MasterID       string // a master's id, or AnyMaster
	Start          time.Time
	Client         core.Client // name and phone
	IdempotencyKey string      // the channel's update or request id
	Confirm        bool        // book outright instead of holding
	Source         string      // who asks: OwnerSource, or a chat ("web:<session>"); see Upcoming
	// Offer, when not 0, is the wait-list entry this hold is offered to: it
	// holds for Policy.OfferHold, leaves the chat's other hold alone, and is
	// stored with its offer (Tx.Offered) in the same transaction.
	Offer int64
	// ContactOnly marks a desk booking (Source DeskActor) whose phone is the
	// client's contact information only, not the salon's word on who they are:
	// a master's, who must not learn what the salon stored under a number
	// they typed. Its client is that login's record of the number
	// ("desk:<login>:<E.164>", named as typed), not the salon's own client of
	// it ("owner:<E.164>", which keeps its first name). See Identity.
	ContactOnly bool
	// Stored: Client's name and phone were checked when the client gave them
	// (a chat's remembered client; an offer's, from its wait-list entry, is
	// stored too) and are not checked again by rules newer than them: a name
	// need only be 1 to MaxNameRunes characters, a phone is read as E.164 when
	// it can be, else as it was stored ("+" and 6 to 15 digits). A name or
	// number given now (the API's, the desk's) is checked in full.
	Stored bool
}

// OfferKeyPrefix starts the idempotency key of every wait-list offer's hold
// ("waitlist:<entry>:<start unix>"): a chat's new hold releases the chat's
// other holds but not these.
const OfferKeyPrefix = "waitlist:"

// OwnerSource is the source of the salon's own bookings, made through the API
// with the operator's token: they are not capped by Policy.MaxUpcoming, and a
// chat's limits do not apply to them. The desk's ("desk:<login>") are the
// salon's own too (StaffSource).
const OwnerSource = "api"

// errReplay rolls back what a replay's transaction did before it found the
// first booking: a replay changes nothing.
var errReplay = errors.New("booking: a replay")

// ConflictError is returned when the asked time is taken; it carries the nearest
// free times. Its code is EConflict.
type ConflictError struct {
	Err          *core.Error
	Alternatives []availability.Slot
}

func (e *ConflictError) Error() string { return e.Err.Error() }
func (e *ConflictError) Unwrap() error { return e.Err }

// Book holds (or, with Confirm, books) a time for a client. Repeating a request
// with the same idempotency key returns the first booking. Returns EInvalid for a
// bad request or a time that is not offered, ENotFound for an unknown service or
// master, a *ConflictError (EConflict) when the time is taken, and EConflict
// "booking.too_many" when the client, or the chat, has Policy.MaxUpcoming
// upcoming bookings already (not for OwnerSource). A new hold from a chat
// releases the chat's previous live hold: a chat has one flow, one hold.
func (s *Service) Book(ctx context.Context, req BookRequest) (_ *core.Booking, err error) {
	defer s.observed(OpBook)(&err)
	if req.IdempotencyKey == "" || len(req.IdempotencyKey) > 200 || hasControl(req.IdempotencyKey) || !utf8.ValidString(req.IdempotencyKey) {
		return nil, core.Errorf(core.EInvalid, "request.invalid", "booking: idempotency key must be 1..200 bytes")
	}
	// The catalog is cached: the salon's country reads the phone, and the
	// cap below is decided by it (the transaction reads it again and decides
	// the count by that: a cap applied meanwhile may count a lapsed hold,
	// never none). The owner's booking goes on without it when the salon is
	// not found (its transaction reads the salon and says so); any other
	// failure is the answer.
	owner := StaffSource(req.Source) // the API's or the desk's: uncapped, no chat
	cat, err := s.Catalog(ctx, req.SalonID)
	if err != nil && !(owner && core.ErrorCode(err) == core.ENotFound) {
		return nil, err
	}
	region := ""
	if err == nil {
		region = cat.Salon.Country
	}
	// A wait-list offer's client is a stored one (the entry's).
	client, err := normaliseClient(req.SalonID, region, req.Client, req.Stored || req.Offer != 0)
	if err != nil {
		return nil, err
	}
	identity := Identity(client, req.Source)
	identities := Identities(client, req.Source)
	if req.ContactOnly && strings.HasPrefix(req.Source, DeskSourcePrefix) && !client.Verified {
		identity = req.Source + ":" + client.Phone
		identities = []string{identity}
	}
	now := s.clock.Now()
	var booked *core.Booking
	// One transaction: the client it creates, the hold it releases and the
	// calendar change it records stand or fall with the booking. The happy path
	// is the catalog (cached), the client, and one INSERT … ON CONFLICT DO
	// NOTHING that the exclusion constraints let through or not; a chat first
	// takes its lock, releases its hold and counts its bookings. Everything else
	// (replays, stale holds, why a time was refused) is looked at only when the
	// insert writes nothing.
	who := actor(ctx, req.Source, req.Offer != 0)
	chat := ""
	if !owner {
		chat = req.Source
	}
	// Policy.MaxUpcoming applies to all but the owner, unless it is 0.
	capped := !owner && cat != nil && cat.Salon.Policy.MaxUpcoming > 0
	if capped {
		// The limits count live bookings: mark the lapsed holds they would
		// count expired first, committed on its own so that the transaction
		// changes no row but the booking's before its insert (two bookings of
		// each other's lapsed holds deadlocked waiting on each other's change).
		err := s.store.Auto(ctx, func(tx Tx) error {
			_, err := tx.ExpireLapsed(ctx, req.SalonID, identity, chat, now)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	err = s.store.WithTx(ctx, func(tx Tx) error {
		// A replay of a request that succeeded is refused by its own booking, so
		// the idempotency key is looked up only when something stands in the way.
		replayOr := func(err error) error {
			first, kerr := tx.BookingByKey(ctx, req.SalonID, req.IdempotencyKey)
			if kerr != nil {
				return err
			}
			if err := sameRequest(ctx, tx, first, req, client); err != nil {
				return err
			}
			booked = first
			return errReplay
		}
		sc, err := s.scope(ctx, tx, req.SalonID, req.ServiceID, req.MasterID)
		if err != nil {
			return replayOr(err)
		}
		candidates, err := s.candidates(ctx, tx, sc, req.Start, now)
		if err != nil {
			return replayOr(err)
		}
		// The limits count what is committed, so concurrent requests of one chat
		// or one client take turns from here: the chat's lock first, then the
		// client's row, always in that order.
		if chat != "" {
			if err := tx.LockChat(ctx, req.SalonID, chat); err != nil {
				return err
			}
		}
		capped := !owner && sc.salon.Policy.MaxUpcoming > 0
		// A chat's client row is locked even uncapped: an erase ("delete my
		// data") locks the rows it erases, and a booking that found one before
		// must not go on for a nameless client.
		if err := tx.UpsertClient(ctx, &client, identities, capped || chat != ""); err != nil {
			return err
		}
		if chat != "" && !req.Confirm && req.Offer == 0 {
			if _, err := tx.ReleaseChatHolds(ctx, req.SalonID, chat, req.IdempotencyKey, now, who); err != nil {
				return err
			}
		}
		if limit := sc.salon.Policy.MaxUpcoming; capped {
			ofClient, ofChat, err := tx.CountUpcoming(ctx, req.SalonID, client.ID, chat, now)
			if err != nil {
				return err
			}
			if ofClient >= limit || ofChat >= limit {
				return replayOr(core.Errorf(core.EConflict, "booking.too_many",
					"booking: the client has %d upcoming bookings and the chat %d, at most %d each", ofClient, ofChat, limit))
			}
		}
		for _, masterID := range candidates {
			b := &core.Booking{
				SalonID:        req.SalonID,
				MasterID:       masterID,
				ServiceID:      sc.service.ID,
				ClientID:       client.ID,
				Start:          req.Start.UTC(),
				End:            req.Start.UTC().Add(sc.service.Duration),
				Occupied:       sc.service.Occupied(req.Start.UTC()),
				Status:         core.StatusHeld,
				HoldExpiresAt:  now.Add(sc.salon.Policy.Hold),
				Price:          sc.service.Price,
				IdempotencyKey: req.IdempotencyKey,
				Source:         req.Source,
			}
			if req.Confirm {
				b.Status, b.HoldExpiresAt = core.StatusConfirmed, time.Time{}
			} else if req.Offer != 0 {
				// An offer is held for OfferHold, never past its start.
				b.HoldExpiresAt = now.Add(sc.salon.Policy.OfferHold())
				if b.Start.Before(b.HoldExpiresAt) {
					b.HoldExpiresAt = b.Start
				}
			}
			rec := Audit{Actor: who, Action: ActHeld, At: now}
			if req.Confirm {
				rec.Action = ActBooked
			}
			ok, err := tx.InsertBooking(ctx, b, rec)
			if err == nil && !ok {
				// Holds past their expiry still block in the database until they
				// are marked expired: do that and try once more (whether this call
				// or a concurrent one marked them).
				if _, err = tx.ExpireHolds(ctx, b.SalonID, b.MasterID, b.ClientID, b.Occupied, now); err == nil {
					ok, err = tx.InsertBooking(ctx, b, rec)
				}
			}
			if err != nil {
				return err
			}
			if ok {
				booked = b
				if req.Offer != 0 {
					if err := tx.Offered(ctx, req.Offer, *b, now); err != nil {
						return err
					}
				}
				if b.Status == core.StatusConfirmed {
					// Followed when someone must hear of it: the master's calendar or
					// staff chat, a chat to remind (the owner's bookings, the web
					// chat's and the API's have none), or the wait-list (an offer's
					// booking ends its entry).
					remind := len(sc.salon.Policy.Reminders) > 0 && !owner && (s.remindable == nil || s.remindable(b.Source))
					if m := masterByID(sc.masters, b.MasterID); m != nil && (m.Calendar != "" || m.Notices || remind || req.Offer != 0) {
						if err := tx.Changed(ctx, Change{Kind: Booked, Booking: *b}); err != nil {
							return err
						}
					}
				}
				return nil
			}
			// Nothing was written: a replay, the client's own other appointment,
			// or someone holds the master's time. Tell which.
			if err := replayOr(nil); err != nil {
				return err
			}
			busy, err := tx.ClientBusy(ctx, req.SalonID, client.ID, core.TimeRange{Start: b.Start, End: b.End}, now, "")
			if err != nil {
				return err
			}
			if busy {
				return core.Errorf(core.EConflict, "booking.client_overlap", "booking: client already has a booking at that time")
			}
		}
		// No master was free (for "any master", possibly because this very key
		// took the last one before): a replay, or taken.
		return replayOr(s.taken(ctx, tx, sc, req.Start, now, ""))
	})
	if errors.Is(err, errReplay) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return booked, nil
}

// Identity is the key a booking's client is found by (clients.identity,
// migration 0025): who the person is, never a number they typed.
//   - a verified number (Client.Verified): "phone:<E.164>", one client for
//     every chat the channel vouches is that number's;
//   - the owner's bookings (OwnerSource, or no source): "owner:<E.164>", the
//     owner's word, as every client was keyed before;
//   - a chat: "chat:<source>", the person in that chat: a phone typed there is
//     their contact information and attaches them to no one else's record, so
//     two people sharing one phone are two clients.
//
// Book also keys a master's desk booking (BookRequest.ContactOnly) as
// "desk:<login>:<E.164>": the number as that login gave it, a record of its
// own, so that typing a number shows a master no name the salon stored.
func Identity(c core.Client, source string) string {
	switch {
	case c.Verified:
		return "phone:" + c.Phone
	case StaffSource(source) || source == "":
		return "owner:" + c.Phone // the salon's staff (API, desk) name a client by phone
	default:
		return "chat:" + source
	}
}

// Identities are the keys UpsertClient looks a booking's client up by, the
// first that exists winning; a new client gets the last, Identity. A chat
// that has a client of its own ("chat:<source>": it typed its number, or
// booked before migration 0025) keeps it when the channel later vouches for a
// number (a Telegram contact shared after a typed phone): the chat's bookings
// stay one client's, so the per-client overlap keeps spanning them. Chats
// vouched for from the start share the number's client.
func Identities(c core.Client, source string) []string {
	id := Identity(c, source)
	if c.Verified && source != "" && !StaffSource(source) {
		return []string{"chat:" + source, id}
	}
	return []string{id}
}

// sameRequest checks that a booking found by a request's idempotency key was made
// by the same request: a key reused for another time, service, master or client
// is refused (EConflict) instead of answering with someone else's booking.
func sameRequest(ctx context.Context, tx Tx, first *core.Booking, req BookRequest, client core.Client) error {
	same := first.ServiceID == req.ServiceID && first.Start.Equal(req.Start) &&
		(req.MasterID == AnyMaster || first.MasterID == req.MasterID)
	if same {
		owner, err := tx.Client(ctx, req.SalonID, first.ClientID)
		if err != nil {
			return err
		}
		same = owner.Phone == client.Phone
	}
	if !same {
		return core.Errorf(core.EConflict, "booking.key_reused", "booking: idempotency key was used for another request")
	}
	return nil
}

// Confirm turns a live hold into a booking; confirming a confirmed booking returns
// it unchanged. When the salon asks this client for a deposit (Policy.DepositWhen,
// the service's Deposit) the hold becomes StatusAwaitingPayment instead, with
// the deposit and a new expiry (Policy.PaymentHold, never past the start):
// Paid confirms it; confirming it again returns it unchanged while it waits.
// Returns ENotFound, EConflict when the hold has expired or the booking was
// cancelled, a *ConflictError when the master has since blocked the time in
// their own calendar, and EUnavailable "deposit.unavailable" when a deposit is
// due that the chat cannot pay (PayChats).
func (s *Service) Confirm(ctx context.Context, salonID, bookingID string) (_ *core.Booking, err error) {
	defer s.observed(OpConfirm)(&err)
	now := s.clock.Now()
	return s.change(ctx, salonID, bookingID, false, s.record(ctx, now, StaffChange{}), func(tx Tx, b *core.Booking, _ *Audit) (bool, error) {
		switch {
		case b.Status == core.StatusConfirmed:
			return false, nil
		case b.Status == core.StatusAwaitingPayment && b.HoldLive(now):
			return false, nil // waiting for its deposit
		case b.HoldLive(now):
			// The master may have blocked the time in their own calendar while
			// it was held: their calendar wins, as it does for a new booking.
			busy, err := tx.Busy(ctx, salonID, []string{b.MasterID}, b.Occupied, now, b.ID)
			if err != nil {
				return false, err
			}
			if slices.ContainsFunc(busy[b.MasterID], func(o Occupancy) bool { return o.External }) {
				sc, err := s.scope(ctx, tx, salonID, b.ServiceID, b.MasterID)
				if err != nil {
					return false, err
				}
				return false, s.taken(ctx, tx, sc, b.Start, now, b.ID)
			}
			deposit, err := s.depositDue(ctx, tx, b, now)
			if err != nil {
				return false, err
			}
			if deposit.Minor > 0 {
				sl, err := tx.Salon(ctx, salonID)
				if err != nil {
					return false, err
				}
				b.Status, b.Deposit, b.DepositState = core.StatusAwaitingPayment, deposit, core.DepositDue
				b.HoldExpiresAt = now.Add(sl.Policy.PaymentHold())
				if b.Start.Before(b.HoldExpiresAt) {
					b.HoldExpiresAt = b.Start
				}
				return true, nil // no change to tell: it is not booked yet
			}
			b.Status, b.HoldExpiresAt = core.StatusConfirmed, time.Time{}
			return true, nil // (notified by change once stored)
		case b.Status.Pending(), b.Status == core.StatusExpired:
			return false, core.Errorf(core.EConflict, "booking.hold_expired", "booking: hold of %s expired", b.ID)
		default:
			return false, core.Errorf(core.EConflict, "booking.not_active", "booking: %s is %s", b.ID, b.Status)
		}
	})
}

// Cancel is the salon's cancel of a booking; cancelling a cancelled one
// returns it unchanged. A hold can always be released, as Release does (a
// wait-list offer's message is given up and the matcher woken; the entry
// counts it as declined), and so can a booking awaiting its deposit; a
// confirmed booking cannot be cancelled once its start is closer than the
// salon's cancellation cutoff (EForbidden), nor once staff marked its
// attendance (EConflict "booking.marked"). Once it has started it is too
// late for everyone: CancelBy's override of the cutoff answers EConflict
// "booking.started" (a past booking can only be marked). A paid deposit is to
// be refunded (see CancelByClient for the client's cancel). A block is no
// booking here (ENotFound; Unblock lifts it). ENotFound.
func (s *Service) Cancel(ctx context.Context, salonID, bookingID string) (_ *core.Booking, err error) {
	defer s.observed(OpCancel)(&err)
	return s.cancel(ctx, salonID, bookingID, StaffChange{}, false)
}

// cancel cancels as the salon (staff, the API) or, byClient, as the client:
// see refundOnCancel.
func (s *Service) cancel(ctx context.Context, salonID, bookingID string, sc StaffChange, byClient bool) (*core.Booking, error) {
	if err := sc.check(); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	return s.change(ctx, salonID, bookingID, false, s.record(ctx, now, sc), func(tx Tx, b *core.Booking, rec *Audit) (bool, error) {
		switch b.Status {
		case core.StatusCancelled, core.StatusExpired:
			return false, nil
		case core.StatusConfirmed:
			salon, err := tx.Salon(ctx, salonID)
			if err != nil {
				return false, err
			}
			// The cutoff first: a marked booking has begun, and a client (or
			// the API) is told it is too late, as before marks existed. An
			// owner's override reaches up to the start, not past it: a booking
			// that has begun can only be marked.
			if b.Start.Sub(now) < salon.Policy.CancelCutoff || !now.Before(b.Start) {
				if !sc.OverrideCutoff {
					return false, core.Errorf(core.EForbidden, "booking.cancel_too_late", "booking: %s starts within the cancellation cutoff", b.ID)
				}
				if !now.Before(b.Start) {
					return false, core.Errorf(core.EConflict, "booking.started", "booking: %s has started", b.ID)
				}
				rec.Override = true
			}
			if b.Attendance != "" {
				return false, core.Errorf(core.EConflict, "booking.marked", "booking: %s is marked %s", b.ID, b.Attendance)
			}
			if err := refundOnCancel(ctx, tx, salon, b, byClient, now); err != nil {
				return false, err
			}
		case core.StatusHeld, core.StatusAwaitingPayment:
			// As Release: a wait-list offer's message is given up and the
			// matcher woken with it (always for a booking awaiting its
			// deposit, as its expiry would).
			a := *rec
			a.Action = ActReleased
			release := tx.ReleaseHold
			if b.Status == core.StatusAwaitingPayment {
				a.Action, release = ActCancelled, tx.CancelAwaiting
			}
			if _, err := release(ctx, salonID, b.ID, a); err != nil {
				return false, err
			}
			got, err := tx.Booking(ctx, salonID, b.ID, false)
			if err != nil {
				return false, err
			}
			*b = *got
			return false, nil
		}
		b.Status, b.HoldExpiresAt = core.StatusCancelled, time.Time{}
		return true, nil
	})
}

// Release ends a hold a chat no longer wants, and only a hold: a booking
// confirmed meanwhile (by the API, or by a step whose confirm committed) is left
// as it is, so no one is told of a cancellation. It reports whether a hold was
// released; an unknown or already ended booking releases nothing.
func (s *Service) Release(ctx context.Context, salonID, bookingID string) (_ bool, err error) {
	defer s.observed(OpRelease)(&err)
	rec := s.record(ctx, s.clock.Now(), StaffChange{})
	rec.Action = ActReleased
	var released bool
	err = s.store.Auto(ctx, func(tx Tx) error {
		var err error
		released, err = tx.ReleaseHold(ctx, salonID, bookingID, rec)
		return err
	})
	return released, err
}

// Reschedule moves a live booking of one master to a new start, in place: the
// old time is released only if the new one is taken, in one statement. Moving to
// the current start returns the booking unchanged. Returns EForbidden inside the
// cancellation cutoff, EInvalid for a time that is not offered, a *ConflictError
// when the new time is taken, EConflict for a booking that is not live or whose
// attendance is marked, or (RescheduleBy's override) that has started,
// ENotFound (a block too).
func (s *Service) Reschedule(ctx context.Context, salonID, bookingID string, start time.Time) (_ *core.Booking, err error) {
	defer s.observed(OpReschedule)(&err)
	return s.reschedule(ctx, salonID, bookingID, "", start, StaffChange{})
}

// reschedule moves a booking to start and, when masterID names another master
// who does its service, to that master ("": the same master; see Move).
func (s *Service) reschedule(ctx context.Context, salonID, bookingID, masterID string, start time.Time, st StaffChange) (*core.Booking, error) {
	if err := st.check(); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	start = start.UTC()
	return s.change(ctx, salonID, bookingID, false, s.record(ctx, now, st), func(tx Tx, b *core.Booking, rec *Audit) (bool, error) {
		if b.Status != core.StatusConfirmed && !b.HoldLive(now) {
			return false, core.Errorf(core.EConflict, "booking.not_active", "booking: %s is not live", b.ID)
		}
		master := b.MasterID
		if masterID != "" {
			master = masterID
		}
		if b.Start.Equal(start) && master == b.MasterID {
			return false, nil
		}
		sc, err := s.scope(ctx, tx, salonID, b.ServiceID, master)
		if err != nil {
			return false, err
		}
		if b.Status == core.StatusConfirmed && (b.Start.Sub(now) < sc.salon.Policy.CancelCutoff || !now.Before(b.Start)) {
			if !st.OverrideCutoff {
				return false, core.Errorf(core.EForbidden, "booking.cancel_too_late", "booking: %s starts within the cancellation cutoff", b.ID)
			}
			if !now.Before(b.Start) { // as Cancel: the override ends at the start
				return false, core.Errorf(core.EConflict, "booking.started", "booking: %s has started", b.ID)
			}
			rec.Override = true
		}
		if b.Attendance != "" { // after the cutoff, as Cancel
			return false, core.Errorf(core.EConflict, "booking.marked", "booking: %s is marked %s", b.ID, b.Attendance)
		}
		if _, err := s.offered(sc, start, now); err != nil {
			return false, err
		}
		svc := sc.service
		a := *rec
		a.Action, a.From = ActMoved, b.Start
		b.MasterID = master
		b.Start, b.End, b.Occupied = start, start.Add(svc.Duration), svc.Occupied(start)
		b.ComingAt = time.Time{} // "I'll come" was said of the old time
		// The exclusion constraint guards against bookings; the master's own
		// calendar is checked here (the move is not the hot path).
		busy, err := tx.Busy(ctx, salonID, []string{b.MasterID}, b.Occupied, now, b.ID)
		if err != nil {
			return false, err
		}
		if slices.ContainsFunc(busy[b.MasterID], func(o Occupancy) bool { return o.External }) {
			return false, s.taken(ctx, tx, sc, start, now, b.ID)
		}
		if _, err := tx.ExpireHolds(ctx, salonID, b.MasterID, b.ClientID, b.Occupied, now); err != nil {
			return false, err
		}
		if err := tx.UpdateBooking(ctx, b, a); err != nil {
			if core.ErrorCode(err) != core.EConflict {
				return false, err
			}
			busy, cerr := tx.ClientBusy(ctx, salonID, b.ClientID, core.TimeRange{Start: b.Start, End: b.End}, now, b.ID)
			if cerr != nil {
				return false, cerr
			}
			if busy {
				return false, core.Errorf(core.EConflict, "booking.client_overlap", "booking: client already has a booking at that time")
			}
			return false, s.taken(ctx, tx, sc, start, now, b.ID)
		}
		return false, nil // already written
	})
}

// Coming records that the client will come (the "I'll come" of a reminder) on a
// confirmed booking that has not started, once: the first call sets ComingAt and
// tells the master (a Coming change, in the same transaction); a repeat changes
// nothing and returns the booking as it is. A move clears it (see Reschedule).
// Returns EConflict "booking.not_active" for a booking that is not confirmed
// (cancelled, expired, or a hold), EConflict "booking.started" once its start
// has come, ENotFound.
func (s *Service) Coming(ctx context.Context, salonID, bookingID string) (*core.Booking, error) {
	now := s.clock.Now()
	return s.change(ctx, salonID, bookingID, false, s.record(ctx, now, StaffChange{}), func(_ Tx, b *core.Booking, _ *Audit) (bool, error) {
		switch {
		case b.Status != core.StatusConfirmed:
			return false, core.Errorf(core.EConflict, "booking.not_active", "booking: %s is %s", b.ID, b.Status)
		case !b.Start.After(now):
			return false, core.Errorf(core.EConflict, "booking.started", "booking: %s has started", b.ID)
		case !b.ComingAt.IsZero():
			return false, nil
		}
		b.ComingAt = now
		return true, nil
	})
}

// Get returns a booking. ENotFound.
func (s *Service) Get(ctx context.Context, salonID, bookingID string) (*core.Booking, error) {
	var b *core.Booking
	err := s.store.Auto(ctx, func(tx Tx) error {
		var err error
		b, err = tx.Booking(ctx, salonID, bookingID, false)
		return err
	})
	return b, err
}

// Upcoming lists the live bookings made through source (a chat) that have not
// ended, by start. A chat sees only what it booked: a phone number typed into a
// chat is no proof of who the client is.
func (s *Service) Upcoming(ctx context.Context, salonID, source string) ([]core.Booking, error) {
	if source == "" {
		return nil, core.Errorf(core.EInvalid, "request.invalid", "booking: upcoming needs a source")
	}
	now := s.clock.Now()
	var out []core.Booking
	err := s.store.Auto(ctx, func(tx Tx) error {
		var err error
		out, err = tx.SourceBookings(ctx, salonID, source, now)
		return err
	})
	return out, err
}

// change loads a booking under lock, lets apply decide, and writes it with its
// record when apply says so. rec is the change's record as far as known (who,
// when, why); apply may add to it (Override), and the action is what changed.
// A block is no booking to the use cases that change appointments (block
// false), and the other way round: ENotFound.
func (s *Service) change(ctx context.Context, salonID, bookingID string, block bool, rec Audit, apply func(Tx, *core.Booking, *Audit) (bool, error)) (*core.Booking, error) {
	var out *core.Booking
	var change *Change
	err := s.store.WithTx(ctx, func(tx Tx) error {
		b, err := tx.Booking(ctx, salonID, bookingID, true)
		if err != nil {
			return err
		}
		if b.Block != block {
			return core.Errorf(core.ENotFound, "booking.not_found", "booking: %s is no %s", bookingID, map[bool]string{true: "block", false: "booking"}[block])
		}
		before := *b
		write, err := apply(tx, b, &rec)
		if err != nil {
			return err
		}
		if write {
			rec.Action = actionOf(before, *b)
			if rec.Action == ActMoved {
				rec.From = before.Start
			}
			if err := tx.UpdateBooking(ctx, b, rec); err != nil {
				return err
			}
		}
		out = b
		if change = changeOf(before, *b); change != nil {
			return tx.Changed(ctx, *change) // the calendar and staff notices follow in this transaction
		}
		return nil
	})
	return out, err
}

// record starts the record of a change made now by whoever ctx names.
func (s *Service) record(ctx context.Context, now time.Time, sc StaffChange) Audit {
	return Audit{Actor: actor(ctx, "", false), At: now, Reason: strings.TrimSpace(sc.Reason)}
}

// changeOf says what happened to a booking that staff must hear of, if anything.
func changeOf(before, after core.Booking) *Change {
	switch {
	case after.Block && before.Status == core.StatusConfirmed && after.Status == core.StatusCancelled:
		return &Change{Kind: Unblocked, Booking: after}
	case after.Block:
		return nil
	case before.Status != core.StatusConfirmed && after.Status == core.StatusConfirmed:
		return &Change{Kind: Booked, Booking: after}
	case before.Status == core.StatusConfirmed && after.Status == core.StatusCancelled:
		return &Change{Kind: Cancelled, Booking: after}
	case before.Status == core.StatusConfirmed && after.Status == core.StatusConfirmed &&
		(!before.Start.Equal(after.Start) || before.MasterID != after.MasterID):
		return &Change{Kind: Moved, Booking: after, From: before.Start, FromMaster: before.MasterID}
	case before.Status == core.StatusConfirmed && after.Status == core.StatusConfirmed && before.ComingAt.IsZero() && !after.ComingAt.IsZero():
		return &Change{Kind: Coming, Booking: after}
	}
	return nil
}

// scope is a request's salon, service and the masters it may go to.
type scope struct {
	salon   *core.Salon
	service *core.Service
	masters []core.Master
}

func (s *Service) scope(ctx context.Context, tx Tx, salonID, serviceID, masterID string) (*scope, error) {
	salon, err := tx.Salon(ctx, salonID)
	if err != nil {
		return nil, err
	}
	services, err := tx.Services(ctx, salonID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(services, func(v core.Service) bool { return v.ID == serviceID })
	if i < 0 {
		return nil, core.Errorf(core.ENotFound, "service.not_found", "booking: no active service %q", serviceID)
	}
	all, err := tx.Masters(ctx, salonID)
	if err != nil {
		return nil, err
	}
	sc := &scope{salon: salon, service: &services[i]}
	for _, m := range all {
		if (masterID == AnyMaster || m.ID == masterID) && m.Performs(serviceID) {
			sc.masters = append(sc.masters, m)
		}
	}
	if len(sc.masters) == 0 {
		if masterID != AnyMaster && !slices.ContainsFunc(all, func(m core.Master) bool { return m.ID == masterID }) {
			return nil, core.Errorf(core.ENotFound, "master.not_found", "booking: no active master %q", masterID)
		}
		return nil, core.Errorf(core.EInvalid, "master.no_service", "booking: master %q does not do %q", masterID, serviceID)
	}
	return sc, nil
}

// freeSlots computes the free slots of the scope's masters over days local days,
// and returns the live bookings it read as well.
func (s *Service) freeSlots(ctx context.Context, tx Tx, sc *scope, from core.Date, days int, now time.Time, exclude string) ([]availability.Slot, map[string][]Occupancy, error) {
	ids := make([]string, len(sc.masters))
	for i, m := range sc.masters {
		ids[i] = m.ID
	}
	busy, err := tx.Busy(ctx, sc.salon.ID, ids, s.window(sc, from, days), now, exclude)
	if err != nil {
		return nil, nil, err
	}
	ms := make([]availability.Master, len(sc.masters))
	for i, m := range sc.masters {
		ranges := make([]core.TimeRange, len(busy[m.ID]))
		for j, o := range busy[m.ID] {
			ranges[j] = o.Occupied
		}
		ms[i] = availability.Master{ID: m.ID, Hours: m.Hours, DaysOff: m.DaysOff, Busy: ranges}
	}
	return availability.Slots(ms, s.query(sc, from, days), now), busy, nil
}

func (s *Service) query(sc *scope, from core.Date, days int) availability.Query {
	return availability.Query{
		Zone: sc.salon.Timezone, From: from, Days: days,
		Duration: sc.service.Duration, BufferBefore: sc.service.BufferBefore, BufferAfter: sc.service.BufferAfter,
		Policy: sc.salon.Policy,
	}
}

// window is the span of instants whose busy time can matter for slots starting on
// local days [from, from+days): a shift may start the day before and run past the
// last day, and buffers reach further still.
func (s *Service) window(sc *scope, from core.Date, days int) core.TimeRange {
	start, _ := from.AddDays(-1).At(0, sc.salon.Timezone)
	end, _ := from.AddDays(days+1).At(0, sc.salon.Timezone)
	return core.TimeRange{
		Start: start.Add(-sc.service.BufferBefore),
		End:   end.Add(sc.service.Duration + sc.service.BufferAfter),
	}
}

// offered checks start against the salon's rules alone (notice, horizon, hours,
// days off, the slot grid), and returns the scope's masters whose hours offer it.
// Busy time is not looked at: the database refuses an overlap, and taken explains
// it. Errors: EInvalid with the reason.
func (s *Service) offered(sc *scope, start, now time.Time) ([]core.Master, error) {
	p := sc.salon.Policy
	switch {
	case !start.After(now):
		return nil, core.Errorf(core.EInvalid, "booking.in_past", "booking: start is in the past")
	case start.Before(now.Add(p.MinNotice)):
		return nil, core.Errorf(core.EInvalid, "booking.too_soon", "booking: start is sooner than the minimum notice")
	case !start.Before(now.Add(p.Horizon)):
		return nil, core.Errorf(core.EInvalid, "booking.too_far", "booking: start is beyond the booking horizon")
	}
	day := core.DateOf(start.In(sc.salon.Timezone))
	ms := make([]availability.Master, len(sc.masters))
	for i, m := range sc.masters {
		ms[i] = availability.Master{ID: m.ID, Hours: m.Hours, DaysOff: m.DaysOff}
	}
	var out []core.Master
	for _, sl := range availability.Slots(ms, s.query(sc, day, 1), now) {
		if sl.Start.Equal(start) {
			out = append(out, *masterByID(sc.masters, sl.MasterID))
		}
	}
	if len(out) == 0 {
		return nil, core.Errorf(core.EInvalid, "booking.not_offered", "booking: start is not an offered time")
	}
	return out, nil
}

// candidates returns the masters to try for a booking at start, in order. One
// master is simply tried; for "any master" the free ones are ordered by the
// assignment rule, which needs that day's bookings.
func (s *Service) candidates(ctx context.Context, tx Tx, sc *scope, start, now time.Time) ([]string, error) {
	offered, err := s.offered(sc, start, now)
	if err != nil {
		return nil, err
	}
	if len(offered) == 1 {
		return []string{offered[0].ID}, nil
	}
	narrowed := &scope{salon: sc.salon, service: sc.service, masters: offered}
	day := core.DateOf(start.In(sc.salon.Timezone))
	free, busy, err := s.freeSlots(ctx, tx, narrowed, day, 1, now, "")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, id := range assignOrder(offered, dayLoads(sc, busy)[day]) {
		if slices.ContainsFunc(free, func(sl availability.Slot) bool { return sl.Start.Equal(start) && sl.MasterID == id }) {
			ids = append(ids, id)
		}
	}
	return ids, nil // none free: the caller answers with taken
}

func masterByID(ms []core.Master, id string) *core.Master {
	for i := range ms {
		if ms[i].ID == id {
			return &ms[i]
		}
	}
	return nil
}

// taken builds the answer to a taken time: a *ConflictError with up to three of
// the nearest free starts within a day either side.
func (s *Service) taken(ctx context.Context, tx Tx, sc *scope, start time.Time, now time.Time, exclude string) error {
	day := core.DateOf(start.In(sc.salon.Timezone))
	free, _, err := s.freeSlots(ctx, tx, sc, day.AddDays(-1), 3, now, exclude)
	if err != nil {
		return err
	}
	// One alternative per start time, whichever master.
	free = slices.CompactFunc(free, func(a, b availability.Slot) bool { return a.Start.Equal(b.Start) })
	sort.SliceStable(free, func(i, j int) bool {
		return absDur(free[i].Start.Sub(start)) < absDur(free[j].Start.Sub(start))
	})
	alts := free[:min(3, len(free))]
	slices.SortFunc(alts, func(a, b availability.Slot) int { return a.Start.Compare(b.Start) })
	return &ConflictError{
		Err:          &core.Error{Code: core.EConflict, Key: "booking.slot_taken", Detail: "booking: the time was just taken"},
		Alternatives: alts,
	}
}

// dayLoads counts live bookings per local day (of their start) and master; busy
// time from a master's own calendar and blocked time are not bookings and do
// not count.
func dayLoads(sc *scope, busy map[string][]Occupancy) map[core.Date]map[string]int {
	out := map[core.Date]map[string]int{}
	for id, os := range busy {
		for _, o := range os {
			if o.External || o.Block {
				continue
			}
			d := core.DateOf(o.Start.In(sc.salon.Timezone))
			if out[d] == nil {
				out[d] = map[string]int{}
			}
			out[d][id]++
		}
	}
	return out
}

// assignOrder is the rule "any master" follows on a day: fewest live bookings that
// local day, then name, then id.
func assignOrder(masters []core.Master, load map[string]int) []string {
	ms := slices.Clone(masters)
	slices.SortStableFunc(ms, func(a, b core.Master) int {
		if load[a.ID] != load[b.ID] {
			return load[a.ID] - load[b.ID]
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// assignAny keeps, for each start, the master the "any master" rule would pick.
func assignAny(sc *scope, slots []availability.Slot, loads map[core.Date]map[string]int) []availability.Slot {
	ranks := map[core.Date]map[string]int{}
	rank := func(sl availability.Slot) int {
		day := sl.Day
		if ranks[day] == nil {
			ranks[day] = map[string]int{}
			for i, id := range assignOrder(sc.masters, loads[day]) {
				ranks[day][id] = i
			}
		}
		return ranks[day][sl.MasterID]
	}
	var out []availability.Slot
	for i := 0; i < len(slots); {
		j, best, bestRank := i, slots[i], -1
		for ; j < len(slots) && slots[j].Start.Equal(slots[i].Start); j++ {
			if r := rank(slots[j]); bestRank < 0 || r < bestRank {
				best, bestRank = slots[j], r
			}
		}
		out = append(out, best)
		i = j
	}
	return out
}

// NormaliseClient checks a client's name and reads the phone as E.164, a
// number without its country code as one of region (the salon's country, ""
// for none), as Book stores them; stored as BookRequest.Stored. EInvalid
// (client.invalid_name, invalid_phone).
func NormaliseClient(salonID, region string, c core.Client, stored bool) (core.Client, error) {
	return normaliseClient(salonID, region, c, stored)
}

// normaliseClient checks the name (see NameOK) and reads the phone as E.164:
// a number whose length fits its country (phone.Possible: the owner's word,
// and numbers stored before; the chat asks for a valid one).
func normaliseClient(salonID, region string, c core.Client, stored bool) (core.Client, error) {
	c.SalonID = salonID
	c.Name = strings.TrimSpace(c.Name)
	if stored && !nameStorable(c.Name) || !stored && !NameOK(c.Name) {
		return c, core.Errorf(core.EInvalid, "client.invalid_name", "booking: client name must be 1..100 characters, not a number or a link")
	}
	e164, ok := phone.Parse(c.Phone, region, phone.Possible)
	if !ok && stored {
		e164, ok = legacyPhone(c.Phone)
	}
	if !ok {
		return c, errInvalidPhone
	}
	c.Phone = e164
	return c, nil
}

// legacyPhone reads a number stored before numbers were E.164 (migration
// 0025): "+" and 6 to 15 digits, or the digits alone (a number typed without
// its country code, in a salon with no country).
func legacyPhone(s string) (string, bool) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "", false
		}
	}
	digits := strings.TrimPrefix(b.String(), "+")
	if len(digits) < 6 || len(digits) > 15 {
		return "", false
	}
	return b.String(), true
}

// MaxNameRunes is the longest client name stored.
const MaxNameRunes = 100

// NameOK reports whether s (trimmed) can be a person's name: 1 to
// MaxNameRunes characters of valid UTF-8 with a letter and no control
// character, not a phone number (typed where the name was asked), and no word
// of it a link or an address: a scheme ("https://"), "www.", an "@", or
// dot-separated parts ending in a top-level domain ("example.com",
// "t.me/anna"). Initials joined to a name ("M.Delgado", "A.Ruiz") are names.
// It is the rule for names given now; a name stored before is not checked by
// it again (BookRequest.Stored).
func NameOK(s string) bool {
	if !nameStorable(s) || strings.IndexFunc(s, unicode.IsLetter) < 0 || phone.Looks(s) {
		return false
	}
	for _, word := range strings.Fields(strings.ToLower(s)) {
		if linkWord(word) {
			return false
		}
	}
	return true
}

// nameStorable is what any stored name is: 1 to MaxNameRunes characters of
// valid UTF-8 with no control character.
func nameStorable(s string) bool {
	return s != "" && utf8.RuneCountInString(s) <= MaxNameRunes && !hasControl(s) && utf8.ValidString(s)
}

// topLevel are the top-level domains a word of a name may not end in: the
// common ones and those of the salons' countries, not every two letters (a
// name's initials stand before a dot, not after one).
var topLevel = map[string]bool{
	"com": true, "net": true, "org": true, "info": true, "biz": true, "io": true, "me": true, "co": true,
	"app": true, "dev": true, "online": true, "site": true, "shop": true, "xyz": true, "ly": true,
	"ru": true, "su": true, "рф": true, "de": true, "uk": true, "eu": true, "us": true, "ua": true, "by": true, "kz": true,
}

// linkWord reports whether a lower-case word of a name is a link or an
// address.
func linkWord(w string) bool {
	w = strings.Trim(w, `()[]<>"'.,;:!?`)
	if strings.Contains(w, "://") || strings.HasPrefix(w, "www.") || strings.Contains(w, "@") {
		return true
	}
	host, _, _ := strings.Cut(w, "/")
	parts := strings.Split(host, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
	}
	return topLevel[parts[len(parts)-1]]
}

// The message never contains the number itself: phone numbers stay out of errors.
var errInvalidPhone = core.Errorf(core.EInvalid, "client.invalid_phone", "booking: client phone is not a possible number")

// hasControl reports a control character: the database refuses NUL, and none
// belongs in a name or a key.
func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
