package sysmetrics

import (
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

func TestSysstatShares(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cpus       []p9stats.CPUStat
		idle, intr float64
	}{
		{"one CPU", []p9stats.CPUStat{{IdlePercent: 24, InterruptPercent: 1}}, 24, 1},
		// A 32-bit overflow in the kernel can print an idle past 100.
		{"idle past 100", []p9stats.CPUStat{{IdlePercent: 4000, InterruptPercent: 2}}, 100, 0},
		// Both are decayed averages: together they may pass 100.
		{"idle and interrupts past 100", []p9stats.CPUStat{{IdlePercent: 97, InterruptPercent: 5}}, 97, 3},
		{"two CPUs", []p9stats.CPUStat{{IdlePercent: 100}, {IdlePercent: 98, InterruptPercent: 1}}, 198, 1},
	} {
		s := sysstatShares(tc.cpus)
		if s.idle != tc.idle || s.intr != tc.intr || s.idle+s.intr+s.busy != 100*float64(len(tc.cpus)) {
			t.Errorf("%s: %+v, want idle %v, interrupts %v", tc.name, s, tc.idle, tc.intr)
		}
	}
}

func proc(pid int, name, user string, u, s, real uint32) p9stats.ProcStatus {
	return p9stats.ProcStatus{PID: pid, Name: name, User: user, UserMillis: u, SysMillis: s, RealMillis: real}
}

// A constructed pair of /proc readings 60 s apart.
func TestCPUTimes(t *testing.T) {
	prev := newProcTimes(at(0), []p9stats.ProcStatus{
		proc(1, "init", "glenda", 10, 40, 9810),
		proc(2, "rc", "glenda", 100, 200, 50000),
		// Its times wrap at 2^32 ms during the interval: +496 ms user
		// (296 to the wrap, 200 after), +8 ms system, +60 s real.
		proc(3, "fossil", "bootes", 4294967000, 4294967290, 4294960000),
		proc(4, "cat", "glenda", 0, 10, 1000), // exits; pid 4 is reused by another cat
		proc(5, "rc", "glenda", 0, 10, 2000),  // exits; pid 5 is reused by another program
		proc(6, "rc", "glenda", 0, 10, 2000),  // exits; pid 6 is reused by another user's rc
		proc(7, "dd", "glenda", 5000, 90000, 200000),
		proc(8, "exits", "glenda", 1000, 1000, 3000), // gone at the end
	})
	cur := newProcTimes(at(time.Minute), []p9stats.ProcStatus{
		proc(1, "init", "glenda", 10+30, 40+10, 9810+60000),
		proc(2, "rc", "glenda", 100+2000, 200+1000, 50000+60020), // read 20 ms later
		proc(3, "fossil", "bootes", 200, 2, 52704),
		proc(4, "cat", "glenda", 10, 20, 5000),    // 5 s old: born during the interval
		proc(5, "awk", "glenda", 0, 10, 62000),    // another name
		proc(6, "rc", "none", 0, 10, 62000),       // another owner
		proc(7, "dd", "glenda", 100, 100, 260000), // went back: not one process's times
		proc(9, "new", "glenda", 500, 500, 10000), // not seen at the start
	})
	user, sys, n := cpuTimes(prev, cur)
	// init 30 + rc 2000 + fossil 496 user; init 10 + rc 1000 + fossil 8 system.
	if user != 30+2000+496 || sys != 10+1000+8 || n != 3 {
		t.Errorf("user %d, system %d ms from %d processes; want 2526, 1018 from 3", user, sys, n)
	}
	// Reversed or simultaneous ends match nothing.
	if u, s, n := cpuTimes(cur, prev); u+s+uint64(n) != 0 {
		t.Errorf("reversed: %d %d %d", u, s, n)
	}
	if u, s, n := cpuTimes(prev, prev); u+s+uint64(n) != 0 {
		t.Errorf("same time: %d %d %d", u, s, n)
	}
}

// The slack on real time: 2 s plus a tenth of the interval, around the
// interval the kernel measured (the median process's), which the agent's
// own clock stands in for when the kernel's is not believable.
func TestCPUTimesSlack(t *testing.T) {
	// steady processes, each 60 s older at the end, and the one matched
	// or not
	steady := func(kernel uint32, real uint32) (procTimes, procTimes) {
		prev := newProcTimes(at(0), []p9stats.ProcStatus{proc(1, "a", "u", 0, 0, 1000),
			proc(2, "b", "u", 0, 0, 5000), proc(3, "c", "u", 0, 0, 7000)})
		cur := newProcTimes(at(time.Minute), []p9stats.ProcStatus{proc(1, "a", "u", 10, 0, 1000+real),
			proc(2, "b", "u", 0, 5, 5000+kernel), proc(3, "c", "u", 0, 5, 7000+kernel)})
		return prev, cur
	}
	for _, tc := range []struct {
		kernel, real uint32
		ok           bool
	}{
		{60000, 60000 + 8000, true},
		{60000, 60000 + 8001, false},
		{60000, 60000 - 8000, true},
		{60000, 60000 - 8001, false},
		// a kernel whose clock runs 1.2 times as fast as the agent's:
		// the slack is 2 s plus 7.2 s around its 72 s
		{72000, 72000, true},
		{72000, 72000 + 9200, true},
		{72000, 72000 - 9201, false},
		// a kernel interval beyond twice the agent's is not believed
		{121000, 60000, true},
		{121000, 121000, false},
	} {
		prev, cur := steady(tc.kernel, tc.real)
		u, _, _ := cpuTimes(prev, cur)
		if (u == 10) != tc.ok {
			t.Errorf("kernel %d ms, real %d ms: user %d ms, want the process matched %v", tc.kernel, tc.real, u, tc.ok)
		}
	}
}
