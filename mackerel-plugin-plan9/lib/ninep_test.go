package mpplan9

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"9fans.net/go/plan9"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/ninep"
)

// values runs the plugin and returns its lines without the time column.
func values(t *testing.T, args ...string) (lines []string, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Run(append([]string{"--tempfile", filepath.Join(t.TempDir(), "state")}, args...), &out, &errb); code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errb.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			t.Fatalf("line %q", l)
		}
		lines = append(lines, f[0]+"\t"+f[1])
	}
	return lines, errb.String()
}

// Over 9P the plugin reports exactly what it reports from the same files
// on disk, for every capture.
func TestSameOver9P(t *testing.T) {
	for _, c := range testkit.Captures {
		t.Run(c, func(t *testing.T) {
			var mu sync.Mutex
			var writes []string
			// Read-only: nothing is opened but for reading, nothing written.
			watch := func(f *plan9.Fcall, path string) p9test.Fault {
				if (f.Type == plan9.Topen && f.Mode != plan9.OREAD) || f.Type == plan9.Twrite || f.Type == plan9.Tcreate ||
					f.Type == plan9.Tremove || f.Type == plan9.Twstat {
					mu.Lock()
					writes = append(writes, f.String()+" on "+path)
					mu.Unlock()
				}
				return p9test.Answer
			}
			addr := p9test.Start(t, &p9test.Server{Root: testkit.Capture(c), Fault: watch})
			local, e1 := values(t, "--root", testkit.Capture(c))
			remote, e2 := values(t, "--9p", addr)
			if len(writes) > 0 {
				t.Errorf("the plugin wrote: %q", writes)
			}
			if e1 != "" || e2 != "" {
				t.Errorf("stderr: %q %q", e1, e2)
			}
			if strings.Join(local, "\n") != strings.Join(remote, "\n") {
				t.Errorf("--root:\n%s\n--9p:\n%s", strings.Join(local, "\n"), strings.Join(remote, "\n"))
			}
			if len(local) < 55 {
				t.Errorf("only %d metrics", len(local))
			}
		})
	}
}

// A faulty server costs the groups it breaks, ends the run by --timeout
// with a clear message, and leaves no goroutine behind.
func TestFaultsOver9P(t *testing.T) {
	c := testkit.Capture(testkit.Front11879amd64)
	tests := []struct {
		name   string
		fault  p9test.Fault
		typ    uint8
		path   string
		stderr string
		absent string // a metric that must be missing
	}{
		{"stops answering", p9test.Silence, plan9.Tread, "net/tcp/stats", "before the deadline", "tcp_established.established"},
		{"refuses", p9test.Refuse, plan9.Topen, "dev/swap", "swap: read dev/swap: injected fault", "memory.used"},
		{"hangs up", p9test.Hangup, plan9.Tread, "net/udp/stats", "connection closed by the server", "udp.in_datagrams"},
		{"garbage", p9test.Garbage, plan9.Tread, "net/ipifc/stats", "malformed message", "ip.in_receives"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			srv := &p9test.Server{Root: c, Fault: func(f *plan9.Fcall, path string) p9test.Fault {
				if f.Type == tt.typ && path == tt.path {
					return tt.fault
				}
				return p9test.Answer
			}}
			addr := p9test.Start(t, srv)
			var out, errb bytes.Buffer
			start := time.Now()
			code := Run([]string{"--9p", addr, "--timeout", "1500ms", "--tempfile", filepath.Join(t.TempDir(), "s")}, &out, &errb)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
			// The message names the file; whether the run's deadline or
			// the connection's comes first, both say so.
			if code != 0 || !strings.Contains(errb.String(), tt.stderr) || !strings.Contains(errb.String(), tt.path) {
				t.Errorf("exit %d, stderr %q, want it to say %q", code, errb.String(), tt.stderr)
			}
			if strings.Contains(out.String(), "plan9."+tt.absent+"\t") {
				t.Errorf("%s printed", tt.absent)
			}
			// What was read before the fault is still printed.
			if tt.fault != p9test.Hangup && tt.fault != p9test.Garbage && !strings.Contains(out.String(), "plan9.loadavg.load\t1.299\t") {
				t.Errorf("stdout lost the other groups:\n%s", out.String())
			}
			srv.Close()
			p9test.Settle(t, base)
		})
	}
}

// manyProcs makes a copy of the 9front capture with n processes.
func manyProcs(t testing.TB, n int) string {
	dir := testkit.CopyCapture(t, testkit.Front11879amd64).Dir
	src := testkit.Capture(testkit.Front11879amd64)
	es, _ := os.ReadDir(filepath.Join(src, "proc"))
	for i := 0; len(es) > 0; i++ {
		pid := 10000 + i
		entries, _ := os.ReadDir(filepath.Join(dir, "proc"))
		if len(entries) >= n {
			break
		}
		from := filepath.Join(src, "proc", es[i%len(es)].Name(), "status")
		b, err := os.ReadFile(from)
		if err != nil {
			continue
		}
		os.MkdirAll(filepath.Join(dir, "proc", strconv.Itoa(pid)), 0o755)
		os.WriteFile(filepath.Join(dir, "proc", strconv.Itoa(pid), "status"), b, 0o444)
	}
	return dir
}

// BenchmarkCollectOver9PWithLatency measures one whole collection (dial,
// attach, reading every file, 200 processes) through a link that delays
// each direction by 25 ms: a 50 ms round trip. rtts/op is the time in
// round trips; requests/op is what a reader that waits for each reply
// before the next request would pay in round trips.
func BenchmarkCollectOver9PWithLatency(b *testing.B) {
	const oneWay = 25 * time.Millisecond
	root := manyProcs(b, 200)
	srv := &p9test.Server{Root: root}
	addr := p9test.Proxy(b, p9test.Start(b, srv), oneWay)
	state := filepath.Join(b.TempDir(), "state")
	collect := func() (int64, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := ninep.Dial(ctx, addr, "glenda", "")
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		var stderr bytes.Buffer
		p := &Plugin{Prefix: "plan9", FS: c, StateFile: state, Identity: "bench", Interval: 0, Now: time.Now, Stderr: &stderr}
		m, err := p.Collect(ctx)
		if err != nil || stderr.Len() > 0 || m["processes.sleeping"] != 200 {
			b.Fatalf("%d processes; %v; stderr %s", int(m["processes.sleeping"]), err, stderr.String())
		}
		return c.Requests(), len(m)
	}
	collect() // leaves a state, so each run reads the host once
	var requests int64
	b.ResetTimer()
	for b.Loop() {
		requests, _ = collect()
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per)/float64(2*oneWay), "rtts/op")
	b.ReportMetric(float64(requests), "requests/op")
}

// One collection of a host with 200 processes costs six round trips, the
// dial included: Tversion+Tattach; then, for the longest chain (/proc),
// the walk+open of the directory, its read and the read that finds its
// end, and the walk+open and read of each status file. It runs in a
// testing/synctest bubble, whose clock moves only while everything waits,
// so that the time is exactly the round trips the program's structure
// costs, whatever the machine's speed.
func TestCollectRoundTrips(t *testing.T) {
	const oneWay = 25 * time.Millisecond
	root := manyProcs(t, 200)
	synctest.Test(t, func(t *testing.T) {
		srv := &p9test.Server{Root: root}
		state := filepath.Join(t.TempDir(), "state")
		collect := func() (float64, int64) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			c, err := ninep.NewClient(ctx, p9test.Pipe(t, srv, oneWay), "pipe", "glenda", "")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var stderr bytes.Buffer
			p := &Plugin{Prefix: "plan9", FS: c, StateFile: state, Identity: "rtt", Interval: time.Second, Now: time.Now, Stderr: &stderr}
			m, err := p.Collect(ctx)
			if err != nil || stderr.Len() > 0 || m["processes.sleeping"] != 200 || len(m) < 55 {
				t.Fatalf("%v, %v; stderr %s", m, err, stderr.String())
			}
			return float64(time.Since(start)) / float64(2*oneWay), c.Requests()
		}
		collect() // leaves a state, so that the next reads the host once
		rtts, requests := collect()
		t.Logf("%v round trips, %d requests", rtts, requests)
		if rtts != 6 {
			t.Errorf("a collection took %v round trips, want 6", rtts)
		}
	})
}

// --fs asks each console for its space; the replies are those of real
// servers (testdata/fsconsole), and the values are what they say.
func TestFileServersOver9P(t *testing.T) {
	h := testkit.CopyCapture(t, testkit.Front11879amd64)
	real := func(name string) string { return string(testkit.ConsoleReply(t, name)) }
	h.Write("dev/kmesg", "\nPlan 9\n")
	srv := &p9test.Server{Root: h.Dir, Consoles: map[string]func(string) string{
		"srv/cwfs.cmd": func(string) string { return real("cwfs64x-statw.txt") },
		"srv/gefs.cmd": func(string) string { return real("gefs-df.txt") },
		"srv/fscons":   func(string) string { return real("fossil-df.txt") },
		"srv/hjfs.cmd": func(string) string {
			h.Append("dev/kmesg", "hjfs: (blocks) free 16366, used 18, total 16384\nhjfs: (MB) free 63, used 0, total 64\n")
			return ""
		},
	}}
	addr := p9test.Start(t, srv)
	lines, stderr := values(t, "--9p", addr, "--fs", "cwfs:/srv/cwfs.cmd", "--fs", "gefs:/srv/gefs.cmd",
		"--fs", "fossil:/srv/fscons", "--fs", "hjfs:/srv/hjfs.cmd")
	if stderr != "" {
		t.Errorf("stderr %q", stderr)
	}
	got := map[string]string{}
	for _, l := range lines {
		if k, v, _ := strings.Cut(l, "\t"); strings.HasPrefix(k, "plan9.filesystem.") {
			got[k] = v
		}
	}
	want := map[string]string{
		"plan9.filesystem.cwfs.size": "268435456", "plan9.filesystem.cwfs.used": "98304",
		"plan9.filesystem.gefs.size": "536477696", "plan9.filesystem.gefs.used": "458752",
		"plan9.filesystem.fscons.size": "133832704", "plan9.filesystem.fscons.used": "40960",
		"plan9.filesystem.hjfs.size": "67108864", "plan9.filesystem.hjfs.used": "73728",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %s", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%v", got)
	}
	// A console that does not answer costs only its own metrics.
	lines, stderr = values(t, "--9p", addr, "--timeout", "2s", "--fs", "cwfs:/srv/none.cmd")
	if !strings.Contains(stderr, "filesystem: cwfs:/srv/none.cmd: open srv/none.cmd:") || len(lines) < 60 {
		t.Errorf("%d lines; stderr %q", len(lines), stderr)
	}
}
