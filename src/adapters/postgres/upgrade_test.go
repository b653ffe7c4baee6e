package postgres_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/migrations"
	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// identityVersion is migration 0025's number: clients found by identity.
const identityVersion = 25

// beforeIdentity returns a scratch database migrated to the version before
// 0025 holding the test salon (applied at the latest version, then the
// migrations from 0025 on taken down), and a function that migrates it up.
func beforeIdentity(t *testing.T) (pool *pgxpool.Pool, salonID string, up func()) {
	t.Helper()
	u, err := url.Parse(pgtest.URL(t))
	if err != nil || u.Scheme == "" {
		t.Skip("the test database URL is not a URL")
	}
	admin := pgtest.Pool(t)
	name := "salonbook_scratch_" + pgtest.RandomID()
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		require.NoError(t, err)
	})
	u.Path = "/" + name
	mg, err := postgres.NewMigrator(u.String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = mg.Close() })
	require.NoError(t, mg.Up())
	pool, err = postgres.Open(ctx, u.String())
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	salonID = "s" + pgtest.RandomID()
	_, err = postgres.NewStore(pool).Apply(ctx, pgtest.Setup(salonID))
	require.NoError(t, err)

	// Down to the version before 0025: every migration from it on.
	src, err := iofs.New(migrations.FS, ".")
	require.NoError(t, err)
	defer src.Close()
	latest, err := postgres.Latest()
	require.NoError(t, err)
	steps := 0
	for v := latest; v >= identityVersion; steps++ {
		if v, err = src.Prev(v); err != nil {
			break
		}
	}
	require.NoError(t, mg.Down(steps))
	v, dirty, err := mg.Version()
	require.NoError(t, err)
	require.False(t, dirty)
	require.Less(t, v, uint(identityVersion))
	return pool, salonID, func() { t.Helper(); require.NoError(t, mg.Up()) }
}

// TestUpgradeKeepsChatsClients: a chat that booked before migration 0025
// (every client was its phone then) is the same client after it. Chat 42
// booked Tuesday 10:00 with Anna before the upgrade; after it, the same chat
// asking for Tuesday 10:00 with Boris is refused (booking.client_overlap),
// as it was before. Without the data fix every old client became
// owner:<phone>, the chat's booking looked up chat:<source>, made a second
// client and both bookings stood. A client shared by a chat and the owner's
// API, or by two chats, stays owner:<phone>; of two clients of one chat, the
// one that booked last becomes the chat's.
func TestUpgradeKeepsChatsClients(t *testing.T) {
	t.Parallel()
	pool, salonID, up := beforeIdentity(t)
	tue := func(h int) time.Time { return time.Date(2027, 3, 2, h, 0, 0, 0, pgtest.Berlin).UTC() }
	client := func(name, phone string) int64 {
		var id int64
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO clients (salon_id, name, phone) VALUES ($1, $2, $3) RETURNING client_id`,
			salonID, name, phone).Scan(&id))
		return id
	}
	book := func(client int64, master string, start time.Time, source, key string, created time.Time) {
		_, err := pool.Exec(ctx, `
			INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status,
			                      price_minor, currency, idempotency_key, source, created_at)
			VALUES ($1, $2, 'haircut', $3, $4::timestamptz, $4::timestamptz + interval '45 minutes', tstzrange($4::timestamptz, $4::timestamptz + interval '1 hour'),
			        'confirmed', 3500, 'EUR', $5, $6, $7)`,
			salonID, master, client, start, key, source, created)
		require.NoError(t, err)
	}
	old := time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC)
	earlier := client("Olga", "+4915100000041")  // chat 42's first number
	olga := client("Olga", "+4915100000042")     // chat 42's last
	shared := client("Petra", "+4915100000043")  // chat 7 and the owner's API
	twoChats := client("Vera", "+4915100000044") // chats 8 and 9 typed one number
	book(earlier, "chloe", tue(15), "telegram:42", "k1", old)
	book(olga, "anna", tue(10), "telegram:42", "k2", old.Add(time.Hour))
	book(shared, "anna", tue(12), "telegram:7", "k3", old)
	book(shared, "boris", tue(14), booking.OwnerSource, "k4", old)
	book(twoChats, "anna", tue(16), "whatsapp:8", "k5", old)
	book(twoChats, "boris", tue(17), "whatsapp:9", "k6", old)
	up()

	identity := func(id int64) string {
		var s string
		require.NoError(t, pool.QueryRow(ctx, `SELECT identity FROM clients WHERE client_id = $1`, id).Scan(&s))
		return s
	}
	require.Equal(t, "chat:telegram:42", identity(olga))
	require.Equal(t, "owner:+4915100000041", identity(earlier), "one client per chat: the last one")
	require.Equal(t, "owner:+4915100000043", identity(shared))
	require.Equal(t, "owner:+4915100000044", identity(twoChats))

	svc := booking.New(postgres.NewStore(pool), &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)})
	again := booking.BookRequest{SalonID: salonID, ServiceID: "haircut", MasterID: "boris", Start: tue(10),
		Client: core.Client{Name: "Olga", Phone: "+49 151 00000042"}, IdempotencyKey: "after", Source: "telegram:42"}
	_, err := svc.Book(ctx, again)
	require.Equal(t, "booking.client_overlap", core.ErrorKey(err), "%v", err)
	// The owner's bookings of a number still find its client.
	owner := booking.BookRequest{SalonID: salonID, ServiceID: "haircut", MasterID: "chloe", Start: tue(14),
		Client: core.Client{Name: "Petra", Phone: "+4915100000043"}, IdempotencyKey: "owner", Source: booking.OwnerSource}
	_, err = svc.Book(ctx, owner)
	require.Equal(t, "booking.client_overlap", core.ErrorKey(err), "%v", err)
}

// TestChatKeepsItsClientWhenVerifiedLater: a chat that typed its number and
// booked has a client of its own (chat:<source>); when it later shares its
// Telegram contact (a verified number), its bookings stay that one client's,
// so the per-client overlap still spans them. Before, the verified number
// made a second client (phone:<E.164>) and the chat could book itself twice
// at once.
func TestChatKeepsItsClientWhenVerifiedLater(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	typed := b.req("anna", b.at(2, 10, 0), "typed")
	typed.Source, typed.Client, typed.Confirm = "telegram:501", core.Client{Name: "Olga", Phone: "+49 151 55555501"}, true
	first, err := b.svc.Book(ctx, typed)
	require.NoError(t, err)
	shared := b.req("boris", b.at(2, 10, 0), "shared")
	shared.Source, shared.Client = typed.Source, core.Client{Name: "Olga", Phone: "+49 151 55555501", Verified: true}
	_, err = b.svc.Book(ctx, shared)
	require.Equal(t, "booking.client_overlap", core.ErrorKey(err), "%v", err)
	shared.Start, shared.IdempotencyKey = b.at(2, 12, 0), "shared-2"
	second, err := b.svc.Book(ctx, shared)
	require.NoError(t, err)
	require.Equal(t, first.ClientID, second.ClientID, "the chat's own client")
}
