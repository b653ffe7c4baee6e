package postgres_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

// TestEraseReleasesAnOfferMadeMeanwhile: the wait-list matcher may offer the
// chat a time while it erases. Erase deletes the chat's wait-list entries
// first, then releases the chat's live holds, in its transaction: an offer
// whose transaction committed while the erase waited for it (its entry,
// locked by the offer's row) is released too, not left held for a nameless
// client. The offer's transaction is played here by hand and held open until
// the erase waits on it.
func TestEraseReleasesAnOfferMadeMeanwhile(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "8801"}
	wl := postgres.NewWaitlist(pool)
	require.NoError(t, wl.Join(ctx, dialog.WaitlistEntry{Key: key, ServiceID: "haircut", MasterID: "anna",
		Day: core.Date{Year: 2027, Month: 3, Day: 3}, Client: core.Client{Name: "Olga", Phone: "+4915123456789"}, Lang: "en"}))
	var entry, client int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT id, client_id FROM waitlist WHERE salon_id = $1`, b.salonID).Scan(&entry, &client))

	now := b.clock.T
	offer, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = offer.Rollback(context.Background()) }()
	var id string
	start := b.at(3, 10, 0)
	require.NoError(t, offer.QueryRow(ctx, `
		INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
		                      hold_expires_at, price_minor, currency, idempotency_key, source)
		VALUES ($1, 'anna', 'haircut', $2, $3::timestamptz, $3::timestamptz + interval '45 minutes',
		        tstzrange($3::timestamptz, $3::timestamptz + interval '1 hour'), 'held', $4, 3500, 'EUR', $5, $6)
		RETURNING booking_id::text`,
		b.salonID, client, start, now.Add(15*time.Minute), booking.OfferKeyPrefix+strconv.FormatInt(entry, 10)+":1", "telegram:8801").Scan(&id))
	_, err = offer.Exec(ctx, `INSERT INTO waitlist_offers (booking_id, salon_id, entry_id, starts_at, ends_at)
		VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz + interval '45 minutes')`, id, b.salonID, entry, start)
	require.NoError(t, err)
	var pid int
	require.NoError(t, offer.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))

	done := make(chan error, 1)
	go func() {
		_, err := postgres.NewPrivacy(pool).Erase(ctx, key, 0, now)
		done <- err
	}()
	require.Eventually(t, func() bool {
		var waiting int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&waiting))
		return waiting > 0
	}, 10*time.Second, 10*time.Millisecond, "the erase waits on the offer's transaction")
	require.NoError(t, offer.Commit(ctx))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the erase did not finish")
	}

	var status, source string
	require.NoError(t, pool.QueryRow(ctx, `SELECT status, source FROM bookings WHERE booking_id = $1`, id).Scan(&status, &source))
	require.Equal(t, []string{"cancelled", "erased"}, []string{status, source}, "the offer made meanwhile is released")
	var released int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM booking_changes WHERE booking_id = $1 AND action = 'released'`, id).Scan(&released))
	require.Equal(t, 1, released)
	var entries int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, b.salonID).Scan(&entries))
	require.Zero(t, entries)
}

// TestEraseStopsOnABookingMadeMeanwhile: a confirmed booking of a client to
// erase that the caller did not cancel (another chat of the verified number
// booked after the dialog listed what to cancel) stops the erase: nothing
// changes, and the caller is told (privacy.live) to list again.
func TestEraseStopsOnABookingMadeMeanwhile(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "8802"}
	vera := core.Client{Name: "Vera", Phone: "+49 151 77777702", Verified: true}
	r := b.req("anna", b.at(3, 10, 0), "tg")
	r.Source, r.Client, r.Confirm = "telegram:8802", vera, true
	mine, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	r = b.req("boris", b.at(4, 10, 0), "wa")
	r.Source, r.Client, r.Confirm = "whatsapp:4915177777702", vera, true
	other, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	require.Equal(t, mine.ClientID, other.ClientID)

	privacy := postgres.NewPrivacy(pool)
	list, err := privacy.Upcoming(ctx, key, 0, b.clock.T)
	require.NoError(t, err)
	require.Equal(t, []string{mine.ID, other.ID}, []string{list[0].ID, list[1].ID}, "the number's bookings from every chat")
	_, err = b.svc.Cancel(ctx, b.salonID, mine.ID) // the dialog cancelled only this chat's
	require.NoError(t, err)
	_, err = privacy.Erase(ctx, key, 0, b.clock.T)
	require.Equal(t, "privacy.live", core.ErrorKey(err), "%v", err)
	var name string
	require.NoError(t, pool.QueryRow(ctx, `SELECT name FROM clients WHERE client_id = $1`, mine.ClientID).Scan(&name))
	require.Equal(t, "Vera", name, "nothing erased")
	_, err = b.svc.Cancel(ctx, b.salonID, other.ID)
	require.NoError(t, err)
	done, err := privacy.Erase(ctx, key, 0, b.clock.T)
	require.NoError(t, err)
	require.Equal(t, dialog.Erased{Clients: 1}, done)
}

// TestAnErasedClientIsNotFoundAgain: a booking that looked its client up just
// before an erase of that client committed does not go on for the nameless
// row: the lookup locks the row, and once the erase commits the client is no
// longer found by its identity; a new one is made.
func TestAnErasedClientIsNotFoundAgain(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	r := b.req("anna", b.at(3, 10, 0), "first")
	r.Source, r.Client = "telegram:8803", core.Client{Name: "Olga", Phone: "+49 151 77777703", Verified: true}
	first, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	_, err = b.svc.Release(ctx, b.salonID, first.ID)
	require.NoError(t, err)

	erase, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = erase.Rollback(context.Background()) }()
	_, err = erase.Exec(ctx, `SELECT 1 FROM clients WHERE client_id = $1 FOR UPDATE`, first.ClientID) // as Erase locks it
	require.NoError(t, err)
	var pid int
	require.NoError(t, erase.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	booked := make(chan *core.Booking, 1)
	go func() {
		other := b.req("boris", b.at(4, 10, 0), "second")
		other.Source, other.Client = "whatsapp:4915177777703", r.Client
		bk, err := b.svc.Book(ctx, other)
		if err != nil {
			t.Error(err)
		}
		booked <- bk
	}()
	require.Eventually(t, func() bool {
		var waiting int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&waiting))
		return waiting > 0
	}, 10*time.Second, 10*time.Millisecond, "the booking waits on the erase")
	_, err = erase.Exec(ctx, `UPDATE clients SET name = '', phone = '', identity = 'erased:' || client_id, erased_at = now() WHERE client_id = $1`,
		first.ClientID)
	require.NoError(t, err)
	require.NoError(t, erase.Commit(ctx))
	bk := <-booked
	require.NotNil(t, bk)
	require.NotEqual(t, first.ClientID, bk.ClientID, "a new client, not the erased row")
}

// TestWaitlistJoinSkipsAnErasedClient: a chat remembers its client's id; when
// that client was erased from another chat of the same verified number, a
// wait-list entry does not attach to the nameless row (its offers would carry
// no name) but to the client found by identity. And a chat with a client of
// its own keeps it when its number is verified later, as its bookings do.
func TestWaitlistJoinSkipsAnErasedClient(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	wl := postgres.NewWaitlist(pool)
	vera := core.Client{Name: "Vera", Phone: "+4915177777704", Verified: true}
	r := b.req("anna", b.at(2, 10, 0), "v")
	r.Source, r.Client = "telegram:8804", vera
	held, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	_, err = b.svc.Release(ctx, b.salonID, held.ID)
	require.NoError(t, err)
	_, err = postgres.NewPrivacy(pool).Erase(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "8804"}, 0, b.clock.T)
	require.NoError(t, err)

	other := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915177777704"}
	require.NoError(t, wl.Join(ctx, dialog.WaitlistEntry{Key: other, ServiceID: "haircut", MasterID: "anna",
		Day: core.Date{Year: 2027, Month: 3, Day: 3}, ClientID: held.ClientID, Client: vera, Lang: "en"}))
	var name string
	require.NoError(t, pool.QueryRow(ctx, `SELECT c.name FROM waitlist w JOIN clients c USING (client_id) WHERE w.salon_id = $1`,
		b.salonID).Scan(&name))
	require.Equal(t, "Vera", name, "a live client, not the erased row")

	typed := dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "8805"}
	olga := core.Client{Name: "Olga", Phone: "+4915177777705"}
	r = b.req("anna", b.at(4, 10, 0), "o")
	r.Source, r.Client = "telegram:8805", olga
	mine, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	olga.Verified = true
	require.NoError(t, wl.Join(ctx, dialog.WaitlistEntry{Key: typed, ServiceID: "haircut", MasterID: "anna",
		Day: core.Date{Year: 2027, Month: 3, Day: 5}, Client: olga, Lang: "en"}))
	var client int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT client_id FROM waitlist WHERE salon_id = $1 AND chat_id = '8805'`, b.salonID).Scan(&client))
	require.Equal(t, mine.ClientID, client, "the chat's own client")
}

// TestStoredClientsBookUnderOlderRules: a wait-list entry's client stored
// before names and numbers were checked as now (a name with a link in it, a
// number without its country code in a salon with no country) still gets
// its offer: stored names and numbers are not checked again by newer rules.
// Before, the offer's booking failed with client.invalid_name every pass.
func TestStoredClientsBookUnderOlderRules(t *testing.T) {
	t.Parallel()
	w := newWLWorld(t)
	require.NoError(t, w.wl.Join(ctx, dialog.WaitlistEntry{
		Key:       dialog.ChatKey{SalonID: w.salonID, Channel: "telegram", ChatID: "91"},
		ServiceID: "manicure", MasterID: "anna", Day: core.Date{Year: 2027, Month: 3, Day: 2},
		Client: core.Client{Name: "Olga (olga.de)", Phone: "015123456789"}, Lang: "en",
	}))
	_, err := w.svc.Cancel(ctx, w.salonID, w.fills[10])
	require.NoError(t, err)
	require.Equal(t, 1, w.pass(t))
	offer, ok := w.offers(t)["telegram:91"]
	require.True(t, ok)
	var name, phone string
	require.NoError(t, w.pool.QueryRow(ctx, `SELECT name, phone FROM clients WHERE client_id = $1`, offer.ClientID).Scan(&name, &phone))
	require.Equal(t, []string{"Olga (olga.de)", "015123456789"}, []string{name, phone})

	// A name or number given now is checked in full.
	r := w.req("boris", w.at(3, 10, 0), "api-new")
	r.Client, r.Source = core.Client{Name: "Olga (olga.de)", Phone: "+49 151 23456789"}, booking.OwnerSource
	_, err = w.svc.Book(ctx, r)
	require.Equal(t, "client.invalid_name", core.ErrorKey(err))
}

// failingReads is the real store whose reads outside a transaction (Auto:
// the catalog) fail as a busy database does.
type failingReads struct{ *postgres.Store }

func (failingReads) Auto(context.Context, func(booking.Tx) error) error {
	return core.Errorf(core.EUnavailable, "error.unavailable", "test: the database is busy")
}

// TestOwnerBookingReportsCatalogFailures: the owner's booking goes on without
// the catalog only when the salon is not found (its transaction says so);
// a catalog that cannot be read for another reason is the answer
// (EUnavailable here), not swallowed into a booking made without the salon's
// country.
func TestOwnerBookingReportsCatalogFailures(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	svc := booking.New(failingReads{b.store}, b.clock)
	r := b.req("anna", b.at(3, 10, 0), "owner")
	r.Source, r.Confirm = booking.OwnerSource, true
	_, err := svc.Book(ctx, r)
	require.Equal(t, core.EUnavailable, core.ErrorCode(err), "%v", err)
	r.SalonID = "no-such-salon"
	_, err = booking.New(b.store, b.clock).Book(ctx, r)
	require.Equal(t, "salon.not_found", core.ErrorKey(err), "%v", err)
}
