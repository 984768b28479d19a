package mpplan9

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// overlay replaces some files of a name space, as the kernel's files
// change between two readings.
type overlay struct {
	ns.FS
	files map[string][]byte
	block map[string]chan struct{} // reads of these wait for the channel
}

func (o overlay) ReadFile(name string) ([]byte, error) {
	if ch, ok := o.block[name]; ok {
		<-ch
	}
	if b, ok := o.files[name]; ok {
		if b == nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return b, nil
	}
	return o.FS.ReadFile(name)
}

// clock returns the given times in turn, then the last one forever.
func clock(times ...time.Time) func() time.Time {
	var mu sync.Mutex
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := times[0]
		if len(times) > 1 {
			times = times[1:]
		}
		return t
	}
}

var t0 = time.Date(2026, 11, 21, 5, 9, 0, 0, time.UTC)

func newPlugin(t *testing.T, fsys ns.FS, state string, now func() time.Time) (*Plugin, *bytes.Buffer) {
	var stderr bytes.Buffer
	return &Plugin{
		Prefix: "plan9", FS: fsys, StateFile: state, Identity: "test",
		Interval: time.Millisecond, Now: now, Stderr: &stderr,
	}, &stderr
}

func collect(t *testing.T, p *Plugin) map[string]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := p.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Two runs in sequence, as the agent makes them: the first has no state
// and measures over a short interval; the second uses the first's state
// and a second reading of /dev/sysstat taken 5 s later.
func twoRuns(t *testing.T, capture string) (first, second map[string]float64, stderr string) {
	state := filepath.Join(t.TempDir(), "state")
	base := ns.Dir(testkit.Capture(capture))
	p, e1 := newPlugin(t, base, state, clock(t0, t0.Add(time.Second)))
	first = collect(t, p)
	later := overlay{FS: base, files: map[string][]byte{"dev/sysstat": testkit.ReadCapture(t, capture, "dev/sysstat.2")}}
	p, e2 := newPlugin(t, later, state, clock(t0.Add(6*time.Second)))
	second = collect(t, p)
	return first, second, e1.String() + e2.String()
}

func TestContract9front(t *testing.T) {
	first, second, stderr := twoRuns(t, testkit.Front11879amd64)
	if stderr != "" {
		t.Errorf("stderr: %s", stderr)
	}
	// Rates from the two sysstat readings, 5 s apart (values of the files).
	want := map[string]float64{
		"kernel.context_switches": (82568 - 8810) / 5.0,
		"kernel.interrupts":       (22028 - 3565) / 5.0,
		"kernel.syscalls":         (38335 - 9845) / 5.0,
		"kernel.page_faults":      (208590 - 38166) / 5.0,
		"kernel.tlb_faults":       0,
		"kernel.tlb_purges":       0,
		"loadavg.load":            2.073,
		"cpu.idle":                3, "cpu.interrupt": 3, "cpu.busy": 94,
		"percpu.0.idle": 3, "percpu.0.interrupt": 3, "percpu.0.busy": 94,
		// /dev/swap: pages of 4096 bytes.
		"memory.used": 1011 * 4096, "memory.reclaim": 837 * 4096,
		"memory.free": (150376 - 1011 - 837) * 4096, "memory.kernel": 104215 * 4096,
		"memory.total": 1067155456,
		"swap.used":    0, "swap.total": 320000 * 4096,
		"pool.malloc.allocated": 2695808, "pool.malloc.size": 2916960, "pool.malloc.max": 426454272,
		"pool.draw.allocated": 0, "pool.draw.size": 0, "pool.draw.max": 383808845,
		"pool.secret.allocated": 224, "pool.secret.size": 65568, "pool.secret.max": 16777216,
		"tcp_established.established": 1,
		"processes.sleeping":          37, "processes.running": 0, "processes.ready": 0,
		"processes.stopped": 0, "processes.broken": 0, "processes.moribund": 0, "processes.new": 0,
		"uptime.seconds": 6.558524214,
		// Files that did not change between the readings: true zero rates.
		"interface.ether0.in_packets": 0, "interface.ether0.out_packets": 0,
		"interface_errors.ether0.crc": 0, "interface_errors.ether0.overflows": 0,
		"interface_errors.ether0.soft_overflows": 0, "interface_errors.ether0.framing": 0,
		"interface_errors.ether0.buffer": 0, "interface_errors.ether0.output": 0,
		"ip.in_receives": 0, "ip.in_delivers": 0, "ip.out_requests": 0, "ip.in_discards": 0,
		"ip.out_discards": 0, "ip.in_hdr_errors": 0, "ip.in_addr_errors": 0, "ip.out_no_routes": 0,
		"ip.forw_datagrams": 0,
		"tcp.active_opens":  0, "tcp.passive_opens": 0, "tcp.estab_resets": 0, "tcp.in_segs": 0,
		"tcp.out_segs": 0, "tcp.retrans_segs": 0, "tcp.in_errs": 0, "tcp.out_rsts": 0,
		"udp.in_datagrams": 0, "udp.out_datagrams": 0, "udp.no_ports": 0, "udp.in_errors": 0,
	}
	equal(t, second, want)
	// The first run printed every metric too, with rates measured within
	// the run (zero on an unchanging capture) and the first sysstat.
	if len(first) != len(want) || first["loadavg.load"] != 1.299 || first["kernel.syscalls"] != 0 {
		t.Errorf("first run: %d metrics, load %v", len(first), first["loadavg.load"])
	}
}

func equal(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s missing", k)
		} else if math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s = %v", k, v)
		}
	}
}

// Every capture yields its values, and only names of the contract.
func TestAllCaptures(t *testing.T) {
	for _, c := range testkit.Captures {
		t.Run(c, func(t *testing.T) {
			_, m, stderr := twoRuns(t, c)
			if stderr != "" {
				t.Errorf("stderr: %s", stderr)
			}
			checkNames(t, "plan9", m)
			sw := testkit.ReadCapture(t, c, "dev/sysstat")
			if len(sw) != 121 {
				t.Fatal("one CPU expected")
			}
			if m["kernel.context_switches"] <= 0 {
				t.Errorf("context switches %v", m["kernel.context_switches"])
			}
			if m["processes.sleeping"] == 0 || m["uptime.seconds"] <= 0 || m["memory.total"] <= 0 || m["memory.used"] <= 0 {
				t.Errorf("%v", m)
			}
		})
	}
}

// The classic layout has no reclaim line and no allocated pool figure;
// the 9k kernel has no memory, pagesize, kernel or swap lines.
func TestLayouts(t *testing.T) {
	_, legacy, _ := twoRuns(t, testkit.Legacy386)
	equal(t, pick(legacy, "memory.", "swap.", "pool."), map[string]float64{
		"memory.used": 568 * 4096, "memory.free": (196576 - 568) * 4096, "memory.kernel": 65536 * 4096,
		"memory.total": 1070465024, "swap.used": 0, "swap.total": 160000 * 4096,
		"pool.malloc.size": 1048832, "pool.malloc.max": 236089248, "pool.draw.size": 0, "pool.draw.max": 236089248,
	})
	if legacy["uptime.seconds"] != 7.65300492 || legacy["processes.ready"] != 1 {
		t.Errorf("uptime %v ready %v", legacy["uptime.seconds"], legacy["processes.ready"])
	}
	_, k, _ := twoRuns(t, testkit.Legacy9k)
	equal(t, pick(k, "memory.", "swap.", "pool."), map[string]float64{
		"memory.total": 204768 * 4096, "memory.free": (204137 + 67) * 4096, "memory.used": (204768 - 204137 - 67) * 4096,
		"pool.malloc.size": 26014832, "pool.malloc.max": 232030208, "pool.draw.size": 0, "pool.draw.max": 0,
	})
	_, old, _ := twoRuns(t, testkit.Front2016amd64)
	if old["processes.broken"] != 2 || old["uptime.seconds"] < 4.14 || old["uptime.seconds"] > 4.15 {
		t.Errorf("broken %v uptime %v", old["processes.broken"], old["uptime.seconds"])
	}
	if _, ok := old["memory.reclaim"]; ok {
		t.Error("reclaim printed for a kernel without the line")
	}
}

func pick(m map[string]float64, prefixes ...string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				out[k] = v
			}
		}
	}
	return out
}

var nameRE = regexp.MustCompile(`^[-a-zA-Z0-9_]+(\.[-a-zA-Z0-9_]+)+$`)

// checkNames: every metric is valid for Mackerel and belongs to exactly
// one graph definition, its last element being one of the graph's metrics.
func checkNames(t *testing.T, prefix string, m map[string]float64) {
	t.Helper()
	defs := (&Plugin{Prefix: prefix}).GraphDefinition()
	for k, v := range m {
		full := prefix + "." + k
		if !nameRE.MatchString(full) || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Errorf("%s = %v", full, v)
		}
		n := 0
		for g, def := range defs {
			re := regexp.MustCompile(`^` + strings.ReplaceAll(regexp.QuoteMeta(g), `#`, `[-a-zA-Z0-9_]+`) + `\.([-a-zA-Z0-9_]+)$`)
			if sm := re.FindStringSubmatch(k); sm != nil {
				for _, metric := range def.Metrics {
					if metric.Name == sm[1] {
						n++
					}
				}
			}
		}
		if n != 1 {
			t.Errorf("%s matches %d graph metrics, want 1", k, n)
		}
	}
}

func TestWrap(t *testing.T) {
	// A sysstat whose counters wrapped between two readings 60 s apart.
	c := testkit.Front11879amd64
	state := filepath.Join(t.TempDir(), "state")
	line := func(cs uint32) []byte {
		return []byte(fmt.Sprintf("%11d %11d %11d %11d %11d %11d %11d %11d %11d %11d \n", 0, cs, 10, 10, 10, 0, 0, 1000, 50, 0))
	}
	base := ns.Dir(testkit.Capture(c))
	p, _ := newPlugin(t, overlay{FS: base, files: map[string][]byte{"dev/sysstat": line(4294967000)}}, state, clock(t0))
	collectWithState(t, p)
	p, stderr := newPlugin(t, overlay{FS: base, files: map[string][]byte{"dev/sysstat": line(1096)}}, state, clock(t0.Add(time.Minute)))
	m := collect(t, p)
	if m["kernel.context_switches"] != 1392.0/60 || stderr.Len() != 0 {
		t.Errorf("rate %v, stderr %q", m["kernel.context_switches"], stderr)
	}
}

// collectWithState runs once and checks that a state was saved.
func collectWithState(t *testing.T, p *Plugin) map[string]float64 {
	t.Helper()
	m := collect(t, p)
	if _, err := os.Stat(p.StateFile); err != nil {
		t.Fatal(err)
	}
	return m
}

// A write to /dev/sysstat zeroes its counters: the kernel rates of that
// interval are dropped, not printed as 0 or as negative; other groups stay.
func TestReset(t *testing.T) {
	c := testkit.Front11879amd64
	state := filepath.Join(t.TempDir(), "state")
	base := ns.Dir(testkit.Capture(c))
	p, _ := newPlugin(t, overlay{FS: base, files: map[string][]byte{"dev/sysstat": testkit.ReadCapture(t, c, "dev/sysstat.2")}}, state, clock(t0))
	collectWithState(t, p)
	p, stderr := newPlugin(t, base, state, clock(t0.Add(5*time.Second)))
	m := collect(t, p)
	for k := range m {
		if strings.HasPrefix(k, "kernel.") {
			t.Errorf("%s printed after a reset", k)
		}
	}
	if _, ok := m["ip.in_receives"]; !ok {
		t.Error("other rates dropped too")
	}
	if !strings.Contains(stderr.String(), "kernel counters went backwards") {
		t.Errorf("stderr %q", stderr)
	}
	// The next interval has rates again.
	p, _ = newPlugin(t, base, state, clock(t0.Add(10*time.Second)))
	if m := collect(t, p); m["kernel.context_switches"] != 0 {
		t.Errorf("after the reset: %v", m["kernel.context_switches"])
	}
}

// A reboot (uptime went down) drops every rate of that interval.
func TestReboot(t *testing.T) {
	c := testkit.Front11879amd64
	state := filepath.Join(t.TempDir(), "state")
	base := ns.Dir(testkit.Capture(c))
	p, _ := newPlugin(t, base, state, clock(t0))
	collectWithState(t, p)
	rebooted := overlay{FS: base, files: map[string][]byte{"dev/time": []byte(" 1795237790   1795237790625120246               4643072             305157766              6524214 ")}}
	p, stderr := newPlugin(t, rebooted, state, clock(t0.Add(time.Minute)))
	m := collect(t, p)
	if _, ok := m["tcp.in_segs"]; ok || !strings.Contains(stderr.String(), "rebooted") {
		t.Errorf("rates after a reboot; stderr %q", stderr)
	}
	if m["memory.used"] == 0 {
		t.Error("gauges dropped too")
	}
}

// A previous sample more than 10 minutes old is not averaged over: the
// run measures its rates anew, as a first run does.
func TestStaleState(t *testing.T) {
	c := testkit.Front11879amd64
	state := filepath.Join(t.TempDir(), "state")
	base := ns.Dir(testkit.Capture(c))
	p, _ := newPlugin(t, base, state, clock(t0))
	collectWithState(t, p)
	p, stderr := newPlugin(t, base, state, clock(t0.Add(11*time.Minute), t0.Add(11*time.Minute+time.Second)))
	m := collect(t, p)
	if v, ok := m["kernel.syscalls"]; !ok || v != 0 || !strings.Contains(stderr.String(), "more than 10m0s; measuring rates over") {
		t.Errorf("stale state: syscalls %v %v; stderr %q", v, ok, stderr)
	}
	// That run saved a fresh sample.
	p, _ = newPlugin(t, base, state, clock(t0.Add(12*time.Minute)))
	if _, ok := collect(t, p)["kernel.syscalls"]; !ok {
		t.Error("no rates after a fresh sample")
	}
}

// A corrupt or foreign state file is not used: rates are measured within
// the run instead, and the state is rewritten.
func TestBadState(t *testing.T) {
	c := testkit.Front11879amd64
	state := filepath.Join(t.TempDir(), "state")
	base := ns.Dir(testkit.Capture(c))
	for _, content := range []string{
		"{not a state",
		// Version 1 was JSON.
		`{"version":1,"identity":"test","time":"2026-11-21T05:08:00Z","counters":[]}`,
		stateHeader + "\nidentity \"other host\"\ntime 1795237680000000000\nuptime 0\n",
		stateHeader + "\nidentity \"test\"\ntime 1795237680000000000\nuptime 0\nkernel.syscalls\t0\tkernel\tmany\t32\n",
		stateHeader + "\nidentity \"test\"\ntime 1795237680000000000\nuptime 0\nkernel.syscalls\t0\tkernel\t5", // torn
	} {
		os.WriteFile(state, []byte(content), 0o644)
		p, stderr := newPlugin(t, base, state, clock(t0, t0.Add(time.Second)))
		m := collect(t, p)
		if _, ok := m["kernel.syscalls"]; !ok || !strings.Contains(stderr.String(), "measuring rates over") {
			t.Errorf("%q: stderr %q", content, stderr)
		}
		b, _ := os.ReadFile(state)
		if id, s, err := decodeState(b); err != nil || id != "test" || len(s.Counters) == 0 {
			t.Errorf("state not rewritten: %v", err)
		}
	}
}

// Concurrent runs never leave a torn state file or temporary files.
func TestConcurrentState(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	base := ns.Dir(testkit.Capture(testkit.Front11879amd64))
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, _ := newPlugin(t, base, state, clock(t0.Add(time.Duration(i)*time.Second)))
			collect(t, p)
		}()
	}
	wg.Wait()
	b, _ := os.ReadFile(state)
	if _, s, err := decodeState(b); err != nil || len(s.Counters) == 0 {
		t.Errorf("state: %v", err)
	}
	// The state and its old link, nothing else.
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if e.Name() != "state" && e.Name() != "state"+oldSuffix {
			t.Errorf("file left: %s", e.Name())
		}
	}
}

// Concurrent runs, many times over, each read either no state or a whole
// one, never a torn one, and leave no file but the state and its old link.
func TestConcurrentSaves(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				now := t0.Add(time.Duration(g*1000+i) * time.Second)
				if _, err := loadState(state, "test", t0.Add(24*time.Hour)); err != nil && err != errNoState {
					t.Errorf("a run read %v", err)
					return
				}
				dropOld(state)
				if err := saveState(state, "test", sample{Time: now, Counters: []counter{{"kernel.syscalls", "0", "kernel", uint64(g*1000 + i), 32}}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	es, _ := os.ReadDir(filepath.Dir(state))
	if len(es) > 2 {
		t.Errorf("files left: %v", es)
	}
}

// A run keeps the state it replaces as a link, which the next run removes
// before it saves, so that no rename frees a file's blocks.
func TestOldStateKept(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "x"), filepath.Join(dir, "y")); err != nil {
		t.Skip("no hard links here:", err)
	}
	state := filepath.Join(dir, "state")
	save := func(i int) os.FileInfo {
		t.Helper()
		dropOld(state)
		if err := saveState(state, "test", sample{Time: t0.Add(time.Duration(i) * time.Minute), Counters: []counter{{"kernel.syscalls", "0", "kernel", uint64(i), 32}}}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(state)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	first := save(1)
	if _, err := os.Stat(state + oldSuffix); !os.IsNotExist(err) {
		t.Errorf("an old state after the first run: %v", err)
	}
	for i := 2; i <= 4; i++ {
		cur := save(i)
		old, err := os.Stat(state + oldSuffix)
		if err != nil || !os.SameFile(old, first) || os.SameFile(cur, first) {
			t.Fatalf("run %d: the old state is not the one before: %v", i, err)
		}
		first = cur
	}
	if s, err := loadState(state, "test", t0.Add(time.Hour)); err != nil || s.Counters[0].Value != 4 {
		t.Errorf("%+v %v", s, err)
	}
}

// A malformed file costs only its own group, with one line naming it.
func TestBrokenSource(t *testing.T) {
	c := testkit.Front11879amd64
	base := ns.Dir(testkit.Capture(c))
	bad := overlay{FS: base, files: map[string][]byte{"dev/swap": []byte("1067155456 memory\n4096 pagesize\nlots/150376 user\n")}}
	p, stderr := newPlugin(t, bad, filepath.Join(t.TempDir(), "state"), clock(t0, t0.Add(time.Second)))
	m := collect(t, p)
	for k := range m {
		if strings.HasPrefix(k, "memory.") || strings.HasPrefix(k, "swap.") || strings.HasPrefix(k, "pool.") {
			t.Errorf("%s printed from a broken /dev/swap", k)
		}
	}
	if m["loadavg.load"] != 1.299 || m["processes.sleeping"] != 37 {
		t.Error("other groups lost")
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "/dev/swap: line 3") {
		t.Errorf("stderr %q", stderr)
	}
	// A missing file is quiet: its group is simply absent.
	gone := overlay{FS: base, files: map[string][]byte{"net/tcp/stats": nil}}
	p, stderr = newPlugin(t, gone, filepath.Join(t.TempDir(), "state"), clock(t0, t0.Add(time.Second)))
	m = collect(t, p)
	if _, ok := m["tcp_established.established"]; ok || stderr.Len() != 0 {
		t.Errorf("missing tcp stats: stderr %q", stderr)
	}
}

// A file that never answers does not hold up the run past its deadline.
func TestDeadline(t *testing.T) {
	c := testkit.Front11879amd64
	hang := make(chan struct{})
	defer close(hang)
	slow := overlay{FS: ns.Dir(testkit.Capture(c)), block: map[string]chan struct{}{"net/tcp/stats": hang}}
	p, stderr := newPlugin(t, slow, filepath.Join(t.TempDir(), "state"), time.Now)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	m, err := p.Collect(ctx)
	if d := time.Since(start); d > 2*time.Second || err != nil {
		t.Errorf("took %v, %v", d, err)
	}
	if m["memory.used"] == 0 || !strings.Contains(stderr.String(), "tcp: p9stats: /net/tcp/stats: no answer before the deadline (context deadline exceeded)") {
		t.Errorf("memory %v; stderr %q", m["memory.used"], stderr)
	}
}

func TestOutput(t *testing.T) {
	p := &Plugin{Prefix: "p9", Now: clock(t0)}
	var b bytes.Buffer
	p.Output(&b, map[string]float64{"loadavg.load": 1.299, "memory.total": 1067155456, "x.tiny": 1e-7})
	want := "p9.loadavg.load\t1.299\t1795237740\np9.memory.total\t1067155456\t1795237740\np9.x.tiny\t0.0000001\t1795237740\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestRunFlags(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	// The single-dash spelling of other Mackerel plugins works.
	code := Run([]string{"-metric-key-prefix=p9x", "-tempfile", filepath.Join(dir, "s"), "--root", testkit.Capture(testkit.Legacy386)}, &out, &errb)
	if code != 0 || errb.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	m := map[string]float64{}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 3 || !strings.HasPrefix(f[0], "p9x.") {
			t.Fatalf("line %q", l)
		}
		var v float64
		fmt.Sscan(f[1], &v)
		m[strings.TrimPrefix(f[0], "p9x.")] = v
	}
	checkNames(t, "p9x", m)
	if _, err := os.Stat(filepath.Join(dir, "s")); err != nil {
		t.Error("no state at --tempfile")
	}
	for _, args := range [][]string{{"--bogus"}, {"--metric-key-prefix=a..b"}, {"--fs", "zfs:/srv/x"}, {"extra"}} {
		out.Reset()
		errb.Reset()
		if code := Run(args, &out, &errb); code != 1 || !strings.Contains(errb.String(), "--help") || out.Len() != 0 {
			t.Errorf("%q: exit %d stderr %q", args, code, errb.String())
		}
	}
	out.Reset()
	if code := Run([]string{"--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "--metric-key-prefix") {
		t.Errorf("help: %d %q", code, out.String())
	}
	out.Reset()
	if code := Run([]string{"--version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "mackerel-plugin-plan9 ") {
		t.Errorf("version: %d %q", code, out.String())
	}
}

// The graph definitions hold exactly the contract's graphs and units.
func TestGraphDefinition(t *testing.T) {
	defs := (&Plugin{Prefix: "plan9"}).GraphDefinition()
	want := map[string]string{
		"loadavg": "float", "cpu": "percentage", "percpu.#": "percentage", "kernel": "float",
		"memory": "bytes", "swap": "bytes", "pool.#": "bytes", "interface.#": "float",
		"interface_bytes.#": "bytes/sec", "interface_errors.#": "float", "ip": "float", "tcp": "float",
		"tcp_established": "integer", "udp": "float", "processes": "integer", "uptime": "float",
		"filesystem.#": "bytes", "temperature.#": "float", "battery": "percentage",
	}
	var names []string
	for k, g := range defs {
		names = append(names, k)
		if want[k] != g.Unit {
			t.Errorf("%s: unit %q, want %q", k, g.Unit, want[k])
		}
		if !strings.HasPrefix(g.Label, "Plan 9 ") {
			t.Errorf("%s: label %q", k, g.Label)
		}
	}
	sort.Strings(names)
	if len(defs) != len(want) {
		t.Errorf("graphs %v", names)
	}
	stacked := map[string]bool{"cpu": true, "percpu.#": true, "processes": true}
	for k, g := range defs {
		for _, m := range g.Metrics {
			if m.Stacked != (stacked[k] || (k == "memory" && m.Name != "total")) {
				t.Errorf("%s.%s stacked %v", k, m.Name, m.Stacked)
			}
		}
	}
}

// BenchmarkCollect is one whole collection of the 9front capture from the
// local disk, with a previous sample in the state file, as every run of
// the agent after the first.
func BenchmarkCollect(b *testing.B) {
	state := filepath.Join(b.TempDir(), "state")
	var stderr bytes.Buffer
	p := &Plugin{Prefix: "plan9", FS: ns.Dir(testkit.Capture(testkit.Front11879amd64)), StateFile: state,
		Identity: "bench", Interval: 0, Now: time.Now, Stderr: &stderr}
	p.Collect(context.Background())
	b.ReportAllocs()
	for b.Loop() {
		if m, _ := p.Collect(context.Background()); len(m) != 67 {
			b.Fatalf("%d metrics; %s", len(m), stderr.String())
		}
	}
}

// The state file keeps every field of a sample, whatever the identity.
func TestStateRoundTrip(t *testing.T) {
	in := sample{Time: time.Unix(1795237740, 123456789), Uptime: 6.558524214, Counters: []counter{
		{"kernel.syscalls", "0", "kernel", 4294967295, 32},
		{"interface.ether0.in_packets", "", "interface ether0", 1 << 60, 64},
	}}
	for _, id := range []string{"root:/", "9p:tcp!gnot!17564:", "root:/odd\tname\nwith \"quotes\""} {
		gotID, out, err := decodeState(encodeState(id, in))
		if err != nil || gotID != id || !out.Time.Equal(in.Time) || out.Uptime != in.Uptime || !reflect.DeepEqual(out.Counters, in.Counters) {
			t.Errorf("%q: got %q %+v %v", id, gotID, out, err)
		}
	}
	if _, _, err := decodeState([]byte(`{"version":1}`)); err != errOtherVersion {
		t.Errorf("version 1: %v", err)
	}
}
