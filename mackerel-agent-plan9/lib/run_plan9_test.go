package agent

// These run on a Plan 9 or 9front kernel only: build the test binary with
// GOOS=plan9 go test -c and run it in the guest (see VM-NOTES.md).

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPlan9ExitCodes(t *testing.T) {
	r := runner{killAfter: time.Second}
	for _, tt := range []struct {
		name string
		cmd  Command
		out  string
		code int
	}{
		{"rc string, exit 2", Command{Shell: "echo hi; exit 2"}, "hi\n", 2},
		{"rc string, exit 1", Command{Shell: "exit 1"}, "", 1},
		{"rc string, success", Command{Shell: "echo ok"}, "ok\n", 0},
		{"rc string, exit 3 after a pipeline", Command{Shell: "echo x | grep -s y; exit 3"}, "", 3},
		{"argument vector", Command{Args: []string{"/bin/rc", "-c", "exit 2"}}, "", 2},
		{"a word is not a number", Command{Shell: "exit foo"}, "", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cmd.Timeout = 20 * time.Second
			res := r.run(tt.cmd)
			if res.Err != nil || res.Stdout != tt.out || res.ExitCode != tt.code {
				t.Errorf("%+v", res)
			}
		})
	}
}

// rc functions of the agent's environment do not break the plugin's rc.
func TestPlan9Functions(t *testing.T) {
	os.Setenv("fn#mackereltest", "fn mackereltest {\n\techo x\n}\n")
	defer os.Unsetenv("fn#mackereltest")
	res := runner{}.run(Command{Shell: "echo ok", Timeout: 20 * time.Second})
	if res.Err != nil || res.Stdout != "ok\n" || res.Stderr != "" || res.ExitCode != 0 {
		t.Errorf("%+v", res)
	}
}

// gone waits a little for pid to leave /proc (a killed process may take a
// moment).
func gone(pid int) bool {
	for i := 0; i < 20; i++ {
		if !processExists(pid) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// A plugin that hangs with a background child (which rc puts in a note
// group of its own) is ended at its timeout, child included, and run
// returns.
func TestPlan9TimeoutWithBackgroundChild(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pids")
	r := runner{killAfter: 2 * time.Second}
	start := time.Now()
	res := r.run(Command{Shell: "sleep 1000 & echo $apid >>" + file + "; echo $pid >>" + file + "; sleep 1000", Timeout: 2 * time.Second})
	el := time.Since(start)
	if res.Err != errTimedOut {
		t.Errorf("err = %v, want %v (%+v)", res.Err, errTimedOut, res)
	}
	if el > 2*time.Second+2*time.Second+3*time.Second {
		t.Errorf("run returned after %v", el)
	}
	ps := pids(t, file)
	if len(ps) != 2 {
		t.Fatalf("pids %v", ps)
	}
	for _, p := range ps {
		if !gone(p) {
			t.Errorf("pid %d still runs", p)
		}
	}
	t.Logf("returned after %v", el)
}

// A plugin that exits but leaves a background child holding its output
// is reported as it exited, by its timeout, and the child is ended.
func TestPlan9BackgroundChildAfterExit(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pids")
	r := runner{killAfter: 2 * time.Second}
	start := time.Now()
	res := r.run(Command{Shell: "sleep 1000 & echo $apid >>" + file + "; echo done", Timeout: 2 * time.Second})
	el := time.Since(start)
	if res.Err != nil || res.Stdout != "done\n" || res.ExitCode != 0 {
		t.Errorf("%+v", res)
	}
	if el > 2*time.Second+2*time.Second+3*time.Second {
		t.Errorf("run returned after %v", el)
	}
	for _, p := range pids(t, file) {
		if !gone(p) {
			t.Errorf("pid %d still runs", p)
		}
	}
	t.Logf("returned after %v", el)
}

// A plugin that survives the interrupt is killed after the grace time.
func TestPlan9IgnoresInterrupt(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pids")
	r := runner{killAfter: 2 * time.Second}
	start := time.Now()
	res := r.run(Command{Shell: "echo $pid >>" + file + "; fn sigint { status='' }; while() sleep 1", Timeout: 2 * time.Second})
	el := time.Since(start)
	if res.Err != errTimedOut {
		t.Errorf("err = %v, want %v (%+v)", res.Err, errTimedOut, res)
	}
	if el < 3*time.Second || el > 2*time.Second+2*time.Second+3*time.Second {
		t.Errorf("run returned after %v", el)
	}
	for _, p := range pids(t, file) {
		if !gone(p) {
			t.Errorf("pid %d still runs", p)
		}
	}
	t.Logf("returned after %v", el)
}

func TestPlan9Unquote(t *testing.T) {
	for in, want := range map[string]int{
		"'rc 12: 2'":                      2,
		"'check-plan9 34: 1'":             1,
		"":                                0,
		"'rc 12: sleep 13: interrupt'":    -1,
		"'rc 12: it''s: 3'":               3,
		"'rc 12: exit 1|2'":               2,
		"'prog 5: sys: trap: fault read'": -1,
	} {
		if got := parseExitString(unquote(in)); got != want {
			t.Errorf("%q: %d, want %d", in, got, want)
		}
	}
}
