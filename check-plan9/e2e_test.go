package main

// The built binary run as a process, as mackerel-agent runs a check: its
// exit status and its whole standard output.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "check-plan9-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "check-plan9")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building check-plan9: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestProcess(t *testing.T) {
	root := filepath.Join("..", "testdata", "qemu-9front-2016-9emul-amd64-9pc64")
	for _, tt := range []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"memory", "--root", root}, 0, "Memory OK: 9.3% of user memory in use (55.7 MiB of 601.2 MiB)\n"},
		{[]string{"memory", "-w", "5", "--root", root}, 1, "Memory WARNING: 9.3% of user memory in use (55.7 MiB of 601.2 MiB)\n"},
		{[]string{"procs", "--broken", "--root", root}, 2, "Procs CRITICAL: 2 broken: p9probe (pid 221, glenda), p9probe (pid 222, glenda)\n"},
		{[]string{"uptime", "--root", "/nonexistent"}, 3, "Uptime UNKNOWN: open /nonexistent/dev/time: no such file or directory\n"},
		{[]string{"memory", "--no-such-flag"}, 3, "CheckPlan9 UNKNOWN: unknown flag `no-such-flag'\n"},
		{[]string{"link", "-i", "ether0", "--root", root}, 0, "Link OK: ether0: link up, 1000 Mbps\n"},
	} {
		cmd := exec.Command(binary, tt.args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code || out.String() != tt.stdout {
			t.Errorf("%q: exit %d, stdout %q; want %d, %q (stderr %q)", tt.args, code, out.String(), tt.code, tt.stdout, errb.String())
		}
		// A usage error explains itself on stderr; a check says nothing there.
		if (tt.code == 3 && tt.args[1] == "--no-such-flag") != (errb.Len() > 0) {
			t.Errorf("%q: stderr %q", tt.args, errb.String())
		}
	}
}
