//go:build unix

package statefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Whatever a neighbour puts where the state should be, Read refuses it at
// once, with an error saying what it is, and allocates no more than
// MaxSize.
func TestReadRefuses(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	toFile := filepath.Join(dir, "link")
	os.WriteFile(filepath.Join(dir, "target"), []byte("x"), 0o600)
	os.Symlink("target", toFile)
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, says string }{
		{fifo, "not a regular file but a FIFO"},
		{zero, "a symbolic link, which is not followed"},
		{toFile, "a symbolic link, which is not followed"},
		{big, "more than the 1048576 bytes a state file may have"},
		{dir, "not a regular file but a directory"},
		{"/dev/null", "not a regular file but a device"},
	} {
		done := make(chan struct{})
		var b []byte
		var err error
		var allocated uint64
		go func() {
			defer close(done)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			b, err = Read(tt.path)
			runtime.ReadMemStats(&m1)
			allocated = m1.TotalAlloc - m0.TotalAlloc
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Read blocked", tt.path)
		}
		if b != nil || !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tt.path+": unsafe: "+tt.says) {
			t.Errorf("%s: %d bytes, %v; want %q", tt.path, len(b), err, tt.says)
		}
		if allocated > 2*MaxSize {
			t.Errorf("%s: allocated %d bytes", tt.path, allocated)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	// At the bound, the file is read.
	os.Truncate(big, MaxSize)
	if b, err := Read(big); err != nil || len(b) != MaxSize {
		t.Errorf("%d bytes: %v", len(b), err)
	}
}

// A file of another user is refused: made by root for another uid.
func TestReadOtherOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a file of another user")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "state")
	os.WriteFile(p, []byte("forged"), 0o644)
	if err := os.Chown(p, 12345, 12345); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(p); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "belongs to uid 12345, not to this user, 0") {
		t.Errorf("%v", err)
	}
	squat := filepath.Join(t.TempDir(), "app-0")
	os.Mkdir(squat, 0o700)
	os.Chown(squat, 12345, 12345)
	if _, err := PrivateDir(filepath.Dir(squat), "app"); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "belongs to 12345, not to this user, 0") {
		t.Errorf("a directory made first by another user: %v", err)
	}
}
