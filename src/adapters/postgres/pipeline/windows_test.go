package pipeline_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
)

// TestGroupCommitStoresWindowsWithTheirMessages: AddInbound's time goes to
// chat_windows in the batch's statement, one row per chat however many of its
// messages the batch holds (the latest time wins, an older one never replaces
// it), and only for the rows given one.
func TestGroupCommitStoresWindowsWithTheirMessages(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	windows := pipeline.NewChatWindows(pool, salonID, "whatsapp")
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	// One batch (4 rows fill it): two messages of A, one of B, one without a window.
	g := pipeline.NewGroupCommit(pool, salonID, pipeline.GroupCommitOptions{MaxBatch: 4, Linger: never, Flushers: 1})
	var wg sync.WaitGroup
	errs := make([]error, 4)
	wg.Go(func() { errs[0] = g.AddInbound(ctx, "whatsapp", "a1", "A", []byte("a1"), t0.Add(2*time.Minute)) })
	wg.Go(func() { errs[1] = g.AddInbound(ctx, "whatsapp", "a2", "A", []byte("a2"), t0.Add(time.Minute)) })
	wg.Go(func() { errs[2] = g.AddInbound(ctx, "whatsapp", "b1", "B", []byte("b1"), t0) })
	wg.Go(func() { errs[3] = g.Add(ctx, "whatsapp", "c1", "C", []byte("c1"), "") })
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	// A redelivery of B's message with an older time, alone in its batch.
	require.NoError(t, pipeline.NewInbox(pool, salonID).AddInbound(ctx, "whatsapp", "b1", "B", []byte("b1"), t0.Add(-time.Hour)))
	g.Close()

	require.Len(t, inboxRows(t, pool, salonID), 4)
	for chat, want := range map[string]time.Time{"A": t0.Add(2 * time.Minute), "B": t0, "C": {}} {
		last, _, _, err := windows.Window(ctx, chat)
		require.NoError(t, err)
		require.Truef(t, last.Equal(want), "chat %s: window %v, want %v", chat, last, want)
	}
}
