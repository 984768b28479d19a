//go:build !unix

package testexec

import (
	"os/exec"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the command alone: there are no process groups to
// kill here (Plan 9's note groups are not the command's own).
func killGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
