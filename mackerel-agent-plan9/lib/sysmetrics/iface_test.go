package sysmetrics

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

func TestCounterRate(t *testing.T) {
	const mbps100 = 100e6 / 8
	for _, tc := range []struct {
		name      string
		prev, cur uint64
		bits      uint
		d         time.Duration
		max       float64
		want      float64
		ok        bool
	}{
		{"64-bit", 1000, 7000, 64, time.Minute, 0, 100, true},
		{"unchanged", 7000, 7000, 64, time.Minute, 0, 0, true},
		{"64-bit went back", 7000, 1000, 64, time.Minute, 0, 0, false},
		{"64-bit near 2^32 went back", 4294967000, 100, 64, time.Minute, 0, 0, false},
		// 296 bytes to the wrap and 5704 after it: 6000 in a minute.
		{"32-bit wrap", 4294967000, 5704, 32, time.Minute, mbps100, 100, true},
		{"32-bit wrap, link speed unknown", 4294967000, 5704, 32, time.Minute, 0, 100, true},
		// Going back 1 MB would be a wrap of 4.29 GB in a minute, 71 MB/s
		// on a 12.5 MB/s link: a reset.
		{"32-bit went back", 5000000, 4000000, 32, time.Minute, mbps100, 0, false},
		{"32-bit value past 32 bits", 1 << 33, 5, 32, time.Minute, 0, 0, false},
		{"no time", 1000, 7000, 64, 0, 0, 0, false},
		{"time went back", 1000, 7000, 64, -time.Second, 0, 0, false},
	} {
		got, ok := counterRate(tc.prev, tc.cur, tc.bits, tc.d, tc.max)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

const stats100 = "in: 10\nlink: 1\nout: 20\ncrc errs: 0\noverflows: 0\nsoft overflows: 0\nframing errs: 0\nbuffer errs: 0\noutput errs: 0\nprom: 0\nmbps: 100\naddr: 0001020304ff\n"

// Byte rates through the Collector over a minute, on edited copies whose
// NICs count bytes.
func TestInterfaces(t *testing.T) {
	for _, tc := range []struct {
		name          string
		stats         string // net/ether0/stats, when not the capture's
		first, second string // net/ether0/ifstats
		want          map[string]float64
		logged        string
	}{
		{"e1000", "",
			"Total Octets Received: 766515009 3170\nTotal Octets Transmitted: 136030888 2320\n",
			"Total Octets Received: 772515009 3170\nTotal Octets Transmitted: 137230888 2320\n",
			map[string]float64{"interface.ether0.rxBytes.delta": 6000000 / 60.0, "interface.ether0.txBytes.delta": 1200000 / 60.0}, ""},
		{"e1000 line absent while zero", "",
			"Total Octets Received: 500 500\n",
			"Total Octets Received: 6500 6000\nTotal Octets Transmitted: 60 60\n",
			map[string]float64{"interface.ether0.rxBytes.delta": 100, "interface.ether0.txBytes.delta": 1}, ""},
		// The driver was restarted: its count began again.
		{"e1000 went back", "",
			"Total Octets Received: 766515009 3170\nTotal Octets Transmitted: 136030888 2320\n",
			"Total Octets Received: 6000 6000\nTotal Octets Transmitted: 136031488 600\n",
			map[string]float64{"interface.ether0.txBytes.delta": 10},
			"interface.ether0.rxBytes.delta: left out: /net/ether0/ifstats: the counter went back from 766515009 to 6000"},
		// 32-bit counters on a 100 Mbit/s card: a wrap of 1967296 bytes
		// in a minute fits the link.
		{"elnk3 wrap", stats100,
			"bytesrcvdok: 4294000000\nbytesxmittedok: 1000\n",
			"bytesrcvdok: 1000000\nbytesxmittedok: 61000\n",
			map[string]float64{"interface.ether0.rxBytes.delta": (1000000 + 4294967296 - 4294000000) / 60.0, "interface.ether0.txBytes.delta": 1000}, ""},
		{"elnk3 reset", stats100,
			"bytesrcvdok: 5000000\nbytesxmittedok: 1000\n",
			"bytesrcvdok: 4000000\nbytesxmittedok: 61000\n",
			map[string]float64{"interface.ether0.txBytes.delta": 1000},
			"interface.ether0.rxBytes.delta: left out: /net/ether0/ifstats: the counter went back from 5000000 to 4000000"},
		{"kirkwood", "",
			"received bytes: 100\nbad received bytes: 0\ntransmitted bytes: 40\n",
			"received bytes: 700\nbad received bytes: 5\ntransmitted bytes: 100\n",
			map[string]float64{"interface.ether0.rxBytes.delta": 10, "interface.ether0.txBytes.delta": 1}, ""},
		// The capture's own virtio ifstats, read twice.
		{"virtio", "", "", "", map[string]float64{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t, testkit.Front11879amd64)
			if tc.stats != "" {
				h.Write("net/ether0/stats", tc.stats)
			}
			if tc.first != "" {
				h.Write("net/ether0/ifstats", tc.first)
			}
			var log logbook
			c := New(h.fs(nil), nil, log.logf)
			c.Sample(ctx(t), at(0))
			if tc.second != "" {
				h.Write("net/ether0/ifstats", tc.second)
			}
			got := c.Collect(ctx(t), at(time.Minute))
			for n := range got {
				if !strings.HasPrefix(n, "interface.") {
					delete(got, n)
				}
			}
			same(t, tc.name, got, tc.want)
			lines := strings.Join(log.take(), "\n")
			if lines != tc.logged {
				t.Errorf("logged %q, want %q", lines, tc.logged)
			}
		})
	}
}

// The next minute's rates start from this minute's reading; a minute in
// which ifstats cannot be read stretches the next interval over two.
func TestInterfaceIntervals(t *testing.T) {
	h := newHost(t, testkit.Front11879amd64)
	write := func(rx, tx int) {
		h.Write("net/ether0/ifstats", fmt.Sprintf("Total Octets Received: %d 0\nTotal Octets Transmitted: %d 0\n", rx, tx))
	}
	c := New(h.fs(nil), nil, t.Logf)
	write(1000, 1000)
	c.Sample(ctx(t), at(0))
	write(7000, 1600)
	m := c.Collect(ctx(t), at(time.Minute))
	if m["interface.ether0.rxBytes.delta"] != 100 || m["interface.ether0.txBytes.delta"] != 10 {
		t.Errorf("first minute: %v", m)
	}
	h.Write("net/ether0/ifstats", "-")
	m = c.Collect(ctx(t), at(2*time.Minute))
	if _, ok := m["interface.ether0.rxBytes.delta"]; ok {
		t.Errorf("second minute without ifstats: %v", m)
	}
	write(7000+12000, 1600+2400)
	m = c.Collect(ctx(t), at(3*time.Minute))
	if m["interface.ether0.rxBytes.delta"] != 100 || m["interface.ether0.txBytes.delta"] != 20 {
		t.Errorf("third minute, over two: %v", m)
	}
}

// lufia/plan9stats's capture (9legacy, Intel e1000 under QEMU) holds two
// reads of ifstats: ether0/ifstats and ether0/0/ifstats, the same device
// read at another moment.
func TestLufiaE1000(t *testing.T) {
	dir := testkit.Lufia(t)
	is, _ := os.ReadFile(filepath.Join(dir, "net/ether0/ifstats"))
	is0, _ := os.ReadFile(filepath.Join(dir, "net/ether0/0/ifstats"))
	a, b := p9stats.ParseIfStats(is), p9stats.ParseIfStats(is0)
	// "Total Octets Received: 766515009 3170", "Total Octets Transmitted: 136030888 2320"
	if !a.HasOctets || a.Octets.Name != "e1000-total" || a.InOctets != 766515009 || a.OutOctets != 136030888 {
		t.Errorf("ether0/ifstats: %+v", a)
	}
	// "Total Octets Received: 3529835231 1225", "Total Octets Transmitted: 291100447 2164"
	if rx, tx, ok := b.OctetsOf(a.Octets); !ok || rx != 3529835231 || tx != 291100447 {
		t.Errorf("ether0/0/ifstats: %d %d %v", rx, tx, ok)
	}
	// Through the Collector, on its name space, whose files do not change.
	c := New(ns.Dir(dir), nil, t.Logf)
	c.Sample(ctx(t), at(0))
	m := c.Collect(ctx(t), at(time.Minute))
	if v, ok := m["interface.ether0.rxBytes.delta"]; !ok || v != 0 {
		t.Errorf("unchanged files: %v", m)
	}
	if v, ok := m["interface.ether0.txBytes.delta"]; !ok || v != 0 {
		t.Errorf("unchanged files: %v", m)
	}
}

// The files of every driver family that counts bytes (written from the
// drivers' sources, lib/p9stats/testdata/ifstats) give byte rates, as the
// plugin's interface_bytes: both ask p9stats which counters to read.
func TestInterfacesOfDriverFiles(t *testing.T) {
	for _, f := range []string{"ether82563.txt", "etherelnk3.txt", "ether1116.txt"} {
		b, err := os.ReadFile(testkit.Path("lib/p9stats/testdata/ifstats/" + f))
		if err != nil {
			t.Fatal(err)
		}
		h := newHost(t, testkit.Front11879amd64)
		h.Write("net/ether0/stats", stats100)
		h.Write("net/ether0/ifstats", string(b))
		c := New(h.fs(nil), nil, t.Logf)
		c.Sample(ctx(t), at(0))
		m := c.Collect(ctx(t), at(time.Minute))
		if m["interface.ether0.rxBytes.delta"] != 0 || m["interface.ether0.txBytes.delta"] != 0 || len(c.Names()) == 0 {
			t.Errorf("%s: %v", f, m)
		}
		if _, ok := m["interface.ether0.rxBytes.delta"]; !ok {
			t.Errorf("%s: no byte rates", f)
		}
	}
}
