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
	"sync"
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
	// Concurrency is how many offers a pass makes at once (0 is 1). Each is a
	// transaction of a dozen statements, mostly waiting on the database: made
	// one at a time, a burst of freed times queued behind each other. Who
	// gets which time stays decided in order (see Pass). Each offer takes one
	// connection of Bookings' pool at a time.
	Concurrency int
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
//
// Offers are made Concurrency at a time, and handed out in that same order:
// the pass gives the next entry its start while the offers of earlier ones
// are still being made, but only where none of those can change what it
// gets. An entry waits for the offers in flight while one of them is of its
// chat or client (one offer per chat and client stays decided by what was
// made), or while it or one of them is for any master on its day or a day
// either side ("any" takes the master the day's loads pick, which an offer
// changes); and a master's start is not handed out while an offer in flight
// holds an overlapping time of that master. So the offers made are those of
// one at a time, with two exceptions: an offer refused (the time taken by a
// booking meanwhile, the client's own other appointment) gives its entry its
// next start before every entry not yet handed one, but the at most
// Concurrency-1 entries after it already in flight may have taken that start;
// and the entries offered go to the back of the line (Store.Waiting) in the
// order their offers' transactions began, which those in flight together
// may not keep.
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
	p := &pass{m: m, cat: cat, free: free, now: now, cooldown: LapsedCooldown * cat.Salon.Policy.OfferHold(),
		served: map[string]bool{}}
	// Two rounds: first no entry gets a time it was offered before; then the
	// entries left get the times they let lapse long enough ago.
	for _, second := range []bool{false, true} {
		if err := p.round(ctx, entries, second); err != nil {
			return p.offered, err
		}
	}
	return p.offered, nil
}

// pass is what one Pass knows; only Pass's own goroutine reads or changes it
// (the offers' goroutines get an attempt and send back a result).
type pass struct {
	m        *Matcher
	cat      *booking.Catalog
	free     *view
	now      time.Time
	cooldown time.Duration
	served   map[string]bool // chats and clients (by phone) given an offer in this pass
	offered  int

	// The round under way:
	second   bool
	tried    map[int64][]time.Time // by entry: the starts refused it
	done     map[int64]bool        // entries that get nothing more (a cap, an offer standing, gone)
	retry    []int                 // entries (index in the round's order) refused a start: next, oldest first
	inflight []*attempt
}

// attempt is an offer being made: the entry at index i of the round's order
// offered start.
type attempt struct {
	i     int
	e     Entry
	k     key
	start time.Time
	// wide: the master is chosen when the hold is made (any master); else
	// occupied is the master's time the hold takes, buffers included.
	wide     bool
	occupied core.TimeRange
}

type result struct {
	a   *attempt
	b   *core.Booking
	err error
}

// round hands each entry, in order, its start (the second round: the times it
// let lapse long enough ago) and makes the offers, at most Concurrency at a
// time; it returns once none is in flight. On an error it hands out nothing
// more and returns the first error once those in flight ended.
func (p *pass) round(ctx context.Context, entries []Entry, second bool) error {
	p.second, p.tried, p.done, p.retry = second, map[int64][]time.Time{}, map[int64]bool{}, nil
	limit := max(1, p.m.Concurrency)
	results := make(chan result, limit)
	var failed error
	wait := func() {
		if err := p.settle(<-results); err != nil && failed == nil {
			failed = err
		}
	}
	next := 0
	for {
		if len(p.inflight) > 0 && (len(p.inflight) >= limit || failed != nil) {
			wait()
			continue
		}
		if failed != nil {
			return failed
		}
		i, again := next, len(p.retry) > 0
		if again {
			i = p.retry[0]
		} else if next >= len(entries) {
			if len(p.inflight) == 0 {
				return nil
			}
			wait()
			continue
		}
		e := entries[i]
		if !p.skip(e) && p.waits(e) {
			wait()
			continue
		}
		if again {
			p.retry = p.retry[1:]
		} else {
			next++
		}
		if p.skip(e) {
			continue
		}
		a, err := p.plan(ctx, i, e)
		if err != nil {
			failed = err
			continue
		}
		if a == nil {
			continue
		}
		p.inflight = append(p.inflight, a)
		req := a.request(p.m.SalonID)
		go func() {
			b, err := p.m.Bookings.Book(ctx, req)
			results <- result{a, b, err}
		}()
	}
}

// skip says whether e gets nothing in this round: its chat or client got an
// offer, it is done, or (the second round) it let no time lapse long enough ago.
func (p *pass) skip(e Entry) bool {
	if p.served[e.Source] || p.served["phone:"+e.Client.Phone] || p.done[e.ID] {
		return true
	}
	return p.second && !slices.ContainsFunc(e.Offered, func(o Offered) bool { return !o.Declined && !p.now.Before(o.Lapsed.Add(p.cooldown)) })
}

// waits says whether e must wait for an offer in flight before it is handed
// a start: one of its chat or client, or, when e or the offer is for any
// master, one on e's day or a day either side (a shift may cross midnight).
func (p *pass) waits(e Entry) bool {
	for _, a := range p.inflight {
		if a.e.Source == e.Source || a.e.Client.Phone == e.Client.Phone {
			return true
		}
		if (a.wide || p.wide(e)) && near(a.k.day, e.Day) {
			return true
		}
	}
	return false
}

// wide says whether the master of e's offer is known only once it is made:
// any master (or a service the catalog does not have, to be safe).
func (p *pass) wide(e Entry) bool {
	return e.MasterID == booking.AnyMaster || p.service(e.ServiceID) == nil
}

func (p *pass) service(id string) *core.Service {
	if i := slices.IndexFunc(p.cat.Services, func(s core.Service) bool { return s.ID == id }); i >= 0 {
		return &p.cat.Services[i]
	}
	return nil
}

func near(a, b core.Date) bool {
	d := midnight(a).Sub(midnight(b))
	return d >= -24*time.Hour && d <= 24*time.Hour
}

// plan hands e the first start of its view whose time no offer of e before
// blocks (Offered.blocks), that was not refused it in this round, and whose
// master's time no offer in flight overlaps; nil when there is none.
func (p *pass) plan(ctx context.Context, i int, e Entry) (*attempt, error) {
	k := key{e.ServiceID, e.MasterID, e.Day}
	slots, err := p.free.get(ctx, p.m, k)
	if err != nil {
		return nil, err
	}
	wide := p.wide(e)
	for _, sl := range slots {
		if sl.Start.Sub(p.now) < MinOfferHold {
			continue // its hold, capped at the start, leaves no time to answer
		}
		r := core.TimeRange{Start: sl.Start, End: sl.End}
		if slices.ContainsFunc(e.Offered, func(o Offered) bool { return o.blocks(r, p.now, p.cooldown, p.second) }) {
			continue
		}
		if slices.ContainsFunc(p.tried[e.ID], sl.Start.Equal) {
			continue
		}
		a := &attempt{i: i, e: e, k: k, start: sl.Start, wide: wide}
		if !wide {
			a.occupied = p.service(e.ServiceID).Occupied(sl.Start)
			if slices.ContainsFunc(p.inflight, func(b *attempt) bool {
				return !b.wide && b.e.MasterID == e.MasterID && b.occupied.Overlaps(a.occupied)
			}) {
				continue // an offer in flight holds that time
			}
		}
		return a, nil
	}
	return nil, nil
}

// request is the hold of a: keyed by entry, start and how often the entry was
// offered that start before.
func (a *attempt) request(salonID string) booking.BookRequest {
	n := 0 // offers of this very start before
	for _, o := range a.e.Offered {
		if o.Start.Equal(a.start) {
			n++
		}
	}
	return booking.BookRequest{
		SalonID: salonID, ServiceID: a.e.ServiceID, MasterID: a.e.MasterID, Start: a.start,
		Client: a.e.Client, IdempotencyKey: Key(a.e.ID, a.start, n), Source: a.e.Source, Offer: a.e.ID,
	}
}

// settle takes in the end of an offer in flight: made, its time goes from
// the view and its chat and client are served; refused, its entry is done or
// tries its next start before the entries not yet handed one; any other error
// is returned.
func (p *pass) settle(r result) error {
	a := r.a
	p.inflight = slices.DeleteFunc(p.inflight, func(b *attempt) bool { return b == a })
	if r.err == nil {
		p.offered++
		p.served[a.e.Source], p.served["phone:"+a.e.Client.Phone] = true, true
		p.free.took(p.cat, *r.b)
		return nil
	}
	switch core.ErrorCode(r.err) {
	case core.EConflict, core.EInvalid:
		switch core.ErrorKey(r.err) {
		case "booking.too_many", "waitlist.offer_live":
			p.done[a.e.ID] = true // the client has as many bookings as allowed, or an offer standing
			return nil
		case "booking.slot_taken":
			p.free.drop(a.k, a.start) // taken by someone else meanwhile: no one else tries it
		}
		// The client's own other time, no longer offered: the next start.
		p.tried[a.e.ID] = append(p.tried[a.e.ID], a.start)
		at, _ := slices.BinarySearch(p.retry, a.i)
		p.retry = slices.Insert(p.retry, at, a.i)
		return nil
	case core.ENotFound:
		p.done[a.e.ID] = true // the entry (or its service) went meanwhile
		return nil
	}
	return r.err
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
// booking.MaxDays), Concurrency at a time. A service or master gone leaves
// its entries nothing.
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
	// The reads, Concurrency at a time; their starts are taken in order.
	type read struct {
		g     group
		from  core.Date
		days  int
		slots []availability.Slot
		err   error
	}
	var reads []*read
	for _, g := range order {
		s := span[g]
		for from := s[0]; !s[1].Before(from); from = from.AddDays(booking.MaxDays) {
			days := booking.MaxDays
			if d := daysBetween(from, s[1]) + 1; d < days {
				days = d
			}
			reads = append(reads, &read{g: g, from: from, days: days})
		}
	}
	limit := make(chan struct{}, max(1, m.Concurrency))
	var wg sync.WaitGroup
	for _, r := range reads {
		limit <- struct{}{}
		wg.Go(func() {
			defer func() { <-limit }()
			r.slots, r.err = m.slots(ctx, r.g.service, r.g.master, r.from, r.days)
		})
	}
	wg.Wait()
	for _, r := range reads {
		if r.err != nil {
			return nil, r.err
		}
		for _, sl := range r.slots {
			k := key{r.g.service, r.g.master, sl.Day}
			if _, wanted := v.slots[k]; wanted {
				v.slots[k] = append(v.slots[k], sl)
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
