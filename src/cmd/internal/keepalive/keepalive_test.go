package keepalive

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

type roundTripper struct{}

func (roundTripper) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, http.ErrNotSupported
}

// TestTransport: a transport of its own keeping conns idle connections per
// host, with the default transport's proxy and timeouts, also when
// http.DefaultTransport is not an *http.Transport (a type assertion panicked
// there).
func TestTransport(t *testing.T) {
	t.Parallel()
	for name, base := range map[string]http.RoundTripper{"Default": http.DefaultTransport, "Replaced": roundTripper{}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tr := from(base, 32)
			require.NotSame(t, http.DefaultTransport, tr)
			require.Equal(t, 32, tr.MaxIdleConnsPerHost)
			require.GreaterOrEqual(t, tr.MaxIdleConns, 32)
			require.NotNil(t, tr.Proxy)
			require.NotNil(t, tr.DialContext)
			require.True(t, tr.ForceAttemptHTTP2)
			require.NotZero(t, tr.TLSHandshakeTimeout)
			require.NotZero(t, tr.IdleConnTimeout)
		})
	}
	require.Equal(t, 100, from(roundTripper{}, 2).MaxIdleConns)
}
