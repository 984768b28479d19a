//go:build linux

package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunCommands(t *testing.T) {
	r := runner{killAfter: 300 * time.Millisecond}
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
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cmd.Timeout == 0 {
				tt.cmd.Timeout = 10 * time.Second
			}
			res := r.run(tt.cmd, tt.env...)
			if res.Err != nil || res.Stdout != tt.out || res.ExitCode != tt.code {
				t.Errorf("%+v", res)
			}
		})
	}
	res := r.run(Command{Args: []string{"/nonexistent/plugin"}, Timeout: time.Second})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "/nonexistent/plugin") {
		t.Errorf("missing program: %+v", res)
	}
}

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

// A plugin that never ends is ended at its timeout with every process it
// started; one that handles the signal and exits is reported as it
// exited; one that ignores it is killed after the grace time.
func TestRunTimeouts(t *testing.T) {
	r := runner{killAfter: 300 * time.Millisecond}
	dir := t.TempDir()
	file := filepath.Join(dir, "pids")
	hang := Command{Shell: "sleep 300 & echo $! >>" + file + "; sleep 300 & echo $! >>" + file + "; echo partial; wait", Timeout: 300 * time.Millisecond}
	start := time.Now()
	res := r.run(hang)
	if res.Err != errTimedOut {
		t.Errorf("hang: %+v", res)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	children := pids(t, file)
	if len(children) != 2 {
		t.Fatalf("children %v", children)
	}
	deadline := time.Now().Add(2 * time.Second)
	for _, pid := range children {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("child %d outlived the timeout", pid)
		}
	}

	handled := r.run(Command{Shell: `trap 'echo got TERM; exit 1' TERM; echo start; while :; do sleep 0.05; done`, Timeout: 300 * time.Millisecond})
	if handled.Err != nil || handled.ExitCode != 1 || handled.Stdout != "start\ngot TERM\n" {
		t.Errorf("handled TERM: %+v", handled)
	}

	start = time.Now()
	stubborn := r.run(Command{Shell: `trap '' TERM; while :; do sleep 0.05; done`, Timeout: 200 * time.Millisecond})
	if stubborn.Err != errTimedOut {
		t.Errorf("ignored TERM: %+v", stubborn)
	}
	if d := time.Since(start); d < 500*time.Millisecond || d > 3*time.Second {
		t.Errorf("ignored TERM: ended after %v, want the timeout and the grace time", d)
	}

	// A plugin that exits but leaves a child holding its output is not
	// waited for past the grace time, and the child is ended.
	os.Remove(file)
	start = time.Now()
	left := r.run(Command{Shell: "sleep 300 & echo $! >>" + file + "; echo done", Timeout: 10 * time.Second})
	if left.Err != nil || left.Stdout != "done\n" || left.ExitCode != 0 {
		t.Errorf("left a child: %+v", left)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("left a child: took %v", d)
	}
	for _, pid := range pids(t, file) {
		time.Sleep(50 * time.Millisecond)
		if alive(pid) {
			t.Errorf("the child %d left behind was not ended", pid)
		}
	}
}

// Megabytes of output cost the plugin its excess, not the agent's memory.
func TestRunBoundsOutput(t *testing.T) {
	r := runner{}
	res := r.run(Command{Shell: "head -c 20000000 /dev/zero | tr '\\0' x; echo err >&2", Timeout: 20 * time.Second})
	if res.Err != nil || !res.Truncated || len(res.Stdout) != MaxStdout || res.Stderr != "err\n" {
		t.Errorf("truncated %v, %d bytes, stderr %q, err %v", res.Truncated, len(res.Stdout), res.Stderr, res.Err)
	}
}

// Plan 9 exit strings: the number at the end, after rc's "prog pid: ".
func TestParseExitString(t *testing.T) {
	for msg, want := range map[string]int{
		"":                                0,
		"check-plan9 123: 2":              2,
		"rc 12: check-plan9 34: 1":        1,
		"rc 12: 3":                        3,
		"rc 12: |2":                       2,
		"rc 12: 2|":                       0,
		"rc 12: interrupt":                -1,
		"sleep 5: sys: trap: fault read":  -1,
		"mackerel-plugin-plan9 9: kill":   -1,
		"x 1: 007":                        -1,
		"x 1: -2":                         -1,
		"x 1: 99999999999999999999999999": -1,
	} {
		if got := parseExitString(msg); got != want {
			t.Errorf("%q: %d, want %d", msg, got, want)
		}
	}
}

// Where nothing can close a killed plugin's output (as on Plan 9, where
// closing a pipe does not end a read waiting on it), the agent still
// gives the plugin up, a little after its timeout and the grace time.
func TestRunGivesUp(t *testing.T) {
	r := runner{killAfter: 200 * time.Millisecond, noWaitDelay: true}
	file := filepath.Join(t.TempDir(), "pid")
	// setsid puts the child out of the plugin's process group: killing the
	// group leaves it, holding the output.
	start := time.Now()
	res := r.run(Command{Shell: "setsid sleep 30 & echo $! >" + file + "; echo partial; sleep 300", Timeout: 300 * time.Millisecond})
	d := time.Since(start)
	if !errors.Is(res.Err, errTimedOut) || !strings.Contains(res.Err.Error(), "still open") || res.Stdout != "partial\n" {
		t.Errorf("%+v", res)
	}
	if want := 300*time.Millisecond + 200*time.Millisecond + 2*waitGrace; d < 300*time.Millisecond+200*time.Millisecond+waitGrace || d > want+2*time.Second {
		t.Errorf("gave up after %v, want about %v", d, want)
	}
	for _, pid := range pids(t, file) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
