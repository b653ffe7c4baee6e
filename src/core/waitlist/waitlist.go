// Package waitlist offers freed times to the wait-list: each waiting entry,
// oldest first, gets the first free start that fits it (service, master or any
// master, day) as a hold of Policy.OfferHold made through the booking use case,
// in its client's name and from its chat. The matcher is level-triggered: it
// looks at what is waiting and what is free now, not at what happened, so a
// wake lost, a crash or a replica's pass in between changes nothing it decides.
// The database decides who gets a time (the exclusion constraints); an
// offer's hold is keyed by entry and start, so a replayed pass holds nothing
// twice.
package waitlist

import (
	"context"
	"fmt"
	"slices"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
)

// Entry is a wait-list entry waiting for an offer.
type Entry struct {
	ID        int64
	Source    string // the entry's chat as a booking source ("<channel>:<chat>")
	ServiceID string
	MasterID  string // a master id or booking.AnyMaster
	Day       core.Date
	Client    core.Client // name and phone, as stored
	Offered   []time.Time // starts offered to it before (declined or let lapse): never again
}

// Store is what the matcher reads of the wait-list.
type Store interface {
	// Drop deletes the salon's entries for local days before today and says
	// how many.
	Drop(ctx context.Context, salonID string, today core.Date) (int64, error)
	// Waiting returns the salon's entries for today and later whose channel is
	// one of channels, that have a known client and no offer held at now,
	// oldest first.
	Waiting(ctx context.Context, salonID string, today core.Date, now time.Time, channels []string) ([]Entry, error)
}

// Bookings is what the matcher needs of the booking use cases;
// *booking.Service is one.
type Bookings interface {
	Catalog(ctx context.Context, salonID string) (*booking.Catalog, error)
	Slots(ctx context.Context, req booking.SlotsRequest) ([]availability.Slot, *core.Salon, error)
	Book(ctx context.Context, req booking.BookRequest) (*core.Booking, error)
}

var _ Bookings = (*booking.Service)(nil)

// Matcher gives free times to waiting entries.
type Matcher struct {
	SalonID  string
	Store    Store
	Bookings Bookings
	Clock    core.Clock
	// Channels are the channels whose entries get offers: those a message can
	// be sent to unasked (the web chat cannot).
	Channels []string
}

// Key is the idempotency key of the hold offering start to entry: a pass
// replayed after a crash finds the first hold instead of making a second.
func Key(entry int64, start time.Time) string {
	return fmt.Sprintf("%s%d:%d", booking.OfferKeyPrefix, entry, start.Unix())
}

// Pass drops the entries whose day has passed and offers each waiting entry,
// oldest first, the first free start of its day that fits it and that it was
// not offered before. It returns how many offers it made. A time another
// booking takes meanwhile is only a refusal: the next start is tried.
func (m *Matcher) Pass(ctx context.Context) (int, error) {
	cat, err := m.Bookings.Catalog(ctx, m.SalonID)
	if err != nil {
		return 0, err
	}
	now := m.Clock.Now()
	today := core.DateOf(now.In(cat.Salon.Timezone))
	if _, err := m.Store.Drop(ctx, m.SalonID, today); err != nil {
		return 0, err
	}
	entries, err := m.Store.Waiting(ctx, m.SalonID, today, now, m.Channels)
	if err != nil {
		return 0, err
	}
	type group struct {
		service, master string
		day             core.Date
	}
	free := map[group][]availability.Slot{}
	offered := 0
	for _, e := range entries {
		g := group{e.ServiceID, e.MasterID, e.Day}
		slots, ok := free[g]
		if !ok {
			slots, _, err = m.Bookings.Slots(ctx, booking.SlotsRequest{SalonID: m.SalonID, ServiceID: e.ServiceID,
				MasterID: e.MasterID, From: e.Day, Days: 1})
			switch core.ErrorCode(err) {
			case "":
			case core.ENotFound, core.EInvalid: // the service or master is gone: the entry waits
				slots, err = nil, nil
			default:
				return offered, err
			}
			free[g] = slots
		}
		for _, sl := range slots {
			if slices.ContainsFunc(e.Offered, sl.Start.Equal) {
				continue
			}
			_, err := m.Bookings.Book(ctx, booking.BookRequest{
				SalonID: m.SalonID, ServiceID: e.ServiceID, MasterID: e.MasterID, Start: sl.Start,
				Client: e.Client, IdempotencyKey: Key(e.ID, sl.Start), Source: e.Source, Offer: e.ID,
			})
			if err == nil {
				offered++
				// The master's time (and, for "any", the day's loads) changed:
				// every group of that day reads its free times again.
				for k := range free {
					if k.day == e.Day {
						delete(free, k)
					}
				}
				break
			}
			switch core.ErrorCode(err) {
			case core.EConflict, core.EInvalid:
				if core.ErrorKey(err) == "booking.too_many" {
					goto next // the client has as many bookings as allowed
				}
				continue // taken meanwhile, the client's own other time, no longer offered: the next start
			case core.ENotFound:
				goto next // the entry (or its service) went meanwhile
			default:
				return offered, err
			}
		}
	next:
	}
	return offered, nil
}
