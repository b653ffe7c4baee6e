package dialog_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

// offerWorld fills Anna's Tuesday, puts olga (Anna) and petra (any master) on
// its wait-list, frees 10:00 and runs the matcher: olga holds the offer.
func offerWorld(t *testing.T) (b *bundle, olga, petra *conv, offerID string) {
	t.Helper()
	b = newBundle(t)
	for i, h := range []int{10, 11, 12} {
		bk, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "manicure", MasterID: "anna",
			Start:          time.Date(2027, 3, 2, h, 0, 0, 0, pgtest.Berlin),
			Client:         core.Client{Name: "Busy", Phone: fmt.Sprintf("+4915100000%02d", i)},
			IdempotencyKey: fmt.Sprintf("fill-%d", i), Confirm: true, Source: booking.OwnerSource})
		require.NoError(t, err)
		b.fills = append(b.fills, bk.ID)
	}
	olga, petra = &conv{name: "olga", hint: "en"}, &conv{name: "petra", hint: "en"}
	b.run(t, []*conv{olga, petra}, []string{
		"olga text: hi", "olga pick: Book", "olga pick: Manicure", "olga pick: #2", "olga pick: Notify me: 2 Mar",
		"olga text: Olga", "olga text: +49 151 23456789",
		"petra text: hi", "petra pick: Book", "petra pick: Manicure", "petra pick: #2", "petra pick: Notify me: 2 Mar",
		"petra contact: Petra, +49 151 76543219",
		"free: 1", "match: -",
	})
	for _, r := range olga.last {
		for _, c := range r.Choices {
			if id, ok := strings.CutPrefix(c.ID, "wy:"); ok {
				offerID = id
			}
		}
	}
	require.NotEmpty(t, offerID, "olga was offered 10:00")
	return b, olga, petra, offerID
}

func (b *bundle) status(t *testing.T, id string) core.BookingStatus {
	t.Helper()
	got, err := b.bookings.Get(ctx, b.salonID, id)
	require.NoError(t, err)
	return got.Status
}

func choose(b *bundle, t *testing.T, c *conv, id string) string {
	t.Helper()
	rs := b.send(t, c, dialog.Inbound{Kind: dialog.KindChoice, Choice: id})
	var s []string
	for _, r := range rs {
		s = append(s, r.Text)
	}
	return strings.Join(s, "\n")
}

func TestOfferAnswers(t *testing.T) {
	t.Parallel()

	// Finding 4: "No, thanks" after "Book it" says it is booked, and changes nothing.
	t.Run("NoAfterBookItSaysBooked", func(t *testing.T) {
		t.Parallel()
		b, olga, _, id := offerWorld(t)
		require.Contains(t, choose(b, t, olga, "wy:"+id), "booked")
		text := choose(b, t, olga, "wn:"+id)
		require.Contains(t, text, "already booked for you")
		require.NotContains(t, text, "passed that time on")
		require.Equal(t, core.StatusConfirmed, b.status(t, id))
	})

	// Finding 20: "No, thanks" releases the hold and wakes the matcher.
	t.Run("NoReleasesAndWakes", func(t *testing.T) {
		t.Parallel()
		b, olga, _, id := offerWorld(t)
		_, err := pgtest.Pool(t).Exec(ctx, `DELETE FROM waitlist_wakes WHERE salon_id = $1`, b.salonID)
		require.NoError(t, err)
		require.Contains(t, choose(b, t, olga, "wn:"+id), "passed that time on")
		require.Equal(t, core.StatusCancelled, b.status(t, id))
		var n int
		require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM waitlist_wakes WHERE salon_id = $1`, b.salonID).Scan(&n))
		require.Equal(t, 1, n, "the decline woke the matcher")
	})

	// Finding 20: forged answers: another chat's offer, the chat's own hold
	// that is not an offer, another chat's wait-list entry.
	t.Run("ForgedIDsChangeNothing", func(t *testing.T) {
		t.Parallel()
		b, olga, petra, id := offerWorld(t)
		require.Contains(t, choose(b, t, petra, "wy:"+id), "offer has ended")
		require.Contains(t, choose(b, t, petra, "wn:"+id), "offer has ended")
		require.Equal(t, core.StatusHeld, b.status(t, id), "petra cannot answer olga's offer")

		// Petra's own hold in a booking flow is no offer.
		b.run(t, []*conv{petra}, []string{"pick: Book", "pick: Haircut", "pick: Anna", "pick: #1", "pick: #1"})
		var own string
		require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT booking_id::text FROM bookings WHERE salon_id = $1 AND source = 'test:petra'
			AND status = 'held'`, b.salonID).Scan(&own))
		choose(b, t, petra, "wy:"+own)
		require.Equal(t, core.StatusHeld, b.status(t, own), "a flow's hold is not confirmed by an offer's button")

		var entry int64
		require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT id FROM waitlist WHERE salon_id = $1 AND chat_id = 'olga'`, b.salonID).Scan(&entry))
		choose(b, t, petra, fmt.Sprint("wx:", entry))
		var n int
		require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM waitlist WHERE salon_id = $1 AND chat_id = 'olga'`, b.salonID).Scan(&n))
		require.Equal(t, 1, n, "petra cannot take olga off the wait-list")
		require.Equal(t, core.StatusHeld, b.status(t, id))
		_ = olga
	})

	// Finding 16: under My bookings an offer is answered as an offer; it
	// cannot be moved or cancelled as a booking.
	t.Run("MyBookingsShowsTheOfferAsAnOffer", func(t *testing.T) {
		t.Parallel()
		b, olga, _, id := offerWorld(t)
		choose(b, t, olga, "mine")
		text := choose(b, t, olga, "b:"+id)
		require.Contains(t, text, "offered to you but not booked yet")
		var ids []string
		for _, r := range olga.last {
			for _, c := range r.Choices {
				ids = append(ids, c.ID)
			}
		}
		require.Contains(t, ids, "wy:"+id)
		require.NotContains(t, ids, "mv:"+id)
		require.NotContains(t, ids, "cx:"+id)
		require.Contains(t, choose(b, t, olga, "cx:"+id), "offered to you but not booked yet")
		choose(b, t, olga, "mv:"+id)
		require.Equal(t, core.StatusHeld, b.status(t, id), "an offer is not cancelled or moved as a booking")
	})
}
