//go:build !plan9

package pidfile

import (
	"os"
	"syscall"
	"testing"
)

func helperAttr() *syscall.SysProcAttr { return nil }

func killHard(t *testing.T, p *os.Process) {
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
}
