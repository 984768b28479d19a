package sysmetrics

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// t0 is the agent's clock at the first sample of every test.
var t0 = time.Date(2026, 11, 21, 5, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// host is an edited copy of a capture, which the tests change between
// samples as a kernel would.
type host struct {
	*testkit.Host
	t *testing.T
}

func newHost(t *testing.T, capture string) *host {
	t.Helper()
	return &host{testkit.CopyCapture(t, capture), t}
}

// pids lists the capture's processes in numeric order.
func (h *host) pids() []int {
	h.t.Helper()
	ds, err := os.ReadDir(h.Path("proc"))
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
	b := []byte(h.Read(name))
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
	h.Write(name, string(b))
}

// setTimes sets a process's user, system and real times.
func (h *host) setTimes(pid int, user, sys, real uint32) {
	h.t.Helper()
	name := "proc/" + strconv.Itoa(pid) + "/status"
	b := []byte(h.Read(name))
	for _, f := range []struct {
		col int
		v   uint32
	}{{colUser, user}, {colSys, sys}, {colReal, real}} {
		copy(b[f.col:f.col+11], fmt.Sprintf("%11d", f.v))
	}
	h.Write(name, string(b))
}

// age advances every process's real time, as the kernel's clock does.
func (h *host) age(d time.Duration) {
	for _, pid := range h.pids() {
		h.bump(pid, 0, 0, uint32(d.Milliseconds()))
	}
}

// fs is the host's name space, whose consoles answer as the map says.
func (h *host) fs(consoles map[string]testkit.Console) ns.FS {
	return testkit.Consoles{FS: ns.Dir(h.Dir), Consoles: consoles}
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
