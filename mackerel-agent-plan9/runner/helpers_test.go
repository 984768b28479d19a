//go:build linux || plan9

package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// pids reads the pids a script wrote, one per line.
func pids(t *testing.T, file string) []int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%s: %q", file, f)
		}
		out = append(out, n)
	}
	return out
}

// waitPids waits until a script has written n pids into file: the
// processes then run.
func waitPids(t *testing.T, file string, n int) []int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(file); err == nil && len(strings.Fields(string(b))) >= n {
			return pids(t, file)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: fewer than %d pids after 20s", file, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ended fails the test for each pid that still runs a second after Run
// returned (a killed process may take a moment to go).
func ended(t *testing.T, what string, pids []int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("%s: pid %d still runs", what, pid)
		}
	}
}

// The test binary, run again with RUNNER_HELPER set, is a Go plugin for
// these tests, with procs of its own (as every Go program on Plan 9):
//
//	exit   print a line and exit 3
//	hang   print a line and block
//	orphan start itself as hang in its own note group, not on its
//	       output, write that child's pid to $RUNNER_PIDS, and exit 0
func TestMain(m *testing.M) {
	mode := os.Getenv("RUNNER_HELPER")
	if mode == "" {
		os.Exit(m.Run())
	}
	if mode == "orphan" {
		c := exec.Command(os.Args[0], "-test.run=^$")
		c.Env = append(os.Environ(), "RUNNER_HELPER=hang")
		if err := c.Start(); err != nil {
			os.Exit(1)
		}
		os.WriteFile(os.Getenv("RUNNER_PIDS"), []byte(strconv.Itoa(c.Process.Pid)+"\n"), 0o644)
		os.Exit(0)
	}
	// Locked threads make the runtime start more procs.
	for range 4 {
		go func() { runtime.LockOSThread(); time.Sleep(time.Hour) }()
	}
	time.Sleep(50 * time.Millisecond)
	os.Stdout.WriteString("metric\t1\t1\n")
	if mode == "hang" {
		time.Sleep(time.Hour)
	}
	os.Exit(3)
}

// goPlugin runs the test binary as a plugin.
func goPlugin(mode string, timeout time.Duration) Command {
	return Command{Args: []string{os.Args[0], "-test.run=^$"}, Env: []string{"RUNNER_HELPER=" + mode}, Timeout: timeout}
}

// hangers starts a hanging metric plugin and a hanging check (hangScript),
// as an agent may be running them when it is told to stop, and returns
// once they run: their results, a wait for them, and their pids.
func hangers(t *testing.T, r *Runner, ctx context.Context) (results []Result, wait func(), all []int) {
	dir := t.TempDir()
	results = make([]Result, 2)
	var wg sync.WaitGroup
	for i, name := range []string{"plugin", "check"} {
		script := hangScript(name, filepath.Join(dir, name))
		wg.Go(func() { results[i] = r.Run(ctx, Command{Shell: script, Timeout: time.Hour}) })
	}
	for _, name := range []string{"plugin", "check"} {
		all = append(all, waitPids(t, filepath.Join(dir, name), 2)...)
	}
	return results, wg.Wait, all
}
