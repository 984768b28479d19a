package pidfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// RefreshEvery is how often the lock file is read: cwfs, hjfs, fossil and
// ramfs break an exclusive-use lock after five minutes without a read or
// a write.
const RefreshEvery = time.Minute

// safeOpen: a file server holds no links or FIFOs.
const safeOpen = 0

// Pidfile is a pid file this process holds.
type Pidfile struct {
	path, lockPath string
	guarded        bool

	mu   sync.Mutex
	lock *os.File // the exclusive-use file, open for the process's life
	stop chan struct{}
	done chan struct{}
}

// Acquire takes the pid file at path and writes this process's pid in
// it, or returns a *RunningError when an agent holds it.
func Acquire(path string) (*Pidfile, error) {
	lockPath := filepath.Join(filepath.Dir(path), "L."+filepath.Base(path))
	lock, err := openLock(lockPath)
	if err != nil {
		if isLocked(err) {
			return nil, running(path)
		}
		return nil, err
	}
	// The refresh must read data: 9front's ramfs answers a read at the
	// end of a file without counting it as a use.
	lock.Truncate(0)
	lock.WriteAt(pidLine(), 0)
	p := &Pidfile{path: path, lockPath: lockPath, lock: lock, guarded: exclusive(lock),
		stop: make(chan struct{}), done: make(chan struct{})}
	// The name check and the create are made under the lock.
	if err := p.write(); err != nil {
		lock.Close()
		return nil, err
	}
	t := time.NewTicker(RefreshEvery)
	go func() { defer t.Stop(); p.refresh(t.C) }()
	return p, nil
}

// openLock opens the lock file, making it when it is not there.
func openLock(name string) (*os.File, error) {
	for tries := 0; ; tries++ {
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if !errors.Is(err, fs.ErrNotExist) {
			return f, err
		}
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, os.ModeExclusive|0o644)
		if err == nil || !madeMeanwhile(name, err) || tries == 3 {
			return f, err
		}
	}
}

// madeMeanwhile reports whether an exclusive create failed because the
// file was made by someone else meanwhile: servers say so differently
// ("file already exists"; "file in use" from Plan 9's ramfs).
func madeMeanwhile(name string, err error) bool {
	if errors.Is(err, fs.ErrExist) {
		return true
	}
	_, serr := os.Stat(name)
	return serr == nil
}

// isLocked reports whether err is a file server's refusal to open an
// exclusive-use file that is open: "file is locked" (cwfs, 9front's
// ramfs), "file locked" (hjfs), "exclusive lock" (fossil), "exclusive use
// file already open" (ramfs of Plan 9).
func isLocked(err error) bool {
	s := err.Error()
	return strings.Contains(s, "locked") || strings.Contains(s, "exclusive")
}

// exclusive reports whether the file server keeps the lock file as an
// exclusive-use file, marking it so when it did not at create, as upas
// does.
func exclusive(f *os.File) bool {
	fi, err := f.Stat()
	if err == nil && fi.Mode()&os.ModeExclusive == 0 {
		f.Chmod(os.ModeExclusive | 0o644)
		fi, err = f.Stat()
	}
	return err == nil && fi.Mode()&os.ModeExclusive != 0
}

// write replaces a stale pid file with this process's. The lock keeps
// other agents out meanwhile; where the file server keeps no lock, the
// exclusive create keeps out all but one that saw the same stale file.
func (p *Pidfile) write() error {
	if pid := readPid(p.path); liveAgent(pid) {
		return &RunningError{Pid: pid, Path: p.path}
	}
	if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(p.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if madeMeanwhile(p.path, err) {
			return running(p.path)
		}
		return err
	}
	_, err = f.Write(pidLine())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p.path)
	}
	return err
}

// refresh reads the lock file at each tick so that the file server keeps
// the lock; a lock the server broke (it restarted, or the agent was
// stopped for minutes) is taken again when no one else took it, and
// Guarded reports false while it is lost.
func (p *Pidfile) refresh(tick <-chan time.Time) {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			return
		case <-tick:
			p.refreshOnce()
		}
	}
}

func (p *Pidfile) refreshOnce() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b [1]byte
	_, err := p.lock.ReadAt(b[:], 0)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	f, oerr := os.OpenFile(p.lockPath, os.O_RDWR, 0)
	if oerr != nil {
		p.guarded = false
		return err
	}
	p.lock.Close()
	p.lock, p.guarded = f, exclusive(f)
	return nil
}

// Guarded reports whether the file server keeps the lock file as an
// exclusive-use file, and the lock is held: when not, two agents started
// in the same instant might both run.
func (p *Pidfile) Guarded() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.guarded
}

// Release removes the pid file and closes the lock file, which stays for
// the next agent, as upas's L. files do.
func (p *Pidfile) Release() error {
	close(p.stop)
	<-p.done
	err := os.Remove(p.path)
	p.mu.Lock()
	defer p.mu.Unlock()
	if cerr := p.lock.Close(); err == nil {
		err = cerr
	}
	return err
}
