package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Defaults of the Runner's times.
const (
	// DefaultKillAfter is how long a command has to end after the note
	// (or signal) that tells it its time is up, before its group is
	// killed, as upstream allows 10 s after SIGTERM.
	DefaultKillAfter = 10 * time.Second
	// DefaultWaitGrace is how long a killed command, or what it left, may
	// take to end and close its output before it is given up.
	DefaultWaitGrace = 2 * time.Second
)

// ErrTimedOut is upstream's wording, which operators grep logs for.
var ErrTimedOut = errors.New("command timed out")

// ErrLeftRunning says that processes the command started could not be
// ended.
var ErrLeftRunning = errors.New("command left processes that could not be ended")

// ErrStopped says the command was ended because the agent is stopping
// (the run's context ended, or KillAll).
var ErrStopped = errors.New("command stopped")

// Result is what a command did.
type Result struct {
	Stdout, Stderr string
	// ExitCode is the command's exit status as a number: on Plan 9 the
	// number its exit string ends with, 0 for an empty one, -1 when it is
	// not a number, or when the command did not exit.
	ExitCode int
	// Truncated says that stdout passed MaxStdout and the rest was dropped.
	Truncated bool
	// Err is set when the command could not be run, was ended by the
	// runner (ErrTimedOut, ErrStopped), or left something that could not
	// be ended.
	Err error
}

// Runner runs commands. Its zero value is usable; it must not be copied
// after first use.
type Runner struct {
	// KillAfter and WaitGrace override the defaults (tests).
	KillAfter, WaitGrace time.Duration

	mu   sync.Mutex
	jobs map[*job]struct{}
}

// job is one running command, as KillAll and Running see it.
type job struct {
	kill     chan struct{}
	killOnce sync.Once
}

// Running is how many commands run now.
func (r *Runner) Running() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.jobs)
}

// KillAll ends every running command's group at once, without the time
// to end on its own (a second interrupt to the agent). Each Run still
// returns only after its group has ended.
func (r *Runner) KillAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for j := range r.jobs {
		j.killOnce.Do(func() { close(j.kill) })
	}
}

func (r *Runner) add() *job {
	j := &job{kill: make(chan struct{})}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.jobs == nil {
		r.jobs = map[*job]struct{}{}
	}
	r.jobs[j] = struct{}{}
	return j
}

func (r *Runner) remove(j *job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.jobs, j)
}

func (r *Runner) times() (killAfter, grace time.Duration) {
	killAfter, grace = r.KillAfter, r.WaitGrace
	if killAfter <= 0 {
		killAfter = DefaultKillAfter
	}
	if grace <= 0 {
		grace = DefaultWaitGrace
	}
	return killAfter, grace
}

// Run runs cmd with extraEnv after the configuration's environment, and
// returns when it and every process of its group have ended.
//
// At cmd.Timeout (none when it is 0), or when ctx ends, the group is told
// to stop (SIGTERM; on Plan 9 an interrupt note) and killed KillAfter
// later; a command that handles the note and exits on its own is reported
// as it exited. After the command exits, whatever is left in its group is
// killed at once. A process that does not end within WaitGrace of its
// kill is given up, with an error. A ctx that has ended before Run starts
// the command keeps it from starting.
func (r *Runner) Run(ctx context.Context, cmd Command, extraEnv ...string) Result {
	if ctx.Err() != nil {
		return Result{ExitCode: -1, Err: stopped(ctx)}
	}
	argv := cmd.argv()
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = environ(cmd.Env, extraEnv)
	out, err := newOutput()
	if err != nil {
		return Result{ExitCode: -1, Err: err}
	}
	c.Stdout, c.Stderr = out.w[0], out.w[1]
	// Stdin is the null device (exec's default for a nil Stdin).
	setGroup(c)
	j := r.add()
	defer r.remove(j)
	if err := c.Start(); err != nil {
		out.closeAll()
		return Result{ExitCode: -1, Err: err}
	}
	g := newGroup(c.Process, out)
	out.read()
	return r.wait(ctx, cmd.Timeout, c, g, out, j)
}

// environ is the agent's environment, then the configuration's, then the
// agent's variables for the plugin, less what must not reach a command.
func environ(conf, extra []string) []string {
	var env []string
	for _, l := range [][]string{os.Environ(), conf, extra} {
		for _, e := range l {
			if keepEnv(e) {
				env = append(env, e)
			}
		}
	}
	return env
}

func stopped(ctx context.Context) error {
	return fmt.Errorf("%w: %w", ErrStopped, context.Cause(ctx))
}

// wait follows the command to its end and its group's.
func (r *Runner) wait(ctx context.Context, timeout time.Duration, c *exec.Cmd, g *procGroup, out *output, j *job) Result {
	killAfter, grace := r.times()
	waitc := make(chan error, 1)
	go func() { waitc <- c.Wait() }()
	var timedOut <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timedOut = t.C
	}
	var (
		cause          error // why the runner ended it
		done           = ctx.Done()
		killc          = (<-chan struct{})(j.kill)
		killAt, giveUp <-chan time.Time
		exited         bool
		left           string // what could not be ended
	)
	stop := func(err error) {
		cause, timedOut, done = err, nil, nil
		g.stop()
		killAt = time.After(killAfter)
	}
	kill := func() {
		killAt, killc, timedOut, done = nil, nil, nil, nil
		g.kill()
		giveUp = time.After(grace)
	}
	for !exited && left == "" {
		select {
		case <-waitc:
			exited = true
		case <-timedOut:
			stop(ErrTimedOut)
		case <-done:
			stop(stopped(ctx))
		case <-killc:
			if cause == nil {
				cause = ErrStopped
			}
			kill()
		case <-killAt:
			kill()
		case <-giveUp:
			// Killed, and not gone: what end cannot end either is
			// given up.
			left = fmt.Sprintf("it still ran %v after it was killed", grace)
		}
	}
	if l := r.end(g, out, grace); left == "" {
		left = l
	}
	res := Result{
		Stdout: out.buf[0].String(), Stderr: out.buf[1].String(),
		Truncated: out.buf[0].truncated(), ExitCode: -1,
	}
	if exited {
		res.ExitCode = exitCode(c.ProcessState)
	}
	// As upstream: a command that handled the note and exited on its own
	// terms is reported as it exited; one that was ended is not, and its
	// output is not used.
	if cause != nil && (!exited || endedByUs(c.ProcessState)) {
		res.Err = cause
	}
	switch {
	case left != "" && res.Err != nil:
		res.Err = fmt.Errorf("%w, and %s", res.Err, left)
	case left != "":
		res.Err = fmt.Errorf("%w: %s", ErrLeftRunning, left)
	}
	return res
}

// end kills what is left of the group after the command has exited, or
// was given up, until nothing is left and its output is closed, for at
// most grace. It says what could not be ended.
func (r *Runner) end(g *procGroup, out *output, grace time.Duration) string {
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	defer out.closeAll()
	pause := 10 * time.Millisecond
	for {
		n := g.end()
		if n == 0 && out.ended() {
			return ""
		}
		var ended <-chan struct{}
		if !out.ended() {
			ended = out.done
		}
		select {
		case <-ended:
		case <-time.After(pause):
			pause = min(2*pause, 200*time.Millisecond)
		case <-deadline.C:
			if n > 0 {
				return fmt.Sprintf("%d processes of its group still ran %v after they were killed", n, grace)
			}
			return fmt.Sprintf("its output was still open %v after its group was killed", grace)
		}
	}
}
