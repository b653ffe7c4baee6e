package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// clockTicks is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTicks = 100

// procCPU reads a process's CPU time from /proc/<pid>/stat: its own (user and
// system) and, with children, that of its exited children it waited for; and
// its parent's pid. ok is false when it cannot be read.
func procCPU(pid int, children bool) (cpu time.Duration, ppid int, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command may hold spaces
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	last := 12 // utime, stime: fields 14, 15
	if children {
		last = 14 // cutime, cstime: fields 16, 17
	}
	var ticks int64
	for _, v := range f[11 : last+1] {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, ppid, true
}

// postgresCPU is the CPU time the database server has used so far: its
// postmaster's, its exited backends' (the postmaster waits for them) and its
// live processes'. It needs the server on this machine (found through its
// checkpointer's parent); ok is false otherwise. It counts every database of
// the cluster: run on a private cluster, it is the harness's own load.
func postgresCPU(ctx context.Context, pool *pgxpool.Pool) (time.Duration, bool) {
	var pid int
	if err := pool.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'`).Scan(&pid); err != nil {
		return 0, false
	}
	_, postmaster, ok := procCPU(pid, false)
	if !ok {
		return 0, false
	}
	total, _, ok := procCPU(postmaster, true)
	if !ok {
		return 0, false
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cpu, parent, ok := procCPU(p, false); ok && parent == postmaster {
			total += cpu
		}
	}
	return total, true
}

// selfCPU is this process's CPU time so far (the harness and the fake).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
