package waitlist_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
	"salonbook/src/core/waitlist"
)

var ctx = context.Background()

var day = core.Date{Year: 2027, Month: 3, Day: 2}

func at(h, m int) time.Time { return time.Date(2027, 3, 2, h, m, 0, 0, time.UTC) }

type store struct {
	entries []waitlist.Entry
	dropped core.Date
}

func (s *store) Drop(_ context.Context, _ string, today core.Date) (int64, error) {
	s.dropped = today
	return 0, nil
}

func (s *store) Waiting(context.Context, string, core.Date, time.Time, []string) ([]waitlist.Entry, error) {
	return s.entries, nil
}

// bookings offers free starts (an hour each) and books them, refusing what
// refuse says for an entry.
type bookings struct {
	salon  *core.Salon
	free   []time.Time
	refuse map[int64]error
	booked map[int64]time.Time
}

func (b *bookings) Catalog(context.Context, string) (*booking.Catalog, error) {
	return &booking.Catalog{Salon: b.salon, Services: []core.Service{{ID: "manicure", Duration: time.Hour}}}, nil
}

func (b *bookings) Slots(context.Context, booking.SlotsRequest) ([]availability.Slot, *core.Salon, error) {
	var out []availability.Slot
	for _, s := range b.free {
		taken := false
		for _, t := range b.booked {
			taken = taken || t.Equal(s)
		}
		if !taken {
			out = append(out, availability.Slot{Start: s, End: s.Add(time.Hour), MasterID: "anna", Day: day})
		}
	}
	return out, b.salon, nil
}

func (b *bookings) Book(_ context.Context, req booking.BookRequest) (*core.Booking, error) {
	if err := b.refuse[req.Offer]; err != nil {
		return nil, err
	}
	for _, t := range b.booked {
		if t.Equal(req.Start) { // the exclusion constraint
			return nil, core.Errorf(core.EConflict, "booking.slot_taken", "fake: %s is taken", req.Start)
		}
	}
	b.booked[req.Offer] = req.Start
	hour := core.TimeRange{Start: req.Start, End: req.Start.Add(time.Hour)}
	return &core.Booking{MasterID: "anna", Start: req.Start, End: hour.End, Occupied: hour}, nil
}

func world(entries ...waitlist.Entry) (*waitlist.Matcher, *bookings, *store) {
	st := &store{entries: entries}
	bk := &bookings{salon: &core.Salon{Timezone: time.UTC}, refuse: map[int64]error{}, booked: map[int64]time.Time{}}
	m := &waitlist.Matcher{SalonID: "s", Store: st, Bookings: bk, Clock: &core.FixedClock{T: at(7, 0)}, Channels: []string{"telegram"}}
	return m, bk, st
}

// entry is a waiting entry; offered are times it declined.
func entry(id int64, chat, phone string, offered ...core.TimeRange) waitlist.Entry {
	e := waitlist.Entry{ID: id, Source: "telegram:" + chat, ServiceID: "manicure", MasterID: "anna", Day: day,
		Client: core.Client{Name: chat, Phone: phone}}
	for _, r := range offered {
		e.Offered = append(e.Offered, waitlist.Offered{TimeRange: r, Declined: true})
	}
	return e
}

func TestPass(t *testing.T) {
	t.Parallel()

	t.Run("InOrderEachTheFirstStartNotOverlappingAnOfferedTime", func(t *testing.T) {
		t.Parallel()
		m, bk, st := world(entry(1, "a", "+1"), entry(2, "b", "+2", core.TimeRange{Start: at(10, 0), End: at(11, 0)}))
		bk.free = []time.Time{at(10, 0), at(10, 30), at(11, 0)}
		n, err := m.Pass(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.Equal(t, map[int64]time.Time{1: at(10, 0), 2: at(11, 0)}, bk.booked, "10:30 overlaps 2's 10:00")
		require.Equal(t, day, st.dropped, "today in the salon's zone")
	})

	t.Run("OneOfferPerChatAndPerClient", func(t *testing.T) {
		t.Parallel()
		m, bk, _ := world(entry(1, "a", "+1"), entry(2, "a", "+9"), entry(3, "c", "+1"), entry(4, "d", "+4"))
		bk.free = []time.Time{at(10, 0), at(12, 0), at(14, 0), at(16, 0)}
		n, err := m.Pass(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.Equal(t, map[int64]time.Time{1: at(10, 0), 4: at(12, 0)}, bk.booked)
	})

	t.Run("RefusalsGoToTheNextEntry", func(t *testing.T) {
		t.Parallel()
		m, bk, _ := world(entry(1, "a", "+1"), entry(2, "b", "+2"), entry(3, "c", "+3"), entry(4, "d", "+4"))
		bk.free = []time.Time{at(10, 0)}
		bk.refuse[1] = core.Errorf(core.EConflict, "booking.too_many", "test")
		bk.refuse[2] = core.Errorf(core.EConflict, "waitlist.offer_live", "test")
		bk.refuse[3] = core.Errorf(core.ENotFound, "error.not_found", "test")
		n, err := m.Pass(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, map[int64]time.Time{4: at(10, 0)}, bk.booked)
	})

	t.Run("AFailureEndsThePass", func(t *testing.T) {
		t.Parallel()
		m, bk, _ := world(entry(1, "a", "+1"), entry(2, "b", "+2"))
		bk.free = []time.Time{at(10, 0), at(12, 0)}
		bk.refuse[1] = core.Errorf(core.EUnavailable, "error.unavailable", "test")
		n, err := m.Pass(ctx)
		require.Equal(t, core.EUnavailable, core.ErrorCode(err))
		require.Equal(t, 0, n)
		require.Empty(t, bk.booked)
	})

	t.Run("TodayIsTheSalonsDay", func(t *testing.T) {
		t.Parallel()
		m, _, st := world()
		m.Bookings.(*bookings).salon.Timezone = time.FixedZone("UTC+2", 2*3600)
		m.Clock = &core.FixedClock{T: time.Date(2027, 3, 2, 22, 30, 0, 0, time.UTC)} // 00:30 on 3 March there
		_, err := m.Pass(ctx)
		require.NoError(t, err)
		require.Equal(t, core.Date{Year: 2027, Month: 3, Day: 3}, st.dropped)
	})
}

func TestKey(t *testing.T) {
	t.Parallel()
	require.Equal(t, booking.OfferKeyPrefix+"7:1804233600:0", waitlist.Key(7, time.Unix(1804233600, 0), 0))
	require.Equal(t, booking.OfferKeyPrefix+"7:1804233600:2", waitlist.Key(7, time.Unix(1804233600, 0), 2), "offered a third time")
}
