//go:build unix

package runner

import (
	"os"
	"os/exec"
	"syscall"
)

var (
	shell     = []string{"/bin/sh", "-c"}
	shellName = "sh"
)

// setGroup starts the command in a process group of its own, so that the
// command and everything it starts can be ended together.
func setGroup(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func keepEnv(string) bool { return true }

// procGroup is the command's process group.
type procGroup struct {
	pgid int
	// gone is set once the group has no member left: its id may then be
	// reused, and is not signalled again.
	gone bool
}

func newGroup(p *os.Process, _ *output) *procGroup { return &procGroup{pgid: p.Pid} }

func (g *procGroup) signal(s syscall.Signal) {
	if !g.gone && syscall.Kill(-g.pgid, s) == syscall.ESRCH {
		g.gone = true
	}
}

// stop asks the group to end, as upstream does with SIGTERM (and SIGCONT
// for stopped members).
func (g *procGroup) stop() {
	g.signal(syscall.SIGTERM)
	g.signal(syscall.SIGCONT)
}

func (g *procGroup) kill() { g.signal(syscall.SIGKILL) }

// end kills what is left of the group. SIGKILL cannot be refused, and a
// killed member may stay a zombie for as long as nothing reaps it, so it
// reports none left: only the output's end is waited for.
func (g *procGroup) end() int {
	g.kill()
	return 0
}

// endedByUs reports whether the command died of a signal rather than
// exiting on its own.
func endedByUs(ps *os.ProcessState) bool {
	if ps == nil {
		return true
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

func exitCode(ps *os.ProcessState) int { return ps.ExitCode() }
