package main

import (
	"net"
	"sync"
)

// limitConns caps the connections ln lets in at once: total in all (Accept waits
// until one closes; more wait in the kernel's backlog) and perAddr from one remote
// IP address (more are closed as soon as they are accepted). Each connection
// waiting for its headers holds memory (about 16 KB): without a cap, 15,000 slow
// connections took serve to 261 MB; with the defaults, 75 MB.
func limitConns(ln net.Listener, total, perAddr int) net.Listener {
	return &limitListener{Listener: ln, perAddr: perAddr, slots: make(chan struct{}, total),
		done: make(chan struct{}), open: map[string]int{}}
}

type limitListener struct {
	net.Listener
	perAddr int
	slots   chan struct{} // one per open connection
	done    chan struct{} // closed by Close: a waiting Accept returns
	once    sync.Once

	mu   sync.Mutex
	open map[string]int // open connections per remote IP
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		host := c.RemoteAddr().String()
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
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

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *limitListener) release(host string) {
	l.mu.Lock()
	if l.open[host]--; l.open[host] <= 0 {
		delete(l.open, host)
	}
	l.mu.Unlock()
	<-l.slots
}

type limitedConn struct {
	net.Conn
	l    *limitListener
	host string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.host) })
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
