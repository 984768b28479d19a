package agent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/config"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/host"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/lib/sysmetrics"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/runner"
)

const testKey = mackereltest.Key

// simClock is a simulated clock: whenever the agent waits on nothing but
// time (its work in flight, if any, itself sleeps on this clock), it jumps
// to the next deadline, so hours pass in moments. At stopAt it delivers
// one stop request on term, as an interrupt note would; steps move the
// wall clock as timesync or an operator would, without time passing.
type simClock struct {
	mu      sync.Mutex
	now     time.Time
	elapsed time.Duration // simulated time that passed, steps left out
	stopAt  time.Time
	// stopAfter, when set, stops at that much passing time instead.
	stopAfter time.Duration
	term      chan struct{}
	stopped   bool
	steps     []clockStep

	// The loop's wait: until loopAt, with loopInflight jobs running.
	loopCh       chan time.Time
	loopAt       time.Time
	loopInflight int
	sleepers     []*sleeper
}

type clockStep struct {
	at time.Time
	by time.Duration
	do func() // instead of a step, when set
}

type sleeper struct {
	at time.Time
	ch chan struct{}
}

func newSimClock(start time.Time) *simClock {
	return &simClock{now: start, term: make(chan struct{}, 2)}
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Elapsed is the simulated time that passed since the start.
func (c *simClock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.elapsed
}

// at runs f when the clock reaches t, as an operator's action would.
func (c *simClock) at(t time.Time, f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.steps = append(c.steps, clockStep{at: t, do: f})
	sort.SliceStable(c.steps, func(i, j int) bool { return c.steps[i].at.Before(c.steps[j].at) })
}

// step sets the wall clock forward (or back, for a negative by) when it
// reaches at.
func (c *simClock) step(at time.Time, by time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.steps = append(c.steps, clockStep{at: at, by: by})
	sort.SliceStable(c.steps, func(i, j int) bool { return c.steps[i].at.Before(c.steps[j].at) })
}

func (c *simClock) Until(t time.Time, inflight int) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.loopCh, c.loopAt, c.loopInflight = ch, t, inflight
	c.advance()
	return ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.loopCh == ch {
			c.loopCh = nil
		}
	}
}

// sleep waits d of simulated time, as a plugin the agent runs would; it
// ends early when ctx does.
func (c *simClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	s := &sleeper{at: c.now.Add(d), ch: make(chan struct{})}
	c.sleepers = append(c.sleepers, s)
	c.advance()
	c.mu.Unlock()
	select {
	case <-s.ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		for i, x := range c.sleepers {
			if x == s {
				c.sleepers = append(c.sleepers[:i], c.sleepers[i+1:]...)
				break
			}
		}
		c.mu.Unlock()
		return ctx.Err()
	}
}

func (c *simClock) fireLoop() {
	c.loopCh <- c.now
	c.loopCh = nil
}

// advance moves time on when nothing but time is awaited. c.mu is held.
func (c *simClock) advance() {
	if c.loopCh == nil {
		return
	}
	if !c.loopAt.IsZero() && !c.loopAt.After(c.now) {
		c.fireLoop()
		return
	}
	if c.loopInflight > len(c.sleepers) {
		return // real work runs: its end will wake the loop
	}
	next := c.loopAt
	for _, s := range c.sleepers {
		if next.IsZero() || s.at.Before(next) {
			next = s.at
		}
	}
	if len(c.steps) > 0 && (next.IsZero() || !c.steps[0].at.After(next)) {
		st := c.steps[0]
		c.steps = c.steps[1:]
		if st.at.After(c.now) {
			c.elapsed += st.at.Sub(c.now)
			c.now = st.at
		}
		if st.do != nil {
			st.do()
		}
		c.now = c.now.Add(st.by)
		for _, s := range c.sleepers {
			s.at = s.at.Add(st.by) // sleeps are measured in passing time
		}
		c.fireLoop()
		return
	}
	if c.stopAfter > 0 && !c.stopped && (next.IsZero() || c.elapsed+next.Sub(c.now) > c.stopAfter) {
		c.now = c.now.Add(c.stopAfter - c.elapsed)
		c.elapsed = c.stopAfter
		c.stopped = true
		c.term <- struct{}{}
		return
	}
	if !c.stopAt.IsZero() && !c.stopped && (next.IsZero() || next.After(c.stopAt)) {
		if c.stopAt.After(c.now) {
			c.elapsed += c.stopAt.Sub(c.now)
			c.now = c.stopAt
		}
		c.stopped = true
		c.term <- struct{}{}
		return
	}
	if next.IsZero() {
		return
	}
	c.elapsed += next.Sub(c.now)
	c.now = next
	kept := c.sleepers[:0]
	for _, s := range c.sleepers {
		if !s.at.After(c.now) {
			close(s.ch)
		} else {
			kept = append(kept, s)
		}
	}
	c.sleepers = kept
	if !c.loopAt.IsZero() && !c.loopAt.After(c.now) {
		c.fireLoop()
	}
}

// fakeSystem stands in for sysmetrics in tests of the loop: each minute's
// collection yields "loadavg1" = how many collections came before, so
// that a test can tell the batches apart and check their order.
type fakeSystem struct {
	mu       sync.Mutex
	samples  []time.Time
	collects []time.Time
	// clock, when set, records the simulated time passed at each collect.
	clock   *simClock
	elapsed []time.Duration
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
	if f.clock != nil {
		f.elapsed = append(f.elapsed, f.clock.Elapsed())
	}
	return map[string]float64{"loadavg1": float64(len(f.collects) - 1)}
}

func (f *fakeSystem) Specs(ctx context.Context) (sysmetrics.HostSpecs, error) {
	return sysmetrics.HostSpecs{Name: "gnot", Meta: mackerel.HostMeta{Kernel: mackerel.Kernel{"name": "Plan 9", "os": "plan9"}},
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
func testConfig(t testing.TB, api *mackereltest.Server, body string) *config.Config {
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
	c, unexpected, err := config.Load(file, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(unexpected) > 0 {
		t.Fatalf("unexpected keys: %v", unexpected)
	}
	return c
}

// newTestAgent returns an agent on the simulated clock watching one host
// read through sys, whose log is kept.
func newTestAgent(t testing.TB, conf *config.Config, sys host.System, clock *simClock, opts ...func(*Options)) (*Agent, *bytes.Buffer) {
	t.Helper()
	var log syncBuffer
	ho := HostOptions{IDFile: conf.IDFile()}
	ho.DisplayName, ho.Roles, ho.System = conf.DisplayName, conf.Roles, sys
	ho.Plugins, ho.Checks = conf.MetricPlugins, conf.CheckPlugins
	ho.IgnoreInterfaces, ho.IgnoreFilesystems = conf.Interfaces.Ignore, conf.Filesystems.Ignore
	ho.Workdir = filepath.Join(conf.Root, "work")
	o := Options{Config: conf, Hosts: []HostOptions{ho}, Clock: clock, Log: &log, Version: "0.1.0", Revision: "abc",
		HTTPTimeout: 5 * time.Second, Runner: &runner.Runner{KillAfter: 500 * time.Millisecond}}
	for _, f := range opts {
		f(&o)
	}
	a, err := New(o)
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

// simRunner runs commands of the form ["sim", SECONDS, VALUES] on the
// simulated clock: it sleeps SECONDS of simulated time (a timeout
// included) and then prints VALUES values, as a slow or flooding plugin
// would; anything else it runs for real.
type simRunner struct {
	clock *simClock
	real  runner.Runner
	mu    sync.Mutex
	n     int
	stop  map[*int]context.CancelFunc
}

func newSimRunner(clock *simClock) *simRunner {
	return &simRunner{clock: clock, real: runner.Runner{KillAfter: 500 * time.Millisecond}, stop: map[*int]context.CancelFunc{}}
}

func (r *simRunner) Run(ctx context.Context, cmd runner.Command, env ...string) runner.Result {
	if len(cmd.Args) != 3 || cmd.Args[0] != "sim" {
		return r.real.Run(ctx, cmd, env...)
	}
	secs, _ := strconv.Atoi(cmd.Args[1])
	n, _ := strconv.Atoi(cmd.Args[2])
	ctx, cancel := context.WithCancel(ctx)
	key := new(int)
	r.mu.Lock()
	r.n++
	r.stop[key] = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.n--
		delete(r.stop, key)
		r.mu.Unlock()
		cancel()
	}()
	d := time.Duration(secs) * time.Second
	if err := r.clock.sleep(ctx, min(d, cmd.Timeout)); err != nil {
		return runner.Result{ExitCode: -1, Err: runner.ErrStopped}
	}
	if d > cmd.Timeout {
		return runner.Result{ExitCode: -1, Err: runner.ErrTimedOut}
	}
	for _, e := range env {
		if e == host.EnvPluginMeta+"=1" {
			return runner.Result{}
		}
	}
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "sim.v%d\t%d\t0\n", i, i)
	}
	return runner.Result{Stdout: b.String()}
}

func (r *simRunner) KillAll() {
	r.mu.Lock()
	for _, c := range r.stop {
		c()
	}
	r.mu.Unlock()
	r.real.KillAll()
}

func (r *simRunner) Running() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n + r.real.Running()
}
