package pidfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

var proc = p9stats.NewDefaultFS("/")

// helperAttr puts a helper in a note group of its own, so that all its
// procs can be found and killed.
func helperAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Rfork: syscall.RFNOTEG} }

// killHard kills every proc of p's note group with the kill message,
// which no note handler sees: a Go program's procs share its open files,
// so the lock goes only when all have gone.
func killHard(t *testing.T, p *os.Process) {
	id, err := proc.NoteID(p.Pid)
	if err != nil {
		t.Fatal(err)
	}
	pids, _, _ := proc.PIDs()
	for _, pid := range pids {
		if n, err := proc.NoteID(pid); err == nil && n == id {
			proc.Kill(pid)
		}
	}
}

// The lock file: exclusive where the file server keeps DMEXCL, refused to
// a second open, kept by a refresh, and left free by Release.
func TestPlan9LockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pid")
	p := acquire(t, path)
	lockPath := filepath.Join(filepath.Dir(path), "L.pid")
	fi, err := os.Stat(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("guarded %v, %s mode %v", p.Guarded(), lockPath, fi.Mode())
	if p.Guarded() != (fi.Mode()&os.ModeExclusive != 0) {
		t.Errorf("Guarded %v, mode %v", p.Guarded(), fi.Mode())
	}
	if p.Guarded() {
		_, err := os.OpenFile(lockPath, os.O_RDWR, 0)
		if err == nil || !isLocked(err) {
			t.Errorf("second open of the lock: %v", err)
		}
		t.Logf("second open: %v", err)
		if err := p.refreshOnce(); err != nil || !p.Guarded() {
			t.Errorf("refresh: %v, guarded %v", err, p.Guarded())
		}
	}
	release(t, p, path)
	release(t, acquire(t, path), path)
}

// With PIDFILE_LONG set: a refreshed lock outlives the file servers' five
// idle minutes; an idle one, beside it, is broken (where the server times
// locks out).
func TestPlan9LockKeptByRefresh(t *testing.T) {
	if os.Getenv("PIDFILE_LONG") == "" {
		t.Skip("takes six minutes; set PIDFILE_LONG")
	}
	dir := t.TempDir()
	p := acquire(t, filepath.Join(dir, "pid"))
	if !p.Guarded() {
		t.Skip("the file server keeps no exclusive-use files")
	}
	idle, err := os.OpenFile(filepath.Join(dir, "L.idle"), os.O_RDWR|os.O_CREATE|os.O_EXCL, os.ModeExclusive|0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	time.Sleep(6 * time.Minute)
	if _, err := os.OpenFile(filepath.Join(dir, "L.pid"), os.O_RDWR, 0); err == nil {
		t.Errorf("the refreshed lock was broken")
	}
	f, err := os.OpenFile(filepath.Join(dir, "L.idle"), os.O_RDWR, 0)
	t.Logf("idle lock after 6 minutes: a second open gives %v", err)
	if err == nil {
		f.Close()
	}
	if _, err := Acquire(filepath.Join(dir, "pid")); !errors.As(err, new(*RunningError)) {
		t.Errorf("second Acquire after 6 minutes: %v", err)
	}
	p.Release()
}
