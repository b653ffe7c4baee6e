package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/dialog"
)

// TestTwoChatsOnePhoneEachBook: a phone typed in a chat is contact
// information. Two chats typing one number are two clients: both book, at the
// same time too (before, the number was the client, who could not be in two
// places at once: booking.client_overlap), each in their own name; the
// first's name is not the second's. A verified number (the channel vouches)
// is one client across chats, and the per-client overlap still holds for it.
func TestTwoChatsOnePhoneEachBook(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	const phone = "+49 151 23456789"
	olga := b.req("anna", b.at(2, 10, 0), "olga")
	olga.Source, olga.Client = "web:olga-session-0001", core.Client{Name: "Olga", Phone: phone}
	olga.Confirm = true
	first, err := b.svc.Book(ctx, olga)
	require.NoError(t, err)
	petra := b.req("boris", b.at(2, 10, 0), "petra")
	petra.Source, petra.Client = "whatsapp:4915199999999", core.Client{Name: "Petra", Phone: "0049 151 2345 6789"}
	petra.Confirm = true
	second, err := b.svc.Book(ctx, petra)
	require.NoError(t, err, "the same number, the same time, another person")
	require.NotEqual(t, first.ClientID, second.ClientID)

	pool := pgtest.Pool(t)
	name := func(id int64) (string, string) {
		var n, p string
		require.NoError(t, pool.QueryRow(ctx, `SELECT name, phone FROM clients WHERE client_id = $1`, id).Scan(&n, &p))
		return n, p
	}
	n, p := name(first.ClientID)
	require.Equal(t, []string{"Olga", "+4915123456789"}, []string{n, p})
	n, p = name(second.ClientID)
	require.Equal(t, []string{"Petra", "+4915123456789"}, []string{n, p}, "stored as E.164")

	// The same chat again is the same client, who may correct their name.
	again := b.req("anna", b.at(3, 10, 0), "olga-2")
	again.Source, again.Client = olga.Source, core.Client{Name: "Olga K.", Phone: phone}
	third, err := b.svc.Book(ctx, again)
	require.NoError(t, err)
	require.Equal(t, first.ClientID, third.ClientID)
	n, _ = name(first.ClientID)
	require.Equal(t, "Olga K.", n)

	// Verified: two chats of one number are one client, who is in one place.
	v1 := b.req("anna", b.at(4, 10, 0), "v1")
	v1.Source, v1.Client = "telegram:1", core.Client{Name: "Vera", Phone: "+49 151 77777777", Verified: true}
	_, err = b.svc.Book(ctx, v1)
	require.NoError(t, err)
	v2 := b.req("boris", b.at(4, 12, 0), "v2")
	v2.Start = b.at(4, 10, 0)
	v2.Source, v2.Client = "whatsapp:4915177777777", core.Client{Name: "Vera", Phone: "+4915177777777", Verified: true}
	_, err = b.svc.Book(ctx, v2)
	require.Equal(t, "booking.client_overlap", core.ErrorKey(err), "%v", err)
}

// TestEraseKeepsBookingRows: "delete my data" blanks the chat's clients'
// names and phones, drops its wait-list entries and its id on its bookings,
// blanks its handled inbox payloads, and leaves the booking rows (service,
// master, time, price, status) for the salon's books. Another chat that
// typed the same number keeps its own record.
func TestEraseKeepsBookingRows(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "web", ChatID: "erase-me-0000001"}
	mine := b.req("anna", b.at(2, 10, 0), "mine")
	mine.Source, mine.Client, mine.Confirm = "web:"+key.ChatID, core.Client{Name: "Olga", Phone: "+49 151 23456789"}, true
	bk, err := b.svc.Book(ctx, mine)
	require.NoError(t, err)
	other := b.req("boris", b.at(2, 10, 0), "other")
	other.Source, other.Client, other.Confirm = "web:someone-else-0001", core.Client{Name: "Petra", Phone: "+49 151 23456789"}, true
	theirs, err := b.svc.Book(ctx, other)
	require.NoError(t, err)
	wl := postgres.NewWaitlist(pool)
	require.NoError(t, wl.Join(ctx, dialog.WaitlistEntry{Key: key, ServiceID: "haircut", MasterID: "anna",
		Day: core.Date{Year: 2027, Month: 3, Day: 5}, ClientID: bk.ClientID, Lang: "en"}))
	_, err = pool.Exec(ctx, `INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload, handled_at)
		VALUES ($1, 'web', 'u1', $2, '\x7b7d'::bytea, now())`, b.salonID, key.ChatID)
	require.NoError(t, err)

	now := time.Date(2027, 3, 3, 8, 0, 0, 0, time.UTC) // after the visit: a live one the dialog cancels first
	_, err = postgres.NewPrivacy(pool).Erase(ctx, key, 0, now)
	require.NoError(t, err)

	var name, phone, identity, source, status, service string
	var erased time.Time
	var price int64
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT c.name, c.phone, c.identity, c.erased_at, b.source, b.status, b.service_id, b.price_minor
		FROM bookings b JOIN clients c USING (client_id) WHERE b.booking_id = $1`, bk.ID).
		Scan(&name, &phone, &identity, &erased, &source, &status, &service, &price))
	require.Equal(t, []string{"", "", "erased", "confirmed", "haircut"}, []string{name, phone, source, status, service},
		"the booking row stays; who booked it is gone (the dialog cancels upcoming ones before it erases)")
	require.Equal(t, int64(3500), price)
	require.True(t, erased.Equal(now))
	require.Regexp(t, `^erased:\d+$`, identity)
	var entries int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, b.salonID).Scan(&entries))
	require.Zero(t, entries)
	var payload []byte
	require.NoError(t, pool.QueryRow(ctx, `SELECT payload FROM inbox WHERE salon_id = $1 AND update_id = 'u1'`, b.salonID).Scan(&payload))
	require.Empty(t, payload)

	require.NoError(t, pool.QueryRow(ctx, `SELECT c.name, c.phone FROM clients c WHERE client_id = $1`, theirs.ClientID).Scan(&name, &phone))
	require.Equal(t, []string{"Petra", "+4915123456789"}, []string{name, phone}, "the other chat's record is theirs")
}
