package sysmetrics

import (
	"slices"
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
// must have advanced by the kernel's interval, give or take the time the
// reads of /proc take (hence the fixed part) and a tenth of the interval;
// its CPU time cannot have advanced by more than its real time, give or
// take the kernel's tick.
const (
	realSlack      = 2 * time.Second
	realSlackShare = 10 // 1/10 of the interval
	cpuSlackMillis = 100
)

// kernelInterval is the interval between two readings as the kernel
// measured it: the median of reals, the advance of real time of the
// processes seen at both ends, which is the agent's own interval when they
// agree but not on a host whose clock runs at another rate (a 9front guest
// thawed after QEMU had stopped it: matched against the agent's clock, no
// process passed, and cpu.system went missing for the rest of the run). A
// median that is not within half to twice the agent's interval (a reboot,
// garbage) is not believed.
func kernelInterval(reals []int64, elapsed time.Duration) time.Duration {
	if len(reals) == 0 {
		return elapsed
	}
	sorted := slices.Sorted(slices.Values(reals))
	k := time.Duration(sorted[len(sorted)/2]) * time.Millisecond
	if k < elapsed/2 || k > 2*elapsed {
		return elapsed
	}
	return k
}

// cpuTimes sums the user and system milliseconds that the processes seen
// at both ends accumulated between prev and cur. A process counts when the
// same pid has the same name and owner and its real time advanced by the
// kernel's interval: a pid reused by a process born since prev fails that
// test. Every time is a 32-bit count of milliseconds that wraps after 49.7
// days, so differences are taken modulo 2^32.
func cpuTimes(prev, cur procTimes) (user, sys uint64, matched int) {
	elapsed := cur.at.Sub(prev.at)
	if elapsed <= 0 {
		return 0, 0, 0
	}
	// the processes seen at both ends, with what each accumulated
	var reals []int64
	var times [][2]uint64
	for pid, c := range cur.procs {
		p, ok := prev.procs[pid]
		if !ok || p.Name != c.Name || p.User != c.User {
			continue
		}
		reals = append(reals, int64(c.RealMillis-p.RealMillis))
		times = append(times, [2]uint64{uint64(c.UserMillis - p.UserMillis), uint64(c.SysMillis - p.SysMillis)})
	}
	interval := kernelInterval(reals, elapsed)
	want := interval.Milliseconds()
	slack := (realSlack + interval/realSlackShare).Milliseconds()
	for i, real := range reals {
		if real < want-slack || real > want+slack {
			continue
		}
		du, ds := times[i][0], times[i][1]
		if du+ds > uint64(real)+cpuSlackMillis {
			continue // not one process's times: a reset or garbage
		}
		user += du
		sys += ds
		matched++
	}
	return user, sys, matched
}
