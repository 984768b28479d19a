package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Output bounds: a plugin that prints megabytes costs its own lines, not
// the agent's memory.
const (
	MaxStdout = 4 << 20
	MaxStderr = 64 << 10
)

// killAfter is how long a plugin has to end after the note (or signal)
// that tells it its time is up, before it and its children are killed, as
// upstream allows 10 s after SIGTERM.
const killAfter = 10 * time.Second

// waitGrace is how long a killed command's output may stay open before
// the agent gives it up.
const waitGrace = 2 * time.Second

// errTimedOut is upstream's wording, which operators grep logs for.
var errTimedOut = errors.New("command timed out")

// runResult is what a command did.
type runResult struct {
	Stdout, Stderr string
	// ExitCode is the command's exit status as a number: on Plan 9 the
	// number its exit string ends with, 0 for an empty one, -1 when it is
	// not a number.
	ExitCode int
	// Truncated says that stdout passed MaxStdout and the rest was dropped.
	Truncated bool
	// Err is set when the command could not be run or ran out of time.
	Err error
}

// runner starts commands. Its zero value is usable.
type runner struct {
	// killAfter overrides the package's killAfter (tests).
	killAfter time.Duration
	// noWaitDelay makes Wait wait on open pipes as it does on Plan 9,
	// where closing them does not end the reads (tests).
	noWaitDelay bool
}

// run runs cmd with extra environment variables after the configuration's,
// and ends it, with every process it started, at cmd.Timeout.
func (r runner) run(cmd Command, extraEnv ...string) runResult {
	ctx, cancel := context.WithTimeout(context.Background(), cmd.Timeout)
	defer cancel()
	var c *exec.Cmd
	if len(cmd.Args) > 0 {
		c = exec.Command(cmd.Args[0], cmd.Args[1:]...)
	} else {
		c = exec.Command(shell[0], append(shell[1:], cmd.Shell)...)
	}
	c.Env = append(append(os.Environ(), cmd.Env...), extraEnv...)
	stdout := &boundedBuffer{max: MaxStdout}
	stderr := &boundedBuffer{max: MaxStderr}
	c.Stdout, c.Stderr = stdout, stderr
	// Stdin is the null device (exec's default for a nil Stdin).
	setGroup(c)
	ka := r.killAfter
	if ka == 0 {
		ka = killAfter
	}
	// A child that outlives the plugin and holds its output open must not
	// hold the agent: Wait gives up on the pipes this long after the
	// plugin exits, or after it is killed.
	if !r.noWaitDelay {
		c.WaitDelay = ka + time.Second
	}

	if err := c.Start(); err != nil {
		return runResult{ExitCode: -1, Err: err}
	}
	g := newGroup(c.Process)
	var (
		mu       sync.Mutex
		timedOut bool
	)
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		mu.Lock()
		timedOut = true
		mu.Unlock()
		g.stop()
		select {
		case <-done:
		case <-time.After(ka):
			g.kill()
		}
	}()
	waitc := make(chan error, 1)
	go func() { waitc <- c.Wait() }()
	var err error
	select {
	case err = <-waitc:
	case <-time.After(cmd.Timeout + ka + waitGrace):
		// Killed, and still not done: something holds its output open
		// (on Plan 9, closing a pipe does not end a read waiting on it,
		// so WaitDelay cannot help). The agent must go on: kill again,
		// and give it up if that does not end it.
		g.kill()
		select {
		case err = <-waitc:
		case <-time.After(waitGrace):
			close(done)
			return runResult{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: -1,
				Err: fmt.Errorf("%w, and its output was still open %v after it was killed", errTimedOut, waitGrace)}
		}
	}
	close(done)
	mu.Lock()
	to := timedOut
	mu.Unlock()
	if errors.Is(err, exec.ErrWaitDelay) {
		// The plugin ended but something it started kept its output
		// open: end that too.
		g.kill()
	}
	res := runResult{Stdout: stdout.String(), Stderr: stderr.String(), Truncated: stdout.dropped > 0, ExitCode: -1}
	if c.ProcessState != nil {
		res.ExitCode = exitCode(c.ProcessState)
	}
	switch {
	case to && endedByUs(c.ProcessState):
		// As upstream: a plugin that handled the note and exited on its
		// own terms is reported as it exited; one that was ended is a
		// timeout, and its output is not used.
		res.Err = errTimedOut
	case err != nil && c.ProcessState == nil:
		res.Err = err
	}
	return res
}

// boundedBuffer keeps the first max bytes written to it and counts the
// rest.
type boundedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	dropped int64
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if room := b.max - b.buf.Len(); room < len(p) {
		b.dropped += int64(len(p) - max(room, 0))
		p = p[:max(room, 0)]
	}
	b.buf.Write(p)
	return n, nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// parseExitString turns a Plan 9 exit string into a number. The wait
// message reads "prog pid: status"; rc passes on its last command's
// status ("rc 12: check-plan9 34: 2"), and a pipeline's statuses are
// joined by '|'. Go programs exit with the decimal code as their status.
func parseExitString(msg string) int {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if i := strings.LastIndexByte(msg, '|'); i >= 0 {
		msg = msg[i+1:]
	}
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return 0
	}
	var n int
	if _, err := fmt.Sscanf(msg, "%d", &n); err != nil || fmt.Sprint(n) != msg || n < 0 {
		return -1
	}
	return n
}
