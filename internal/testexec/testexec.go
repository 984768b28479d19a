// Package testexec starts the commands of tests so that none outlives its
// test. A test that runs `go build` or a pinned tool on a cold cache can
// take minutes; when go test's -timeout ends the test binary first, its
// children (and theirs: `go tool` runs the tool as a child of go) would
// otherwise run on for as long again.
package testexec

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Grace is how long before the test's deadline (go test -timeout) a
// command is killed, so that the test fails with a message saying so
// instead of the test binary's panic, and its cleanups still run.
const Grace = 30 * time.Second

// contexts holds the context of each command, to tell a command killed at
// the deadline.
var contexts sync.Map

// Command is exec.Command for a test. The command runs in a process group
// of its own where the system has them, and that whole group is killed
// when the test ends (t.Cleanup), when the test's deadline is Grace away,
// or, on Linux, when the test binary itself dies (the parent-death
// signal, which reaches the command but not its children: run tools
// directly, not under `go tool`, so that the command is the tool).
func Command(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-Grace))
		}
	}
	cmd := exec.CommandContext(ctx, name, args...)
	contexts.Store(cmd, ctx)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return killGroup(cmd) }
	cmd.WaitDelay = 5 * time.Second
	t.Cleanup(func() {
		contexts.Delete(cmd)
		cancel()
		if cmd.Process != nil && cmd.ProcessState == nil {
			killGroup(cmd)
		}
	})
	return cmd
}

// Run runs cmd and fails the test if it fails, with its output, and says
// so when it was killed at the test's deadline. It returns the output
// (standard output and error together) and how long it took.
func Run(t testing.TB, cmd *exec.Cmd) (string, time.Duration) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		why := ""
		if ctx, ok := contexts.Load(cmd); ok && ctx.(context.Context).Err() != nil {
			why = fmt.Sprintf(" (killed %v before the test's deadline: give go test a larger -timeout)", Grace)
		}
		t.Fatalf("%s after %v: %v%s\n%s", cmd, took.Round(time.Second), err, why, out.String())
	}
	return out.String(), took
}
