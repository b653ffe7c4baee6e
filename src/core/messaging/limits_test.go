package messaging

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSenderLimits(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	s := &Sender{Limits: Limits{
		Global:  Rate{Count: 30, Per: time.Second, Burst: 30},
		PerChat: Rate{Count: 1, Per: time.Second, Burst: 2},
		Group:   Rate{Count: 20, Per: time.Minute, Burst: 1},
	}, IsGroup: func(id string) bool { return id[0] == '-' }}

	// A chat: a burst of two, then one a second.
	_, ok := s.take("7", now)
	require.True(t, ok)
	_, ok = s.take("7", now)
	require.True(t, ok)
	at, ok := s.take("7", now)
	require.False(t, ok)
	require.Equal(t, now.Add(time.Second), at)
	_, ok = s.take("7", now.Add(time.Second))
	require.True(t, ok)

	// A group: 20 a minute, one every 3 s.
	_, ok = s.take("-100", now)
	require.True(t, ok)
	at, ok = s.take("-100", now.Add(time.Second))
	require.False(t, ok)
	require.Equal(t, now.Add(3*time.Second), at)

	// Globally: never more than 30 in a second across chats.
	g := &Sender{Limits: Limits{Global: Rate{Count: 30, Per: time.Second, Burst: 30}}}
	sent := 0
	for i := range 100 {
		if _, ok := g.take(string(rune('a'+i%26))+"x", now); ok {
			sent++
		}
	}
	require.Equal(t, 30, sent)
}
