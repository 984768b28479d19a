package mpplan9

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// run runs the plugin with a state file of its own and returns its exit
// status, its output and the state file's path.
func run(t *testing.T, args ...string) (code int, stdout, stderr, state string) {
	t.Helper()
	state = filepath.Join(t.TempDir(), "state")
	var out, errb bytes.Buffer
	code = Run(append([]string{"--tempfile", state}, args...), &out, &errb)
	return code, out.String(), errb.String(), state
}

const (
	toRoot = "; point --root at a mounted Plan 9 name space, or read the host over 9P with --9p ADDR (such as tcp!gnot!17564)\n"
	to9P   = "; export the Plan 9 host's root (exportfs -r /), letting /dev, /net and /proc through any -P pattern\n"
)

// A name space without Plan 9's files gives one line that says so and
// what to do, no metrics, exit status 1, and no state file.
func TestNotPlan9(t *testing.T) {
	empty := t.TempDir()
	linux := testkit.LinuxRoot(t, 300)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"missing", []string{"--root", "/nonexistent/mackerel-plan9"}, "mackerel-plugin-plan9: --root /nonexistent/mackerel-plan9 does not exist" + toRoot},
		{"empty", []string{"--root", empty}, "mackerel-plugin-plan9: --root " + empty + " is not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap" + toRoot},
		{"linux", []string{"--root", linux}, "mackerel-plugin-plan9: --root " + linux + " is Linux's name space, not a Plan 9 one (/proc/1/status is in Linux's format)" + toRoot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr, state := run(t, tt.args...)
			if code != 1 || stdout != "" || stderr != tt.stderr {
				t.Errorf("exit %d, stdout %q\nstderr %q\nwant   %q", code, stdout, stderr, tt.stderr)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Errorf("a state file was saved: %v", err)
			}
		})
	}
	// The same over 9P, from a server exporting those trees.
	for _, tt := range []struct {
		name, root, stderr string
	}{
		{"empty", empty, "is not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap" + to9P},
		{"linux", linux, "is Linux's name space, not a Plan 9 one (/proc/1/status is in Linux's format); give the address of a Plan 9 host's exportfs\n"},
	} {
		t.Run("9p "+tt.name, func(t *testing.T) {
			addr := p9test.Start(t, &p9test.Server{Root: tt.root})
			code, stdout, stderr, _ := run(t, "--9p", addr)
			if want := "mackerel-plugin-plan9: --9p " + addr + " " + tt.stderr; code != 1 || stdout != "" || stderr != want {
				t.Errorf("exit %d, stdout %q\nstderr %q\nwant   %q", code, stdout, stderr, want)
			}
		})
	}
}

// A Plan 9 name space that holds many malformed process files costs one
// line for the source, with the count and the first file, and the other
// sources are still reported.
func TestOneLinePerSource(t *testing.T) {
	dir := testkit.CopyCapture(t, testkit.Front11879amd64).Dir
	linux := testkit.LinuxRoot(t, 200)
	for pid := 1000; pid < 1200; pid++ {
		p := filepath.Join(dir, "proc", strconv.Itoa(pid))
		os.MkdirAll(p, 0o755)
		b, err := os.ReadFile(filepath.Join(linux, "proc", strconv.Itoa(pid-999), "status"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "status"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, stderr := newPlugin(t, ns.Dir(dir), filepath.Join(t.TempDir(), "state"), clock(t0, t0.Add(time.Second)))
	m := collect(t, p)
	want := "mackerel-plugin-plan9: procs: p9stats: /proc/*/status: 200 of 237 failed, the first: /proc/1000/status: line 1: Linux's format, not Plan 9's: \"Name:\\tkworker/1...\"\n"
	if stderr.String() != want {
		t.Errorf("stderr %q\nwant   %q", stderr, want)
	}
	if m["processes.sleeping"] != 37 || m["memory.used"] == 0 {
		t.Errorf("the other processes or sources were lost: %v", m)
	}
}

// Flag values that cannot work are refused before anything is read: the
// 9P server named sees no connection at all.
func TestBadFlagValues(t *testing.T) {
	srv := &p9test.Server{Root: testkit.Capture(testkit.Front11879amd64)}
	addr := p9test.Start(t, srv)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--timeout", "-1s", "--9p", addr}, "--timeout -1s: give a duration above zero, such as 10s"},
		{[]string{"--timeout", "0", "--9p", addr}, "--timeout 0s: give a duration above zero, such as 10s"},
		{[]string{"--9p", ""}, "--9p: empty; give the address of a Plan 9 host's exportfs, such as tcp!gnot!17564"},
		{[]string{"--9p", "tcp!gnot!17564!x"}, `--9p: "tcp!gnot!17564!x" is not a dial string such as tcp!host!564`},
		{[]string{"--root", "/", "--9p", addr}, "--root and --9p: give one or the other"},
		{[]string{"--root", ""}, "--root: empty; give a directory, such as / on a Plan 9 host or /mnt/gnot"},
		{[]string{"--aname", "/usr", "--root", testkit.Capture(testkit.Front11879amd64)}, "--aname: only with --9p"},
		{[]string{"--user", "glenda"}, "--user: only with --9p, as the user to attach as"},
		{[]string{"--metric-key-prefix", "", "--9p", addr}, `--metric-key-prefix "": use letters, digits, '-', '_' and single dots`},
		{[]string{"--metric-key-prefix", "p9.", "--9p", addr}, `--metric-key-prefix "p9.": use`},
		{[]string{"--metric-key-prefix", ".p9", "--9p", addr}, `--metric-key-prefix ".p9": use`},
		{[]string{"--metric-key-prefix", "plan 9", "--9p", addr}, `--metric-key-prefix "plan 9": use`},
		{[]string{"--metric-key-prefix", "plan9/x", "--9p", addr}, `--metric-key-prefix "plan9/x": use`},
		{[]string{"--tempfile", t.TempDir(), "--9p", addr}, "a directory; give a file name"},
		{[]string{"--tempfile", filepath.Join(file, "state"), "--9p", addr}, file + " is not a directory"},
		{[]string{"--tempfile", "", "--9p", addr}, "--tempfile: empty; give a file name, or leave it out for the default"},
		{[]string{"--fs", "cwfs", "--9p", addr}, "--fs"},
	} {
		var out, errb bytes.Buffer
		code := Run(tt.args, &out, &errb)
		lines := strings.Split(strings.TrimSuffix(errb.String(), "\n"), "\n")
		if code != 1 || out.Len() != 0 || len(lines) != 2 || !strings.Contains(lines[0], tt.msg) ||
			!strings.HasPrefix(lines[0], "mackerel-plugin-plan9: ") || lines[1] != "Try mackerel-plugin-plan9 --help." {
			t.Errorf("%q: exit %d, stderr %q, want it to say %q", tt.args, code, errb.String(), tt.msg)
		}
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("the server had %d requests", n)
	}
}
