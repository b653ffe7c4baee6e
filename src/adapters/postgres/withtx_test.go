package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core/booking"
)

// TestTimedOutTxKeepsItsConnection: a transaction whose request's deadline
// passed is rolled back on a live context, so the connection goes back to the
// pool rather than being closed (under overload the pool would reconnect over
// and over).
func TestTimedOutTxKeepsItsConnection(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	store := postgres.NewStore(pool)
	_, salonID := pgtest.Salon(t)
	bg := context.Background()
	require.NoError(t, store.WithTx(bg, func(tx booking.Tx) error { _, err := tx.Salon(bg, salonID); return err }))
	require.EqualValues(t, 1, pool.Stat().NewConnsCount())

	ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
	defer cancel()
	err := store.WithTx(ctx, func(tx booking.Tx) error {
		if _, err := tx.Salon(ctx, salonID); err != nil {
			return err
		}
		<-ctx.Done() // the request's deadline passes while the transaction is open
		return ctx.Err()
	})
	require.Error(t, err)

	require.NoError(t, store.WithTx(bg, func(tx booking.Tx) error { _, err := tx.Salon(bg, salonID); return err }))
	require.EqualValues(t, 1, pool.Stat().NewConnsCount(), "the timed-out transaction's connection was reused, not replaced")
	require.EqualValues(t, 1, pool.Stat().TotalConns())
}
