package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testexec"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// maxRSS is the memory the plugin may use against a hostile server.
const maxRSS = 100 << 20

// runPlugin runs the built plugin and returns its standard output and
// error, how long it ran and its peak resident memory.
func runPlugin(t *testing.T, args ...string) (stdout, stderr string, took time.Duration, rss int64) {
	t.Helper()
	bin := testkit.Bin("mackerel-plugin-plan9")
	if b := os.Getenv("PLUGIN_BINARY"); b != "" {
		bin = b // a build of another version, to compare
	}
	cmd := testexec.Command(t, bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	if _, ok := err.(interface{ ExitCode() int }); err != nil && !ok {
		t.Fatal(err)
	}
	return o.String(), e.String(), took, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
}

// Against a 9P server whose /proc never ends, the built plugin reads a
// bounded listing with bounded memory, prints every other metric and
// ends, by --timeout at the latest, with one line on standard error.
func TestEndlessProc(t *testing.T) {
	if testing.Short() {
		t.Skip("lists 65,536 processes; skipped with -short")
	}
	capture := testkit.Capture(testkit.Front11879amd64)
	state := t.TempDir() + "/state"
	for _, tt := range []struct {
		name    string
		perRead int
		delay   time.Duration
		says    string // its one line, or a prefix and a part after "…"
	}{
		// As fast as the loopback allows: the listing's bound ends it.
		{"all at once", 0, 0, "mackerel-plugin-plan9: procs: readdir proc: directory listing stopped at 65536 entries or 16 MiB: more than any Plan 9 kernel serves\n"},
		// A trickle of one entry a round trip: the timeout ends it (the
		// 9P client's or the snapshot's, whichever comes first).
		{"a trickle", 1, time.Millisecond, "mackerel-plugin-plan9: procs: …before the deadline"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr := p9test.Start(t, &p9test.Server{Root: capture, Endless: "proc", PerRead: tt.perRead})
			if tt.delay > 0 {
				addr = p9test.Proxy(t, addr, tt.delay)
			}
			const timeout = 3 * time.Second
			// The first run leaves a state, so that the second need not
			// measure rates within the run, which it would have no time
			// left for when the timeout ends it.
			for run := range 2 {
				stdout, stderr, took, rss := runPlugin(t, "--9p", addr, "--timeout", timeout.String(), "--tempfile", state)
				t.Logf("run %d: %v, peak RSS %.1f MB", run+1, took.Round(10*time.Millisecond), float64(rss)/1e6)
				if rss > maxRSS {
					t.Errorf("run %d: peak RSS %d MB", run+1, rss>>20)
				}
				if took > timeout+5*time.Second {
					t.Errorf("run %d: ran %v with --timeout %v", run+1, took, timeout)
				}
				if !strings.Contains(stdout, "plan9.memory.total\t1067155456\t") || strings.Contains(stdout, "plan9.processes.") {
					t.Errorf("run %d: stdout %q", run+1, stdout)
				}
				prefix, part, _ := strings.Cut(tt.says, "…")
				if run == 1 && (strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") ||
					!strings.HasPrefix(stderr, prefix) || !strings.Contains(stderr, part)) {
					t.Errorf("run %d: stderr %q, want %q", run+1, stderr, tt.says)
				}
			}
		})
	}
}

// Whatever a neighbour leaves where the state should be, the built plugin
// takes it for no state: one line on standard error, the metrics of a
// first run, and neither a hang nor a large allocation. By default the
// state is in a directory of this user's own, which is checked on every
// run.
func TestHostileState(t *testing.T) {
	capture := testkit.Capture(testkit.Front11879amd64)
	shared := t.TempDir()
	os.Chmod(shared, 0o1777) // as /tmp
	path := func(name string) string { return filepath.Join(shared, name) }
	if err := syscall.Mkfifo(path("fifo"), 0o666); err != nil {
		t.Fatal(err)
	}
	os.Symlink("/dev/zero", path("zero"))
	os.WriteFile(path("big"), bytes.Repeat([]byte("x"), 2<<20), 0o644)
	cases := []struct{ file, says string }{
		{"fifo", "not a regular file but a FIFO"},
		{"zero", "a symbolic link, which is not followed"},
		{"big", "more than the 1048576 bytes a state file may have"},
	}
	if os.Geteuid() == 0 {
		os.WriteFile(path("forged"), []byte("mackerel-plugin-plan9 state 2\n"), 0o644)
		os.Chown(path("forged"), 12345, 12345)
		cases = append(cases, struct{ file, says string }{"forged", "belongs to uid 12345, not to this user, 0"})
	} else {
		t.Log("not root: no file of another user to try")
	}
	for _, c := range cases {
		stdout, stderr, took, rss := runPlugin(t, "--root", capture, "--tempfile", path(c.file))
		want := "mackerel-plugin-plan9: no usable previous sample: check " + path(c.file) + ": unsafe: " + c.says + "; measuring rates over 1s\n"
		if stderr != want || !strings.Contains(stdout, "plan9.kernel.syscalls\t") || rss > maxRSS || took > 8*time.Second {
			t.Errorf("%s: %v, %d MB, stderr %q, want %q", c.file, took, rss>>20, stderr, want)
		}
	}

	// The default: a directory of this user's own in $TMPDIR.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("MACKEREL_PLUGIN_WORKDIR", "")
	dir := filepath.Join(tmp, "mackerel-plugin-plan9-"+strconv.Itoa(os.Geteuid()))
	for run := range 2 {
		_, stderr, _, _ := runPlugin(t, "--root", capture)
		if stderr != "" {
			t.Errorf("run %d: %q", run+1, stderr)
		}
	}
	fi, err := os.Lstat(dir)
	states, _ := filepath.Glob(filepath.Join(dir, "mackerel-plugin-plan9-????????????????"))
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 || len(states) != 1 {
		t.Fatalf("%s: %v %v, states %v", dir, fi.Mode(), err, states)
	}
	// Opened to others, it is not used.
	os.Chmod(dir, 0o777)
	stdout, stderr, _, _ := runPlugin(t, "--root", capture)
	if want := "mackerel-plugin-plan9: no state kept, rates measured within the run: check " + dir + ": unsafe: mode -rwxrwxrwx lets others in; want 0700\n"; stderr != want ||
		!strings.Contains(stdout, "plan9.kernel.syscalls\t") {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}
