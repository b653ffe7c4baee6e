package pipeline_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
)

func TestOffsets(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	_, otherID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	off := pipeline.NewOffsets(pool, salonID)

	next, err := off.Load(ctx)
	require.NoError(t, err)
	require.Zero(t, next, "nothing saved yet")

	require.NoError(t, off.Save(ctx, 500000003))
	next, err = off.Load(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 500000003, next)

	require.NoError(t, off.Save(ctx, 500000001), "an older batch's save is accepted")
	next, err = pipeline.NewOffsets(pool, salonID).Load(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 500000003, next, "but never moves the offset backwards")

	require.NoError(t, off.Save(ctx, 500000010))
	next, err = off.Load(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 500000010, next)

	next, err = pipeline.NewOffsets(pool, otherID).Load(ctx)
	require.NoError(t, err)
	require.Zero(t, next, "each salon has its own offset")

	require.Error(t, pipeline.NewOffsets(pool, "no-such-salon").Save(ctx, 1), "the salon must exist")
}
