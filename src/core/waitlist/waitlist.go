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
	Offered   []Offered   // times offered to it before: no start overlapping one again, but see Offered
}

// Offered is a time an entry was offered before.
type Offered struct {
	core.TimeRange
	// Declined: the client said "No, thanks" (the hold was released): that
	// time is never offered to the entry again.
	Declined bool
	// Lapsed is when the hold of an offer left unanswered expired (zero when
	// Declined): after LapsedCooldown offer holds the time may be offered to
	// the entry again, but only once no entry never offered it wants it.
	Lapsed time.Time
}

// MinOfferHold is the shortest hold an offer is made with: an offer's hold
// ends by its start at the latest, and a start sooner than this is not offered.
const MinOfferHold = 2 * time.Minute

// LapsedCooldown is how many offer holds (Policy.OfferHold) a lapsed offer's
// time is kept from its entry: a lapse may be a client who was busy, and the
// time may have no one else.
const LapsedCooldown = 4

// blocks says whether o keeps start's time sl from its entry at now: always
// in a pass's first round, and in its second only when declined or lapsed
// less than cooldown ago.
func (o Offered) blocks(sl core.TimeRange, now time.Time, cooldown time.Duration, second bool) bool {
	if !o.Overlaps(sl) {
		return false
	}
	return !second || o.Declined || now.Before(o.Lapsed.Add(cooldown))
}

// Store is what the matcher reads of the wait-list.
type Store interface {
	// Drop deletes the salon's entries for local days before today and says
	// how many.
	Drop(ctx context.Context, salonID string, today core.Date) (int64, error)
	// Waiting returns the salon's entries for today and later whose channel is
	// one of channels and whose chat did not block the bot, that have a known
	// client and whose chat and client have no offer held at now (one live
	// offer per chat and per client), by when each last went to the back of
	// the line (its last offer, else its joining), then by id.
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

// Key is the idempotency key of the hold offering start to entry for the nth
// time (0 the first): a pass replayed after a crash finds the first hold
// instead of making a second, and a time offered again after a lapse gets a
// new hold (Book would return the expired one by its old key).
func Key(entry int64, start time.Time, n int) string {
	return fmt.Sprintf("%s%d:%d:%d", booking.OfferKeyPrefix, entry, start.Unix(), n)
}

// Pass drops the entries whose day has passed and offers each waiting entry,
// in Waiting's order (a rotation: an entry offered a time goes behind those
// waiting then), the first free start of its day that fits it and whose time
// does not overlap one it was offered before; then, to the entries still
// without an offer, the first such start that overlaps only times they let
// lapse LapsedCooldown offer holds ago or more (never one they declined). A chat or client gets one offer
// at a time: once one of its entries got an offer, its others wait. It returns
// how many offers it made. A time another booking takes meanwhile is only a
// refusal: the next start is tried.
//
// A pass offers what was free when it began: the free starts of every
// (service, master) the entries ask for are read first, a query each over all
// their days, and then only shrink as the pass's offers take times. A time
// freed while the pass runs is left to the next pass (whatever freed it woke
// the matcher): seen by a later entry's group read after it freed, it would go
// past an earlier entry that fits it and was looked at before.
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
	free, err := m.snapshot(ctx, entries)
	if err != nil {
		return 0, err
	}
	offered := 0
	served := map[string]bool{} // chats and clients (by phone) given an offer in this pass
	cooldown := LapsedCooldown * cat.Salon.Policy.OfferHold()
	// Two rounds: first no entry gets a time it was offered before; then the
	// entries left get the times they let lapse long enough ago.
	for _, second := range []bool{false, true} {
		for _, e := range entries {
			if served[e.Source] || served["phone:"+e.Client.Phone] {
				continue
			}
			if second && !slices.ContainsFunc(e.Offered, func(o Offered) bool { return !o.Declined && !now.Before(o.Lapsed.Add(cooldown)) }) {
				continue // nothing more to try
			}
			ok, err := m.offer(ctx, cat, free, e, now, cooldown, second)
			if err != nil {
				return offered, err
			}
			if ok {
				offered++
				served[e.Source], served["phone:"+e.Client.Phone] = true, true
			}
		}
	}
	return offered, nil
}

// offer offers e the first start of its view whose time no offer of e before
// blocks (Offered.blocks), and says whether it made an offer.
func (m *Matcher) offer(ctx context.Context, cat *booking.Catalog, free *view, e Entry, now time.Time, cooldown time.Duration, second bool) (bool, error) {
	k := key{e.ServiceID, e.MasterID, e.Day}
	slots, err := free.get(ctx, m, k)
	if err != nil {
		return false, err
	}
	for _, sl := range slots {
		if sl.Start.Sub(now) < MinOfferHold {
			continue // its hold, capped at the start, leaves no time to answer
		}
		r := core.TimeRange{Start: sl.Start, End: sl.End}
		if slices.ContainsFunc(e.Offered, func(o Offered) bool { return o.blocks(r, now, cooldown, second) }) {
			continue
		}
		n := 0 // offers of this very start before
		for _, o := range e.Offered {
			if o.Start.Equal(sl.Start) {
				n++
			}
		}
		b, err := m.Bookings.Book(ctx, booking.BookRequest{
			SalonID: m.SalonID, ServiceID: e.ServiceID, MasterID: e.MasterID, Start: sl.Start,
			Client: e.Client, IdempotencyKey: Key(e.ID, sl.Start, n), Source: e.Source, Offer: e.ID,
		})
		if err == nil {
			free.took(cat, *b)
			return true, nil
		}
		switch core.ErrorCode(err) {
		case core.EConflict, core.EInvalid:
			switch core.ErrorKey(err) {
			case "booking.too_many", "waitlist.offer_live":
				return false, nil // the client has as many bookings as allowed, or an offer standing
			case "booking.slot_taken":
				free.drop(k, sl.Start) // taken by someone else meanwhile: no one else tries it
			}
			continue // the client's own other time, no longer offered: the next start
		case core.ENotFound:
			return false, nil // the entry (or its service) went meanwhile
		default:
			return false, err
		}
	}
	return false, nil
}

// key is the free starts one kind of entry fits: a service, a master (or
// booking.AnyMaster) and a local day.
type key struct {
	service, master string
	day             core.Date
}

// view is what a pass still takes for free: by key, the starts free when the
// pass began less those its offers took. stale keys (any master, on a day an
// offer changed) are read again and kept to the starts they had.
type view struct {
	slots map[key][]availability.Slot
	stale map[key]bool
}

// snapshot reads the free starts of every key the entries ask for: one slot
// query per service and master over the span of their days (in runs of
// booking.MaxDays). A service or master gone leaves its entries nothing.
func (m *Matcher) snapshot(ctx context.Context, entries []Entry) (*view, error) {
	type group struct{ service, master string }
	span := map[group][2]core.Date{}
	var order []group
	for _, e := range entries {
		g := group{e.ServiceID, e.MasterID}
		s, ok := span[g]
		if !ok {
			order = append(order, g)
			s = [2]core.Date{e.Day, e.Day}
		}
		if e.Day.Before(s[0]) {
			s[0] = e.Day
		}
		if s[1].Before(e.Day) {
			s[1] = e.Day
		}
		span[g] = s
	}
	v := &view{slots: map[key][]availability.Slot{}, stale: map[key]bool{}}
	for _, e := range entries {
		v.slots[key{e.ServiceID, e.MasterID, e.Day}] = nil // read: none free unless found below
	}
	for _, g := range order {
		s := span[g]
		for from := s[0]; !s[1].Before(from); from = from.AddDays(booking.MaxDays) {
			days := booking.MaxDays
			if d := daysBetween(from, s[1]) + 1; d < days {
				days = d
			}
			slots, err := m.slots(ctx, g.service, g.master, from, days)
			if err != nil {
				return nil, err
			}
			for _, sl := range slots {
				k := key{g.service, g.master, sl.Day}
				if _, wanted := v.slots[k]; wanted {
					v.slots[k] = append(v.slots[k], sl)
				}
			}
		}
	}
	return v, nil
}

// slots asks for the free starts; a service or master that is gone (or no
// longer does the service) has none.
func (m *Matcher) slots(ctx context.Context, service, master string, from core.Date, days int) ([]availability.Slot, error) {
	slots, _, err := m.Bookings.Slots(ctx, booking.SlotsRequest{SalonID: m.SalonID, ServiceID: service,
		MasterID: master, From: from, Days: days})
	switch core.ErrorCode(err) {
	case "":
		return slots, nil
	case core.ENotFound, core.EInvalid: // the entry waits
		return nil, nil
	}
	return nil, err
}

func daysBetween(a, b core.Date) int {
	return int(midnight(b).Sub(midnight(a)).Hours()+12) / 24
}

func midnight(d core.Date) time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// get returns k's starts, reading a stale key again and keeping only the
// starts it had.
func (v *view) get(ctx context.Context, m *Matcher, k key) ([]availability.Slot, error) {
	if !v.stale[k] {
		return v.slots[k], nil
	}
	fresh, err := m.slots(ctx, k.service, k.master, k.day, 1)
	if err != nil {
		return nil, err
	}
	old := v.slots[k]
	kept := fresh[:0]
	for _, sl := range fresh {
		if slices.ContainsFunc(old, func(o availability.Slot) bool { return o.Start.Equal(sl.Start) }) {
			kept = append(kept, sl)
		}
	}
	v.slots[k], v.stale[k] = kept, false
	return kept, nil
}

// took takes out what the new hold b makes busy: its master's starts of any
// service whose time (buffers included) overlaps b's, exactly as the slot
// computation would; and marks stale the any-master keys of b's day and the
// days either side (the day's loads pick the master; a shift may cross
// midnight).
func (v *view) took(cat *booking.Catalog, b core.Booking) {
	day := b.Start
	for k, slots := range v.slots {
		switch k.master {
		case b.MasterID:
			i := slices.IndexFunc(cat.Services, func(s core.Service) bool { return s.ID == k.service })
			if i < 0 {
				continue
			}
			svc := cat.Services[i]
			v.slots[k] = slices.DeleteFunc(slices.Clone(slots), func(sl availability.Slot) bool {
				return svc.Occupied(sl.Start).Overlaps(b.Occupied)
			})
		case booking.AnyMaster:
			if d := midnight(k.day).Sub(midnight(core.DateOf(day.In(cat.Salon.Timezone)))); d >= -24*time.Hour && d <= 24*time.Hour {
				v.stale[k] = true
			}
		}
	}
}

// drop takes start out of k's starts.
func (v *view) drop(k key, start time.Time) {
	v.slots[k] = slices.DeleteFunc(slices.Clone(v.slots[k]), func(sl availability.Slot) bool { return sl.Start.Equal(start) })
}
