package desk_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/web/desk"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// TestDeskShowsTheDeposit: a booking's page says its deposit and where it
// stands: awaiting payment, then paid (counted toward the price on arrival),
// kept on a no-show.
func TestDeskShowsTheDeposit(t *testing.T) {
	t.Parallel()
	b := newBundle(t, func(s *postgres.SalonSetup, _ *desk.Config) {
		s.Services = slices.Clone(s.Services)
		s.Salon.Policy.DepositWhen = core.DepositAlways
		s.Services[0].Deposit = core.Deposit{Minor: 1000}
	})
	held, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
		Start: berlin(2027, 3, 1, 10, 0), Client: core.Client{Name: "Olga Chat", Phone: "+49 151 23456789"},
		IdempotencyKey: "tg:1", Source: "telegram:42"})
	require.NoError(t, err)
	_, err = b.bookings.Confirm(ctx, b.salonID, held.ID)
	require.NoError(t, err)
	br := b.browser(t)
	br.login("olga")
	page := br.get("/admin/booking/" + held.ID)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "awaiting the deposit")
	require.Contains(t, page.body, `<dd class="deposit">€10: awaiting payment</dd>`)

	_, err = b.bookings.Paid(ctx, b.salonID, held.ID, booking.Payment{Provider: "telegram", ChargeID: b.salonID + "-1",
		Amount: core.Money{Minor: 1000, Currency: "EUR"}})
	require.NoError(t, err)
	require.Contains(t, br.get("/admin/booking/"+held.ID).body, `<dd class="deposit">€10: paid; counts toward the price</dd>`)

	b.clock.T = b.clock.T.Add(3 * time.Hour) // 11:00: it has started
	_, err = b.bookings.Mark(ctx, b.salonID, held.ID, core.NoShow)
	require.NoError(t, err)
	br = b.browser(t) // the session idled out meanwhile
	br.login("olga")
	require.Contains(t, br.get("/admin/booking/"+held.ID).body, `<dd class="deposit">€10: paid, kept (no-show)</dd>`)
}
