// Package runner runs the agent's plugins and checks: one command at a
// time per call, with its own process group (on Plan 9, note group), a
// timeout, bounded output, and nothing of it left running afterwards.
package runner

import (
	"strings"
	"time"
)

// Command is a command to run: a string, run by the shell (rc on Plan 9,
// sh elsewhere), or an argument vector, run directly.
type Command struct {
	Shell   string
	Args    []string
	Env     []string      // KEY=VALUE, from the configuration
	Timeout time.Duration // none when 0
}

func (c Command) String() string {
	if len(c.Args) > 0 {
		return strings.Join(c.Args, " ")
	}
	return c.Shell
}

// argv is what is executed: the argument vector, or the shell with the
// string.
func (c Command) argv() []string {
	if len(c.Args) > 0 {
		return c.Args
	}
	return append(Shell(), c.Shell)
}

// Shell is the shell and its flag that run a string command:
// /bin/rc -c on Plan 9, /bin/sh -c on Unix.
func Shell() []string { return append([]string(nil), shell...) }

// ShellName names the shell in messages: "rc", "sh".
func ShellName() string { return shellName }
