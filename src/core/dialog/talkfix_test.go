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
)

// fillTuesday books Anna's whole Tuesday 2 March (10:00–13:00) with manicures.
func fillTuesday(t *testing.T, b *bundle) {
	t.Helper()
	for i, h := range []int{10, 11, 12} {
		_, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "manicure", MasterID: "anna",
			Start:          time.Date(2027, 3, 2, h, 0, 0, 0, pgtest.Berlin),
			Client:         core.Client{Name: "Busy", Phone: fmt.Sprintf("+4915100000%02d", i)},
			IdempotencyKey: fmt.Sprintf("fill-%d", i), Confirm: true, Source: booking.OwnerSource})
		require.NoError(t, err)
	}
}

func lastText(c *conv) string {
	var s []string
	for _, r := range c.last {
		s = append(s, r.Text)
	}
	return strings.Join(s, "\n")
}

func lastLabels(c *conv) []string {
	var s []string
	for _, r := range c.last {
		for _, ch := range r.Choices {
			s = append(s, ch.Label)
		}
	}
	return s
}

// TestWaitDayChecked: "Notify me" for another day (wd:<day>) joins only the
// day shown, and only a working day that is full; a forged or stale one
// leaves the flow as it was.
func TestWaitDayChecked(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, id string }{
		{"ClosedDay", "wd:2027-03-07"},
		{"MastersWeekdayOff", "wd:2027-03-03"},
		{"MastersDayOff", "wd:2027-03-05"},
		{"Malformed", "wd:2027-13-45"},
		{"BeyondHorizon", "wd:2099-01-01"},
		{"NeverShown", "wd:2027-03-09"},
		{"Past", "wd:2027-02-26"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, annaOffWednesdays)
			fillTuesday(t, b)
			c := &conv{name: "c", hint: "en"}
			b.run(t, []*conv{c}, []string{"text: manicure tomorrow"})
			require.Contains(t, lastText(c), "fully booked tomorrow")
			before := b.state(t, pgtest.Pool(t), "c")
			b.run(t, []*conv{c}, []string{"forge: " + tt.id})
			after := b.state(t, pgtest.Pool(t), "c")
			require.NotContains(t, lastText(c), "let you know")
			require.False(t, after.Join, "not on the way to the wait-list")
			require.Equal(t, before.Day, after.Day)
			require.Equal(t, before.Step, after.Step)
		})
	}
	t.Run("TheDayShown", func(t *testing.T) {
		t.Parallel()
		b := newBundleWith(t, annaOffWednesdays)
		fillTuesday(t, b)
		c := &conv{name: "c", hint: "en"}
		b.run(t, []*conv{c}, []string{"text: manicure tomorrow", "pick: Notify me"})
		st := b.state(t, pgtest.Pool(t), "c")
		require.True(t, st.Join)
		require.Equal(t, "2027-03-02", st.Day)
	})
}

