package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// acceptAll accepts from ln until it is closed and hands out what it accepted.
func acceptAll(t *testing.T, ln net.Listener) <-chan net.Conn {
	t.Helper()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return accepted
}

func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedByServer reports whether the server closed c (a read ends with EOF or a
// reset rather than waiting).
func closedByServer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, io.EOF)
}

// TestLimitConnsPerAddress: beyond perAddr open connections from one address, new
// ones are closed at once; another address is not affected, and a closed
// connection makes room.
func TestLimitConnsPerAddress(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted := acceptAll(t, limitConns(raw, 10, 2))
	addr := raw.Addr().String()
	dialFrom(t, "127.0.0.1", addr)
	dialFrom(t, "127.0.0.1", addr)
	a1, _ := <-accepted, <-accepted
	third := dialFrom(t, "127.0.0.1", addr)
	require.True(t, closedByServer(third), "a third connection from the same address is closed")
	dialFrom(t, "127.0.0.2", addr) // all of 127/8 is loopback on Linux
	o := <-accepted
	require.Equal(t, "127.0.0.2", o.RemoteAddr().(*net.TCPAddr).IP.String(), "another address gets in")

	require.NoError(t, a1.Close())
	fourth := dialFrom(t, "127.0.0.1", addr)
	select {
	case c := <-accepted:
		require.Equal(t, fourth.LocalAddr().String(), c.RemoteAddr().String(), "room again after one closed")
	case <-time.After(10 * time.Second):
		t.Fatal("no room after a connection closed")
	}
}

// TestLimitConnsTotal: at total open connections Accept waits; a closed one lets
// the next in.
func TestLimitConnsTotal(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := limitConns(raw, 2, 2)
	accepted := acceptAll(t, ln)
	addr := raw.Addr().String()
	dialFrom(t, "127.0.0.1", addr)
	dialFrom(t, "127.0.0.2", addr)
	c1, _ := <-accepted, <-accepted
	dialFrom(t, "127.0.0.3", addr) // completes in the kernel's backlog, not accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted over the total")
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, c1.Close())
	select {
	case c := <-accepted:
		require.Equal(t, "127.0.0.3", c.RemoteAddr().(*net.TCPAddr).IP.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting connection was not accepted after one closed")
	}
	require.NoError(t, ln.Close())
	_, open := <-accepted
	for open {
		_, open = <-accepted
	}
}

// TestLimitConnsGroupsIPv6: the per-address cap counts an IPv6 /64 as one
// address (one host may hold all of it); IPv4 addresses count one by one.
func TestLimitConnsGroupsIPv6(t *testing.T) {
	t.Parallel()
	require.Equal(t, connKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2::1"), Port: 1}),
		connKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:ffff:ffff:ffff:fffe"), Port: 2}))
	require.NotEqual(t, connKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2::1")}), connKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::1")}))
	require.NotEqual(t, connKey(&net.TCPAddr{IP: net.ParseIP("10.0.0.1")}), connKey(&net.TCPAddr{IP: net.ParseIP("10.0.0.2")}))
	require.Equal(t, connKey(&net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 1}), connKey(&net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 2}))
}

// TestLimitConnsClosesIdle: with every slot held by idle keep-alive
// connections, a new client is not left waiting for them to time out: an idle
// one is closed to make room.
func TestLimitConnsClosesIdle(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := limitConns(raw, 2, 2)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }),
		IdleTimeout: time.Hour, ConnState: ln.ConnState}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := raw.Addr().String()
	for range 2 { // two keep-alive connections, answered once each, then idle
		c := dialFrom(t, "127.0.0.1", addr)
		_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		resp.Body.Close()
	}
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	resp, err := client.Get("http://" + addr + "/")
	require.NoError(t, err, "a new client gets in while the slots are idle")
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestLimitConnsKeepsBusyKeepAlives: at the total, a keep-alive whose next
// request is already on its way is not closed under it (net/http calls a
// connection idle until it has read a whole request): 12 keep-alive clients on
// 4 slots send 40 POSTs each, and every one is answered.
func TestLimitConnsKeepsBusyKeepAlives(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := limitConns(raw, 4, 4)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}), IdleTimeout: time.Minute, ConnState: ln.ConnState}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := raw.Addr().String()
	errs := make(chan error, 12*40)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 1, DialContext: (&net.Dialer{
				LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(i+1))}}).DialContext}
			defer tr.CloseIdleConnections()
			client := &http.Client{Timeout: 2 * time.Minute, Transport: tr}
			for range 40 {
				resp, err := client.Post("http://"+addr+"/", "text/plain", strings.NewReader("hello"))
				if err != nil {
					errs <- err
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	var failed []string
	for err := range errs {
		failed = append(failed, err.Error())
	}
	require.Empty(t, failed, "%d of 480 requests cut off by an eviction", len(failed))
}

// TestLimitConnsEvictsOnlyLongIdle: at the total, a connection idle for less
// than evictIdle (1 s) is not closed to make room (its next request may be arriving);
// once idle that long, it is.
func TestLimitConnsEvictsOnlyLongIdle(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := limitConns(raw, 1, 1)
	accepted := acceptAll(t, ln)
	addr := raw.Addr().String()
	first := dialFrom(t, "127.0.0.1", addr)
	a := <-accepted
	idleSince := time.Now()
	ln.ConnState(a, http.StateIdle)
	dialFrom(t, "127.0.0.2", addr)
	select {
	case c := <-accepted:
		require.Equal(t, "127.0.0.2", c.RemoteAddr().(*net.TCPAddr).IP.String())
		require.GreaterOrEqual(t, time.Since(idleSince), evictIdle, "the idle connection was closed only once idle long enough")
	case <-time.After(30 * time.Second):
		t.Fatal("a connection idle for long was not closed to make room")
	}
	require.True(t, closedByServer(first))
}

// TestLimitConnsAtCapEvictsNothing: a client at its per-address cap cannot make
// the listener close other clients' keep-alives: its new connection is closed,
// the idle one of another address stays.
func TestLimitConnsAtCapEvictsNothing(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := limitConns(raw, 2, 1)
	accepted := acceptAll(t, ln)
	addr := raw.Addr().String()
	dialFrom(t, "127.0.0.1", addr)
	a := <-accepted
	ln.ConnState(a, http.StateIdle)
	ln.mu.Lock()
	ln.idle[a.(*limitedConn)] = time.Now().Add(-time.Hour) // idle for long
	ln.mu.Unlock()
	dialFrom(t, "127.0.0.2", addr)
	<-accepted
	for range 3 {
		again := dialFrom(t, "127.0.0.2", addr)
		require.True(t, closedByServer(again), "a connection over its address's cap is closed")
	}
	ln.mu.Lock()
	_, idle := ln.idle[a.(*limitedConn)]
	ln.mu.Unlock()
	require.True(t, idle, "the other address's keep-alive was not closed")
}
