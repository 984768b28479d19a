//go:build unix

package agent

import (
	"os"
	"os/exec"
	"syscall"
)

var shell = []string{"/bin/sh", "-c"}

// setGroup starts the command in a process group of its own, so that the
// command and everything it starts can be ended together.
func setGroup(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

type procGroup struct{ pgid int }

func newGroup(p *os.Process) procGroup { return procGroup{p.Pid} }

// stop asks the group to end, as upstream does with SIGTERM (and SIGCONT
// for stopped members).
func (g procGroup) stop() {
	syscall.Kill(-g.pgid, syscall.SIGTERM)
	syscall.Kill(-g.pgid, syscall.SIGCONT)
}

func (g procGroup) kill() { syscall.Kill(-g.pgid, syscall.SIGKILL) }

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

var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
