package dialog_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
)

// TestReminderReply: the reminder names the salon, service, master and time in
// the salon's zone (not UTC), in the conversation's language, falls back to the
// salon's first language, and carries the three buttons with the booking's id.
func TestReminderReply(t *testing.T) {
	t.Parallel()
	catalog, err := i18n.Load()
	require.NoError(t, err)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	salon := &core.Salon{Name: "Studio Anna", Address: "Torstraße 1", Timezone: berlin, Locales: []string{"en", "ru"}}
	r := dialog.Reminder{BookingID: "b1", Start: time.Date(2027, 3, 28, 23, 30, 0, 0, time.UTC),
		Service: map[string]string{"en": "Haircut", "ru": "Стрижка"}, Master: "Anna", MasterNames: map[string]string{"en": "Anna", "ru": "Анна"}}

	for _, c := range []struct {
		lang, want, button string
	}{
		{"en", "Haircut with Anna at Studio Anna", "I'll be there"},
		{"ru", "Напоминаем о записи в Studio Anna: Стрижка, мастер Анна", "Приду"},
		{"de", "Haircut with Anna at Studio Anna", "I'll be there"}, // not a salon language
	} {
		r.Lang = c.lang
		got := dialog.ReminderReply(catalog, salon, r)
		require.Contains(t, got.Text, c.want)
		require.Contains(t, got.Text, "01:30", "23:30 UTC is 01:30 in Berlin the next day (summer time)")
		require.Contains(t, got.Text, "Torstraße 1")
		require.Len(t, got.Choices, 3)
		require.Equal(t, c.button, got.Choices[0].Label)
		for _, ch := range got.Choices {
			require.Contains(t, ch.ID, "b1")
			require.LessOrEqual(t, len([]rune(ch.Label)), dialog.MaxChoiceLabelRune)
		}
	}
	salon.Address = ""
	require.NotContains(t, dialog.ReminderReply(catalog, salon, r).Text, "\n", "no address line without an address")
}

// TestOfferReplyMinutesRounded: the offer's message is written a moment after
// the hold's own now, so the hold measures a hair under its length from there;
// the text still says the whole minutes (it said 14 for a 15-minute hold).
func TestOfferReplyMinutesRounded(t *testing.T) {
	t.Parallel()
	catalog, err := i18n.Load()
	require.NoError(t, err)
	salon := &core.Salon{Name: "Studio Anna", Timezone: time.UTC, Locales: []string{"en"}}
	expires := time.Date(2027, 3, 2, 9, 15, 0, 0, time.UTC)
	for _, c := range []struct {
		made time.Time
		want string
	}{
		{expires.Add(-15*time.Minute + 7*time.Millisecond), "for 15 minutes"},
		{expires.Add(-10*time.Minute + 40*time.Millisecond), "for 10 minutes"},
		{expires.Add(-15 * time.Minute), "for 15 minutes"},
	} {
		got := dialog.OfferReply(catalog, salon, dialog.Offer{BookingID: "b1", Start: expires.Add(time.Hour),
			Service: map[string]string{"en": "Haircut"}, Master: "Anna", Made: c.made, Expires: expires})
		require.Contains(t, got.Text, c.want)
	}
}
