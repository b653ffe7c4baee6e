package postgres_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
)

func TestOffsets(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	_, otherID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	off := postgres.NewOffsets(pool, salonID)

	next, err := off.Load(ctx)
	require.NoError(t, err)
	require.Zero(t, next, "nothing saved yet")

	require.NoError(t, off.Save(ctx, 500000003))
	next, err = off.Load(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 500000003, next)

	require.NoError(t, off.Save(ctx, 500000001), "an older batch's save is accepted")
	next, err = postgres.NewOffsets(pool, salonID).Load(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 500000003, next, "but never moves the offset backwards")

	require.NoError(t, off.Save(ctx, 500000010))
	next, err = off.Load(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 500000010, next)

	next, err = postgres.NewOffsets(pool, otherID).Load(ctx)
	require.NoError(t, err)
	require.Zero(t, next, "each salon has its own offset")

	require.Error(t, postgres.NewOffsets(pool, "no-such-salon").Save(ctx, 1), "the salon must exist")
}
