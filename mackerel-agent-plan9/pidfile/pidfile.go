// Package pidfile keeps the agent's pid file: it tells an operator which
// process is the agent, and keeps a second agent on the same root from
// running.
//
// A pid file counts only while an agent holds it: a file left by an
// agent that died (a crash, a power loss) never blocks a start, even when
// its pid has since gone to another program, as it very likely has after
// a Plan 9 boot, where pids start from 1 again.
//
// What holds where:
//
//   - Linux, the BSDs, macOS: the file is flock'ed for the agent's life.
//     The kernel drops the lock when the agent dies, however it dies, and
//     of two agents started in the same instant exactly one gets it. A
//     file whose lock is free is stale, unless it names a live process of
//     the agent's own name (Linux only, from /proc/N/comm): an agent that
//     does not lock, such as an older version.
//   - Plan 9: the lock is an exclusive-use file (DMEXCL) beside the pid
//     file, L.NAME as upas names its locks, kept open for the agent's life
//     and read every minute: cwfs, hjfs, fossil and ramfs break such a
//     lock after five idle minutes. The file server lets one open it at a
//     time, so of two agents started at once one wins; it forgets the
//     lock when the agent's channel goes, or when it reboots. The pid file
//     itself is made with an exclusive create, and a pid file whose
//     process does not have the agent's name (/proc/N/status) is stale.
//     On a file server that does not keep DMEXCL (Guarded reports it),
//     only the name check and the exclusive create remain: two agents
//     started in the same instant might then both run.
//   - Elsewhere: an exclusive create, and a pid file counts while its
//     process exists (no name can be read there).
package pidfile

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// RunningError says that an agent already runs.
type RunningError struct {
	Pid  int // 0 when its pid file was not written yet
	Path string
}

func (e *RunningError) Error() string {
	if e.Pid <= 0 {
		return fmt.Sprintf("an agent already runs (%s is held); stop it first", e.Path)
	}
	return fmt.Sprintf("an agent already runs as pid %d (%s); stop it first", e.Pid, e.Path)
}

func running(path string) error { return &RunningError{Pid: readPid(path), Path: path} }

// maxPidFile bounds what is read of a pid file: a pid and a newline, with
// room for blanks.
const maxPidFile = 64

// readPid reads the pid in the file at path; 0 when there is none.
func readPid(path string) int {
	f, err := open(path, os.O_RDONLY)
	if err != nil {
		return 0
	}
	defer f.Close()
	return parsePid(f)
}

// open opens path for Acquire: where a pid file may sit in a directory
// others can write, a link planted there is not followed (the agent would
// truncate its target), and only a regular file is taken (opening a FIFO
// must not block a start).
func open(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|safeOpen, 0o644)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("not a regular file but %v", fi.Mode().Type())
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return f, nil
}

func parsePid(r io.Reader) int {
	b, _ := io.ReadAll(io.LimitReader(r, maxPidFile))
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// selfPid is this process's pid, taken during package initialization,
// while the main goroutine is locked to the process's first proc: on
// Plan 9, os.Getpid names the proc the caller happens to run on, and a Go
// program has several.
var selfPid = os.Getpid()

func pidLine() []byte { return []byte(strconv.Itoa(selfPid) + "\n") }

// liveAgent reports whether pid is another live agent, as far as this
// system can tell (see isAgent).
func liveAgent(pid int) bool { return pid > 0 && pid != selfPid && isAgent(pid) }
