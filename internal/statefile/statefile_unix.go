//go:build unix

package statefile

import (
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

func user() (string, error) { return strconv.Itoa(os.Geteuid()), nil }

func ownerOf(fi fs.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return strconv.FormatUint(uint64(st.Uid), 10), true
}

func read(path string) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	switch {
	case err == syscall.ELOOP || err == syscall.EMLINK: // Linux and macOS; FreeBSD
		return nil, unsafeErr(path, "a symbolic link, which is not followed")
	case err != nil:
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if t := uint32(st.Mode) & syscall.S_IFMT; t != syscall.S_IFREG {
		what := map[uint32]string{syscall.S_IFIFO: "a FIFO", syscall.S_IFCHR: "a device", syscall.S_IFBLK: "a device",
			syscall.S_IFDIR: "a directory", syscall.S_IFSOCK: "a socket"}[t]
		return nil, unsafeErr(path, "not a regular file but %s", what)
	}
	if u := uint32(os.Geteuid()); st.Uid != u {
		return nil, unsafeErr(path, "belongs to uid %d, not to this user, %d", st.Uid, u)
	}
	return readAll(path, st.Size, func(b []byte) (int, error) {
		for {
			n, err := syscall.Read(fd, b)
			if err != syscall.EINTR {
				return n, err
			}
		}
	})
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
