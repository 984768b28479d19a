//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// The built agent's worst minutes on Linux: a stop while plugins hang, an
// API that is down at start, a stale pid file, two agents at once.

// agentProc is a running agent.
type agentProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr syncWriter
	done   chan struct{}
	err    error
}

func startAgent(t *testing.T, args ...string) *agentProc {
	t.Helper()
	p := &agentProc{t: t, cmd: exec.Command(testkit.Bin("mackerel-agent-plan9"), args...), done: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// stop interrupts the agent and returns its exit status and how long it
// took to exit.
func (p *agentProc) stop() (int, time.Duration) {
	p.cmd.Process.Signal(syscall.SIGINT)
	start := time.Now()
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		p.t.Fatalf("the agent did not stop:\n%s", p.log())
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}

func (p *agentProc) log() string {
	p.stderr.mu.Lock()
	defer p.stderr.mu.Unlock()
	return p.stderr.w.String()
}

type syncWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// waitFor polls f until it holds. The limits are generous, twice the
// longest wait the agent's schedule allows, as they cost nothing when the
// condition comes early and a busy machine stretches every wait.
func waitFor(t *testing.T, what string, d time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive says whether pid is a process that has not ended (a zombie has).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

func readPids(file string) []int {
	b, _ := os.ReadFile(file)
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// hanger is a plugin that ignores INT and TERM, starts a sleep that does
// too, records both pids, and waits.
func hanger(t *testing.T, pids string) string {
	p := filepath.Join(t.TempDir(), "hang")
	body := fmt.Sprintf("#!/bin/sh\ntrap '' INT TERM\nsleep 300 &\necho $$ $! >>%s\nwait\n", pids)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// A stop ends every plugin and check still running, with what they
// started, before the agent exits: nothing is left behind.
func TestStopLeavesNothing(t *testing.T) {
	api := mackereltest.NewServer(t, nil)
	pids := filepath.Join(t.TempDir(), "pids")
	root := testkit.Capture(testkit.Front11879amd64)
	conf := writeConf(t, fmt.Sprintf(`apikey = %q
apibase = %q
root = %q
[plugin.metrics.hang]
command = %q
timeout_seconds = 600
[plugin.checks.hang]
command = %q
timeout_seconds = 600
`, mackereltest.Key, api.URL(), t.TempDir(), hanger(t, pids), hanger(t, pids)))
	p := startAgent(t, "-conf", conf, "--root", root)
	// Checks and the graph definitions begin within 15 s of the start,
	// the values' run at the minute's tick, within 30 s.
	waitFor(t, "running plugin and check", 60*time.Second, func() bool { return len(readPids(pids)) >= 4 })
	code, took := p.stop()
	if took > 10*time.Second {
		t.Errorf("the stop took %v", took)
	}
	var left []int
	time.Sleep(200 * time.Millisecond)
	for _, pid := range readPids(pids) {
		if alive(pid) {
			left = append(left, pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if len(left) > 0 {
		t.Errorf("processes left after the agent exited (%d): %v\n%s", code, left, p.log())
	}
}

// An API down at start does not end the agent: it queues from its first
// minute, registers once the API answers, and posts what it queued. An
// interrupt while it cannot register ends it at once, exit status 1.
func TestAPIDownAtStartBuilt(t *testing.T) {
	api := mackereltest.NewServer(t, nil)
	start := time.Now()
	api.Fail = func(c mackereltest.Call) int {
		if time.Since(start) < 5*time.Second {
			return 503
		}
		return 0
	}
	root := testkit.Capture(testkit.Front11879amd64)
	conf := writeConf(t, fmt.Sprintf("apikey = %q\napibase = %q\nroot = %q\n", mackereltest.Key, api.URL(), t.TempDir()))
	p := startAgent(t, "-conf", conf, "--root", root)
	waitFor(t, "registration after the outage", 60*time.Second, func() bool { return len(api.Calls("GET", "/api/v0/hosts/H001")) > 0 })
	waitFor(t, "values of the first minute", 60*time.Second, func() bool { return len(api.Posted(t)) > 0 })
	// The first minute's values: of the start, or of the minute's own
	// tick when it came within 30 s.
	// Near 30 s either may be, as the agent's start is a moment after
	// the test's.
	first := api.Posted(t)[0].Time
	next := start.Truncate(time.Minute).Add(time.Minute)
	near := func(want time.Time) bool { d := first - want.Unix(); return d >= -1 && d <= 2 }
	gap := next.Sub(start)
	switch {
	case gap > 31*time.Second && !near(start), gap < 29*time.Second && !near(next), !near(start) && !near(next):
		t.Errorf("the first values are of %v; started at %v", time.Unix(first, 0), start)
	}
	if code, _ := p.stop(); code != 0 {
		t.Errorf("exit %d after everything was posted:\n%s", code, p.log())
	}

	// Started within 30 s of a minute, the agent waits for the minute's
	// own tick and would hold nothing yet at the stop.
	if next := time.Now().Truncate(time.Minute).Add(time.Minute); time.Until(next) < 31*time.Second {
		time.Sleep(time.Until(next) + time.Second)
	}
	down := mackereltest.NewServer(t, nil)
	down.Fail = func(mackereltest.Call) int { return 503 }
	conf = writeConf(t, fmt.Sprintf("apikey = %q\napibase = %q\nroot = %q\n", mackereltest.Key, down.URL(), t.TempDir()))
	p = startAgent(t, "-conf", conf, "--root", root)
	waitFor(t, "a try to register", 20*time.Second, func() bool { return len(down.Calls("POST", "/api/v0/hosts")) > 0 })
	// Time for the start's collection on a busy machine.
	time.Sleep(5 * time.Second)
	code, took := p.stop()
	if code != 1 || took > 5*time.Second {
		t.Errorf("stopped while registering: exit %d after %v\n%s", code, took, p.log())
	}
}

// A stale pid file never blocks a start, even when its pid now belongs
// to another program; of two agents started together one runs.
func TestPidFile(t *testing.T) {
	api := mackereltest.NewServer(t, nil)
	root := testkit.Capture(testkit.Front11879amd64)
	dir := t.TempDir()
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { other.Process.Kill(); other.Wait() }()
	os.WriteFile(filepath.Join(dir, "pid"), []byte(fmt.Sprintln(other.Process.Pid)), 0o644)
	conf := writeConf(t, fmt.Sprintf("apikey = %q\napibase = %q\nroot = %q\n", mackereltest.Key, api.URL(), dir))
	p := startAgent(t, "-conf", conf, "--root", root)
	// The first values come at the start, or at the minute's tick when
	// it is within 30 s.
	waitFor(t, "values", 60*time.Second, func() bool { return len(api.Posted(t)) > 0 })
	p.stop()

	a, b := startAgent(t, "-conf", conf, "--root", root), startAgent(t, "-conf", conf, "--root", root)
	var refused *agentProc
	waitFor(t, "one agent refused", 20*time.Second, func() bool {
		for _, x := range []*agentProc{a, b} {
			select {
			case <-x.done:
				refused = x
				return true
			default:
			}
		}
		return false
	})
	if refused.cmd.ProcessState.ExitCode() != 1 || !strings.Contains(refused.log(), "an agent already runs") {
		t.Errorf("refused with %v: %s", refused.err, refused.log())
	}
	running := a
	if refused == a {
		running = b
	}
	time.Sleep(time.Second)
	select {
	case <-running.done:
		t.Errorf("both agents ended:\n%s", running.log())
	default:
		running.stop()
	}
}

// once posts nothing and writes nothing: not even the work directory.
func TestOnceWritesNothing(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command(testkit.Bin("mackerel-agent-plan9"), "once", "--root", testkit.Capture(testkit.Front11879amd64))
	cmd.Env = append(os.Environ(), "HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if ents, _ := os.ReadDir(home); len(ents) > 0 {
		t.Errorf("once wrote %v in $HOME", ents)
	}
}
