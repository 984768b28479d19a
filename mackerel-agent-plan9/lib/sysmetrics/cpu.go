package sysmetrics

import (
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// cpuShares is one reading of /dev/sysstat summed over the CPUs, in
// percent of one CPU, so that the three parts add up to 100 × CPUs as
// upstream's cpu.*.percentage do.
type cpuShares struct {
	idle, intr, busy float64
}

// sysstatShares sums each CPU's shares of busy, interrupt and idle time
// (p9stats.CPUStat.Shares, which keeps each CPU within 0..100).
func sysstatShares(cpus []p9stats.CPUStat) cpuShares {
	var s cpuShares
	for _, c := range cpus {
		busy, intr, idle := c.Shares()
		s.idle += idle
		s.intr += intr
		s.busy += busy
	}
	return s
}

// cpuMean accumulates the samples of one interval.
type cpuMean struct {
	sum cpuShares
	n   int
}

func (m *cpuMean) add(s cpuShares) {
	m.sum.idle += s.idle
	m.sum.intr += s.intr
	m.sum.busy += s.busy
	m.n++
}

func (m cpuMean) mean() cpuShares {
	n := float64(m.n)
	return cpuShares{m.sum.idle / n, m.sum.intr / n, m.sum.busy / n}
}

// procTimes is one reading of /proc/*/status.
type procTimes struct {
	at    time.Time
	procs map[int]p9stats.ProcStatus
}

func newProcTimes(at time.Time, ps []p9stats.ProcStatus) procTimes {
	m := make(map[int]p9stats.ProcStatus, len(ps))
	for _, p := range ps {
		m[p.PID] = p
	}
	return procTimes{at: at, procs: m}
}

// Slack allowed when matching a process's two readings: its real time
// must have advanced by the time between them, give or take the time the
// reads of /proc take (hence the fixed part) and the drift of the agent's
// clock from the kernel's over the interval (the proportional part); its
// CPU time cannot have advanced by more than its real time, give or take
// the kernel's tick.
const (
	realSlack      = 2 * time.Second
	realSlackShare = 10 // 1/10 of the interval
	cpuSlackMillis = 100
)

// cpuTimes sums the user and system milliseconds that the processes seen
// at both ends accumulated between prev and cur. A process counts when the
// same pid has the same name and owner and its real time advanced by the
// interval: a pid reused by a process born since prev fails that test.
// Every time is a 32-bit count of milliseconds that wraps after 49.7 days,
// so differences are taken modulo 2^32.
func cpuTimes(prev, cur procTimes) (user, sys uint64, matched int) {
	elapsed := cur.at.Sub(prev.at)
	if elapsed <= 0 {
		return 0, 0, 0
	}
	want := elapsed.Milliseconds()
	slack := (realSlack + elapsed/realSlackShare).Milliseconds()
	for pid, c := range cur.procs {
		p, ok := prev.procs[pid]
		if !ok || p.Name != c.Name || p.User != c.User {
			continue
		}
		real := int64(c.RealMillis - p.RealMillis)
		if real < want-slack || real > want+slack {
			continue
		}
		du := uint64(c.UserMillis - p.UserMillis)
		ds := uint64(c.SysMillis - p.SysMillis)
		if du+ds > uint64(real)+cpuSlackMillis {
			continue // not one process's times: a reset or garbage
		}
		user += du
		sys += ds
		matched++
	}
	return user, sys, matched
}
