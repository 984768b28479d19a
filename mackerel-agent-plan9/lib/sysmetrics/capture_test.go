package sysmetrics

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// The factors by which Unix kernels decay their load averages every 5 s,
// exp(−5/60), exp(−5/300) and exp(−5/900), written out.
const (
	e1  = 0.9200444146293233
	e5  = 0.9834714538216175
	e15 = 0.9944598480048967
)

// captureCase holds what the test reads off a capture's files by eye.
type captureCase struct {
	capture string
	// CPU 0 of dev/sysstat and dev/sysstat.2 (the only CPU): columns 8,
	// 9 and 10, the load × 1000, idle % and interrupt %.
	s1, s2 [3]float64
	// From dev/swap: memory and available bytes, and swap total and
	// used bytes (nil when the kernel has no swap line).
	total, avail float64
	swap         []float64
}

var captureCases = []captureCase{
	// 1067155456 memory, 4096 pagesize, 1011/150376 user, 0/320000 swap,
	// 837/150376 reclaim: user used leaves out the reclaimable pages.
	{testkit.Front11879amd64, [3]float64{1299, 24, 1}, [3]float64{2073, 3, 3},
		1067155456, (150376 - 1011) * 4096, []float64{320000 * 4096, 0}},
	// 1066962944 memory, 1056/196409 user, 0/320000 swap, 764 reclaim.
	{testkit.Front11879x386, [3]float64{1186, 33, 1}, [3]float64{1983, 4, 3},
		1066962944, (196409 - 1056) * 4096, []float64{320000 * 4096, 0}},
	// 1068609536 memory, 14263/153913 user, 0/160000 swap, no reclaim
	// line (a 2016 kernel).
	{testkit.Front2016amd64, [3]float64{2025, 0, 1}, [3]float64{2156, 1, 3},
		1068609536, (153913 - 14263) * 4096, []float64{160000 * 4096, 0}},
	// 1068421120 memory, 1261/196409 user, 0/160000 swap.
	{testkit.Front2016x386, [3]float64{2200, 0, 1}, [3]float64{1988, 2, 3},
		1068421120, (196409 - 1261) * 4096, []float64{160000 * 4096, 0}},
	// 1070465024 memory, 568/196576 user, 0/160000 swap.
	{testkit.Legacy386, [3]float64{2005, 0, 15}, [3]float64{2326, 0, 9},
		1070465024, (196576 - 568) * 4096, []float64{160000 * 4096, 0}},
	// The 9k kernel: "204137/204768 4K color 0 blocks avail" and "67/523
	// 4K user pages avail" (free pages the page pool holds), no memory,
	// pagesize or swap line.
	{testkit.Legacy9k, [3]float64{2544, 0, 1}, [3]float64{2439, 0, 3},
		204768 * 4096, (204137 + 67) * 4096, nil},
}

// Every capture, read twice 5 s apart: dev/sysstat, then dev/sysstat.2
// with the processes 5 s older, the first of them having run 300 ms in
// user mode and 100 ms in the kernel.
func TestCaptures(t *testing.T) {
	for _, tc := range captureCases {
		t.Run(tc.capture, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, tc.capture)
			var log logbook
			c := New(h.fs(nil), nil, log.logf)
			c.Sample(ctx(t), at(0))
			h.Write("dev/sysstat", h.Read("dev/sysstat.2"))
			h.age(5 * time.Second)
			h.bump(h.pids()[0], 300, 100, 0)
			c.Sample(ctx(t), at(5*time.Second))
			got := c.Collect(ctx(t), at(5*time.Second))

			l1, l2 := tc.s1[0]/1000, tc.s2[0]/1000
			busy := (100 - tc.s1[1] - tc.s1[2] + 100 - tc.s2[1] - tc.s2[2]) / 2
			want := map[string]float64{
				"loadavg1":              l1*e1 + l2*(1-e1),
				"loadavg5":              l1*e5 + l2*(1-e5),
				"loadavg15":             l1*e15 + l2*(1-e15),
				"cpu.idle.percentage":   (tc.s1[1] + tc.s2[1]) / 2,
				"cpu.irq.percentage":    (tc.s1[2] + tc.s2[2]) / 2,
				"cpu.user.percentage":   busy * 300 / 400,
				"cpu.system.percentage": busy * 100 / 400,
				"memory.total":          tc.total,
				"memory.mem_available":  tc.avail,
				"memory.used":           tc.total - tc.avail,
			}
			if tc.swap != nil {
				want["memory.swap_total"] = tc.swap[0]
				want["memory.swap_free"] = tc.swap[0] - tc.swap[1]
			}
			same(t, tc.capture, got, want)

			// The identities the README states.
			if s := got["cpu.idle.percentage"] + got["cpu.irq.percentage"] + got["cpu.user.percentage"] + got["cpu.system.percentage"]; !near(s, 100) {
				t.Errorf("the CPU stack adds up to %v, not 100 × 1 CPU", s)
			}
			if got["memory.used"]+got["memory.mem_available"] != got["memory.total"] {
				t.Errorf("used %v + available %v != total %v", got["memory.used"], got["memory.mem_available"], got["memory.total"])
			}
			if names := c.Names(); !slices.Equal(names, slices.Sorted(maps.Keys(want))) {
				t.Errorf("Names: %v", names)
			}
			if l := log.take(); len(l) > 0 {
				t.Errorf("logged %q", l)
			}
			// Every capture's NIC is virtio, which counts no bytes.
			for n := range got {
				if strings.HasPrefix(n, "interface.") {
					t.Errorf("%s posted for a virtio NIC", n)
				}
			}
		})
	}
}

// The agent's once subcommand takes two samples 1 s apart and collects at
// once: every name is there, rates over that second.
func TestOnce(t *testing.T) {
	h := newHost(t, testkit.Front11879amd64)
	h.Write("net/ether0/ifstats", "Total Octets Received: 5000 1\nTotal Octets Transmitted: 3000 1\n")
	c := New(h.fs(nil), nil, t.Logf)
	c.Sample(ctx(t), at(0))
	h.Write("dev/sysstat", h.Read("dev/sysstat.2"))
	h.Write("net/ether0/ifstats", "Total Octets Received: 5600 600\nTotal Octets Transmitted: 3090 90\n")
	h.age(time.Second)
	h.bump(1, 10, 0, 0) // bootrc
	h.bump(4, 0, 20, 0) // closeproc
	c.Sample(ctx(t), at(time.Second))
	got := c.Collect(ctx(t), at(time.Second))
	busy := (100 - 24 - 1 + 100 - 3 - 3) / 2.0
	same(t, "once", got, map[string]float64{
		"loadavg1":                       1.299*0.9834714538216175 + 2.073*(1-0.9834714538216175), // exp(−1/60)
		"loadavg5":                       1.299*0.9966722160545233 + 2.073*(1-0.9966722160545233), // exp(−1/300)
		"loadavg15":                      1.299*0.9988895059442793 + 2.073*(1-0.9988895059442793), // exp(−1/900)
		"cpu.idle.percentage":            (24 + 3) / 2.0,
		"cpu.irq.percentage":             (1 + 3) / 2.0,
		"cpu.user.percentage":            busy * 10 / 30,
		"cpu.system.percentage":          busy * 20 / 30,
		"memory.total":                   1067155456,
		"memory.mem_available":           (150376 - 1011) * 4096,
		"memory.used":                    1067155456 - (150376-1011)*4096,
		"memory.swap_total":              320000 * 4096,
		"memory.swap_free":               320000 * 4096,
		"interface.ether0.rxBytes.delta": 600,
		"interface.ether0.txBytes.delta": 90,
	})
}

// Two CPUs, as 9front prints them on an SMP machine (the lines of
// lufia/plan9stats's 2-CPU 9legacy capture, then the second CPU busier):
// every share sums over the CPUs, so the stack reaches 200; the load is
// CPU 0's, the other lines carrying 0.
func TestTwoCPUs(t *testing.T) {
	h := newHost(t, testkit.Front11879amd64)
	h.Write("dev/sysstat",
		"          0    59251106    37524162     1208203       65907           0           0           7         100           0 \n"+
			"          1   219155408    28582838     5017097     1002072           0           0           0          98           1 \n")
	c := New(h.fs(nil), nil, t.Logf)
	c.Sample(ctx(t), at(0))
	h.Write("dev/sysstat",
		"          0    59251200    37524200     1208300       65907           0           0        1500          40          10 \n"+
			"          1   219155500    28582900     5017100     1002072           0           0           0          10          20 \n")
	h.age(5 * time.Second)
	h.bump(1, 100, 100, 0)
	c.Sample(ctx(t), at(5*time.Second))
	got := c.Collect(ctx(t), at(5*time.Second))
	// Idle (100 + 98) and (40 + 10), interrupts (0 + 1) and (10 + 20):
	// busy (0 + 1) and (50 + 70), split evenly.
	busy := (1 + 120) / 2.0
	same(t, "two CPUs", got, map[string]float64{
		"loadavg1": 0.007*e1 + 1.5*(1-e1), "loadavg5": 0.007*e5 + 1.5*(1-e5), "loadavg15": 0.007*e15 + 1.5*(1-e15),
		"cpu.idle.percentage":   (198 + 50) / 2.0,
		"cpu.irq.percentage":    (1 + 30) / 2.0,
		"cpu.user.percentage":   busy / 2,
		"cpu.system.percentage": busy / 2,
		"memory.total":          1067155456,
		"memory.mem_available":  (150376 - 1011) * 4096,
		"memory.used":           1067155456 - (150376-1011)*4096,
		"memory.swap_total":     320000 * 4096,
		"memory.swap_free":      320000 * 4096,
	})
	if s := got["cpu.idle.percentage"] + got["cpu.irq.percentage"] + got["cpu.user.percentage"] + got["cpu.system.percentage"]; s != 200 {
		t.Errorf("the stack adds up to %v, not 100 × 2 CPUs", s)
	}
	specs, err := Specs(ctx(t), h.fs(nil), nil)
	if err != nil || len(specs.Meta.CPU) != 2 {
		t.Errorf("cpu %v, %v", specs.Meta.CPU, err)
	}
}
