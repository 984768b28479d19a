package statefile

import (
	"io/fs"
	"os"
	osuser "os/user"
	"syscall"
)

// user is the name /dev/user holds.
func user() (string, error) {
	u, err := osuser.Current()
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

func ownerOf(fi fs.FileInfo) (string, bool) {
	d, ok := fi.Sys().(*syscall.Dir)
	if !ok {
		return "", false
	}
	return d.Uid, true
}

// read opens path as any file: there are no symbolic links to follow, and
// a file a neighbour can create is a file server's plain file, whose open
// does not block. A file of a kernel device bound there (by this user:
// nobody else can change this name space) is refused by its type.
func read(path string) ([]byte, error) {
	u, err := user()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	d, _ := fi.Sys().(*syscall.Dir)
	switch {
	case !fi.Mode().IsRegular() || d == nil:
		return nil, unsafeErr(path, "not a regular file but %s", kind(fi))
	case d.Type != 'M':
		return nil, unsafeErr(path, "a file of the kernel device #%c, not of a file server", rune(d.Type))
	case d.Uid != u:
		return nil, unsafeErr(path, "belongs to %s, not to this user, %s", d.Uid, u)
	}
	return readAll(path, fi.Size(), f.Read)
}

// syncDir does nothing: a Plan 9 file server writes a directory's entries
// with the files' (fsync is a wstat of the file).
func syncDir(dir string) error { return nil }
