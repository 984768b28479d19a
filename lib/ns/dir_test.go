package ns

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"testing/fstest"
)

func TestDir(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "dev"), 0o755))
	must(t, os.MkdirAll(filepath.Join(root, "#c"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "dev", "sysname"), []byte("gnot"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "#c", "sysstat"), []byte("x"), 0o644))
	big := bytes.Repeat([]byte("0123456789abcdef"), 3*ReadSize/16+7)
	must(t, os.WriteFile(filepath.Join(root, "dev", "kmesg"), big, 0o644))

	d := Dir(root)
	if err := fstest.TestFS(d, "dev/sysname", "dev/kmesg", "#c/sysstat"); err != nil {
		t.Fatal(err)
	}
	b, err := d.ReadFile("dev/kmesg")
	if err != nil || !bytes.Equal(b, big) {
		t.Errorf("a file larger than one read: %d bytes, %v", len(b), err)
	}
	// Outside Plan 9, or under another root, '#' names are plain names.
	if runtime.GOOS != "plan9" {
		if b, err := d.ReadFile("#c/sysstat"); err != nil || string(b) != "x" {
			t.Errorf("%q %v", b, err)
		}
	}
	if _, err := d.ReadFile("dev/swap"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	for _, bad := range []string{"/dev/swap", "../etc/passwd", "dev/../x"} {
		if _, err := d.ReadFile(bad); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	c, err := d.(ConsoleFS).OpenConsole("dev/sysname")
	must(t, err)
	_, err = c.Write([]byte("x"))
	must(t, err)
	must(t, c.Close())
}

// countReader returns n bytes per Read and counts the calls.
type countReader struct {
	left, per, calls int
}

func (r *countReader) Read(b []byte) (int, error) {
	r.calls++
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(b), r.per, r.left)
	r.left -= n
	return n, nil
}

func TestReadAll(t *testing.T) {
	// A short read ends the file: a kernel device regenerates on the next.
	r := &countReader{left: 100, per: 100}
	if b, err := ReadAll(r, ReadSize); len(b) != 100 || err != nil || r.calls != 1 {
		t.Errorf("%d bytes, %v, %d calls", len(b), err, r.calls)
	}
	// Over 9P each read returns at most the iounit: full reads go on.
	r = &countReader{left: 20000, per: 8168}
	if b, err := ReadAll(r, 8168); len(b) != 20000 || err != nil || r.calls != 3 {
		t.Errorf("%d bytes, %v, %d calls", len(b), err, r.calls)
	}
	// A runaway file is cut at MaxFileSize.
	r = &countReader{left: 2 * MaxFileSize, per: ReadSize}
	if b, err := ReadAll(r, ReadSize); len(b) != MaxFileSize || err != nil {
		t.Errorf("%d bytes, %v", len(b), err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A listing stops past the bound; one at the bound is whole and sorted.
func TestDirBound(t *testing.T) {
	defer func(n int) { maxDirEntries = n }(maxDirEntries)
	maxDirEntries = 1500 // more than one f.ReadDir(1024)
	root := t.TempDir()
	proc := filepath.Join(root, "proc")
	must(t, os.Mkdir(proc, 0o755))
	for i := maxDirEntries; i > 0; i-- {
		f, err := os.Create(filepath.Join(proc, strconv.Itoa(i)))
		must(t, err)
		f.Close()
	}
	ds, err := Dir(root).ReadDir("proc")
	if err != nil || len(ds) != maxDirEntries || ds[0].Name() != "1" || ds[1].Name() != "10" {
		t.Fatalf("%d entries, %v", len(ds), err)
	}
	f, err := os.Create(filepath.Join(proc, "0"))
	must(t, err)
	f.Close()
	if ds, err := Dir(root).ReadDir("proc"); !errors.Is(err, ErrDirTooLarge) || ds != nil {
		t.Errorf("%d entries, %v", len(ds), err)
	}
}
