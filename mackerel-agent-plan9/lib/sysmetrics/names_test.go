package sysmetrics

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// upstream is every system metric name upstream mackerel-agent (v0.87.0)
// posts on Linux, as its source spells them, with the device segment
// written <name> or <dev>.
var upstream = []string{
	// metrics/loadavg.go
	"loadavg1", "loadavg5", "loadavg15",
	// metrics/linux/cpuusage.go
	"cpu.user.percentage", "cpu.nice.percentage", "cpu.system.percentage", "cpu.idle.percentage",
	"cpu.iowait.percentage", "cpu.irq.percentage", "cpu.softirq.percentage", "cpu.steal.percentage",
	"cpu.guest.percentage",
	// metrics/linux/memory.go: mem_available, or else buffers, cached
	// and free
	"memory.total", "memory.used", "memory.swap_total", "memory.swap_cached", "memory.swap_free",
	"memory.mem_available", "memory.buffers", "memory.cached", "memory.free",
	// metrics/interface.go
	"interface.<name>.rxBytes.delta", "interface.<name>.txBytes.delta",
	// metrics/linux/disk.go (postDiskMetricsRegexp)
	"disk.<dev>.reads.delta", "disk.<dev>.writes.delta",
	// metrics/filesystem.go
	"filesystem.<name>.size", "filesystem.<name>.used",
}

// posted is the part of upstream that Plan 9 has a source for.
var posted = []string{
	"loadavg1", "loadavg5", "loadavg15",
	"cpu.user.percentage", "cpu.system.percentage", "cpu.idle.percentage", "cpu.irq.percentage",
	"memory.total", "memory.used", "memory.swap_total", "memory.swap_free", "memory.mem_available",
	"interface.<name>.rxBytes.delta", "interface.<name>.txBytes.delta",
	"filesystem.<name>.size", "filesystem.<name>.used",
}

var devSegment = regexp.MustCompile(`^(interface|filesystem)\.[A-Za-z0-9_-]+\.`)

// pattern writes a metric's device segment as upstream's list does.
func pattern(name string) string {
	return devSegment.ReplaceAllString(name, "$1.<name>.")
}

// Everything a Collector can post, on a host with a NIC that counts bytes
// and two file servers: exactly the posted names, all of them upstream's.
func TestNamesAreUpstreams(t *testing.T) {
	for _, n := range posted {
		if !slices.Contains(upstream, n) {
			t.Errorf("%s is not upstream's", n)
		}
	}
	h := newHost(t, testkit.Front11879amd64)
	h.Write("net/ether0/ifstats", "Total Octets Received: 500 0\nTotal Octets Transmitted: 700 0\n")
	consoles := map[string]testkit.Console{"srv/cwfs.cmd": testkit.RealConsole(t, "cwfs64x-statw.txt"), "srv/fscons": testkit.RealConsole(t, "fossil-df.txt")}
	specs := []fsspace.Spec{{Kind: "cwfs", Console: "srv/cwfs.cmd"}, {Kind: "fossil", Console: "srv/fscons", Name: "main"}}
	c := New(h.fs(consoles), specs, t.Logf)
	c.Sample(ctx(t), at(0))
	h.age(time.Minute)
	h.bump(1, 10, 10, 0)
	m := c.Collect(ctx(t), at(time.Minute))
	got := map[string]bool{}
	for n := range m {
		got[pattern(n)] = true
	}
	if p := slices.Sorted(maps.Keys(got)); !slices.Equal(p, slices.Sorted(slices.Values(posted))) {
		t.Errorf("posted %v\nwant %v", p, posted)
	}
	for _, n := range []string{"interface.ether0.rxBytes.delta", "filesystem.cwfs.size", "filesystem.fscons_main.used"} {
		if _, ok := m[n]; !ok {
			t.Errorf("%s missing from %v", n, slices.Sorted(maps.Keys(m)))
		}
	}
	if names := c.Names(); !slices.Equal(names, slices.Sorted(maps.Keys(m))) {
		t.Errorf("Names() %v", names)
	}
}

// The README's table has one row for every upstream name: posted names
// with their unit, the rest saying they are left out.
func TestREADMETable(t *testing.T) {
	rows := map[string][]string{}
	var order []string
	for _, cells := range testkit.Table(t, testkit.READMESection(t, "## System metrics of mackerel-agent-plan9")) {
		if len(cells) != 3 {
			t.Errorf("row with %d cells: %q", len(cells), cells)
			continue
		}
		name := strings.Trim(cells[0], "`")
		if _, dup := rows[name]; dup {
			t.Errorf("%s has two rows", name)
		}
		rows[name] = cells
		order = append(order, name)
	}
	if !slices.Equal(slices.Sorted(slices.Values(order)), slices.Sorted(slices.Values(upstream))) {
		t.Errorf("the table's names %v\nupstream's %v", order, upstream)
	}
	units := map[string]string{"loadavg": "float", "cpu": "percentage", "memory": "bytes", "interface": "bytes/sec", "filesystem": "bytes"}
	for name, cells := range rows {
		unit, how := cells[1], cells[2]
		family := strings.TrimRight(strings.Split(name, ".")[0], "0123456789")
		if slices.Contains(posted, name) {
			if unit != units[family] || strings.HasPrefix(how, "Left out") {
				t.Errorf("%s is posted: unit %q, %q", name, unit, how)
			}
		} else if unit != "—" || !strings.HasPrefix(how, "Left out") {
			t.Errorf("%s is not posted: unit %q, %q", name, unit, how)
		}
	}
}

// The README says why /dev/swap's kernel line is not used: with the user
// pages it does not make up memory on any capture that has it.
func TestKernelLineDoesNotAddUp(t *testing.T) {
	for _, tc := range []struct {
		capture               string
		memory, kernel, users uint64 // bytes, pages, pages
	}{
		{testkit.Front11879amd64, 1067155456, 104215, 150376}, // 5945 pages short
		{testkit.Front11879x386, 1066962944, 65536, 196409},   // 1456 pages over
		{testkit.Front2016amd64, 1068609536, 104357, 153913},
		{testkit.Front2016x386, 1068421120, 65536, 196409},
		{testkit.Legacy386, 1070465024, 65536, 196576},
	} {
		sw, err := p9stats.ParseSwap(testkit.ReadCapture(t, tc.capture, "dev/swap"))
		if err != nil {
			t.Fatal(err)
		}
		if sw.MemoryBytes != tc.memory || sw.KernelPages != tc.kernel || sw.User.Total != tc.users {
			t.Errorf("%s: read %d, %d, %d", tc.capture, sw.MemoryBytes, sw.KernelPages, sw.User.Total)
		}
		if (tc.kernel+tc.users)*4096 == tc.memory {
			t.Errorf("%s: kernel + user pages make up memory", tc.capture)
		}
	}
}
