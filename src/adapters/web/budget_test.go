package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSessionBudgetCapsKnown: the sessions remembered as admitted are capped, even
// when each writes often enough never to be forgotten; beyond the cap new ones wait.
func TestSessionBudgetCapsKnown(t *testing.T) {
	t.Parallel()
	b := newSessionBudget(1000)
	b.maxKnown = 5
	now := time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)
	admit := func() bool { return true }
	for i := range 5 {
		ok, _ := b.allow(fmt.Sprint("s", i), now, admit)
		require.True(t, ok, i)
	}
	for range 3 { // every session writes every 50 minutes: none is forgotten
		now = now.Add(50 * time.Minute)
		for i := range 5 {
			ok, _ := b.allow(fmt.Sprint("s", i), now, admit)
			require.True(t, ok, "a known session goes on")
		}
		ok, _ := b.allow(fmt.Sprintf("new-%s", now), now, admit)
		require.False(t, ok, "the set is full: a new session waits")
		require.Len(t, b.known, 5)
	}
}
