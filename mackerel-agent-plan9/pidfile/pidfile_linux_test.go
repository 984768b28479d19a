package pidfile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
