package postgres_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

// TestDatabaseUnavailable: a database that cannot be reached (a closed pool, a
// refused connection, as during a PostgreSQL restart) is EUnavailable, which
// clients see as 503 "unavailable", not an internal error.
func TestDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	closed, err := pgxpool.New(ctx, pgtest.URL(t))
	require.NoError(t, err)
	closed.Close()
	refused, err := pgxpool.New(ctx, "postgres://postgres@127.0.0.1:1/salonbook?sslmode=disable&connect_timeout=5")
	require.NoError(t, err)
	t.Cleanup(refused.Close)
	for name, pool := range map[string]*pgxpool.Pool{"closed pool": closed, "connection refused": refused} {
		svc := booking.New(postgres.NewStore(pool), &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)})
		_, err := svc.Catalog(ctx, "demo")
		require.Equal(t, core.EUnavailable, core.ErrorCode(err), "%s: catalog: %v", name, err)
		_, err = svc.Get(ctx, "demo", "00000000-0000-0000-0000-000000000000")
		require.Equal(t, core.EUnavailable, core.ErrorCode(err), "%s: get: %v", name, err)
		_, err = svc.Cancel(ctx, "demo", "00000000-0000-0000-0000-000000000000")
		require.Equal(t, core.EUnavailable, core.ErrorCode(err), "%s: cancel (a transaction): %v", name, err)
		_, err = postgres.NewConversations(pool).Run(ctx, dialog.ChatKey{SalonID: "demo", Channel: "web", ChatID: "c"}, "e1",
			func(s dialog.State) (dialog.State, []dialog.Reply) { return s, nil })
		require.Equal(t, core.EUnavailable, core.ErrorCode(err), "%s: conversation: %v", name, err)
	}
}
