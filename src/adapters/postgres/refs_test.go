package postgres_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
)

// TestReferences: a booking's reference is six characters of the unambiguous
// alphabet, the same each time it is asked for (also when asked for at once),
// and unique in its salon: a candidate another booking has is passed over.
// Its calendar token finds it; an unknown token finds nothing.
func TestReferences(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	refs := postgres.NewReferences(pool)
	one, err := b.svc.Book(ctx, b.req("anna", b.at(2, 10, 0), "ref-1"))
	require.NoError(t, err)
	two, err := b.svc.Book(ctx, b.req("anna", b.at(2, 12, 0), "ref-2"))
	require.NoError(t, err)

	var wg sync.WaitGroup
	got := make([][2]string, 4)
	for i := range got {
		wg.Go(func() {
			ref, token, err := refs.Reference(ctx, b.salonID, one.ID)
			require.NoError(t, err)
			got[i] = [2]string{ref, token}
		})
	}
	wg.Wait()
	for _, g := range got {
		require.Equal(t, got[0], g, "one reference and token per booking")
	}
	ref, token := got[0][0], got[0][1]
	require.Equal(t, postgres.RefCandidate(one.ID, 0), ref)
	require.Len(t, ref, 6)
	for _, r := range ref {
		require.True(t, strings.ContainsRune(postgres.RefAlphabet, r), ref)
	}
	require.GreaterOrEqual(t, len(token), 22)

	// Booking two's first candidate taken (as if another booking had it): the next.
	_, err = pool.Exec(ctx, `INSERT INTO booking_refs (booking_id, salon_id, reference, token)
		SELECT $1, $2, $3, 'x-0123456789012345678901'`, "00000000-0000-0000-0000-000000000000", b.salonID, postgres.RefCandidate(two.ID, 0))
	require.Error(t, err, "a row needs a booking") // so take a real third booking's place
	three, err := b.svc.Book(ctx, b.req("anna", b.at(2, 14, 0), "ref-3"))
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO booking_refs (booking_id, salon_id, reference, token) VALUES ($1, $2, $3, 'x-0123456789012345678901')`,
		three.ID, b.salonID, postgres.RefCandidate(two.ID, 0))
	require.NoError(t, err)
	ref2, token2, err := refs.Reference(ctx, b.salonID, two.ID)
	require.NoError(t, err)
	require.Equal(t, postgres.RefCandidate(two.ID, 1), ref2, "the taken candidate is passed over")
	require.NotEqual(t, token, token2)

	id, err := refs.ByToken(ctx, b.salonID, token)
	require.NoError(t, err)
	require.Equal(t, one.ID, id)
	id, err = refs.ByToken(ctx, b.salonID, "nope-nope-nope-nope-nope")
	require.NoError(t, err)
	require.Empty(t, id)
	id, err = refs.ByToken(ctx, "another-salon", token)
	require.NoError(t, err)
	require.Empty(t, id, "a token is its salon's")
	_, _, err = refs.Reference(ctx, b.salonID, "00000000-0000-0000-0000-000000000000")
	require.Error(t, err)
}

// TestFindByReferenceAndPhone: a booking is found only when its reference and
// its client's phone both match; a chat's sixth try in an hour, and a
// reference's eleventh from any chats, are throttled (even with the right
// pair), counted before the lookup; an hour later the chat may try again.
func TestFindByReferenceAndPhone(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	refs := postgres.NewReferences(pgtest.Pool(t))
	bk, err := b.svc.Book(ctx, b.req("anna", b.at(2, 10, 0), "find-1"))
	require.NoError(t, err)
	ref, _, err := refs.Reference(ctx, b.salonID, bk.ID)
	require.NoError(t, err)
	phone := "+49151" + phoneDigits("find-1")
	now := b.clock.T

	id, throttled, err := refs.Find(ctx, b.salonID, ref, phone, "web:a", now)
	require.NoError(t, err)
	require.False(t, throttled)
	require.Equal(t, bk.ID, id)
	for _, miss := range [][2]string{{ref, "+4915100000000"}, {"AAAAAA", phone}} {
		id, throttled, err = refs.Find(ctx, b.salonID, miss[0], miss[1], "web:a", now)
		require.NoError(t, err)
		require.False(t, throttled)
		require.Empty(t, id, "both must match")
	}
	for range postgres.LookupsPerChat - 3 {
		_, throttled, err = refs.Find(ctx, b.salonID, "AAAAAA", phone, "web:a", now)
		require.NoError(t, err)
		require.False(t, throttled)
	}
	id, throttled, err = refs.Find(ctx, b.salonID, ref, phone, "web:a", now)
	require.NoError(t, err)
	require.True(t, throttled, "the chat's sixth try in the hour")
	require.Empty(t, id)
	id, throttled, err = refs.Find(ctx, b.salonID, ref, phone, "web:a", now.Add(61*time.Minute))
	require.NoError(t, err)
	require.False(t, throttled, "an hour later")
	require.Equal(t, bk.ID, id)

	// The reference guessed at from many chats: its eleventh try in the hour is throttled.
	later := now.Add(3 * time.Hour)
	for i := range postgres.LookupsPerRef {
		_, throttled, err = refs.Find(ctx, b.salonID, ref, "+4915100000000", "web:x"+strconv.Itoa(i), later)
		require.NoError(t, err)
		require.False(t, throttled)
	}
	_, throttled, err = refs.Find(ctx, b.salonID, ref, phone, "web:new", later)
	require.NoError(t, err)
	require.True(t, throttled, "the reference's eleventh try")

	// A chat past its limit writes no more rows (a reference is counted only
	// while the chat is under its limit), and counts older than an hour go.
	pool := pgtest.Pool(t)
	rows := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM ref_lookups WHERE salon_id = $1`, b.salonID).Scan(&n))
		return n
	}
	flood := later.Add(2 * time.Hour)
	for i := range postgres.LookupsPerChat {
		_, _, err = refs.Find(ctx, b.salonID, "AAAAA"+string(rune('A'+i)), phone, "web:flood", flood)
		require.NoError(t, err)
	}
	require.Equal(t, 1+postgres.LookupsPerChat, rows(), "the hour-old counts went; the chat and its five references stay")
	for i := range 20 {
		_, throttled, err = refs.Find(ctx, b.salonID, "CCCCC"+string(rune('A'+i)), phone, "web:flood", flood)
		require.NoError(t, err)
		require.True(t, throttled)
	}
	require.Equal(t, 1+postgres.LookupsPerChat, rows(), "a throttled chat's tries write no reference rows")
}
