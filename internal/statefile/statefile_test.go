package statefile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWriteRead(t *testing.T) {
	for _, two := range []bool{false, true} {
		t.Run(fmt.Sprint("twoStep=", two), func(t *testing.T) {
			plan9Rename(t, two)
			p := filepath.Join(t.TempDir(), "sub", "state")
			for i, o := range []Options{{}, {Perm: 0o644, Sync: true}} {
				want := []byte(fmt.Sprintf("version %d\n", i))
				if err := Write(p, want, o); err != nil {
					t.Fatal(err)
				}
				if b, err := Read(p); err != nil || !bytes.Equal(b, want) {
					t.Fatalf("%q %v", b, err)
				}
				perm := o.Perm
				if perm == 0 {
					perm = 0o600
				}
				if fi, err := os.Stat(p); runtime.GOOS != "windows" && (err != nil || fi.Mode().Perm() != perm) {
					t.Errorf("mode %v %v, want %v", fi.Mode(), err, perm)
				}
			}
			// Nothing is left beside the file.
			es, _ := os.ReadDir(filepath.Dir(p))
			if len(es) != 1 {
				t.Errorf("%d files: %v", len(es), es)
			}
		})
	}
}

// Where a rename cannot replace a file (Plan 9), a Write interrupted
// between its two renames leaves path+".new", which Read takes.
func TestInterruptedTwoStep(t *testing.T) {
	plan9Rename(t, true)
	p := filepath.Join(t.TempDir(), "state")
	os.WriteFile(p+newSuffix, []byte("new\n"), 0o600)
	if b, err := Read(p); err != nil || string(b) != "new\n" {
		t.Errorf("%q %v", b, err)
	}
	// A later Write replaces both.
	if err := Write(p, []byte("newer\n"), Options{}); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(p); err != nil || string(b) != "newer\n" {
		t.Errorf("%q %v", b, err)
	}
	if _, err := os.Stat(p + newSuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s left: %v", p+newSuffix, err)
	}
}

// plan9Rename makes Write and Read work as on Plan 9, where os.Rename
// removes the old file before it renames, when two is true.
func plan9Rename(t *testing.T, two bool) {
	old, oldRename := twoStep, rename
	t.Cleanup(func() { twoStep, rename = old, oldRename })
	twoStep = two
	if two {
		rename = func(from, to string) error {
			os.Remove(to)
			return os.Rename(from, to)
		}
	}
}

// Readers running beside a writer always see a whole version.
func TestConcurrentReadWrite(t *testing.T) {
	for _, two := range []bool{false, true} {
		t.Run(fmt.Sprint("twoStep=", two), func(t *testing.T) {
			plan9Rename(t, two)
			p := filepath.Join(t.TempDir(), "state")
			version := func(i int) []byte { return bytes.Repeat([]byte(fmt.Sprintf("%d;", i)), 1000) }
			if err := Write(p, version(0), Options{}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			stop := make(chan struct{})
			wg.Go(func() {
				for i := 1; ; i++ {
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Microsecond):
					}
					if err := Write(p, version(i), Options{}); err != nil {
						t.Error(err)
					}
				}
			})
			for range 2000 {
				b, err := Read(p)
				if err != nil {
					t.Fatal(err)
				}
				first, _, _ := strings.Cut(string(b), ";")
				var i int
				fmt.Sscan(first, &i)
				if !bytes.Equal(b, version(i)) {
					t.Fatalf("a torn file of %d bytes", len(b))
				}
			}
			close(stop)
			wg.Wait()
		})
	}
}

func TestPrivateDir(t *testing.T) {
	base := t.TempDir()
	dir, err := PrivateDir(base, "app")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := user()
	if runtime.GOOS != "windows" && dir != filepath.Join(base, "app-"+u) {
		t.Errorf("%s", dir)
	}
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		t.Fatalf("%v %v", fi.Mode(), err)
	}
	// Again: the same directory, checked.
	if again, err := PrivateDir(base, "app"); err != nil || again != dir {
		t.Errorf("%s %v", again, err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	// Open to others: refused.
	os.Chmod(dir, 0o755)
	if _, err := PrivateDir(base, "app"); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "lets others in") {
		t.Errorf("mode 0755: %v", err)
	}
	os.Chmod(dir, 0o700)
	// A symbolic link or a file in its place: refused.
	os.Remove(dir)
	if err := os.Symlink(t.TempDir(), dir); err != nil {
		t.Fatal(err)
	}
	if _, err := PrivateDir(base, "app"); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "not a directory but a symbolic link") {
		t.Errorf("a link: %v", err)
	}
}
