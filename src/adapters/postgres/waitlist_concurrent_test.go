package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/waitlist"
)

// cwEntry is one wait-list entry of the concurrent matcher's world.
type cwEntry struct {
	chat, phone     int
	service, master string
	day             int // of March 2027
}

// cwEntries are 60 entries over Tuesday 2 and Wednesday 3 March: Boris's,
// Chloe's and any master's haircuts and Anna's manicures, in turn; three
// chats have a second entry (another master or day) and three clients wait
// in a second chat of their own.
func cwEntries() []cwEntry {
	combos := []struct {
		service, master string
		day             int
	}{
		{"haircut", "boris", 2}, {"haircut", "chloe", 2}, {"haircut", booking.AnyMaster, 2}, {"manicure", "anna", 2},
		{"haircut", "boris", 3}, {"haircut", "chloe", 3}, {"haircut", booking.AnyMaster, 3}, {"manicure", "anna", 3},
	}
	var out []cwEntry
	for i := range 60 {
		c := combos[i%len(combos)]
		e := cwEntry{chat: i, phone: i, service: c.service, master: c.master, day: c.day}
		switch i {
		case 13, 27, 41:
			e.chat, e.phone = i-5, i-5 // the chat's second entry
		case 17, 33, 51:
			e.phone = i - 3 // the client's second chat
		}
		out = append(out, e)
	}
	return out
}

// cwFreed are the 20 times the world frees: one start each (the hours either
// side stay booked).
var cwFreed = []struct {
	master string
	day    int
	hours  []int
}{
	{"anna", 2, []int{10, 14}}, {"anna", 3, []int{10, 14}},
	{"boris", 2, []int{10, 12, 14, 16}}, {"boris", 3, []int{10, 12, 14, 16}},
	{"chloe", 2, []int{10, 12, 14, 16}}, {"chloe", 3, []int{10, 12, 14, 16}},
}

// newCWWorld is a salon whose three masters are fully booked on 2 and 3 March
// (Anna with manicures, Boris and Chloe with haircuts, one an hour from 09:00),
// with cwEntries on the wait-list and cwFreed cancelled, and its matcher making
// concurrency offers at once through watch.
func newCWWorld(t *testing.T, concurrency int) (*wlWorld, *watch) {
	t.Helper()
	w := newWLWorld(t) // Anna's manicures of the 2nd
	fills := map[string]string{}
	for h := 9; h < 19; h++ {
		fills[fmt.Sprint("anna", 2, h)] = w.fills[h]
	}
	for _, f := range []struct {
		master, service string
		day             int
	}{{"anna", "manicure", 3}, {"boris", "haircut", 2}, {"boris", "haircut", 3}, {"chloe", "haircut", 2}, {"chloe", "haircut", 3}} {
		for h := 9; h < 19; h++ {
			key := fmt.Sprint(f.master, f.day, h)
			bk, err := w.svc.Book(ctx, booking.BookRequest{SalonID: w.salonID, ServiceID: f.service, MasterID: f.master,
				Start: w.at(f.day, h, 0), Client: core.Client{Name: "Filler", Phone: "+4915100002" + fmt.Sprintf("%03d", len(fills))},
				IdempotencyKey: "fill-" + key, Confirm: true, Source: booking.OwnerSource})
			require.NoError(t, err)
			fills[key] = bk.ID
		}
	}
	for _, e := range cwEntries() {
		require.NoError(t, w.wl.Join(ctx, dialog.WaitlistEntry{
			Key:       dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: fmt.Sprint(e.chat)},
			ServiceID: e.service, MasterID: e.master, Day: core.Date{Year: 2027, Month: 3, Day: e.day},
			Client: core.Client{Name: fmt.Sprint("Waiting ", e.phone), Phone: fmt.Sprintf("+4915200001%02d", e.phone)}, Lang: "en",
		}))
	}
	for _, f := range cwFreed {
		for _, h := range f.hours {
			_, err := w.svc.Cancel(ctx, w.salonID, fills[fmt.Sprint(f.master, f.day, h)])
			require.NoError(t, err)
		}
	}
	wa := &watch{Bookings: w.svc, w: w}
	w.matcher.Bookings, w.matcher.Concurrency = wa, concurrency
	return w, wa
}

// watch passes the matcher's calls on, each hold a moment later (so that
// those made at once overlap), and notes which were in flight together.
type watch struct {
	waitlist.Bookings
	w *wlWorld

	mu       sync.Mutex
	inflight []booking.BookRequest
	most     int      // the most holds in flight at once
	refused  int      // holds refused
	clashes  []string // two in flight of one chat or client, or near each other and one for any master
	// taken books a time for someone else just before the matcher's hold of
	// it is made: a booking that takes a freed time while the pass runs.
	taken map[time.Time]bool
}

func (wa *watch) Book(ctx context.Context, req booking.BookRequest) (*core.Booking, error) {
	phone := func(r booking.BookRequest) string { return r.Client.Phone }
	day := func(r booking.BookRequest) core.Date { return core.DateOf(r.Start.In(pgtest.Berlin)) }
	wa.mu.Lock()
	for _, o := range wa.inflight {
		d := day(o).AddDays(1)
		near := !d.Before(day(req)) && !day(req).AddDays(1).Before(day(o))
		if o.Source == req.Source || phone(o) == phone(req) ||
			(o.MasterID == booking.AnyMaster || req.MasterID == booking.AnyMaster) && near {
			wa.clashes = append(wa.clashes, fmt.Sprintf("%s %s %s with %s %s %s", o.Source, o.MasterID, o.Start, req.Source, req.MasterID, req.Start))
		}
	}
	wa.inflight = append(wa.inflight, req)
	wa.most = max(wa.most, len(wa.inflight))
	take := wa.taken[req.Start]
	delete(wa.taken, req.Start)
	wa.mu.Unlock()
	defer func() {
		wa.mu.Lock()
		defer wa.mu.Unlock()
		wa.inflight = slices.DeleteFunc(wa.inflight, func(o booking.BookRequest) bool { return o.IdempotencyKey == req.IdempotencyKey })
	}()
	if take {
		_, err := wa.w.svc.Book(ctx, booking.BookRequest{SalonID: req.SalonID, ServiceID: req.ServiceID, MasterID: req.MasterID,
			Start: req.Start, Client: core.Client{Name: "Walk-in", Phone: "+491519999990"}, IdempotencyKey: "walk-in-" + req.IdempotencyKey,
			Confirm: true, Source: booking.OwnerSource})
		if err != nil {
			return nil, err
		}
	}
	time.Sleep(5 * time.Millisecond)
	b, err := wa.Bookings.Book(ctx, req)
	if err != nil {
		wa.mu.Lock()
		wa.refused++
		wa.mu.Unlock()
	}
	return b, err
}

// holds returns the live offers as chat → "master start".
func (w *wlWorld) holds(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for chat, b := range w.offers(t) {
		out[chat] = b.MasterID + " " + b.Start.In(pgtest.Berlin).Format("Mon 15:04")
	}
	return out
}

// Concurrent offers (Matcher.Concurrency) give the times exactly as one at
// a time does: 20 freed times and 60 entries, three passes with the offers
// lapsing in between.
func TestWaitlistConcurrentOffers(t *testing.T) {
	t.Parallel()
	one, _ := newCWWorld(t, 1)
	four, wa := newCWWorld(t, 4)
	for round := range 3 {
		n1, n4 := one.pass(t), four.pass(t)
		h1, h4 := one.holds(t), four.holds(t)
		if round < 2 {
			// The third pass may differ: entries offered by one pass take
			// their places in the line in the order their offers'
			// transactions began, which those made at once may not keep.
			require.Equal(t, n1, n4, "pass %d", round+1)
			require.Equal(t, h1, h4, "pass %d: the same entries get the same times", round+1)
			require.Len(t, h4, 20, "pass %d: every freed time offered", round+1)
		}
		// No time is offered twice, and no chat or client has two offers.
		require.Len(t, h4, n4)
		times := map[string]bool{}
		for _, v := range h4 {
			require.False(t, times[v], "pass %d: %s offered twice", round+1, v)
			times[v] = true
		}
		require.Equal(t, 0, four.count(t, `SELECT count(*) FROM (
			SELECT c.client_id FROM waitlist_offers o JOIN bookings b USING (booking_id) JOIN clients c ON c.client_id = b.client_id
			WHERE o.salon_id = $1 AND b.status = 'held' AND b.hold_expires_at > $2
			GROUP BY c.client_id HAVING count(*) > 1) x`, four.salonID, four.clock.Now()), "pass %d: one offer per client", round+1)
		one.lapse(t)
		four.lapse(t)
	}
	wa.mu.Lock()
	defer wa.mu.Unlock()
	require.Greater(t, wa.most, 1, "offers were made at once")
	require.LessOrEqual(t, wa.most, 4)
	require.Empty(t, wa.clashes, "never two of a chat or client in flight, nor near an any-master one")
	require.Zero(t, wa.refused, "no hold refused: none raced another")
}

// Offers of one master's day made at once take different starts, in order.
func TestWaitlistConcurrentOffersOfOneMaster(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t) // Anna's manicures of the 2nd
	for n := 1; n <= 8; n++ {
		w.join(t, n)
	}
	w.free(t, 10, 12, 14, 16)
	wa := &watch{Bookings: w.svc, w: w}
	w.matcher.Bookings, w.matcher.Concurrency = wa, 4
	require.Equal(t, 4, w.pass(t))
	require.Equal(t, map[string]time.Time{"telegram:1": w.at(2, 10, 0), "telegram:2": w.at(2, 12, 0),
		"telegram:3": w.at(2, 14, 0), "telegram:4": w.at(2, 16, 0)}, w.starts(t))
	wa.mu.Lock()
	defer wa.mu.Unlock()
	require.Greater(t, wa.most, 1, "offers were made at once")
	require.Zero(t, wa.refused, "none was handed a start another in flight holds")
}

// The oldest entries get the freed times first, with offers made four at a
// time: of each master's and day's entries, the first ones.
func TestWaitlistConcurrentOffersGoToTheOldest(t *testing.T) {
	t.Parallel()
	w, _ := newCWWorld(t, 4)
	require.Equal(t, 20, w.pass(t))
	require.Equal(t, map[string]string{
		// Entries 0 to 7 ask, in turn: Boris on the 2nd, Chloe, any master,
		// Anna's manicure; the same on the 3rd. Any master's first free
		// haircut start is Anna's 10:00, so Anna's manicure gets 14:00.
		"telegram:0": "boris Tue 10:00", "telegram:1": "chloe Tue 10:00", "telegram:2": "anna Tue 10:00", "telegram:3": "anna Tue 14:00",
		"telegram:4": "boris Wed 10:00", "telegram:5": "chloe Wed 10:00", "telegram:6": "anna Wed 10:00", "telegram:7": "anna Wed 14:00",
		// Any master at 14:00 on the 2nd: Boris and Chloe equally loaded, Boris by name.
		"telegram:8": "boris Tue 12:00", "telegram:9": "chloe Tue 12:00", "telegram:10": "boris Tue 14:00",
		// 11 and 15 (Anna's) find her times taken; 13 is chat 8's second entry
		// and 17 client 14's second chat: they wait. Any master at 12:00 on
		// the 3rd: only Chloe is free.
		"telegram:12": "boris Wed 12:00", "telegram:14": "chloe Wed 12:00", "telegram:16": "boris Tue 16:00",
		"telegram:18": "chloe Tue 14:00", "telegram:20": "boris Wed 14:00", "telegram:21": "chloe Wed 14:00",
		"telegram:22": "boris Wed 16:00", "telegram:25": "chloe Tue 16:00", "telegram:29": "chloe Wed 16:00",
	}, w.holds(t))
}

// A freed time booked by someone else while the pass runs refuses its offer:
// the entry gets its next start, and the time nobody else.
func TestWaitlistConcurrentOfferRefusedTriesTheNextStart(t *testing.T) {
	t.Parallel()
	w, wa := newCWWorld(t, 4)
	wa.taken = map[time.Time]bool{w.at(2, 10, 0): true} // Boris's, Chloe's and Anna's 10:00 of the 2nd: the first taken
	n := w.pass(t)
	h := w.holds(t)
	require.Equal(t, 19, n, "one time went to a walk-in: %v", h)
	var walkIns []string
	rows, err := w.pool.Query(ctx, `SELECT master_id FROM bookings b JOIN clients c USING (client_id)
		WHERE b.salon_id = $1 AND c.phone = '+491519999990' AND b.status = 'confirmed'`, w.salonID)
	require.NoError(t, err)
	for rows.Next() {
		var m string
		require.NoError(t, rows.Scan(&m))
		walkIns = append(walkIns, m)
	}
	require.NoError(t, rows.Err())
	require.Len(t, walkIns, 1)
	for _, v := range h {
		require.NotEqual(t, walkIns[0]+" Tue 10:00", v, "the walk-in's time is offered to nobody")
	}
	require.Len(t, h, 19)
}

// Four offers at once take one connection each, and wait for one on a
// one-connection pool instead of deadlocking (CLAUDE.md's pool rule).
func TestWaitlistConcurrentOffersOnAOneConnectionPool(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	require.NoError(t, err)
	cfg.MaxConns = 1
	one, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer one.Close()
	w, _ := newCWWorld(t, 4)
	store := postgres.NewStore(one)
	wl := postgres.NewWaitlist(one)
	defer wl.Close()
	store.FollowChanges(wl.Record)
	m := &waitlist.Matcher{SalonID: w.salonID, Store: wl, Bookings: booking.New(store, w.clock), Clock: w.clock,
		Channels: []string{"telegram"}, Concurrency: 4}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var n int
	ran, err := wl.Matching(tctx, w.salonID, func(bool) error {
		var err error
		n, err = m.Pass(tctx)
		return err
	})
	require.NoError(t, err)
	require.True(t, ran)
	require.Equal(t, 20, n)
}

// Offers made four at a time while clients press "Book it" and "No,
// thanks", leave the wait-list and staff cancel offers: every answer is an
// answer (no deadlock, 40P01, nor any other failure), and in the end no
// time is held twice and no held offer lacks its entry.
func TestWaitlistConcurrentOffersWhileClientsAnswer(t *testing.T) {
	t.Parallel()
	w, _ := newCWWorld(t, 4)
	var mu sync.Mutex
	var failures []string
	fail := func(what string, err error) {
		switch core.ErrorCode(err) {
		case "", core.EConflict, core.ENotFound, core.EForbidden: // answered: taken, ended, gone
			return
		}
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf("%s: %v", what, err))
	}
	var answered atomic.Int64
	for round := range 3 {
		done := make(chan struct{})
		var answers sync.WaitGroup
		answers.Go(func() {
			seen := map[string]bool{}
			for {
				type offer struct {
					id, chat string
					entry    int64
				}
				var offers []offer
				rows, err := w.pool.Query(ctx, `SELECT b.booking_id::text, w.chat_id, w.id FROM waitlist_offers o
					JOIN bookings b USING (booking_id) JOIN waitlist w ON w.id = o.entry_id
					WHERE o.salon_id = $1 AND b.status = 'held'`, w.salonID)
				if err == nil {
					for rows.Next() {
						var o offer
						if err = rows.Scan(&o.id, &o.chat, &o.entry); err != nil {
							break
						}
						offers = append(offers, o)
					}
					rows.Close()
					err = errors.Join(err, rows.Err())
				}
				if err != nil {
					fail("read offers", core.Errorf(core.EInternal, "", "%w", err))
					return
				}
				for _, o := range offers {
					if seen[o.id] {
						continue
					}
					seen[o.id] = true
					answered.Add(1)
					var n int
					_, _ = fmt.Sscan(o.chat, &n)
					switch (n + round) % 5 {
					case 0:
						_, err := w.svc.Confirm(ctx, w.salonID, o.id)
						fail("book it", err)
					case 1:
						_, err := w.svc.Release(ctx, w.salonID, o.id)
						fail("no, thanks", err)
					case 2:
						_, err := w.wl.Leave(ctx, dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: o.chat}, o.entry)
						fail("leave", err)
					case 3:
						_, err := w.svc.Cancel(ctx, w.salonID, o.id)
						fail("staff cancel", err)
					}
				}
				select {
				case <-done:
					return
				case <-time.After(time.Millisecond):
				}
			}
		})
		for range 3 {
			_, err := w.matcher.Pass(ctx)
			fail("pass", err)
		}
		close(done)
		answers.Wait()
		w.lapse(t)
	}
	require.Empty(t, failures)
	t.Logf("%d offers answered while passes ran", answered.Load())
	require.Positive(t, answered.Load())
	require.Zero(t, w.orphans(t), "no held offer without its entry")
	require.Zero(t, w.count(t, `SELECT count(*) FROM bookings a JOIN bookings b ON a.salon_id = b.salon_id AND a.master_id = b.master_id
		AND a.booking_id < b.booking_id WHERE a.salon_id = $1 AND a.status IN ('held', 'confirmed') AND b.status IN ('held', 'confirmed')
		AND a.occupied && b.occupied`, w.salonID), "no double booking")
}
