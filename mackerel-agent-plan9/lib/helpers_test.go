package agent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"
)

const testKey = mackereltest.Key

// simClock is a simulated clock: it jumps to the next deadline whenever
// the agent waits on nothing but time, so hours pass in moments. At stopAt
// it delivers one stop request on term, as an interrupt note would.
type simClock struct {
	mu      sync.Mutex
	now     time.Time
	stopAt  time.Time
	term    chan struct{}
	stopped bool
}

func newSimClock(start time.Time) *simClock {
	return &simClock{now: start, term: make(chan struct{}, 2)}
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) Until(t time.Time, busy bool) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if !t.After(c.now) {
		ch <- c.now
		return ch, func() {}
	}
	if busy {
		return nil, func() {} // the agent's own work will wake it
	}
	if !c.stopAt.IsZero() && !c.stopped && t.After(c.stopAt) {
		if c.stopAt.After(c.now) {
			c.now = c.stopAt
		}
		c.stopped = true
		c.term <- struct{}{}
		return nil, func() {}
	}
	if t.IsZero() {
		return nil, func() {}
	}
	c.now = t
	ch <- t
	return ch, func() {}
}

// fakeSystem stands in for sysmetrics in tests of the loop: each minute's
// collection yields "loadavg1" = how many collections came before, so
// that a test can tell the batches apart and check their order.
type fakeSystem struct {
	mu       sync.Mutex
	samples  []time.Time
	collects []time.Time
}

func (f *fakeSystem) Sample(ctx context.Context, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.samples = append(f.samples, now)
}

func (f *fakeSystem) Collect(ctx context.Context, now time.Time) map[string]float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.collects = append(f.collects, now)
	return map[string]float64{"loadavg1": float64(len(f.collects) - 1)}
}

func (f *fakeSystem) Specs(ctx context.Context) (HostSpecs, error) {
	return HostSpecs{Name: "gnot", Meta: mackerel.HostMeta{Kernel: mackerel.Kernel{"name": "Plan 9", "os": "plan9"}},
		Interfaces: []mackerel.Interface{{Name: "ether0", IPv4Addresses: []string{"10.0.2.15"}, MacAddress: "52:54:00:12:34:56"}}}, nil
}

// script writes an executable sh script and returns its path.
func script(t testing.TB, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// testConfig parses a configuration written for a test, with the stand-in
// API's address and the test key.
func testConfig(t testing.TB, api *mackereltest.Server, body string) *Config {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "agent.conf")
	base := ""
	if api != nil {
		base = api.URL()
	}
	text := fmt.Sprintf("apikey = %q\napibase = %q\nroot = %q\n", testKey, base, filepath.Join(dir, "root")) + body
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, unexpected, err := LoadConfig(file, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(unexpected) > 0 {
		t.Fatalf("unexpected keys: %v", unexpected)
	}
	return c
}

// newTestAgent returns an agent on the simulated clock whose log is kept.
func newTestAgent(t testing.TB, conf *Config, sys System, clock *simClock) (*Agent, *bytes.Buffer) {
	t.Helper()
	var log syncBuffer
	a, err := New(Options{Config: conf, System: sys, Clock: clock, Log: &log, Version: "0.1.0", Revision: "abc",
		HTTPTimeout: 5 * time.Second, KillAfter: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return a, &log.Buffer
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// pids reads the pids a script wrote, one per line.
func pids(t *testing.T, file string) []int {
	t.Helper()
	b, _ := os.ReadFile(file)
	var out []int
	for _, f := range strings.Fields(string(b)) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}
