//go:build !unix && !plan9

package runner

import (
	"os"
	"os/exec"
)

var (
	shell     = []string{"cmd", "/c"}
	shellName = "cmd"
)

func setGroup(c *exec.Cmd) {}

func keepEnv(string) bool { return true }

// procGroup is only the command itself: there is no group to end here.
type procGroup struct{ p *os.Process }

func newGroup(p *os.Process, _ *output) *procGroup { return &procGroup{p} }
func (g *procGroup) stop()                         { g.p.Kill() }
func (g *procGroup) kill()                         { g.p.Kill() }
func (g *procGroup) end() int                      { return 0 }

func endedByUs(ps *os.ProcessState) bool { return ps == nil || ps.ExitCode() < 0 }

func exitCode(ps *os.ProcessState) int { return ps.ExitCode() }
