package sysmetrics

import (
	"context"
	"math"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// FuzzCollect feeds a Collector two readings of every file it samples, as
// a kernel might serve them or garble them, and holds it to what the
// README promises: no panic; no value NaN, infinite or negative; the CPU
// stack within 100 × CPUs; used + mem_available = total. The seeds are the
// captures.
func FuzzCollect(f *testing.F) {
	for _, c := range testkit.Captures {
		read := func(name string) string { return string(testkit.ReadCapture(f, c, name)) }
		f.Add(read("dev/sysstat"), read("dev/sysstat.2"), read("dev/swap"), read("net/ether0/ifstats"),
			"Total Octets Received: 766515009 3170\nTotal Octets Transmitted: 136030888 2320\n",
			read("proc/1/status"), read("proc/1/status"))
	}
	f.Add("0 1 2 3 4 5 6 7 4294967295 4294967295\n1 1 2 3 4 5 6 7 8 9\n", "0 1 2 3 4 5 6 7 100 100\n",
		"18446744073709551615 memory\n1 pagesize\n0/18446744073709551615 user\n", "bytesrcvdok: 4294967295\nbytesxmittedok: 0\n",
		"bytesrcvdok: 0\nbytesxmittedok: 4294967295\n",
		"a b c 4294967295 4294967295 0 0 0 0 0 0 0", "a b c 0 0 60000 0 0 0 0 0 0")
	f.Fuzz(func(t *testing.T, sysstat1, sysstat2, swap, ifstats1, ifstats2, status1, status2 string) {
		files := fstest.MapFS{
			"dev/sysstat":        {Data: []byte(sysstat1)},
			"dev/swap":           {Data: []byte(swap)},
			"net/ether0/stats":   {Data: []byte("in: 1\nout: 1\nmbps: 1000\n")},
			"net/ether0/ifstats": {Data: []byte(ifstats1)},
			"proc/1/status":      {Data: []byte(status1)},
		}
		c := New(files, nil, func(string, ...any) {})
		ctx := context.Background()
		c.Sample(ctx, at(0))
		files["dev/sysstat"] = &fstest.MapFile{Data: []byte(sysstat2)}
		files["net/ether0/ifstats"] = &fstest.MapFile{Data: []byte(ifstats2)}
		files["proc/1/status"] = &fstest.MapFile{Data: []byte(status2)}
		c.Sample(ctx, at(5*time.Second))
		m := c.Collect(ctx, at(time.Minute))
		var stack float64
		for n, v := range m {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Errorf("%s = %v", n, v)
			}
			if strings.HasPrefix(n, "cpu.") {
				stack += v
			}
		}
		// Each line of sysstat is one CPU, of at most 100 % each.
		if n := max(cpuLines(sysstat1), cpuLines(sysstat2)); stack > 100*float64(n)*(1+1e-12) {
			t.Errorf("CPU stack %v for at most %d CPUs", stack, n)
		}
		if total, ok := m["memory.total"]; ok && !near(m["memory.used"]+m["memory.mem_available"], total) {
			t.Errorf("used %v + available %v != total %v", m["memory.used"], m["memory.mem_available"], total)
		}
	})
}

func cpuLines(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if len(strings.Fields(l)) > 0 {
			n++
		}
	}
	return n
}
