// Package statefile keeps a small file of a program's own state where no
// other user of the machine can touch it: the plugin's previous sample,
// the agent's host id and pid files. It has the three rules every such
// file follows:
//
//   - PrivateDir: a directory private to the user inside a shared one
//     (the temporary directory), created mode 0700 and checked on every
//     use, as ssh-agent and tmux check theirs;
//   - Read: a bounded read that takes only a regular file of this user,
//     opened without following a symbolic link and without blocking, so
//     that a FIFO, a link to /dev/zero or a huge file planted by a
//     neighbour costs an error, never a hang or a large allocation;
//   - Write: the one atomic writer, a temporary file renamed over the old,
//     so that a reader sees the old contents or the new, never a part,
//     also on Plan 9, where a rename cannot replace a file.
//
// On Plan 9 there are no symbolic links, FIFOs or device files on a file
// server, and nobody else can bind anything into this process's name
// space; what a neighbour can plant in a shared directory is a plain file
// of their own, which Read refuses by its owner.
package statefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
)

// MaxSize is the largest file Read accepts.
const MaxSize = 1 << 20

// ErrUnsafe is the error, wrapped, of a file or directory that Read or
// PrivateDir refuse: of another user, not a regular file (or directory),
// open to others, or larger than MaxSize.
var ErrUnsafe = errors.New("unsafe")

func unsafeErr(path, format string, args ...any) error {
	return &fs.PathError{Op: "check", Path: path, Err: fmt.Errorf("%w: "+format, append([]any{ErrUnsafe}, args...)...)}
}

// PrivateDir returns the directory named name plus "-" and the user (the
// uid on Unix, the user name on Plan 9) inside base, or inside the
// temporary directory when base is "": /tmp/mackerel-plugin-plan9-1000.
// It creates the directory with mode 0700 if it is missing, and checks,
// every time, that it is a directory (not a link to one) of this user
// that no one else may enter. One that fails the check, such as one made
// first by another user, is an error wrapping ErrUnsafe: remove it, or
// use another base.
//
// On Windows, whose temporary directory is the user's own, it is
// base\name and only made.
func PrivateDir(base, name string) (string, error) {
	if base == "" {
		base = os.TempDir()
	}
	if runtime.GOOS == "windows" {
		dir := filepath.Join(base, name)
		return dir, os.MkdirAll(dir, 0o700)
	}
	u, err := user()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, name+"-"+u)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	switch owner, ok := ownerOf(fi); {
	case !fi.IsDir():
		return "", unsafeErr(dir, "not a directory but %s", kind(fi))
	case !ok || owner != u:
		return "", unsafeErr(dir, "belongs to %s, not to this user, %s", owner, u)
	case fi.Mode().Perm()&0o077 != 0:
		return "", unsafeErr(dir, "mode %v lets others in; want 0700", fi.Mode().Perm())
	}
	return dir, nil
}

// Read returns the contents of the file at path, which must be a regular
// file of this user of at most MaxSize bytes. It does not follow a
// symbolic link at path and does not block opening it (O_NOFOLLOW and
// O_NONBLOCK), and it reads at most MaxSize+1 bytes. A missing file is an
// error for which errors.Is(err, fs.ErrNotExist); a file that fails a
// check, one wrapping ErrUnsafe, which says what it is.
//
// On Plan 9 a file left between two renames by a Write that was
// interrupted, path+".new", is read when path is missing.
func Read(path string) ([]byte, error) {
	b, err := read(path)
	// Between Write's renames one of the two names exists, unless
	// another Write began meanwhile: look a few times.
	for i := 0; twoStep && i < 3 && errors.Is(err, fs.ErrNotExist); i++ {
		if b, err2 := read(path + newSuffix); !errors.Is(err2, fs.ErrNotExist) {
			return b, err2
		}
		b, err = read(path)
	}
	return b, err
}

// readAll reads with read, from a file whose stat gave size bytes, at
// most MaxSize bytes.
func readAll(path string, size int64, read func([]byte) (int, error)) ([]byte, error) {
	tooLarge := func() error {
		return unsafeErr(path, "more than the %d bytes a state file may have", MaxSize)
	}
	if size > MaxSize {
		return nil, tooLarge()
	}
	b := make([]byte, 0, size+512)
	for {
		if len(b) == cap(b) {
			if len(b) > MaxSize {
				return nil, tooLarge()
			}
			b = slices.Grow(b, min(len(b), MaxSize+1-len(b)))
		}
		n, err := read(b[len(b):cap(b)])
		b = b[:len(b)+max(n, 0)]
		if err == io.EOF || n == 0 && err == nil {
			return b, nil
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
	}
}

// Options are how Write writes.
type Options struct {
	// Perm is the file's mode; 0 means 0600.
	Perm fs.FileMode
	// Sync makes the contents, and the rename, durable before Write
	// returns (fsync of the file and of its directory). Without it the
	// replacement is still atomic for every reader, but a crash of the
	// machine may leave the old contents, or an empty file: right for a
	// state the next run can do without, where an fsync on every run
	// costs milliseconds; wrong for a host id.
	Sync bool
}

// twoStep is true where a rename cannot replace a file; tests set it,
// and rename to one that removes the old file first, as os.Rename does on
// Plan 9.
var (
	twoStep = runtime.GOOS == "plan9"
	rename  = os.Rename
)

// newSuffix names the complete new file that Write on Plan 9 moves into
// place in two steps.
const newSuffix = ".new"

// Write replaces the file at path with data atomically: it writes a
// temporary file in the same directory (made, mode 0755, if missing) and
// renames it over path, so that a concurrent or later reader sees the old
// contents or the new, never a part, and an interrupted Write leaves the
// old file. A symbolic link at path is replaced, not followed.
//
// On Plan 9 a rename is a wstat that cannot replace a file, and Go's
// os.Rename removes the old file first: a reader between the two would
// find nothing, and a crash would lose the file. There the temporary file
// is first renamed to path+".new", and only then over path; Read takes
// path+".new" when path is missing, so some whole version is always
// found.
func Write(path string, data []byte, o Options) error {
	if o.Perm == 0 {
		o.Perm = 0o600
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil && o.Perm != 0o600 {
		err = f.Chmod(o.Perm)
	}
	if err == nil && o.Sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && twoStep {
		if err = rename(tmp, path+newSuffix); err == nil {
			tmp = path + newSuffix
		}
	}
	if err == nil {
		err = rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if o.Sync {
		return syncDir(dir)
	}
	return nil
}

func kind(fi fs.FileInfo) string {
	switch t := fi.Mode().Type(); {
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	case t&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeDevice != 0:
		return "a device"
	case t&fs.ModeDir != 0:
		return "a directory"
	}
	return fmt.Sprintf("a file of mode %v", fi.Mode())
}
