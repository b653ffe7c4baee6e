package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// outboxLease is how long a batch handed to a sender stays leased to it: the
// lease NewOutbox gives (src/adapters/postgres/pipeline/messaging.go, unexported there;
// TestOutboxLeaseIsPostgres keeps the two equal). Messages a SIGKILLed sender
// had leased are sent again only once it ends.
const outboxLease = 90 * time.Second

// killSettle is how long after the SIGKILL a kill run waits at least before it
// counts: the outbox lease, then 10 s for the restarted sender to take the
// messages up again and send them. Counted earlier, a reply sent twice across
// the restart would not be seen yet.
const killSettle = outboxLease + 10*time.Second

// child is the server run as a process of its own: salonbook's `serve`, so
// that the harness can SIGKILL it mid-run (-kill) and start it again on the
// same address.
type child struct {
	bin    string
	env    []string
	addr   string
	log    *capped
	cmd    *exec.Cmd
	exited chan struct{}
	peakKB atomic.Int64 // highest VmHWM seen over every run of the process
	cpu    atomic.Int64 // CPU time (user and system, ns) of the runs that have exited
}

// newChild prepares a server process with vars as its whole environment, on a
// free local port.
func newChild(bin string, vars map[string]string, log *capped) (*child, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c := &child{bin: bin, addr: addr, log: log}
	for k, v := range vars {
		if k != "HTTP_ADDR" {
			c.env = append(c.env, k+"="+v)
		}
	}
	c.env = append(c.env, "HTTP_ADDR="+addr)
	return c, nil
}

// start runs the process and returns once /healthz answers (the webhook is
// mounted before the server listens).
func (c *child) start(ctx context.Context) error {
	cmd := exec.Command(c.bin, "serve")
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = c.log, c.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("loadtest: start %s serve: %w", c.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		if st := cmd.ProcessState; st != nil {
			c.cpu.Add(int64(st.UserTime() + st.SystemTime()))
		}
		close(exited)
	}()
	c.cmd, c.exited = cmd, exited
	go c.watchMemory(cmd.Process.Pid, exited)
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addr+"/healthz", nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("loadtest: serve exited at start: %s", c.tail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("loadtest: serve did not answer /healthz within 30 s")
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

// stop sends SIGTERM and expects exit 0 within 40 s (serve's own bound is 20 s
// for requests plus 25 s for background work; both are idle here).
func (c *child) stop() error {
	if c.cmd == nil || c.cmd.ProcessState != nil {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(40 * time.Second):
		c.kill()
		return errors.New("loadtest: serve did not stop within 40 s of SIGTERM")
	}
	if code := c.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("loadtest: serve exited %d after SIGTERM: %s", code, c.tail())
	}
	return nil
}

func (c *child) tail() string {
	c.log.mu.Lock()
	defer c.log.mu.Unlock()
	b := c.log.buf.Bytes()
	return strings.TrimSpace(string(b[max(0, len(b)-400):]))
}

// watchMemory records the process's peak resident memory until it exits.
func (c *child) watchMemory(pid int, exited <-chan struct{}) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if kb := procHWM("/proc/" + strconv.Itoa(pid) + "/status"); int64(kb) > c.peakKB.Load() {
			c.peakKB.Store(int64(kb))
		}
		select {
		case <-exited:
			return
		case <-tick.C:
		}
	}
}
