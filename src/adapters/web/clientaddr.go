package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr is the throttling key of the request's client address: the IP,
// an IPv6 address by its /64 (one host usually has the whole /64). The
// address is the peer's, unless the peer is a trusted proxy (trusted,
// TRUSTED_PROXIES): then it is the right-most X-Forwarded-For entry that is
// not a trusted proxy (the entries to its left are the client's to make up),
// or the left-most entry when all are trusted. Without trusted proxies
// X-Forwarded-For is ignored. A peer that is no IP is its text.
func ClientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if isTrusted(trusted, ip) {
		var hops []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(v, ",")...)
		}
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // not an address: the proxy's own entries end here
			}
			ip = hop
			if !isTrusted(trusted, hop) {
				break
			}
		}
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.WithZone("").Prefix(64)
	return p.String()
}

func isTrusted(trusted []netip.Prefix, ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
