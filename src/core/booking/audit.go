package booking

import (
	"context"
	"strings"
	"time"

	"salonbook/src/core"
)

// Every change to a booking is recorded with who made it (Audit): the store
// writes the record with the statement that makes the change, so it exists if
// and only if the change does. Who acts is the caller's: it comes with the
// request's context (WithActor), set once where a request enters (the chat's
// step, the API, the desk's session), so that the use cases and their callers
// keep their signatures.

// Actors that are not a desk login (DeskActor).
const (
	ActorChat   = "chat"   // a client in a chat
	ActorAPI    = "api"    // the operator's API token
	ActorSystem = "system" // the salon's own work: hold expiry, the wait-list
)

// DeskSourcePrefix starts the source of a booking made on the owner's desk
// ("desk:<login>") and the actor of a change made there.
const DeskSourcePrefix = "desk:"

// DeskActor is the actor (and booking source) of a staff member on the desk.
func DeskActor(login string) string { return DeskSourcePrefix + login }

// StaffSource reports whether source is the salon's own: the API's token
// (OwnerSource) or a staff member on the desk. Such bookings are not capped by
// Policy.MaxUpcoming, take no chat lock and are not reminded by chat.
func StaffSource(source string) bool {
	return source == OwnerSource || strings.HasPrefix(source, DeskSourcePrefix)
}

type actorKey struct{}

// WithActor returns ctx carrying who makes the changes requested with it.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf returns the actor ctx carries; "" when none.
func ActorOf(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// actor is who makes a change requested with ctx: the context's actor, else
// one told by the booking's source (a new booking), else the system.
func actor(ctx context.Context, source string, offer bool) string {
	if a := ActorOf(ctx); a != "" {
		return a
	}
	switch {
	case offer:
		return ActorSystem
	case StaffSource(source):
		if source == OwnerSource {
			return ActorAPI
		}
		return source
	case source != "":
		return ActorChat
	}
	return ActorSystem
}

// Action names a change in a booking's history.
type Action string

// The actions of a booking's history.
const (
	ActHeld      Action = "held"      // a hold was made
	ActBooked    Action = "booked"    // a booking was made confirmed at once
	ActConfirmed Action = "confirmed" // a hold was confirmed
	ActMoved     Action = "moved"
	ActCancelled Action = "cancelled" // a confirmed booking was cancelled
	ActReleased  Action = "released"  // a hold was let go
	ActExpired   Action = "expired"   // a hold lapsed (the system)
	ActComing    Action = "coming"    // the client said "I'll come"
	ActArrived   Action = "arrived"
	ActNoShow    Action = "no_show"
	ActUnmarked  Action = "unmarked" // an attendance mark was undone
	ActBlocked   Action = "blocked"
	ActUnblocked Action = "unblocked"
	// Deposits (deposit.go).
	ActAwaitingPayment Action = "awaiting_payment" // a hold confirmed by the client, waiting for its deposit
	ActPaid            Action = "paid"             // the deposit came: the booking is confirmed (or was already)
	ActRefundDue       Action = "refund_due"       // a payment of a booking that does not stand is to be refunded
)

// Audit is the record of one change, stored with it.
type Audit struct {
	Actor    string
	Action   Action
	Reason   string    // why, as staff typed it; "" when none was asked
	Override bool      // inside the cancellation cutoff, allowed by an owner
	At       time.Time // the change's now
	From     time.Time // the start before a move; zero otherwise
}

// actionOf says what changed from before to after; "" when nothing did that a
// history shows.
func actionOf(before, after core.Booking) Action {
	switch {
	case before.Status != after.Status:
		switch {
		case after.Status == core.StatusAwaitingPayment:
			return ActAwaitingPayment
		case after.Status == core.StatusConfirmed:
			return ActConfirmed
		case after.Status == core.StatusExpired:
			return ActExpired
		case after.Block:
			return ActUnblocked
		case before.Status == core.StatusHeld:
			return ActReleased
		}
		return ActCancelled
	case !before.Start.Equal(after.Start) || before.MasterID != after.MasterID:
		return ActMoved
	case before.Attendance != after.Attendance:
		switch after.Attendance {
		case core.Arrived:
			return ActArrived
		case core.NoShow:
			return ActNoShow
		}
		return ActUnmarked
	case before.ComingAt.IsZero() && !after.ComingAt.IsZero():
		return ActComing
	}
	return ""
}
