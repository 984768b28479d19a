package agent

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

var shell = []string{"/bin/rc", "-c"}

// setGroup starts the command in a new note group: a note posted to the
// group reaches the command and everything it starts in the group, and
// nothing of the agent's.
//
// It also leaves rc's functions (fn#NAME) out of the command's
// environment: Go writes every variable of Cmd.Env to the child's /env
// with a NUL after the value, which rc, reading a function's definition,
// takes for a syntax error ("/env/fn#term%:4: syntax error" on the
// plugin's stderr, every run, for every function of the shell that
// started the agent).
func setGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Rfork: syscall.RFNOTEG}
	if c.Env != nil {
		env := c.Env[:0:0]
		for _, e := range c.Env {
			if !strings.HasPrefix(e, "fn#") {
				env = append(env, e)
			}
		}
		c.Env = env
	}
}

// procGroup is what the command started: its note group, known by its
// leader and its note id, and the pipes the leader's standard output and
// error are, as /proc/N/fd names them. The id outlives the leader, so
// members left behind can still be found.
//
// The pipes find what the note group does not: rc runs `cmd &` in a note
// group of its own (rfork s on 9front, RFNOTEG on Plan 9), so that a
// background child of a plugin is out of reach of the plugin's group, yet
// it holds the plugin's output open, and exec.Cmd.Wait waits for that to
// end: on Plan 9 closing a pipe does not end a read that is waiting on
// it, so WaitDelay does not help.
type procGroup struct {
	pid    int
	noteid int // 0 when unknown
	pipes  []p9stats.FileID
}

// procs is the host's own /proc, which p9stats reads and writes.
var procs = p9stats.NewDefaultFS("/")

func newGroup(p *os.Process) procGroup {
	g := procGroup{pid: p.Pid}
	if id, err := procs.NoteID(p.Pid); err == nil {
		g.noteid = id
	}
	// ParseFd returns the well-formed lines with its error.
	fds, _ := procs.Fds(p.Pid)
	for _, f := range fds.Files {
		if (f.FD == 1 || f.FD == 2) && f.Type == '|' {
			g.pipes = append(g.pipes, f.File())
		}
	}
	return g
}

// members are the processes of the group and those that hold the
// leader's output pipes, with whether each is in the note group. The
// agent's own note group is left out.
func (g procGroup) members() map[int]bool {
	out := map[int]bool{}
	if g.noteid == 0 && len(g.pipes) == 0 {
		if processExists(g.pid) {
			out[g.pid] = true
		}
		return out
	}
	self, _ := procs.NoteID(os.Getpid())
	pids, _, err := procs.PIDs()
	if err != nil {
		return out
	}
	for _, pid := range pids {
		id, err := procs.NoteID(pid)
		if err != nil || id == self {
			continue
		}
		if g.noteid != 0 && id == g.noteid {
			out[pid] = true
			continue
		}
		if len(g.pipes) == 0 {
			continue
		}
		fds, _ := procs.Fds(pid)
		for _, f := range fds.Files {
			if slices.Contains(g.pipes, f.File()) {
				out[pid] = false
				break
			}
		}
	}
	return out
}

// stop posts interrupt to the group, and to those outside it that hold
// its output: rc scripts and Go programs end on it unless they handle
// it, as a Unix plugin ends on SIGTERM.
func (g procGroup) stop() {
	pg := procs.PostNoteGroup(g.pid, "interrupt") == nil
	for pid, inGroup := range g.members() {
		if !inGroup || !pg {
			procs.PostNote(pid, "interrupt")
		}
	}
}

// kill ends every process of the group, and those that hold its output,
// for good: a kill message to /proc/N/ctl cannot be caught, unlike a kill
// note.
func (g procGroup) kill() {
	procs.PostNoteGroup(g.pid, "kill")
	for pid := range g.members() {
		procs.Kill(pid)
	}
}

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

// unquote undoes the kernel's %q of the exit string in a wait message:
// 'text', with a quote inside doubled; a string without blanks or quotes
// comes unquoted.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}

// stopSignals are the notes that stop the agent: interrupt and hangup,
// as the kernel posts them, and as `echo interrupt >/proc/N/note` posts
// them, with echo's newline: the kernel keeps it in the note, and
// os/signal delivers only notes that match a Notify'd one exactly, so
// without these the documented way to stop the agent did nothing (the
// runtime takes "interrupt\n" for an interrupt and hands it on, and no
// one was listening for it).
var stopSignals = []os.Signal{os.Interrupt, syscall.Note("hangup"), syscall.Note("interrupt\n"), syscall.Note("hangup\n")}

func processExists(pid int) bool { return procs.ProcExists(pid) }
