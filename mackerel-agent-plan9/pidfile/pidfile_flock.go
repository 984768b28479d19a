//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pidfile

import (
	"errors"

	"os"
	"syscall"
)

const safeOpen = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// Pidfile is a pid file this process holds.
type Pidfile struct {
	path string
	f    *os.File // locked for the process's life; closed on exec
}

// Acquire takes the pid file at path and writes this process's pid in
// it, or returns a *RunningError when an agent holds it.
func Acquire(path string) (*Pidfile, error) {
	for tries := 0; ; tries++ {
		f, err := open(path, os.O_RDWR|os.O_CREATE)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, running(path)
			}
			return nil, &os.PathError{Op: "flock", Path: path, Err: err}
		}
		// An agent releasing the file removes it while it holds the lock:
		// a lock taken on the removed file guards nothing, so try again.
		if !samePath(f, path) && tries < 10 {
			f.Close()
			continue
		}
		if pid := parsePid(f); liveAgent(pid) {
			f.Close()
			return nil, &RunningError{Pid: pid, Path: path}
		}
		if err := rewrite(f); err != nil {
			f.Close()
			return nil, &os.PathError{Op: "write", Path: path, Err: err}
		}
		return &Pidfile{path: path, f: f}, nil
	}
}

// rewrite puts this process's pid in the locked file. A reader may find it
// empty for a moment: RunningError then says so.
func rewrite(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt(pidLine(), 0)
	return err
}

func samePath(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// Guarded reports whether a lock guards the file: always, here.
func (p *Pidfile) Guarded() bool { return true }

// Release removes the file while it still holds the lock, so that an
// agent that opened the file before finds it removed once it gets the
// lock, and tries again; then it drops the lock.
func (p *Pidfile) Release() error {
	var err error
	if samePath(p.f, p.path) {
		err = os.Remove(p.path)
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	return err
}
