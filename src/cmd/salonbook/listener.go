package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// limitConns caps the connections ln lets in at once: total in all and perAddr
// from one remote IP address (an IPv6 /64 counts as one; more are closed as soon
// as they are accepted). At the total, the connection idle the longest (a
// keep-alive between requests, known from ConnState, which the server must be
// given) is closed to make room; when none is idle, Accept waits until one
// closes or goes idle (more wait in the kernel's backlog). Each connection waiting for its
// headers holds memory (about 16 KB): without a cap, 15,000 slow connections
// took serve to 261 MB; with the defaults, 75 MB.
func limitConns(ln net.Listener, total, perAddr int) *limitListener {
	return &limitListener{Listener: ln, perAddr: perAddr, slots: make(chan struct{}, total),
		done: make(chan struct{}), idled: make(chan struct{}, 1), open: map[string]int{}, idle: map[*limitedConn]time.Time{}}
}

type limitListener struct {
	net.Listener
	perAddr int
	slots   chan struct{} // one per open connection
	done    chan struct{} // closed by Close: a waiting Accept returns
	idled   chan struct{} // a connection went idle: a waiting Accept may close it
	once    sync.Once

	mu   sync.Mutex
	open map[string]int             // open connections per remote IP (IPv6: per /64)
	idle map[*limitedConn]time.Time // connections between requests, since when
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		select {
		case l.slots <- struct{}{}:
		default:
			if !l.waitForSlot() {
				return nil, net.ErrClosed
			}
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		host := connKey(c.RemoteAddr())
		l.mu.Lock()
		if l.open[host] >= l.perAddr {
			l.mu.Unlock()
			_ = c.Close()
			<-l.slots
			continue
		}
		l.open[host]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, l: l, host: host}, nil
	}
}

// waitForSlot takes a slot when every one is held: it closes the connection idle
// the longest, else waits for one to close or to go idle. False: l is closed.
func (l *limitListener) waitForSlot() bool {
	for {
		l.closeIdlest()
		select {
		case l.slots <- struct{}{}:
			return true
		case <-l.idled:
		case <-l.done:
			return false
		}
	}
}

// closeIdlest closes the connection idle the longest, if any is idle.
func (l *limitListener) closeIdlest() {
	l.mu.Lock()
	var oldest *limitedConn
	var since time.Time
	for c, t := range l.idle {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	delete(l.idle, oldest)
	l.mu.Unlock()
	if oldest != nil {
		_ = oldest.Close()
	}
}

// ConnState is the server's http.Server.ConnState: it tells which connections
// are idle.
func (l *limitListener) ConnState(c net.Conn, s http.ConnState) {
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	if s == http.StateIdle {
		l.idle[lc] = time.Now()
	} else {
		delete(l.idle, lc)
	}
	l.mu.Unlock()
	if s == http.StateIdle {
		select {
		case l.idled <- struct{}{}:
		default:
		}
	}
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *limitListener) release(c *limitedConn) {
	l.mu.Lock()
	if l.open[c.host]--; l.open[c.host] <= 0 {
		delete(l.open, c.host)
	}
	delete(l.idle, c)
	l.mu.Unlock()
	<-l.slots
}

// connKey is the address the per-address cap counts: the IP, and for IPv6 its
// /64, which one host or subscriber usually holds whole.
func connKey(a net.Addr) string {
	host := a.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() != nil {
		return host
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

type limitedConn struct {
	net.Conn
	l    *limitListener
	host string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c) })
	return err
}

// CloseWrite passes through to the TCP connection: net/http half-closes before
// closing an answered connection it refuses (431, 413), so the client reads the
// answer instead of a reset.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
