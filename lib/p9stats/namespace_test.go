package p9stats

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// countFS counts what is asked of a name space.
type countFS struct {
	ns.FS
	n atomic.Int64
}

func (c *countFS) ReadFile(name string) ([]byte, error) {
	c.n.Add(1)
	return c.FS.ReadFile(name)
}

func (c *countFS) ReadDir(name string) ([]fs.DirEntry, error) {
	c.n.Add(1)
	return c.FS.ReadDir(name)
}

func (c *countFS) Stat(name string) (fs.FileInfo, error) {
	c.n.Add(1)
	return c.FS.Stat(name)
}

func (c *countFS) Open(name string) (fs.File, error) {
	c.n.Add(1)
	return c.FS.Open(name)
}

// writeTree makes a directory holding the given files.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func problem(err error) NamespaceProblem {
	var ne *NamespaceError
	if errors.As(err, &ne) {
		return ne.Problem
	}
	return 0
}

func TestCheckPlan9Captures(t *testing.T) {
	for _, c := range testkit.Captures {
		c9 := &countFS{FS: ns.Dir(testkit.Capture(c))}
		p := NewFS(c9)
		if err := p.CheckPlan9(nil); err != nil {
			t.Errorf("%s: %v", c, err)
		}
		// With a snapshot that read the two files, nothing more is asked.
		s := p.Snapshot(context.Background(), SourceAll)
		before := c9.n.Load()
		if err := p.CheckPlan9(s); err != nil || c9.n.Load() != before {
			t.Errorf("%s: %v after %d more requests", c, err, c9.n.Load()-before)
		}
	}
	// Kernel names only, as in a 9front /lib/namespace session.
	if err := mapFS(map[string]string{"#c/sysstat": "x"}).CheckPlan9(nil); err != nil {
		t.Error(err)
	}
	if err := mapFS(map[string]string{"#¶/swap": "x"}).CheckPlan9(nil); err != nil {
		t.Error(err)
	}
}

func TestCheckPlan9Wrong(t *testing.T) {
	linux := map[string]string{"proc/1/status": linuxStatus(1, "systemd"), "dev/null": "", "etc/hostname": "box\n"}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("not a directory"), 0o644)
	for _, tt := range []struct {
		name string
		root string
		want NamespaceProblem
		msg  string
	}{
		{"missing", "/nonexistent/mackerel-plan9", NamespaceMissing,
			"p9stats: the name space's root does not exist: stat /nonexistent/mackerel-plan9: no such file or directory"},
		{"empty", t.TempDir(), NamespaceEmpty, "p9stats: not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap"},
		{"linux", writeTree(t, linux), NamespaceLinux, "p9stats: not a Plan 9 name space but Linux's: /proc/1/status is in Linux's format"},
		{"only /proc", writeTree(t, map[string]string{"proc/1/status": string(testkit.ReadCapture(t, testkit.Legacy386, "proc/1/status"))}), NamespaceEmpty, ""},
		{"a file", file, NamespaceNotDir, "p9stats: the name space's root is not a directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "missing" && runtime.GOOS != "linux" && runtime.GOOS != "darwin" && runtime.GOOS != "freebsd" {
				tt.msg = "" // the system's own wording
			}
			p := NewDefaultFS(tt.root)
			for _, s := range []*Snapshot{nil, p.Snapshot(context.Background(), SourceAll), p.Snapshot(context.Background(), SourceProcs)} {
				err := p.CheckPlan9(s)
				if problem(err) != tt.want || !errors.Is(err, ErrNotPlan9) || (tt.msg != "" && err.Error() != tt.msg) {
					t.Errorf("got %v, want problem %d %q", err, tt.want, tt.msg)
				}
			}
		})
	}
	if err := NewDefaultFS("/nonexistent/mackerel-plan9").CheckPlan9(nil); !IsNotExist(err) {
		t.Errorf("a missing root is not IsNotExist: %v", err)
	}
}

// A file that is there, however broken, or a source that did not answer
// in time, does not make the name space a wrong one: its own error says
// what is wrong.
func TestCheckPlan9NotJudged(t *testing.T) {
	p := mapFS(map[string]string{"dev/swap": "nonsense\n"})
	s := p.Snapshot(context.Background(), SourceSwap|SourceSysStat)
	if s.Errors[SourceSwap] == nil || IsNotExist(s.Errors[SourceSwap]) {
		t.Fatalf("swap: %v", s.Errors[SourceSwap])
	}
	if err := p.CheckPlan9(s); err != nil {
		t.Errorf("malformed swap: %v", err)
	}
	st := testkit.ReadCapture(t, testkit.Front11879amd64, "dev/sysstat")
	slow := slowFS{fstest.MapFS{"dev/sysstat": {Data: st}}, make(chan struct{})}
	defer close(slow.release)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // sysstat cannot be answered in time
	q := NewFS(slow)
	s = q.Snapshot(ctx, SourceSwap|SourceSysStat)
	if !errors.Is(s.Errors[SourceSysStat], context.Canceled) {
		t.Fatalf("sysstat: %v", s.Errors[SourceSysStat])
	}
	if err := q.CheckPlan9(s); err != nil {
		t.Errorf("sysstat not answered in time: %v", err)
	}
}

// Run on a Linux machine, at its own /, which is what a user gets who
// tries the plugin there without flags.
func TestCheckPlan9LinuxRoot(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	for _, f := range []string{"/dev/sysstat", "/dev/swap"} {
		if _, err := os.Stat(f); err == nil {
			t.Skipf("this Linux machine has %s", f)
		}
	}
	err := NewDefaultFS("/").CheckPlan9(nil)
	if problem(err) != NamespaceLinux {
		t.Errorf("/: %v", err)
	}
}
