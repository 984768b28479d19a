package agent

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
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
	noteid string
	pipes  []string
}

func newGroup(p *os.Process) procGroup {
	g := procGroup{pid: p.Pid}
	if b, err := os.ReadFile(procPath(p.Pid, "noteid")); err == nil {
		g.noteid = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile(procPath(p.Pid, "fd")); err == nil {
		for fd, f := range parseFds(string(b)) {
			if (fd == 1 || fd == 2) && strings.HasPrefix(f, "| ") {
				g.pipes = append(g.pipes, f)
			}
		}
	}
	return g
}

// parseFds reads /proc/N/fd: the working directory, then one line per
// open file, "fd mode devchar devno (qidpath vers type) iounit offset
// name" (mode is "r", "w" or "rw"). It returns each fd's "devchar devno
// qidpath", which names the file on the machine.
func parseFds(s string) map[int]string {
	out := map[int]string{}
	lines := strings.Split(s, "\n")
	for _, l := range lines[min(1, len(lines)):] {
		f := strings.Fields(l)
		if len(f) < 5 || !strings.HasPrefix(f[4], "(") {
			continue
		}
		fd, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		out[fd] = f[2] + " " + f[3] + " " + strings.TrimPrefix(f[4], "(")
	}
	return out
}

// members are the processes of the group and those that hold the
// leader's output pipes, with whether each is in the note group. The
// agent's own note group is left out.
func (g procGroup) members() map[int]bool {
	out := map[int]bool{}
	if g.noteid == "" && len(g.pipes) == 0 {
		if processExists(g.pid) {
			out[g.pid] = true
		}
		return out
	}
	self := ""
	if b, err := os.ReadFile(procPath(os.Getpid(), "noteid")); err == nil {
		self = strings.TrimSpace(string(b))
	}
	ds, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, d := range ds {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(procPath(pid, "noteid"))
		if err != nil {
			continue
		}
		id := strings.TrimSpace(string(b))
		if id == self {
			continue
		}
		if g.noteid != "" && id == g.noteid {
			out[pid] = true
			continue
		}
		if len(g.pipes) == 0 {
			continue
		}
		b, err = os.ReadFile(procPath(pid, "fd"))
		if err != nil {
			continue
		}
	holder:
		for _, f := range parseFds(string(b)) {
			for _, p := range g.pipes {
				if f == p {
					out[pid] = false
					break holder
				}
			}
		}
	}
	return out
}

// stop posts interrupt to the group, and to those outside it that hold
// its output: rc scripts and Go programs end on it unless they handle
// it, as a Unix plugin ends on SIGTERM.
func (g procGroup) stop() {
	pg := writeProc(g.pid, "notepg", "interrupt") == nil
	for pid, inGroup := range g.members() {
		if !inGroup || !pg {
			writeProc(pid, "note", "interrupt")
		}
	}
}

// kill ends every process of the group, and those that hold its output,
// for good: a kill message to /proc/N/ctl cannot be caught, unlike a kill
// note.
func (g procGroup) kill() {
	writeProc(g.pid, "notepg", "kill")
	for pid := range g.members() {
		writeProc(pid, "ctl", "kill")
	}
}

func procPath(pid int, file string) string { return "/proc/" + strconv.Itoa(pid) + "/" + file }

func writeProc(pid int, file, msg string) error {
	f, err := os.OpenFile(procPath(pid, file), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte(msg))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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

func processExists(pid int) bool {
	_, err := os.Stat(procPath(pid, "status"))
	return err == nil
}
