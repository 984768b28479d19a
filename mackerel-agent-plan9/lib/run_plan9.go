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
// group reaches the command and everything it starts, and nothing of the
// agent's.
func setGroup(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Rfork: syscall.RFNOTEG} }

// procGroup is a note group, known by its leader and its note id. The id
// outlives the leader, so members left behind can still be found.
type procGroup struct {
	pid    int
	noteid string
}

func newGroup(p *os.Process) procGroup {
	g := procGroup{pid: p.Pid}
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid) + "/noteid"); err == nil {
		g.noteid = strings.TrimSpace(string(b))
	}
	return g
}

// stop posts interrupt to the group: rc scripts and Go programs end on it
// unless they handle it, as a Unix plugin ends on SIGTERM.
func (g procGroup) stop() { writeProc(g.pid, "notepg", "interrupt") }

// kill ends every process of the note group for good: a kill message to
// /proc/N/ctl cannot be caught, unlike a kill note.
func (g procGroup) kill() {
	writeProc(g.pid, "notepg", "kill")
	if g.noteid == "" {
		writeProc(g.pid, "ctl", "kill")
		return
	}
	ds, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, d := range ds {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/noteid")
		if err == nil && strings.TrimSpace(string(b)) == g.noteid {
			writeProc(pid, "ctl", "kill")
		}
	}
}

func writeProc(pid int, file, msg string) {
	f, err := os.OpenFile("/proc/"+strconv.Itoa(pid)+"/"+file, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	f.Write([]byte(msg))
	f.Close()
}

// endedByUs: a process ended by a note exits with the note's text
// ("rc 12: interrupt"); one that handled it exits with a number or
// nothing.
func endedByUs(ps *os.ProcessState) bool { return ps == nil || exitCode(ps) < 0 }

// exitCode reads the number from the exit string: os.ProcessState's
// ExitCode says only 0 or 1 on Plan 9, which would make every CRITICAL a
// WARNING.
func exitCode(ps *os.ProcessState) int {
	w, ok := ps.Sys().(syscall.Waitmsg)
	if !ok {
		return ps.ExitCode()
	}
	return parseExitString(w.Msg)
}

// stopSignals are the notes that stop the agent: interrupt (what
// `echo interrupt >/proc/N/note` sends) and hangup.
var stopSignals = []os.Signal{os.Interrupt, syscall.Note("hangup")}

func processExists(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/status")
	return err == nil
}
