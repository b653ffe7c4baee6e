package dialog_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

// TestEraseCancelsTheNumbersOtherChats: a number the channel vouches for is
// one client across chats. "Delete my data" in one of them erases that
// client, so the booking the other chat made for it is cancelled first too
// (and counted in the question), not left confirmed for a nameless client.
// Then the conversation that erased is gone, its events with it.
func TestEraseCancelsTheNumbersOtherChats(t *testing.T) {
	t.Parallel()
	b := privateBundle(t)
	tg := &conv{name: "tg-vera", hint: "en"}
	wa := &conv{name: "wa-vera", hint: "en"}
	b.run(t, []*conv{tg, wa}, []string{
		"tg-vera text: hi", "tg-vera pick: #1", "tg-vera pick: #1", "tg-vera pick: #2", "tg-vera pick: #3", "tg-vera pick: #2",
		"tg-vera own: Vera, +49 151 77777777", "tg-vera pick: #1",
		"wa-vera text: hi", "wa-vera pick: #1", "wa-vera pick: #1", "wa-vera pick: #2", "wa-vera pick: #4", "wa-vera pick: #2",
		"wa-vera own: Vera, +49 151 77777777", "wa-vera pick: #1",
	})
	pool := pgtest.Pool(t)
	var clients int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT client_id) FROM bookings WHERE salon_id = $1 AND status = 'confirmed'`,
		b.salonID).Scan(&clients))
	require.Equal(t, 1, clients, "one verified number, one client")
	require.Equal(t, 2, b.live(t))

	out := b.run(t, []*conv{tg}, []string{"text: delete my data"})
	require.Contains(t, out, "Your 2 upcoming bookings will be cancelled.")
	yes := b.send(t, tg, dialog.Inbound{Kind: dialog.KindChoice, Choice: pick(t, tg, "Yes, delete")})
	require.True(t, yes[0].Forget, "the step says it erased: the channel blanks the update that asked")
	require.Contains(t, yes[0].Text, "Done: your name, phone number and this conversation are erased.")
	require.NotContains(t, yes[0].Text, "salon's own record")
	require.Zero(t, b.live(t), "the other chat's booking of the number is cancelled too")
	var named int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM clients WHERE salon_id = $1 AND (name <> '' OR phone <> '')`,
		b.salonID).Scan(&named))
	require.Zero(t, named)
	var convs, events int
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM conversations WHERE salon_id = $1 AND chat_id = 'tg-vera'),
		(SELECT count(*) FROM dialog_events WHERE salon_id = $1 AND chat_id = 'tg-vera')`, b.salonID).Scan(&convs, &events))
	require.Equal(t, []int{0, 0}, []int{convs, events}, "the conversation is gone, the erasing step's event with it")
}

// TestEraseSaysWhatTheSalonKeeps: a client the salon keyed by phone (its
// API's) that the chat also booked for before clients were found by
// identity is the salon's record, not erased; the client is told so and
// given the salon's phone, instead of hearing that everything is gone.
func TestEraseSaysWhatTheSalonKeeps(t *testing.T) {
	t.Parallel()
	b := privateBundle(t)
	owner, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
		Start: time.Date(2027, 3, 5, 10, 0, 0, 0, pgtest.Berlin), Client: core.Client{Name: "Olga Salon", Phone: "+49 151 23456789"},
		IdempotencyKey: "api-1", Source: booking.OwnerSource, Confirm: true})
	require.NoError(t, err)
	pool := pgtest.Pool(t)
	// A visit the chat booked for that record before migration 0025, done.
	_, err = pool.Exec(ctx, `
		INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
		                      price_minor, currency, idempotency_key, source)
		VALUES ($1, 'anna', 'haircut', $2, '2027-02-20 09:00Z', '2027-02-20 09:45Z',
		        tstzrange('2027-02-20 09:00Z', '2027-02-20 10:00Z'), 'confirmed', 3500, 'EUR', 'old', 'test:olga')`,
		b.salonID, owner.ClientID)
	require.NoError(t, err)
	olga := &conv{name: "olga", hint: "en"}
	out := b.run(t, []*conv{olga}, []string{"text: hi", "text: delete my data", "pick: #1"})
	require.Contains(t, out, "Done: your name, phone number and this conversation are erased. "+
		"The salon's own record of your number (appointments the salon booked for you) stays with the salon: "+
		"to have it removed too, call +49 30 1234567.")
	var name string
	require.NoError(t, pool.QueryRow(ctx, `SELECT name FROM clients WHERE client_id = $1`, owner.ClientID).Scan(&name))
	require.Equal(t, "Olga Salon", name, "the salon's record stays")
}
