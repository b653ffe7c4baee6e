package messaging

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDefaultClockIsMonotonic: without a Clock, the sender paces itself on times that carry the monotonic reading (Go prints it as "m="),
// so a step of the wall clock does not stall its token buckets and pauses.
func TestDefaultClockIsMonotonic(t *testing.T) {
	t.Parallel()
	require.True(t, strings.Contains((&Sender{}).clock().Now().String(), "m="), "the sender's default clock")
}
