//go:build !unix && !plan9

package agent

import (
	"os"
	"os/exec"
)

var shell = []string{"cmd", "/c"}

func setGroup(c *exec.Cmd) {}

type procGroup struct{ p *os.Process }

func newGroup(p *os.Process) procGroup { return procGroup{p} }
func (g procGroup) stop()              { g.p.Kill() }
func (g procGroup) kill()              { g.p.Kill() }

func endedByUs(ps *os.ProcessState) bool { return ps == nil || ps.ExitCode() < 0 }

func exitCode(ps *os.ProcessState) int { return ps.ExitCode() }

var stopSignals = []os.Signal{os.Interrupt}

func processExists(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
