package dialog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
)

// TestNoSalonPhoneToCall: a salon file without a phone: the messages that send the
// client to the salon's phone (a change inside the cutoff, "delete my data"
// then, a booking found by its reference) say so without one, never "call
// the salon: ." (as the "I'm late" answer does).
func TestNoSalonPhoneToCall(t *testing.T) {
	t.Parallel()
	b := newBundleWith(t, func(s *postgres.SalonSetup) {
		s.Salon.Phone = ""
		s.Salon.Country = "DE"
		s.Salon.PrivacyURL = "https://studio-anna.example/privacy"
	})
	olga, laptop := &conv{name: "olga", hint: "en"}, &conv{name: "laptop", hint: "en"}
	out := b.run(t, []*conv{olga}, []string{
		"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #1", "pick: 12:00",
		"text: Olga", "text: +49 151 23456789", "pick: Confirm",
		"pick: My bookings", "pick: #1", "pick: Cancel booking", // inside the cutoff
		"text: delete my data", "pick: Yes, delete", // refused: that booking is too close to cancel
	})
	require.Contains(t, out, "It's too close to the appointment to change it here. Please get in touch with the salon directly.")
	require.Contains(t, out, "is too close to cancel here, so nothing was deleted. Please ask again after the appointment.")

	var ref string
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT reference FROM booking_refs WHERE salon_id = $1`, b.salonID).Scan(&ref))
	lookup := b.run(t, []*conv{laptop}, []string{"text: hi", "text: " + ref + " +49 151 23456789"})
	require.Contains(t, lookup, "To move or cancel it, use the chat you booked in.")
	out += lookup

	for _, bad := range []string{"call the salon:", "call the salon at", "call ,", "salon: .", "<no value>"} {
		require.NotContains(t, out, bad)
	}

	ivan, phone := &conv{name: "ivan", hint: "ru"}, &conv{name: "phone", hint: "ru"}
	out = b.run(t, []*conv{ivan}, []string{
		"text: привет", "pick: Записаться", "pick: Маникюр", "pick: #1", "pick: 10:00",
		"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить",
		"pick: Мои записи", "pick: #1", "pick: Отменить запись",
		"text: удалить мои данные", "pick: #1",
	})
	require.Contains(t, out, "здесь запись уже не изменить. Пожалуйста, свяжитесь с салоном напрямую.")
	require.Contains(t, out, "поэтому ничего не удалено. Напишите «удалить мои данные» ещё раз после визита.")
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT reference FROM booking_refs r JOIN bookings b ON b.booking_id = r.booking_id
		WHERE r.salon_id = $1 AND b.source = 'test:ivan'`, b.salonID).Scan(&ref))
	lookup = b.run(t, []*conv{phone}, []string{"text: привет", "text: " + ref + ", +7 912 345 67 89"})
	require.Contains(t, lookup, "Перенести или отменить её можно в том чате, где вы записывались.")
	out += lookup
	for _, bad := range []string{"позвоните в салон:", "Позвоните, пожалуйста, в салон", "салона: .", "<no value>"} {
		require.NotContains(t, out, bad)
	}
}
