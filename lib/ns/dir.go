package ns

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// Dir returns the name space rooted at the local directory root: "/" on a
// Plan 9 host, or a directory holding a mounted or captured Plan 9 name
// space elsewhere.
//
// On Plan 9, when root is "/", names that begin with '#' ("#c/sysstat")
// are opened as kernel device names rather than as files under root.
func Dir(root string) FS {
	return dir{root: root, kernel: runtime.GOOS == "plan9" && filepath.Clean(root) == "/"}
}

type dir struct {
	root   string
	kernel bool // '#' names reach kernel devices
}

var (
	_ ConsoleFS = dir{}
	_ ControlFS = dir{}
)

func (d dir) path(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if d.kernel && strings.HasPrefix(name, "#") {
		return name, nil
	}
	return filepath.Join(d.root, filepath.FromSlash(name)), nil
}

func (d dir) Open(name string) (fs.File, error) {
	p, err := d.path("open", name)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// ReadFile reads the file with a single large read; see the package
// documentation for why.
func (d dir) ReadFile(name string) ([]byte, error) {
	p, err := d.path("read", name)
	if err != nil {
		return nil, err
	}
	f, err := openRead(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := ReadAll(f, ReadSize)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: p, Err: err}
	}
	return b, nil
}

// maxDirEntries is MaxDirEntries, lowered by tests.
var maxDirEntries = MaxDirEntries

// ReadDir lists the directory sorted by name, as os.ReadDir does, but
// stops at MaxDirEntries: a directory mounted from a server (v9fs,
// 9pfuse) may never end.
func (d dir) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := d.path("readdir", name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ds []fs.DirEntry
	for {
		more, err := f.ReadDir(1024)
		ds = append(ds, more...)
		if len(ds) > maxDirEntries {
			return nil, &fs.PathError{Op: "readdir", Path: p, Err: ErrDirTooLarge}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(ds, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return ds, nil
}

func (d dir) Stat(name string) (fs.FileInfo, error) {
	p, err := d.path("stat", name)
	if err != nil {
		return nil, err
	}
	return os.Stat(p)
}

// OpenConsole opens name for reading and writing.
func (d dir) OpenConsole(name string) (io.ReadWriteCloser, error) {
	p, err := d.path("open", name)
	if err != nil {
		return nil, err
	}
	return os.OpenFile(p, os.O_RDWR, 0)
}

// WriteControl writes msg to name in one write.
func (d dir) WriteControl(name string, msg []byte) error {
	p, err := d.path("write", name)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(msg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
