package ns

import (
	"io"
	"io/fs"
	"syscall"
)

// openRead opens the file p for reading with the system calls alone, as
// the Unix version does; on Plan 9 it also opens kernel device names such
// as #c/sysstat.
func openRead(p string) (io.ReadCloser, error) {
	fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return fdFile(fd), nil
}

type fdFile int

func (f fdFile) Read(b []byte) (int, error) {
	n, err := syscall.Read(int(f), b)
	switch {
	case err != nil:
		return 0, err
	case n == 0 && len(b) > 0:
		return 0, io.EOF
	}
	return n, nil
}

func (f fdFile) Close() error { return syscall.Close(int(f)) }
