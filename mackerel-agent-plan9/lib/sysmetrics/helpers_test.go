package sysmetrics

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// The captures in ../../../testdata were read from real kernels booted
// under QEMU (testdata/README.md); dev/sysstat.2 is a second read of
// dev/sysstat about 5 s after the first.
const (
	front11879amd64 = "qemu-9front-11879-amd64-9pc64"
	front11879x386  = "qemu-9front-11879-386-9pc"
	front2016amd64  = "qemu-9front-2016-9emul-amd64-9pc64"
	front2016x386   = "qemu-9front-2016-9emul-386-9pcf"
	legacy386       = "qemu-rsc-plan9-9legacy-386-9pc"
	legacy9k        = "qemu-rsc-plan9-9legacy-amd64-9k10"
)

var captures = []string{front11879amd64, front11879x386, front2016amd64, front2016x386, legacy386, legacy9k}

const testdata = "../../../testdata"

// t0 is the agent's clock at the first sample of every test.
var t0 = time.Date(2026, 11, 21, 5, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// host is an edited copy of a capture, which the tests change between
// samples as a kernel would.
type host struct {
	t   *testing.T
	dir string
}

func newHost(t *testing.T, capture string) *host {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(testdata, capture)
	// Only what the kernel serves: not the notes in _capture, nor the
	// processes' args.
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		switch {
		case d.Name() == "_capture" || d.Name() == "args":
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return &host{t, dir}
}

func (h *host) path(name string) string { return filepath.Join(h.dir, filepath.FromSlash(name)) }

func (h *host) read(name string) string {
	h.t.Helper()
	b, err := os.ReadFile(h.path(name))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

// write replaces a file; "-" removes it, or a directory, with its content.
func (h *host) write(name, content string) {
	h.t.Helper()
	p := h.path(name)
	if content == "-" {
		if err := os.RemoveAll(p); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// pids lists the capture's processes in numeric order.
func (h *host) pids() []int {
	h.t.Helper()
	ds, err := os.ReadDir(h.path("proc"))
	if err != nil {
		h.t.Fatal(err)
	}
	var pids []int
	for _, d := range ds {
		if n, err := strconv.Atoi(d.Name()); err == nil {
			pids = append(pids, n)
		}
	}
	sort.Ints(pids)
	return pids
}

// Columns of /proc/N/status when no field overflows (all the captures):
// text, user and state in [0:67], then nine 12-byte numbers from 68, of
// which the first three are user, system and real milliseconds.
const (
	colUser = 68 + 12*iota
	colSys
	colReal
)

// bump adds to a process's user, system and real times, modulo 2^32 as
// the kernel's 32-bit millisecond counts wrap.
func (h *host) bump(pid int, user, sys, real uint32) {
	h.t.Helper()
	name := "proc/" + strconv.Itoa(pid) + "/status"
	b := []byte(h.read(name))
	if len(b) < 176 {
		h.t.Fatalf("%s: %d bytes, not the fixed layout", name, len(b))
	}
	for _, f := range []struct {
		col int
		add uint32
	}{{colUser, user}, {colSys, sys}, {colReal, real}} {
		v, err := strconv.ParseUint(strings.TrimSpace(string(b[f.col:f.col+11])), 10, 32)
		if err != nil {
			h.t.Fatalf("%s at %d: %v", name, f.col, err)
		}
		copy(b[f.col:f.col+11], fmt.Sprintf("%11d", uint32(v)+f.add))
	}
	h.write(name, string(b))
}

// setTimes sets a process's user, system and real times.
func (h *host) setTimes(pid int, user, sys, real uint32) {
	h.t.Helper()
	name := "proc/" + strconv.Itoa(pid) + "/status"
	b := []byte(h.read(name))
	for _, f := range []struct {
		col int
		v   uint32
	}{{colUser, user}, {colSys, sys}, {colReal, real}} {
		copy(b[f.col:f.col+11], fmt.Sprintf("%11d", f.v))
	}
	h.write(name, string(b))
}

// age advances every process's real time, as the kernel's clock does.
func (h *host) age(d time.Duration) {
	for _, pid := range h.pids() {
		h.bump(pid, 0, 0, uint32(d.Milliseconds()))
	}
}

// fs is the host's name space, whose consoles answer as replies say.
func (h *host) fs(replies map[string]console) ns.FS {
	return consoleFS{ns.Dir(h.dir), replies}
}

// console answers a command written to it, and hangs up after the reply
// if hangup is set; without a reply it never answers. A console whose
// open blocks holds its opener until unblock is closed, as an open over
// 9P to a server that hung would.
type console struct {
	reply   func(cmd string) string
	hangup  bool
	unblock chan struct{}
}

type consoleFS struct {
	ns.FS
	replies map[string]console
}

func (c consoleFS) OpenConsole(name string) (io.ReadWriteCloser, error) {
	r, ok := c.replies[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if r.unblock != nil {
		<-r.unblock
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrClosed}
	}
	pr, pw := io.Pipe()
	return &pipeConsole{r: pr, w: pw, c: r}, nil
}

type pipeConsole struct {
	r *io.PipeReader
	w *io.PipeWriter
	c console
}

func (p *pipeConsole) Read(b []byte) (int, error) { return p.r.Read(b) }

func (p *pipeConsole) Write(b []byte) (int, error) {
	if p.c.reply != nil {
		reply := p.c.reply(strings.TrimSpace(string(b)))
		go func() {
			p.w.Write([]byte(reply))
			if p.c.hangup {
				p.w.Close()
			}
		}()
	}
	return len(b), nil
}

func (p *pipeConsole) Close() error { p.r.Close(); return p.w.Close() }

// fixture is the real reply of a file server in testdata/fsconsole.
func fixture(t *testing.T, name string) console {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, "fsconsole", name))
	if err != nil {
		t.Fatal(err)
	}
	return console{reply: func(string) string { return string(b) }}
}

// logbook collects log lines.
type logbook struct {
	mu    sync.Mutex
	lines []string
}

func (l *logbook) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logbook) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// near reports whether two metric values agree to 1e-9 relative.
func near(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// same compares two sets of metrics, naming the differences.
func same(t *testing.T, what string, got, want map[string]float64) {
	t.Helper()
	for n, w := range want {
		g, ok := got[n]
		if !ok {
			t.Errorf("%s: %s missing, want %v", what, n, w)
		} else if !near(g, w) {
			t.Errorf("%s: %s = %v, want %v", what, n, g, w)
		}
	}
	for n, g := range got {
		if _, ok := want[n]; !ok {
			t.Errorf("%s: %s = %v not expected", what, n, g)
		}
	}
}
