package mpplan9

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// The README's table of the plugin's metrics is the contract of
// graphDefs: every graph in order, its metrics in order and which are
// stacked, and its unit ("per second" for the rates Mackerel has no unit
// for).
func TestREADMETable(t *testing.T) {
	rows := testkit.Table(t, testkit.READMESection(t, "## What the plugin reports"))
	if len(rows) != len(graphDefs) {
		t.Errorf("%d rows for %d graphs", len(rows), len(graphDefs))
	}
	for i, g := range graphDefs {
		if i >= len(rows) {
			break
		}
		row := rows[i]
		if len(row) != 4 || row[0] != "`plan9."+g.name+"`" {
			t.Errorf("row %d is %q, want graph %s", i+1, row, g.name)
			continue
		}
		// "`used`, `reclaim`, `free`, `kernel` (stacked), `total`": the
		// mark covers the names before it.
		var names []string
		var stackedNames []string
		pending := 0
		for _, item := range strings.Split(row[1], ", ") {
			name, isStacked := strings.CutSuffix(item, " (stacked)")
			names = append(names, strings.Trim(name, "`"))
			pending++
			if isStacked {
				stackedNames = append(stackedNames, names[len(names)-pending:]...)
				pending = 0
			}
		}
		var want, wantStacked []string
		for _, m := range g.metrics {
			want = append(want, m.Name)
			if m.Stacked {
				wantStacked = append(wantStacked, m.Name)
			}
		}
		if !slices.Equal(names, want) || !slices.Equal(stackedNames, wantStacked) {
			t.Errorf("%s: metrics %v stacked %v, want %v stacked %v", g.name, names, stackedNames, want, wantStacked)
		}
		unit := g.unit
		if g.rate && unit == "float" {
			unit = "per second"
		}
		if got, _, _ := strings.Cut(row[2], ","); got != unit {
			t.Errorf("%s: unit %q, want %q", g.name, row[2], unit)
		}
	}
}

// Every driver family that counts bytes gives byte rates: two readings of
// its ifstats a minute apart, the second with rx and tx bytes added (the
// drivers' files in lib/p9stats/testdata/ifstats).
func TestByteRates(t *testing.T) {
	dir := testkit.Path("lib/p9stats/testdata/ifstats")
	for _, tc := range []struct {
		file, rx, tx string
		rxAdd, txAdd uint64
	}{
		{"ether82563.txt", "Total Octets Received", "Total Octets Transmitted", 6000000, 1200000},
		// 967296 bytes to its 32-bit wrap, then 32704 more.
		{"etherelnk3.txt", "bytesrcvdok", "bytesxmittedok", 1000000, 600},
		{"ether1116.txt", "received bytes", "transmitted bytes", 60, 120},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			second := addTo(t, addTo(t, b, tc.rx, tc.rxAdd), tc.tx, tc.txAdd)
			m := rateOver(t, map[string][]byte{"net/ether0/ifstats": b}, map[string][]byte{"net/ether0/ifstats": second})
			if m["interface_bytes.ether0.in_bytes"] != float64(tc.rxAdd)/60 || m["interface_bytes.ether0.out_bytes"] != float64(tc.txAdd)/60 {
				t.Errorf("%v", pick(m, "interface_bytes."))
			}
		})
	}
	// An e1000 whose Total lines appear only in the second reading: its
	// Good and Total counters are not subtracted from each other.
	m := rateOver(t, map[string][]byte{"net/ether0/ifstats": []byte("Good Octets Received: 1000 0\nGood Octets Transmitted: 1000 0\n")},
		map[string][]byte{"net/ether0/ifstats": []byte("Good Octets Received: 2000 0\nGood Octets Transmitted: 2000 0\nTotal Octets Received: 2100 0\nTotal Octets Transmitted: 2100 0\n")})
	if got := pick(m, "interface_bytes."); len(got) != 0 {
		t.Errorf("rates across two kinds of counters: %v", got)
	}
}

// rateOver runs the plugin twice on the 9front capture, a minute apart,
// with files replaced, and returns the second run's metrics.
func rateOver(t *testing.T, first, second map[string][]byte) map[string]float64 {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state")
	base := ns.Dir(testkit.Capture(testkit.Front11879amd64))
	p, _ := newPlugin(t, overlay{FS: base, files: first}, state, clock(t0))
	collectWithState(t, p)
	p, stderr := newPlugin(t, overlay{FS: base, files: second}, state, clock(t0.Add(time.Minute)))
	m := collect(t, p)
	if stderr.Len() > 0 {
		t.Errorf("stderr %q", stderr)
	}
	return m
}

// addTo adds n to the counter on the line "name: value".
func addTo(t *testing.T, b []byte, name string, n uint64) []byte {
	t.Helper()
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, name+": "); ok {
			var v uint64
			f := strings.Fields(rest)
			fmt.Sscan(f[0], &v)
			f[0] = fmt.Sprint(v + n)
			if strings.Contains(string(b), "bytesrcvdok") {
				f[0] = fmt.Sprint(uint32(v + n)) // a C long
			}
			lines[i] = name + ": " + strings.Join(f, " ")
			return []byte(strings.Join(lines, "\n"))
		}
	}
	t.Fatalf("no %q line", name)
	return nil
}
