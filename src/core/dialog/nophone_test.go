package dialog_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
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

// noPhone is a salon file without a phone (as privateBundle's otherwise).
func noPhone(s *postgres.SalonSetup) {
	s.Salon.Phone = ""
	s.Salon.Country = "DE"
	s.Salon.PrivacyURL = "https://studio-anna.example/privacy"
}

// TestNoSalonPhoneMessages: every message that would send the client to the
// salon's phone has its form without one (phoneMsg): the cancellation rule
// at booking, the cap on bookings, a payment that matches nothing, too many
// lookups, what the salon keeps after "delete my data".
func TestNoSalonPhoneMessages(t *testing.T) {
	t.Parallel()
	t.Run("RuleAndTooMany", func(t *testing.T) {
		t.Parallel()
		b := newBundleWith(t, func(s *postgres.SalonSetup) { noPhone(s); s.Salon.Policy.MaxUpcoming = 1 })
		olga := &conv{name: "olga", hint: "en"}
		out := b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #2", "pick: 10:00",
			"text: Olga", "text: +49 151 23456789", "pick: Confirm",
			"pick: Book", "pick: Haircut", "pick: Anna", "pick: #3", "pick: 10:00"})
		require.Contains(t, out, "You can cancel or move a booking here until 12 hours before it starts; "+
			"after that, please get in touch with the salon directly.")
		require.Contains(t, out, "You already have as many upcoming bookings as can be made here. "+
			"To book another, cancel one first under My bookings.")
		require.NotContains(t, out, "call the salon")

		ivan := &conv{name: "ivan", hint: "ru"}
		out = b.run(t, []*conv{ivan}, []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #2", "pick: 11:00",
			"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить",
			"pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #3", "pick: 11:00"})
		require.Contains(t, out, "позже — только связавшись с салоном напрямую.")
		require.Contains(t, out, "сначала отмените одну из них в разделе «Мои записи».")
		require.NotContains(t, out, "по телефону салона")
		require.NotContains(t, out, "позвоните в салон")
	})
	t.Run("PaymentUnknown", func(t *testing.T) {
		t.Parallel()
		b := newBundleWith(t, noPhone)
		olga := &conv{name: "olga", hint: "en"}
		b.run(t, []*conv{olga}, []string{"text: hi"})
		r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindPaid})
		require.Contains(t, r[0].Text, "A payment came that I can't match to a booking of yours. Please get in touch with the salon about it.")
	})
	t.Run("DepositUnavailable", func(t *testing.T) {
		t.Parallel()
		b := newBundleWith(t, func(s *postgres.SalonSetup) {
			noPhone(s)
			s.Salon.Policy.DepositWhen = core.DepositAlways
			s.Services[0].Deposit = core.Deposit{Minor: 1000}
		})
		b.bookings.PayChats(func(string) bool { return false })
		olga := &conv{name: "olga", hint: "en"}
		out := b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #2", "pick: 10:00",
			"text: Olga", "text: +49 151 23456789", "pick: Confirm"})
		require.Contains(t, out, "This booking needs a deposit, which can't be paid in this chat. Please get in touch with the salon to book it.")
	})
	t.Run("LookupThrottled", func(t *testing.T) {
		t.Parallel()
		b := newBundleWith(t, noPhone)
		laptop := &conv{name: "laptop", hint: "en"}
		script := []string{"text: hi"}
		for range 6 {
			script = append(script, "text: ACDEFH +49 151 23456789")
		}
		b.run(t, []*conv{laptop}, script)
		require.Contains(t, lastText(laptop), "That's too many tries for now. Please try again in an hour.")
		require.NotContains(t, lastText(laptop), "call")
	})
	t.Run("EraseKept", func(t *testing.T) {
		t.Parallel()
		b := newBundleWith(t, noPhone)
		b.chat.Transcribe("test")
		owner, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
			Start: time.Date(2027, 3, 5, 10, 0, 0, 0, pgtest.Berlin), Client: core.Client{Name: "Olga Salon", Phone: "+49 151 23456789"},
			IdempotencyKey: "api-1", Source: booking.OwnerSource, Confirm: true})
		require.NoError(t, err)
		_, err = pgtest.Pool(t).Exec(ctx, `
			INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
			                      price_minor, currency, idempotency_key, source)
			VALUES ($1, 'anna', 'haircut', $2, '2027-02-20 09:00Z', '2027-02-20 09:45Z',
			        tstzrange('2027-02-20 09:00Z', '2027-02-20 10:00Z'), 'confirmed', 3500, 'EUR', 'old', 'test:olga')`,
			b.salonID, owner.ClientID)
		require.NoError(t, err)
		olga := &conv{name: "olga", hint: "en"}
		out := b.run(t, []*conv{olga}, []string{"text: hi", "text: delete my data", "pick: #1"})
		require.Contains(t, out, "stays with the salon: to have it removed too, ask the salon.")
	})
}
