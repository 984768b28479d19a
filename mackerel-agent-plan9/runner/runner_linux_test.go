//go:build linux

package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether pid runs: a zombie does not (where nothing reaps
// orphans, as in a container whose init does not, killed children stay
// zombies).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

func TestRunCommands(t *testing.T) {
	var r Runner
	for _, tt := range []struct {
		name string
		cmd  Command
		env  []string
		out  string
		code int
	}{
		{"shell string", Command{Shell: "echo $((1+2)); exit 2"}, nil, "3\n", 2},
		{"argument vector, no shell", Command{Args: []string{"echo", "$HOME", "a  b"}}, nil, "$HOME a  b\n", 0},
		{"configuration env, then the agent's", Command{Shell: `echo "$A $B"`, Env: []string{"A=conf", "B=conf"}}, []string{"B=agent"}, "conf agent\n", 0},
		{"stdin is empty", Command{Shell: "cat"}, nil, "", 0},
		{"no timeout", Command{Shell: "echo ok"}, nil, "ok\n", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := r.Run(context.Background(), tt.cmd, tt.env...)
			if res.Err != nil || res.Stdout != tt.out || res.ExitCode != tt.code {
				t.Errorf("%+v", res)
			}
		})
	}
	res := r.Run(context.Background(), Command{Args: []string{"/nonexistent/plugin"}, Timeout: time.Second})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "/nonexistent/plugin") || res.ExitCode != -1 {
		t.Errorf("missing program: %+v", res)
	}
	if n := r.Running(); n != 0 {
		t.Errorf("%d running after every run returned", n)
	}
}

// A plugin that never ends is ended at its timeout with every process it
// started; one that handles the signal and exits is reported as it
// exited; one that ignores it is killed after KillAfter.
func TestRunTimeouts(t *testing.T) {
	r := Runner{KillAfter: 300 * time.Millisecond}
	file := filepath.Join(t.TempDir(), "pids")
	hang := Command{Shell: "sleep 300 & echo $! >>" + file + "; sleep 300 & echo $! >>" + file + "; echo partial; wait", Timeout: 300 * time.Millisecond}
	start := time.Now()
	res := r.Run(context.Background(), hang)
	if res.Err != ErrTimedOut || res.Stdout != "partial\n" {
		t.Errorf("hang: %+v", res)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	if children := pids(t, file); len(children) != 2 {
		t.Errorf("children %v", children)
	} else {
		ended(t, "hang", children)
	}

	handled := r.Run(context.Background(), Command{Shell: `trap 'echo got TERM; exit 1' TERM; echo start; while :; do sleep 0.05; done`, Timeout: 300 * time.Millisecond})
	if handled.Err != nil || handled.ExitCode != 1 || handled.Stdout != "start\ngot TERM\n" {
		t.Errorf("handled TERM: %+v", handled)
	}

	start = time.Now()
	stubborn := r.Run(context.Background(), Command{Shell: `trap '' TERM; while :; do sleep 0.05; done`, Timeout: 200 * time.Millisecond})
	if stubborn.Err != ErrTimedOut {
		t.Errorf("ignored TERM: %+v", stubborn)
	}
	if d := time.Since(start); d < 500*time.Millisecond || d > 3*time.Second {
		t.Errorf("ignored TERM: ended after %v, want the timeout and KillAfter", d)
	}
}

// After a run that ends normally, whatever it left in its group is ended:
// a child holding its output (Run does not wait for it), and one that
// does not.
func TestRunEndsWhatIsLeft(t *testing.T) {
	var r Runner
	for _, tt := range []struct{ name, bg string }{
		{"holding the output", "sleep 300 &"},
		{"output elsewhere", "sleep 300 >/dev/null 2>&1 </dev/null &"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "pids")
			start := time.Now()
			res := r.Run(context.Background(), Command{Shell: tt.bg + " echo $! >>" + file + "; echo done", Timeout: time.Minute})
			if res.Err != nil || res.Stdout != "done\n" || res.ExitCode != 0 {
				t.Errorf("%+v", res)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			ended(t, tt.name, pids(t, file))
		})
	}
}

// Megabytes of output cost the plugin its excess, not the agent's memory.
func TestRunBoundsOutput(t *testing.T) {
	var r Runner
	res := r.Run(context.Background(), Command{Shell: "head -c 20000000 /dev/zero | tr '\\0' x; echo err >&2", Timeout: 20 * time.Second})
	if res.Err != nil || !res.Truncated || len(res.Stdout) != MaxStdout || res.Stderr != "err\n" || strings.Trim(res.Stdout, "x") != "" {
		t.Errorf("truncated %v, %d bytes, stderr %q, err %v", res.Truncated, len(res.Stdout), res.Stderr, res.Err)
	}
	res = r.Run(context.Background(), Command{Shell: "head -c 200000 /dev/zero | tr '\\0' y >&2", Timeout: 20 * time.Second})
	if res.Err != nil || len(res.Stderr) != MaxStderr || res.Truncated {
		t.Errorf("stderr: %d bytes, truncated %v, err %v", len(res.Stderr), res.Truncated, res.Err)
	}
}

// A child outside the group (setsid) that holds the output cannot be
// ended: Run gives it up after WaitGrace, with an error, and keeps what
// was printed.
func TestRunGivesUp(t *testing.T) {
	r := Runner{KillAfter: 200 * time.Millisecond, WaitGrace: 500 * time.Millisecond}
	for _, tt := range []struct {
		name   string
		script string
		want   error
		min    time.Duration
	}{
		{"after a timeout", "; echo partial; sleep 300", ErrTimedOut, 300*time.Millisecond + 500*time.Millisecond},
		{"after an exit", "; echo partial", ErrLeftRunning, 500 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "pid")
			start := time.Now()
			// The child writes its pid once it is in its own session.
			child := "setsid sh -c 'echo $$ >" + file + "; exec sleep 30' & while [ ! -s " + file + " ]; do sleep 0.01; done"
			res := r.Run(context.Background(), Command{Shell: child + tt.script, Timeout: 300 * time.Millisecond})
			d := time.Since(start)
			for _, pid := range pids(t, file) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			if !errors.Is(res.Err, tt.want) || !strings.Contains(res.Err.Error(), "still open") || res.Stdout != "partial\n" {
				t.Errorf("%+v", res)
			}
			if d < tt.min || d > tt.min+2*time.Second {
				t.Errorf("gave up after %v, want about %v", d, tt.min)
			}
		})
	}
}

// hangScript hangs with a sleep child, ignoring INT and TERM, after
// writing both pids into file.
func hangScript(name, file string) string {
	return "trap '' INT TERM; echo $$ >>" + file + "; sleep 300 & echo $! >>" + file + "; echo " + name + "; while :; do sleep 1; done"
}

// The agent stopping (the context ends) ends every command as a timeout
// does: the stop signal at once, the kill KillAfter later, and Run
// returns only when their groups have ended.
func TestRunStopsWithContext(t *testing.T) {
	r := Runner{KillAfter: 500 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	results, wait, all := hangers(t, &r, ctx)
	if n := r.Running(); n != 2 {
		t.Errorf("Running() = %d, want 2", n)
	}
	start := time.Now()
	cancel()
	wait()
	d := time.Since(start)
	for i, res := range results {
		if !errors.Is(res.Err, ErrStopped) || !errors.Is(res.Err, context.Canceled) || res.ExitCode != -1 {
			t.Errorf("%d: %+v", i, res)
		}
	}
	if d < 500*time.Millisecond || d > 3*time.Second {
		t.Errorf("returned %v after the stop, want KillAfter", d)
	}
	ended(t, "stopped", all)
	if n := r.Running(); n != 0 {
		t.Errorf("Running() = %d after the stop", n)
	}
	if res := r.Run(ctx, Command{Shell: "echo no"}); !errors.Is(res.Err, ErrStopped) || res.Stdout != "" {
		t.Errorf("started after the stop: %+v", res)
	}
}

// KillAll (a second interrupt) ends them at once, without KillAfter.
func TestRunKillAll(t *testing.T) {
	r := Runner{KillAfter: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results, wait, all := hangers(t, &r, ctx)
	cancel()
	start := time.Now()
	r.KillAll()
	wait()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned %v after KillAll", d)
	}
	for i, res := range results {
		if !errors.Is(res.Err, ErrStopped) || res.ExitCode != -1 {
			t.Errorf("%d: %+v", i, res)
		}
	}
	ended(t, "killed", all)
}

// A plugin that handles TERM when the agent stops keeps its exit code
// and output.
func TestRunStopHandled(t *testing.T) {
	r := Runner{KillAfter: 10 * time.Second}
	file := filepath.Join(t.TempDir(), "pids")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { waitPids(t, file, 1); cancel() }()
	res := r.Run(ctx, Command{Shell: `trap 'echo bye; exit 2' TERM; echo $$ >` + file + `; while :; do sleep 0.05; done`})
	if res.Err != nil || res.ExitCode != 2 || res.Stdout != "bye\n" {
		t.Errorf("%+v", res)
	}
}

// A Go plugin's exit code and output arrive; a hanging one is ended.
func TestRunGoPlugin(t *testing.T) {
	r := Runner{KillAfter: 500 * time.Millisecond}
	res := r.Run(context.Background(), goPlugin("exit", 20*time.Second))
	if res.Err != nil || res.ExitCode != 3 || res.Stdout != "metric\t1\t1\n" {
		t.Errorf("exit: %+v", res)
	}
	res = r.Run(context.Background(), goPlugin("hang", time.Second))
	if res.Err != ErrTimedOut || res.Stdout != "metric\t1\t1\n" {
		t.Errorf("hang: %+v", res)
	}
}

// Runs leave no file of the agent's open.
func TestRunClosesFiles(t *testing.T) {
	count := func() int {
		ds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}
	var r Runner
	r.Run(context.Background(), Command{Shell: "true"})
	before := count()
	for range 100 {
		r.Run(context.Background(), Command{Shell: "echo x; echo y >&2"})
	}
	r.Run(context.Background(), Command{Args: []string{"/nonexistent"}})
	if after := count(); after > before {
		t.Errorf("%d files open before 100 runs, %d after", before, after)
	}
}
