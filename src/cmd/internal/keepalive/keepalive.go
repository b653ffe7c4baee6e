// Package keepalive builds the HTTP transports of salonbook's and the load
// harness's clients that send many requests at once to one host: they keep as
// many idle connections to it as requests they have in flight, so a request
// reuses one rather than opening and closing its own. It only builds
// transports: no client, no timeout, no policy of either command.
package keepalive

import (
	"net"
	"net/http"
	"time"
)

// Transport returns a transport of its own, like http.DefaultTransport (proxy
// from the environment, dial, TLS and idle timeouts, HTTP/2 when TLS offers
// it), keeping conns idle connections per host. The default keeps 2: with 32
// requests in flight nearly every one opened a connection and closed it after.
// Over HTTP/2 the requests to a host share one connection anyway: the gain is
// HTTP/1.1's.
func Transport(conns int) *http.Transport {
	return from(http.DefaultTransport, conns)
}

// from is Transport on base: a clone of it when it is an *http.Transport (a
// program may have replaced http.DefaultTransport), else the standard
// library's defaults.
func from(base http.RoundTripper, conns int) *http.Transport {
	var tr *http.Transport
	if t, ok := base.(*http.Transport); ok {
		tr = t.Clone()
	} else {
		tr = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	tr.MaxIdleConnsPerHost = conns
	tr.MaxIdleConns = max(tr.MaxIdleConns, conns)
	return tr
}
