//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd && !plan9

package pidfile

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

const namesKnown = false

// safeOpen: O_NOFOLLOW and O_NONBLOCK are not there to use everywhere.
const safeOpen = 0

// Pidfile is a pid file this process holds.
type Pidfile struct{ path string }

// Acquire takes the pid file at path and writes this process's pid in
// it, or returns a *RunningError when its process still exists.
func Acquire(path string) (*Pidfile, error) {
	for range 3 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, err = f.Write(pidLine())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(path)
				return nil, err
			}
			return &Pidfile{path: path}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if pid := readPid(path); liveAgent(pid) {
			return nil, &RunningError{Pid: pid, Path: path}
		}
		os.Remove(path)
	}
	return nil, running(path)
}

// isAgent: no name can be read here; a process that exists counts.
func isAgent(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	defer p.Release()
	return !errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// Guarded reports whether a lock guards the file: never, here.
func (p *Pidfile) Guarded() bool { return false }

// Release removes the file.
func (p *Pidfile) Release() error { return os.Remove(p.path) }
