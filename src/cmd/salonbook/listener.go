package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// limitConns caps the connections ln lets in at once: total in all and perAddr
// from one remote IP address (an IPv6 /64 counts as one; more are closed as soon
// as they are accepted). At the total, Accept takes the next connection, closes
// it if its address is at its cap (so such a client makes no room for itself),
// and otherwise closes the connection idle the longest to make room, if one has
// been idle for evictIdle (a keep-alive between requests, known from ConnState,
// which the server must be given); else it holds the new connection until one
// closes or has been idle that long (more wait in the kernel's backlog). Each
// connection waiting for its headers holds memory (about 16 KB): without a cap,
// 15,000 slow connections took serve to 261 MB; with the defaults, 75 MB.
func limitConns(ln net.Listener, total, perAddr int) *limitListener {
	return &limitListener{Listener: ln, perAddr: perAddr, slots: make(chan struct{}, total),
		done: make(chan struct{}), idled: make(chan struct{}, 1), open: map[string]int{}, idle: map[*limitedConn]time.Time{}}
}

// evictIdle is how long a connection must have been idle before it is closed to
// make room: net/http reports a keep-alive idle until it has read a whole
// request, so one idle only a moment may have its next request on the way.
const evictIdle = time.Second

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
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := connKey(c.RemoteAddr())
		l.mu.Lock()
		full := l.open[host] >= l.perAddr
		l.mu.Unlock()
		if full {
			_ = c.Close()
			continue
		}
		select {
		case l.slots <- struct{}{}:
		default:
			if !l.waitForSlot() {
				_ = c.Close()
				return nil, net.ErrClosed
			}
		}
		// Only this goroutine adds to open, so the address is still below its cap.
		l.mu.Lock()
		l.open[host]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, l: l, host: host}, nil
	}
}

// waitForSlot takes a slot when every one is held: a slot freed meanwhile, else
// one made by closing the connection idle the longest (if idle for evictIdle),
// else it waits for one to close or to have been idle that long. False: l is closed.
func (l *limitListener) waitForSlot() bool {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case l.slots <- struct{}{}:
			return true
		default:
		}
		next := l.closeIdlest(time.Now())
		if next <= 0 {
			next = time.Hour // nothing idle: a close or an idle connection wakes us
		}
		timer.Reset(next)
		select {
		case l.slots <- struct{}{}:
			return true
		case <-l.idled:
		case <-timer.C:
		case <-l.done:
			return false
		}
	}
}

// closeIdlest closes the connection idle the longest if it has been idle for
// evictIdle at now. Otherwise it returns how long until the idlest has been, or
// 0 when none is idle.
func (l *limitListener) closeIdlest(now time.Time) time.Duration {
	l.mu.Lock()
	var oldest *limitedConn
	var since time.Time
	for c, t := range l.idle {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	if oldest == nil {
		l.mu.Unlock()
		return 0
	}
	if left := evictIdle - now.Sub(since); left > 0 {
		l.mu.Unlock()
		return left
	}
	delete(l.idle, oldest)
	l.mu.Unlock()
	_ = oldest.Close()
	return 0
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
