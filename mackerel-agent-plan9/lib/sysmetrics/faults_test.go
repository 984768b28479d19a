package sysmetrics

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// One failing source costs only its own names, with one log line naming
// the file; the rest of the minute's batch is there.
func TestOneSourceFails(t *testing.T) {
	// The 9front 11879 amd64 capture, sampled once at 0 and collected at
	// 5 s, with the processes 5 s older and bootrc charged 30 ms user and
	// 10 ms system time.
	all := map[string]float64{
		"loadavg1": 1.299, "loadavg5": 1.299, "loadavg15": 1.299,
		"cpu.idle.percentage":   24,
		"cpu.irq.percentage":    1,
		"cpu.user.percentage":   75 * 30 / 40.0,
		"cpu.system.percentage": 75 * 10 / 40.0,
		"memory.total":          1067155456,
		"memory.mem_available":  (150376 - 1011) * 4096,
		"memory.used":           1067155456 - (150376-1011)*4096,
		"memory.swap_total":     320000 * 4096,
		"memory.swap_free":      320000 * 4096,
		// testdata/fsconsole/cwfs64x-statw.txt: fsize 6, wsize 16384
		// blocks of 16 KiB.
		"filesystem.cwfs.size": 16384 * 16384,
		"filesystem.cwfs.used": 6 * 16384,
		// testdata/fsconsole/fossil-df.txt: "main: 40,960 used + 133,791,744
		// free = 133,832,704".
		"filesystem.fscons.size": 133832704,
		"filesystem.fscons.used": 40960,
	}
	without := func(names ...string) map[string]float64 {
		m := map[string]float64{}
		for n, v := range all {
			m[n] = v
		}
		for _, n := range names {
			delete(m, n)
		}
		return m
	}
	cpuUserOnly := without("cpu.system.percentage")
	cpuUserOnly["cpu.user.percentage"] = 75

	for _, tc := range []struct {
		name     string
		edit     func(h *host)              // after the sample, before the collection
		consoles map[string]testkit.Console // replacing the real replies
		gone     string                     // a console not posted in /srv
		want     map[string]float64
		logged   string // the one line logged
	}{
		{"nothing fails", nil, nil, "", all, ""},
		{"malformed swap line", func(h *host) { h.Write("dev/swap", "1067155456 memory\n4096 pagesize\n1011/150376/7/8 user\n") }, nil, "",
			without("memory.total", "memory.mem_available", "memory.used", "memory.swap_total", "memory.swap_free"),
			`memory: left out: p9stats: /dev/swap: line 3: 4 numbers for "user": "1011/150376/7/8 user"`},
		{"swap with more user pages free than memory", func(h *host) { h.Write("dev/swap", "4096 memory\n4096 pagesize\n0/2 user\n0/0 swap\n") }, nil, "",
			without("memory.total", "memory.mem_available", "memory.used", "memory.swap_total", "memory.swap_free"),
			"memory: left out: /dev/swap: 4096 bytes of memory with 8192 bytes of user pages free: not a memory picture"},
		{"no swap file", func(h *host) { h.Write("dev/swap", "-") }, nil, "",
			without("memory.total", "memory.mem_available", "memory.used", "memory.swap_total", "memory.swap_free"),
			"memory: left out: open "},
		{"one unreadable /proc entry", func(h *host) { h.Write("proc/98/status", "garbage\n") }, nil, "", all,
			`cpu.user, cpu.system: processes left out of the split: p9stats: /proc/*/status: 1 of 37 failed, the first: /proc/98/status: line 1: 1 fields, want at least 12: "garbage"`},
		{"/proc unreadable", func(h *host) { h.Write("proc", "-"); h.Write("proc", "not a directory") }, nil, "", cpuUserOnly,
			"cpu.system: left out, and all busy time posted as cpu.user: /proc cannot be read: "},
		{"a console that answers nonsense and hangs up", nil, map[string]testkit.Console{"srv/fscons": {Reply: func(string) string { return "what?\n" }, Hangup: true}}, "",
			without("filesystem.fscons.size", "filesystem.fscons.used"),
			`filesystem fossil:/srv/fscons: left out: fossil:/srv/fscons: console closed without a usable reply to "fsys main df"`},
		{"no console", nil, nil, "srv/fscons",
			without("filesystem.fscons.size", "filesystem.fscons.used"),
			"filesystem fossil:/srv/fscons: left out: fossil:/srv/fscons: open srv/fscons: file does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, testkit.Front11879amd64)
			consoles := map[string]testkit.Console{
				"srv/cwfs.cmd": testkit.RealConsole(t, "cwfs64x-statw.txt"),
				"srv/fscons":   testkit.RealConsole(t, "fossil-df.txt"),
			}
			for k, v := range tc.consoles {
				consoles[k] = v
			}
			delete(consoles, tc.gone)
			specs := []fsspace.Spec{{Kind: "cwfs", Console: "srv/cwfs.cmd"}, {Kind: "fossil", Console: "srv/fscons"}}
			var log logbook
			c := New(h.fs(consoles), specs, log.logf)
			c.Sample(ctx(t), at(0))
			h.age(5 * time.Second)
			h.bump(1, 30, 10, 0)
			if tc.edit != nil {
				tc.edit(h)
			}
			got := c.Collect(ctx(t), at(5*time.Second))
			same(t, tc.name, got, tc.want)
			lines := log.take()
			switch {
			case tc.logged == "" && len(lines) > 0:
				t.Errorf("logged %q", lines)
			case tc.logged != "" && (len(lines) != 1 || !strings.HasPrefix(lines[0], tc.logged)):
				t.Errorf("logged %q, want one line starting %q", lines, tc.logged)
			}
		})
	}
}

// A console that never answers, or whose open hangs, costs only its names
// when the deadline comes; everything else was read by then.
func TestSilentConsole(t *testing.T) {
	h := newHost(t, testkit.Front11879amd64)
	specs := []fsspace.Spec{
		{Kind: "gefs", Console: "srv/gefs.cmd"},
		{Kind: "cwfs", Console: "srv/cwfs.cmd"},
		{Kind: "cwfs", Console: "srv/hung.cmd"},
	}
	unblock := make(chan struct{})
	defer close(unblock)
	var log logbook
	c := New(h.fs(map[string]testkit.Console{
		"srv/gefs.cmd": {},
		"srv/cwfs.cmd": testkit.RealConsole(t, "cwfs64x-statw.txt"),
		"srv/hung.cmd": {Unblock: unblock},
	}), specs, log.logf)
	c.Sample(ctx(t), at(0))
	short, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	got := c.Collect(short, at(time.Minute))
	for _, n := range []string{"loadavg1", "cpu.idle.percentage", "memory.total", "filesystem.cwfs.size", "filesystem.cwfs.used"} {
		if _, ok := got[n]; !ok {
			t.Errorf("%s missing: %v", n, got)
		}
	}
	for n := range got {
		if strings.HasPrefix(n, "filesystem.gefs.") || strings.HasPrefix(n, "filesystem.hung.") {
			t.Errorf("%s from a silent console", n)
		}
	}
	lines := log.take()
	slices.Sort(lines)
	// Which of fsspace and the Collector gives up first on the silent
	// console is a race; both say why.
	if len(lines) != 2 ||
		!strings.HasPrefix(lines[0], "filesystem cwfs:/srv/hung.cmd: left out: cwfs:/srv/hung.cmd: no answer before the deadline") ||
		!strings.HasPrefix(lines[1], "filesystem gefs:/srv/gefs.cmd: left out: gefs:/srv/gefs.cmd: no ") || !strings.Contains(lines[1], "before the deadline") {
		t.Errorf("logged %q", lines)
	}
}

// A source that fails on every sample logs one line a minute, by the
// agent's clock.
func TestLogRateLimit(t *testing.T) {
	h := newHost(t, testkit.Front11879amd64)
	h.Write("dev/sysstat", "          0 1 2\n")
	var log logbook
	c := New(h.fs(nil), nil, log.logf)
	for i := 0; i <= 24; i++ { // 0 s to 120 s
		c.Sample(ctx(t), at(time.Duration(i)*SampleInterval))
		if i%12 == 11 {
			c.Collect(ctx(t), at(time.Duration(i)*SampleInterval))
		}
	}
	lines := log.take()
	if len(lines) != 3 {
		t.Fatalf("%d lines in 2 minutes: %q", len(lines), lines)
	}
	for _, l := range lines {
		if l != `loadavg, cpu: this sample is lost: p9stats: /dev/sysstat: line 1: 3 fields, want 10: "          0 1 2"` {
			t.Errorf("%q", l)
		}
	}
	// Without a single good sample, no load or CPU name is posted.
	m := c.Collect(ctx(t), at(125*time.Second))
	for n := range m {
		if strings.HasPrefix(n, "loadavg") || strings.HasPrefix(n, "cpu.") {
			t.Errorf("%s posted without a sample", n)
		}
	}
	if _, ok := m["memory.total"]; !ok {
		t.Errorf("memory missing: %v", m)
	}

	// The limiter itself: per source, and a clock gone back lets a line through.
	var l logbook
	lim := newLimiter(l.logf)
	lim.log(at(0), "a", "1")
	lim.log(at(59*time.Second), "a", "2")
	lim.log(at(30*time.Second), "b", "3")
	lim.log(at(60*time.Second), "a", "4")
	lim.log(at(10*time.Second), "a", "5")
	if got := strings.Join(l.take(), ","); got != "a: 1,b: 3,a: 4,a: 5" {
		t.Errorf("%s", got)
	}
}

// The fallback for an unreadable /proc is logged once, not every minute,
// until /proc can be read again.
func TestProcFallbackLoggedOnce(t *testing.T) {
	h := newHost(t, testkit.Front11879amd64)
	var log logbook
	c := New(h.fs(nil), nil, log.logf)
	c.Sample(ctx(t), at(0))
	saved := map[int]string{}
	for _, pid := range h.pids() {
		saved[pid] = h.Read("proc/" + strconv.Itoa(pid) + "/status")
	}
	h.Write("proc", "-")
	for i := 1; i <= 3; i++ {
		c.Sample(ctx(t), at(time.Duration(i)*time.Minute))
		m := c.Collect(ctx(t), at(time.Duration(i)*time.Minute))
		if _, ok := m["cpu.system.percentage"]; ok || m["cpu.user.percentage"] != 75 {
			t.Errorf("minute %d: %v", i, m)
		}
	}
	if lines := log.take(); len(lines) != 1 || !strings.HasPrefix(lines[0], "cpu.system: left out, and all busy time posted as cpu.user: /proc cannot be read") {
		t.Errorf("logged %q", lines)
	}
	// /proc is back: the first minute has no start to split from, the
	// second splits.
	for pid, s := range saved {
		h.Write("proc/"+strconv.Itoa(pid)+"/status", s)
	}
	c.Sample(ctx(t), at(4*time.Minute))
	c.Collect(ctx(t), at(4*time.Minute))
	h.age(time.Minute)
	h.bump(1, 10, 30, 0)
	c.Sample(ctx(t), at(5*time.Minute))
	m := c.Collect(ctx(t), at(5*time.Minute))
	if m["cpu.user.percentage"] != 75*10/40.0 || m["cpu.system.percentage"] != 75*30/40.0 {
		t.Errorf("after /proc came back: %v", m)
	}
	lines := log.take()
	if len(lines) != 0 {
		t.Errorf("logged %q", lines)
	}
	// Gone again: logged again.
	h.Write("proc", "-")
	c.Sample(ctx(t), at(6*time.Minute))
	c.Collect(ctx(t), at(6*time.Minute))
	if lines := log.take(); len(lines) != 1 {
		t.Errorf("logged %q", lines)
	}
}

// No process was charged a tick: the busy share has nothing to be split
// by and goes to cpu.user, without a log line (nothing failed).
func TestNoProcessTime(t *testing.T) {
	h := newHost(t, testkit.Front11879amd64)
	var log logbook
	c := New(h.fs(nil), nil, log.logf)
	c.Sample(ctx(t), at(0))
	h.age(time.Minute)
	m := c.Collect(ctx(t), at(time.Minute))
	if _, ok := m["cpu.system.percentage"]; ok || m["cpu.user.percentage"] != 75 {
		t.Errorf("%v", m)
	}
	if l := log.take(); len(l) > 0 {
		t.Errorf("logged %q", l)
	}
}

// A pid reused between the interval's ends does not count, whether by
// another program or by the same one started anew.
func TestPIDReuse(t *testing.T) {
	h := newHost(t, testkit.Front11879amd64)
	c := New(h.fs(nil), nil, t.Logf)
	c.Sample(ctx(t), at(0))
	h.age(time.Minute)
	h.bump(1, 30, 10, 0) // bootrc, alive all along
	// pid 231, autorun (120 ms user, 760 ms system), exited; a new
	// autorun got its pid 2 s ago and has run 1.8 s since.
	h.setTimes(231, 900, 900, 2000)
	// pid 11, mntgen, exited; an rc got its pid as soon as the interval
	// began, and has run 9 s since.
	h.Write("proc/11/status", strings.Replace(h.Read("proc/11/status"), "mntgen ", "rc     ", 1))
	h.bump(11, 9000, 0, 0)
	m := c.Collect(ctx(t), at(time.Minute))
	if m["cpu.user.percentage"] != 75*30/40.0 || m["cpu.system.percentage"] != 75*10/40.0 {
		t.Errorf("%v", m)
	}
}

// No name is ever posted with NaN, ±Inf or a negative value, even when
// the agent's clock runs backwards between the ends of an interval.
func TestClockBack(t *testing.T) {
	h := newHost(t, testkit.Front11879amd64)
	h.Write("net/ether0/ifstats", "Total Octets Received: 1000 0\nTotal Octets Transmitted: 1000 0\n")
	c := New(h.fs(nil), nil, t.Logf)
	c.Sample(ctx(t), at(time.Minute))
	h.Write("net/ether0/ifstats", "Total Octets Received: 2000 0\nTotal Octets Transmitted: 3000 0\n")
	h.bump(1, 30, 10, 0)
	m := c.Collect(ctx(t), at(0))
	for n, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Errorf("%s = %v", n, v)
		}
		if strings.HasPrefix(n, "interface.") {
			t.Errorf("%s = %v over a negative interval", n, v)
		}
	}
	if m["cpu.user.percentage"] != 75 {
		t.Errorf("%v", m)
	}
}
