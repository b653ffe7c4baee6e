package postgres_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/adreport"
	"salonbook/src/core/dialog"
)

// adEvent books a confirmed haircut for source at day d and records its
// Schedule as pending.
func adEvent(t *testing.T, b *bundle, source string, d int) (*core.Booking, string) {
	t.Helper()
	r := b.req("anna", b.at(d, 10, 0), source)
	r.Source = source
	held, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	bk, err := b.svc.Confirm(ctx, b.salonID, held.ID)
	require.NoError(t, err)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	_, err = pgtest.Pool(t).Exec(ctx, `INSERT INTO meta_events (event_id, salon_id, booking_id, name, occurred_at) VALUES ($1, $2, $3, 'Schedule', $4)`,
		id, b.salonID, bk.ID, b.clock.Now())
	require.NoError(t, err)
	return bk, id
}

func adState(t *testing.T, id string) string {
	t.Helper()
	var s string
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT state FROM meta_events WHERE event_id = $1`, id).Scan(&s))
	return s
}

// An ad event belongs to its booking (migration 0031): none for a booking
// that does not exist, and it goes with its booking.
func TestAdEventsBelongToTheirBooking(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	_, err := pool.Exec(ctx, `INSERT INTO meta_events (event_id, salon_id, booking_id, name, occurred_at)
		VALUES ('x-schedule', $1, gen_random_uuid(), 'Schedule', now())`, b.salonID)
	require.ErrorContains(t, err, "meta_events_booking_fk")
	bk, id := adEvent(t, b, "whatsapp:4915100000020", 2)
	require.Equal(t, adreport.StatePending, adState(t, id))
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `DELETE FROM bookings WHERE booking_id = $1`, bk.ID)
	require.NoError(t, err)
	var n int
	require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM meta_events WHERE event_id = $1`, id).Scan(&n))
	require.Zero(t, n, "gone with its booking")
}

// An erase drops the pending events of the erased client's bookings made in
// other chats too (client_id = ANY), not only the chat's.
func TestEraseDropsTheClientsEventsOfOtherChats(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	bk, id := adEvent(t, b, "whatsapp:4915100000021", 2)
	b.clock.T = b.at(2, 12, 0) // after the visit
	done, err := postgres.NewPrivacy(pgtest.Pool(t)).Erase(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "921"},
		bk.ClientID, b.clock.Now())
	require.NoError(t, err)
	require.Equal(t, 1, done.Clients)
	require.Equal(t, adreport.StateDropped, adState(t, id))
}

// Apply with only policy.ads_phone_consent changed applies it (a change
// counted), and the event's facts read it.
func TestApplyChangesOnlyTheAdsPhoneConsent(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	_, id := adEvent(t, b, "whatsapp:4915100000022", 2)
	ads := postgres.NewAdReports(pgtest.Pool(t))
	f, err := ads.Facts(ctx, b.salonID, id)
	require.NoError(t, err)
	require.False(t, f.Consent)
	setup := b.setup
	setup.Salon.Policy.AdsPhoneConsent = true
	changed, err := b.store.Apply(ctx, setup)
	require.NoError(t, err)
	require.Positive(t, changed)
	f, err = ads.Facts(ctx, b.salonID, id)
	require.NoError(t, err)
	require.True(t, f.Consent)
	changed, err = b.store.Apply(ctx, setup)
	require.NoError(t, err)
	require.Zero(t, changed, "applied again: nothing changes")
}
