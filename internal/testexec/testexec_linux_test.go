package testexec

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gone reports whether pid has ended (or is a zombie nobody reaped yet).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] == "Z"
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for start := time.Now(); !gone(pid); time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d outlived its test", pid)
		}
	}
}

// A command and what it started end with the test.
func TestCleanupKillsTheGroup(t *testing.T) {
	var child int
	t.Run("inner", func(t *testing.T) {
		cmd := Command(t, "sh", "-c", "sleep 1000 & echo $!; wait")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		if child, err = strconv.Atoi(strings.TrimSpace(line)); err != nil {
			t.Fatalf("%q", line)
		}
	})
	waitGone(t, child)
}

// deadlineT is a test whose deadline is near, and which records Fatalf.
type deadlineT struct {
	*testing.T
	dl    time.Time
	fatal string
}

func (d *deadlineT) Deadline() (time.Time, bool)       { return d.dl, true }
func (d *deadlineT) Fatalf(format string, args ...any) { d.fatal = fmt.Sprintf(format, args...) }

// A command still running Grace before the test's deadline is killed,
// and Run says why.
func TestKilledBeforeTheDeadline(t *testing.T) {
	d := &deadlineT{T: t, dl: time.Now().Add(Grace + 100*time.Millisecond)}
	cmd := Command(d, "sh", "-c", "sleep 1000 & wait")
	_, took := Run(d, cmd)
	if took > 8*time.Second || !strings.Contains(d.fatal, "killed 30s before the test's deadline: give go test a larger -timeout") {
		t.Errorf("after %v: %q", took, d.fatal)
	}
}
