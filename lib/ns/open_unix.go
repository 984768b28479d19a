//go:build linux || darwin || freebsd

package ns

import (
	"io"
	"io/fs"
	"syscall"
)

// openRead opens the file p for reading with the system calls alone.
// os.Open would also make the descriptor non-blocking and try to add it
// to the network poller (five more system calls for a regular file) and
// allocate an *os.File with a cleanup, which for the tens of small files
// of one reading costs more than the reading.
func openRead(p string) (io.ReadCloser, error) {
	for {
		fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: p, Err: err}
		}
		return fdFile(fd), nil
	}
}

type fdFile int

func (f fdFile) Read(b []byte) (int, error) {
	for {
		n, err := syscall.Read(int(f), b)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(b) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f fdFile) Close() error { return syscall.Close(int(f)) }
