package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

var bins = map[string]string{}

// Main builds the module's commands named (mackerel-plugin-plan9,
// check-plan9, mackerel-agent-plan9) once for the test binary, runs its
// tests, removes what it built and exits. Call it from TestMain.
func Main(m *testing.M, commands ...string) {
	dir, err := os.MkdirTemp("", "testkit-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testkit:", err)
		os.Exit(1)
	}
	code := 1
	if err := build(dir, commands); err != nil {
		fmt.Fprintln(os.Stderr, "testkit:", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func build(dir string, commands []string) error {
	for _, c := range commands {
		bin := filepath.Join(dir, c)
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		cmd := exec.Command("go", "build", "-o", bin, "./"+c)
		cmd.Dir = Root()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", c, err, out)
		}
		bins[c] = bin
	}
	return nil
}

// Bin is the path of a command that Main built.
func Bin(command string) string {
	b, ok := bins[command]
	if !ok {
		panic("testkit: " + command + " was not built by Main")
	}
	return b
}
