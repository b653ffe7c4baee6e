package postgres_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/core/booking"
)

type countingObserver struct {
	mu  sync.Mutex
	ops map[string]int
}

func (c *countingObserver) Start(op string) func(error) {
	return func(error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.ops[op]++
	}
}

// TestUnobservedServiceIsNotCounted: the copy the wait-list matcher books
// through is not counted by the metrics; the clients' service still is.
func TestUnobservedServiceIsNotCounted(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	obs := &countingObserver{ops: map[string]int{}}
	b.svc.Observe(obs)
	quiet := b.svc.Unobserved()

	_, err := quiet.Book(ctx, b.req("anna", b.at(3, 9, 0), "quiet"))
	require.NoError(t, err)
	require.Empty(t, obs.ops)
	_, err = b.svc.Book(ctx, b.req("anna", b.at(3, 10, 0), "loud"))
	require.NoError(t, err)
	require.Equal(t, map[string]int{booking.OpBook: 1}, obs.ops)
}
