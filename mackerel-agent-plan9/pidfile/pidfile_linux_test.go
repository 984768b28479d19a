package pidfile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An agent that has exited but was not reaped (a zombie) is not a live
// agent.
func TestZombieAgent(t *testing.T) {
	h := startHelper(t, "idle")
	if got := h.line(t); got != "ok" {
		t.Fatal(got)
	}
	pid := h.cmd.Process.Pid
	h.in.Close() // it exits; nothing waits for it yet
	stat := "/proc/" + strconv.Itoa(pid) + "/stat"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(stat)
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && f[0] == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d: not a zombie after 10s: %q", pid, b)
		}
	}
	path := filepath.Join(t.TempDir(), "pid")
	os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644)
	release(t, acquire(t, path), path)
}

// A pid file in a directory others can write may be a planted link or
// FIFO: the start fails at once, and the link's target is untouched.
func TestPlantedPidFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	os.WriteFile(target, []byte("keep\n"), 0o644)
	link := filepath.Join(dir, "pid")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(link); err == nil {
		t.Error("a link was taken")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep\n" {
		t.Errorf("the link's target now holds %q", b)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Acquire(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("a FIFO: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Acquire blocked on a FIFO")
	}
}
