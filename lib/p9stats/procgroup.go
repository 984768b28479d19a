package p9stats

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// The files of /proc/N (port/devproc.c) by which the processes of a note
// group are found, and those that end them.

// Fd is one open file of a process, a line of /proc/N/fd.
type Fd struct {
	FD     int
	Mode   string // "r", "w" or "rw"
	Type   rune   // the device's character: 'M' a mount, '|' a pipe, 'c' cons
	DevNo  uint32 // the device's instance
	Qid    Qid
	IOUnit uint32
	Offset int64
	Name   string // the name it was opened by; may hold blanks
}

// Qid is a file's unique identity on its server.
type Qid struct {
	Path uint64
	Vers uint32
	Type uint8
}

// FileID names a file on its machine: its device and its qid path. Two
// processes that hold the same end of a pipe hold Fds of one FileID.
type FileID struct {
	Type  rune
	DevNo uint32
	Path  uint64
}

// File returns the FileID of the open file.
func (f Fd) File() FileID { return FileID{f.Type, f.DevNo, f.Qid.Path} }

// ProcFds is /proc/N/fd: the working directory, then every open file.
type ProcFds struct {
	Cwd   string
	Files []Fd
}

// ParseFd parses /proc/N/fd, whose lines devproc.c prints as
//
//	%3d %.2s %C %4ld (%.16llux %*lud %.2ux) %5ld %8lld %s
//
// (fd, mode, device character and instance, qid, iounit, offset, name).
// A malformed line yields a *ParseError for the first such line, with the
// well-formed lines returned all the same: a name that holds a newline
// must not hide a process's other files.
func ParseFd(b []byte) (ProcFds, error) {
	ls := lines(b)
	if len(ls) == 0 {
		return ProcFds{}, &ParseError{Msg: "empty file"}
	}
	out := ProcFds{Cwd: ls[0]}
	var first error
	for i, l := range ls[1:] {
		f, err := parseFdLine(l)
		if err != nil {
			if first == nil {
				first = lineError(i+2, l, "%v", err)
			}
			continue
		}
		out.Files = append(out.Files, f)
	}
	return out, first
}

func parseFdLine(l string) (Fd, error) {
	open, end := strings.IndexByte(l, '('), strings.IndexByte(l, ')')
	if open < 0 || end < open {
		return Fd{}, errors.New("no (qid)")
	}
	head, qid := strings.Fields(l[:open]), strings.Fields(l[open+1:end])
	if len(head) != 4 || len(qid) != 3 {
		return Fd{}, errors.New("want fd, mode, device, instance and a qid of three numbers")
	}
	var f Fd
	var err error
	num := func(s string, base, bits int) uint64 {
		v, e := strconv.ParseUint(s, base, bits)
		if e != nil && err == nil {
			err = fmt.Errorf("bad number %q", excerpt(s))
		}
		return v
	}
	f.FD = int(num(head[0], 10, 31))
	f.Mode = head[1]
	if f.Mode != "r" && f.Mode != "w" && f.Mode != "rw" {
		return Fd{}, fmt.Errorf("mode %q", excerpt(f.Mode))
	}
	t, n := utf8.DecodeRuneInString(head[2])
	if t == utf8.RuneError || n != len(head[2]) {
		return Fd{}, fmt.Errorf("device %q is not one character", excerpt(head[2]))
	}
	f.Type = t
	f.DevNo = uint32(num(head[3], 10, 32))
	f.Qid = Qid{num(qid[0], 16, 64), uint32(num(qid[1], 10, 32)), uint8(num(qid[2], 16, 8))}
	rest := strings.TrimLeft(l[end+1:], " ")
	iounit, rest, _ := strings.Cut(rest, " ")
	rest = strings.TrimLeft(rest, " ")
	offset, name, _ := strings.Cut(rest, " ")
	f.IOUnit = uint32(num(iounit, 10, 32))
	f.Offset = int64(num(offset, 10, 63))
	f.Name = name
	return f, err
}

// ParseNoteID parses /proc/N/noteid, the process's note group.
func ParseNoteID(b []byte) (int, error) {
	s := strings.TrimSpace(string(b))
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, lineError(1, s, "want a note group number")
	}
	return n, nil
}

func procPaths(pid int, file string) []string {
	n := strconv.Itoa(pid) + "/" + file
	return []string{"proc/" + n, "#p/" + n}
}

// Fds reads /proc/N/fd, which only the process's owner may read. Its
// result and error are ParseFd's.
func (p FS) Fds(pid int) (ProcFds, error) {
	b, name, err := firstOf(procPaths(pid, "fd"), p.readToEnd)
	if err != nil {
		return ProcFds{}, err
	}
	fds, err := ParseFd(b)
	return fds, withFile(name, err)
}

// NoteID reads /proc/N/noteid.
func (p FS) NoteID(pid int) (int, error) {
	return parse(p, ParseNoteID, procPaths(pid, "noteid")...)
}

// LeaderNoteID is the note group that process pid made when it was
// started with rfork(RFPROC|RFNOTEG), for when pid may have exited and
// its /proc/N/noteid is gone with it. 9front numbers such a group with
// the new process's pid (pids and note ids come from one allocator,
// port/proc.c's pidalloc, which keeps a number while any process refers
// to it), so the group keeps the leader's pid after the leader exits.
// Other kernels count note groups apart from pids (noteidalloc): ok is
// false there.
func (p FS) LeaderNoteID(pid int) (id int, ok bool) {
	if f, _, err := p.Flavour(); err != nil || f != Flavour9front {
		return 0, false
	}
	return pid, true
}

// ProcExists reports whether process pid is there: whether its
// /proc/N/status can be looked at.
func (p FS) ProcExists(pid int) bool {
	for _, n := range procPaths(pid, "status") {
		if _, err := fs.Stat(p.fsys, n); err == nil {
			return true
		}
	}
	return false
}

// PostNote posts note to process pid (/proc/N/note), as a signal to one
// Unix process.
func (p FS) PostNote(pid int, note string) error {
	return p.control(procPaths(pid, "note")[0], note)
}

// PostNoteGroup posts note to every process of pid's note group
// (/proc/N/notepg), pid's own process included.
func (p FS) PostNoteGroup(pid int, note string) error {
	return p.control(procPaths(pid, "notepg")[0], note)
}

// Kill ends process pid for good (the kill message of /proc/N/ctl), which
// unlike a kill note cannot be caught.
func (p FS) Kill(pid int) error {
	return p.control(procPaths(pid, "ctl")[0], "kill")
}

// control writes msg to a control file in one write; the name space must
// let control files be written (ns.ControlFS).
func (p FS) control(name, msg string) error {
	c, ok := p.fsys.(ns.ControlFS)
	if !ok {
		return &fs.PathError{Op: "write", Path: fileName(name), Err: errors.ErrUnsupported}
	}
	return c.WriteControl(name, []byte(msg))
}
