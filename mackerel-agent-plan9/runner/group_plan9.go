package runner

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

var (
	shell     = []string{"/bin/rc", "-c"}
	shellName = "rc"
)

// setGroup starts the command in a new note group: a note posted to the
// group reaches the command and everything it starts in the group, and
// nothing of the agent's.
func setGroup(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Rfork: syscall.RFNOTEG} }

// keepEnv leaves rc's functions (fn#NAME) out of a command's environment:
// Go writes every variable to the child's /env with a NUL after the
// value, which rc, reading a function's definition, takes for a syntax
// error ("/env/fn#term%:4: syntax error" on the plugin's stderr, every
// run, for every function of the shell that started the agent).
func keepEnv(e string) bool { return !strings.HasPrefix(e, "fn#") }

// proc is the kernel's /proc, read through the one owner of its formats.
var proc = p9stats.NewDefaultFS("/")

// procGroup is what the command started: its note group, known by its
// leader and its note id, and the command's ends of its output pipes.
// The id outlives the leader, so members left behind can still be found,
// Broken ones included.
//
// The pipes find what the note group does not: rc runs `cmd &` in a note
// group of its own (rfork s on 9front, RFNOTEG on Plan 9), yet such a
// child holds the plugin's output open; on Plan 9 closing a pipe does not
// end a read waiting on it, so the agent must end the holder.
type procGroup struct {
	pid    int
	noteid int // 0 when the leader was gone before it was read, on kernels that do not name the group after it
	// self is the agent's own note group, which holds every proc of the
	// agent (a Go program has several, each with a pid of its own): it is
	// never touched.
	self  int
	pipes []p9stats.FileID
	out   *output
}

// beforeGroup, when set, runs before a started command's group is read
// (tests: the command is then gone).
var beforeGroup func(pid int)

func newGroup(p *os.Process, o *output) *procGroup {
	g := &procGroup{pid: p.Pid, out: o}
	if beforeGroup != nil {
		beforeGroup(p.Pid)
	}
	var err error
	if g.noteid, err = proc.NoteID(p.Pid); err != nil {
		// The command exited before its group was read (a quick check,
		// while the agent is busy): what it left there, such as the
		// Broken procs of a Go plugin on the 2016 9front kernels, can
		// still be found where the group is named after its leader.
		g.noteid, _ = proc.LeaderNoteID(p.Pid)
	}
	g.self, _ = proc.NoteID(os.Getpid())
	for _, w := range o.w {
		if fi, err := w.Stat(); err == nil {
			if d, ok := fi.Sys().(*syscall.Dir); ok {
				g.pipes = append(g.pipes, p9stats.FileID{Type: rune(d.Type), DevNo: d.Dev, Path: d.Qid.Path})
			}
		}
	}
	return g
}

// members are the processes of the group, and, while the output is
// open, those outside it that hold it. The agent's own note group is
// left out.
func (g *procGroup) members() (inGroup, holders []int) {
	pids, _, err := proc.PIDs()
	if err != nil {
		return nil, nil
	}
	pipes := !g.out.ended()
	for _, pid := range pids {
		id, err := proc.NoteID(pid)
		switch {
		case err != nil || id == g.self || g.self == 0:
		case g.noteid != 0 && id == g.noteid:
			inGroup = append(inGroup, pid)
		case pipes && g.holds(pid):
			holders = append(holders, pid)
		}
	}
	return inGroup, holders
}

// holds reports whether pid holds one of the command's output pipes. A
// file list that is partly malformed still counts for its good lines.
func (g *procGroup) holds(pid int) bool {
	fds, _ := proc.Fds(pid)
	for _, f := range fds.Files {
		if slices.Contains(g.pipes, f.File()) {
			return true
		}
	}
	return false
}

// stop posts interrupt to the group, and to those outside it that hold
// its output: rc scripts and Go programs end on it unless they handle
// it, as a Unix plugin ends on SIGTERM.
func (g *procGroup) stop() {
	posted := proc.PostNoteGroup(g.pid, "interrupt") == nil
	inGroup, holders := g.members()
	if !posted {
		holders = append(holders, inGroup...)
	}
	for _, pid := range holders {
		proc.PostNote(pid, "interrupt")
	}
}

// kill ends every process of the group, and those that hold its output,
// for good: a kill message to /proc/N/ctl cannot be caught, unlike a kill
// note, and it also ends a Broken process (the 2016 9front kernels leave
// a Go program's procs Broken when they take a note: "suicide: sys:
// floating point in note handler"). It returns how many it found.
func (g *procGroup) kill() int {
	inGroup, holders := g.members()
	all := append(inGroup, holders...)
	if !slices.Contains(all, g.pid) && proc.ProcExists(g.pid) {
		all = append(all, g.pid)
	}
	for _, pid := range all {
		proc.Kill(pid)
	}
	return len(all)
}

// end kills what is left of the group; members that are still there
// (dying, or refusing) are found again by the next call.
func (g *procGroup) end() int { return g.kill() }

// endedByUs: a process ended by a note exits with the note's text
// ("rc 12: interrupt"); one that handled it exits with a number or
// nothing.
func endedByUs(ps *os.ProcessState) bool { return ps == nil || exitCode(ps) < 0 }

// exitCode reads the number from the exit string: os.ProcessState's
// ExitCode says only 0 or 1 on Plan 9, which would make every CRITICAL a
// WARNING. ProcessState.Sys is a *syscall.Waitmsg on Plan 9, and its Msg
// is the exit string as the wait message quotes it ('rc 12: 2').
func exitCode(ps *os.ProcessState) int {
	switch w := ps.Sys().(type) {
	case *syscall.Waitmsg:
		return parseExitString(unquote(w.Msg))
	case syscall.Waitmsg:
		return parseExitString(unquote(w.Msg))
	}
	return ps.ExitCode()
}
