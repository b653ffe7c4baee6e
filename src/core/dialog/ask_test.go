package dialog_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/dialog"
)

// TestCancelYesIsChecked: Cancel booking only asks; the Yes it offers is bound
// to that booking and its start, and is checked again when pressed: another
// chat's Yes, one without a start, one naming an old start and one pressed
// inside the cutoff cancel nothing; the real one, in time, cancels.
func TestCancelYesIsChecked(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga, mallory := &conv{name: "olga", hint: "en"}, &conv{name: "mallory", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 11111119", "pick: Confirm", "pick: My bookings", "pick: #1", "pick: Cancel booking"})
	r := olga.last[0]
	require.True(t, strings.HasPrefix(r.Text, "Cancel Haircut with Anna on Wednesday, 3 March at 10:00?"), r.Text)
	require.Contains(t, r.Text, "until 12 hours before it starts")
	yes := r.Choices[0].ID
	id, unix, ok := strings.Cut(strings.TrimPrefix(yes, "cy:"), ":")
	require.True(t, ok, yes)
	status := func() core.BookingStatus {
		got, err := b.bookings.Get(ctx, b.salonID, id)
		require.NoError(t, err)
		return got.Status
	}
	require.Equal(t, core.StatusConfirmed, status(), "asking changes nothing")

	b.run(t, []*conv{mallory}, []string{"text: hi"})
	b.send(t, mallory, dialog.Inbound{Kind: dialog.KindChoice, Choice: yes})
	n, _ := strconv.ParseInt(unix, 10, 64)
	for _, forged := range []string{"cy:" + id, "cy:" + id + ":" + strconv.FormatInt(n+3600, 10)} {
		b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: forged})
	}
	require.Equal(t, core.StatusConfirmed, status(), "a forged Yes cancels nothing")

	saved := b.clock.T
	b.clock.T = time.Date(2027, 3, 3, 0, 0, 0, 0, pgtest.Berlin) // 10 h ahead: inside the 12 h cutoff
	got := b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: yes})
	require.Contains(t, got[0].Text, "too close")
	require.Equal(t, core.StatusConfirmed, status(), "a Yes pressed inside the cutoff cancels nothing")

	b.clock.T = saved
	got = b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: yes})
	require.Contains(t, got[0].Text, "is cancelled")
	require.Equal(t, core.StatusCancelled, status())
}

// TestTypedYesIsBoundToTheAskedStart: a booking moved (at the desk) while the
// question is open is not cancelled by a typed yes: the yes names the start asked about.
func TestTypedYesIsBoundToTheAskedStart(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 11111119", "pick: Confirm", "pick: My bookings", "pick: #1", "pick: Cancel booking"})
	yes := olga.last[0].Choices[0].ID
	id, _, ok := strings.Cut(strings.TrimPrefix(yes, "cy:"), ":")
	require.True(t, ok, yes)
	moved := time.Date(2027, 3, 3, 11, 0, 0, 0, pgtest.Berlin)
	_, err := b.bookings.Reschedule(ctx, b.salonID, id, moved)
	require.NoError(t, err)
	got := b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "yes"})
	bk, err := b.bookings.Get(ctx, b.salonID, id)
	require.NoError(t, err)
	require.Equal(t, core.StatusConfirmed, bk.Status, "the moved booking stands: %v", got)
	require.True(t, bk.Start.Equal(moved))
}

// TestNoKeepsTheBooking: No, typed or pressed, keeps the booking and says so.
func TestNoKeepsTheBooking(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	ivan := &conv{name: "ivan", hint: "ru"}
	b.run(t, []*conv{ivan}, []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #3", "pick: 10:00",
		"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить", "pick: Мои записи", "pick: #1", "pick: Отменить запись"})
	require.True(t, strings.HasPrefix(ivan.last[0].Text, "Отменить запись на среду, 3 марта, в 10:00 — Стрижка, мастер Анна?"), ivan.last[0].Text)
	r := b.send(t, ivan, dialog.Inbound{Kind: dialog.KindText, Text: "нет"})
	require.True(t, strings.HasPrefix(r[0].Text, "Хорошо, запись на среду, 3 марта, в 10:00, остаётся в силе."), r[0].Text)
	require.Equal(t, 1, b.live(t))
}
