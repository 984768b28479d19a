package pidfile

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func pidIn(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %q", path, b)
	}
	return pid
}

func acquire(t *testing.T, path string) *Pidfile {
	t.Helper()
	p, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := pidIn(t, path); got != selfPid {
		t.Errorf("pid file holds %d, want %d", got, selfPid)
	}
	return p
}

func release(t *testing.T, p *Pidfile, path string) {
	t.Helper()
	if err := p.Release(); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Release: %v", err)
	}
}

// A pid file naming a live process that is not an agent (after a crash,
// the pid went to another program) does not block a start; nor does one
// that holds no pid.
func TestStalePidFile(t *testing.T) {
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	for _, content := range []string{strconv.Itoa(sleep.Process.Pid) + "\n", "", "garbage", strings.Repeat("9", 100), strconv.Itoa(selfPid)} {
		path := filepath.Join(t.TempDir(), "pid")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		release(t, acquire(t, path), path)
	}
	path := filepath.Join(t.TempDir(), "pid")
	p := acquire(t, path)
	release(t, p, path)
	release(t, acquire(t, path), path)
}

// An agent that holds the file keeps another from starting.
func TestLiveAgent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pid")
	h := startHelper(t, "hold "+path)
	if got := h.hold(t); !strings.HasPrefix(got, "ok") {
		t.Fatal(got)
	}
	_, err := Acquire(path)
	var re *RunningError
	if !errors.As(err, &re) || re.Pid != h.cmd.Process.Pid {
		t.Fatalf("%v", err)
	}
	want := fmt.Sprintf("an agent already runs as pid %d (%s); stop it first", h.cmd.Process.Pid, path)
	if err.Error() != want {
		t.Errorf("%q, want %q", err, want)
	}
	if got := pidIn(t, path); got != h.cmd.Process.Pid {
		t.Errorf("the refused start changed the file: %d", got)
	}
	h.stop()
	release(t, acquire(t, path), path)
}

// A live process of the agent's name that holds no lock (an agent that
// does not lock) counts where names can be read.
func TestLiveAgentWithoutLock(t *testing.T) {
	if !namesKnown {
		t.Skip("no process names here")
	}
	h := startHelper(t, "idle")
	if got := h.line(t); got != "ok" {
		t.Fatal(got)
	}
	path := filepath.Join(t.TempDir(), "pid")
	os.WriteFile(path, []byte(strconv.Itoa(h.cmd.Process.Pid)+"\n"), 0o644)
	var re *RunningError
	if _, err := Acquire(path); !errors.As(err, &re) || re.Pid != h.cmd.Process.Pid {
		t.Errorf("%v", err)
	}
}

// An agent killed outright leaves its file, which blocks nothing.
func TestKilledAgent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pid")
	h := startHelper(t, "hold "+path)
	if got := h.hold(t); !strings.HasPrefix(got, "ok") {
		t.Fatal(got)
	}
	killHard(t, h.cmd.Process)
	h.cmd.Wait()
	if got := pidIn(t, path); got != h.cmd.Process.Pid {
		t.Fatalf("pid file holds %d, want the killed %d", got, h.cmd.Process.Pid)
	}
	release(t, acquire(t, path), path)
}

// Of agents started in the same instant, exactly one runs.
func TestRaceProcesses(t *testing.T) {
	const rounds, n = 10, 8
	for round := range rounds {
		path := filepath.Join(t.TempDir(), "pid")
		hs := make([]*helper, n)
		for i := range hs {
			hs[i] = startHelper(t, "hold "+path)
		}
		for _, h := range hs {
			h.in.Write([]byte("go\n"))
		}
		var won []int
		unguarded := false
		for _, h := range hs {
			got := h.line(t)
			switch {
			case strings.HasPrefix(got, "ok"):
				won = append(won, h.cmd.Process.Pid)
				unguarded = unguarded || got == "ok unguarded"
			case !strings.HasPrefix(got, "an agent already runs"):
				t.Errorf("round %d: %s", round, got)
			}
		}
		if len(won) != 1 && !unguarded {
			t.Errorf("round %d: %d of %d agents run: %v", round, len(won), n, won)
		}
		if unguarded {
			t.Logf("round %d: the file server keeps no exclusive-use files; %d of %d run", round, len(won), n)
		}
		for _, h := range hs {
			h.stop()
		}
	}
}

func TestRaceGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pid")
	const n = 32
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		won     []*Pidfile
		refused int
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			p, err := Acquire(path)
			mu.Lock()
			defer mu.Unlock()
			var re *RunningError
			switch {
			case err == nil:
				won = append(won, p)
			case errors.As(err, &re):
				refused++
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	switch {
	case len(won) > 0 && !won[0].Guarded():
		t.Logf("the file server keeps no exclusive-use files; %d of %d won", len(won), n)
	case len(won) != 1 || refused != n-1:
		t.Errorf("%d won, %d refused", len(won), refused)
	}
	for _, p := range won {
		p.Release()
	}
}
