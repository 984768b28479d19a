package p9stats

import (
	"errors"
	"io/fs"
	"syscall"
)

// ErrNotPlan9 is matched, with errors.Is, by every *NamespaceError.
var ErrNotPlan9 = errors.New("not a Plan 9 name space")

// NamespaceProblem says why CheckPlan9 rejected a name space.
type NamespaceProblem int

const (
	// NamespaceMissing: the root does not exist, as a --root directory
	// that is not there.
	NamespaceMissing NamespaceProblem = iota + 1
	// NamespaceNotDir: the root is a file, not a directory.
	NamespaceNotDir
	// NamespaceUnreadable: the root cannot be looked at.
	NamespaceUnreadable
	// NamespaceEmpty: none of the kernel's files are there, as in an
	// empty directory where a mount should be.
	NamespaceEmpty
	// NamespaceLinux: Linux's files are there instead of Plan 9's, as
	// when a Linux machine's own / is read.
	NamespaceLinux
)

// A NamespaceError says that a name space is not one of a Plan 9 kernel,
// so that reading it cannot give any statistics.
type NamespaceError struct {
	Problem NamespaceProblem
	File    string // NamespaceLinux: the Linux file found, such as /proc/1/status
	Err     error  // NamespaceMissing, NamespaceUnreadable: why the root could not be looked at
}

func (e *NamespaceError) Error() string {
	switch e.Problem {
	case NamespaceMissing:
		return "p9stats: the name space's root does not exist: " + e.Err.Error()
	case NamespaceNotDir:
		return "p9stats: the name space's root is not a directory"
	case NamespaceUnreadable:
		return "p9stats: the name space's root cannot be read: " + e.Err.Error()
	case NamespaceLinux:
		return "p9stats: not a Plan 9 name space but Linux's: " + e.File + " is in Linux's format"
	}
	return "p9stats: not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap"
}

func (e *NamespaceError) Is(target error) bool { return target == ErrNotPlan9 }

func (e *NamespaceError) Unwrap() error { return e.Err }

// The files every Plan 9 kernel serves that CheckPlan9 looks for.
var (
	sysstatNames = []string{"dev/sysstat", "#c/sysstat"}
	swapNames    = []string{"dev/swap", "#¶/swap", "#c/swap"}
)

// CheckPlan9 tells whether the name space is a Plan 9 kernel's: nil when
// it holds /dev/sysstat or /dev/swap (or their kernel names), and
// otherwise a *NamespaceError saying what is there instead: nothing
// where the root should be, an empty directory or Linux's files.
//
// s, if not nil, is a Snapshot this FS has just read. The sources it read
// of SourceSysStat and SourceSwap are judged by its results, so that a
// Plan 9 name space costs nothing more to check, even over 9P; sources it
// did not read are looked up with a stat. Only when neither file is there
// does CheckPlan9 look further, at the root and at /proc/1/status.
//
// A file that is there but malformed, unreadable or not answered in time
// is not judged here: the error of its own source says what is wrong.
func (p FS) CheckPlan9(s *Snapshot) error {
	for _, k := range []struct {
		src   Source
		names []string
	}{{SourceSysStat, sysstatNames}, {SourceSwap, swapNames}} {
		var err error
		if s != nil && s.Sources&k.src != 0 {
			err = s.Errors[k.src]
		} else {
			_, _, err = firstOf(k.names, func(n string) (fs.FileInfo, error) { return fs.Stat(p.fsys, n) })
		}
		if err == nil || !(IsNotExist(err) || errors.Is(err, syscall.ENOTDIR)) {
			return nil
		}
	}
	fi, err := fs.Stat(p.fsys, ".")
	switch {
	case IsNotExist(err):
		return &NamespaceError{Problem: NamespaceMissing, Err: err}
	case err != nil:
		return &NamespaceError{Problem: NamespaceUnreadable, Err: err}
	case !fi.IsDir():
		return &NamespaceError{Problem: NamespaceNotDir}
	}
	for _, n := range []string{"proc/1/status", "proc/self/status"} {
		if b, err := p.readFile(n); err == nil && isLinuxProcStatus(string(b)) {
			return &NamespaceError{Problem: NamespaceLinux, File: "/" + n}
		}
	}
	return &NamespaceError{Problem: NamespaceEmpty}
}
