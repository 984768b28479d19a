package main

// The built binary run as a process, as mackerel-agent runs a check: its
// exit status and its whole standard output.

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m, "check-plan9") }

func TestProcess(t *testing.T) {
	root := testkit.Capture(testkit.Front2016amd64)
	for _, tt := range []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"memory", "--root", root}, 0, "Memory OK: 9.3% of user memory in use (55.7 MiB of 601.2 MiB)\n"},
		{[]string{"memory", "-w", "5", "--root", root}, 1, "Memory WARNING: 9.3% of user memory in use (55.7 MiB of 601.2 MiB)\n"},
		{[]string{"procs", "--broken", "--root", root}, 2, "Procs CRITICAL: 2 broken: p9probe (pid 221, glenda), p9probe (pid 222, glenda)\n"},
		{[]string{"uptime", "--root", "/nonexistent"}, 3, "Uptime UNKNOWN: --root /nonexistent does not exist; point --root at a mounted Plan 9 name space, or read the host over 9P with --9p ADDR (such as tcp!gnot!17564)\n"},
		{[]string{"memory", "--timeout", "-1s", "--root", root}, 3, "CheckPlan9 UNKNOWN: --timeout -1s: give a duration above zero, such as 10s\n"},
		{[]string{"memory", "--no-such-flag"}, 3, "CheckPlan9 UNKNOWN: unknown flag `no-such-flag'\n"},
		{[]string{"link", "-i", "ether0", "--root", root}, 0, "Link OK: ether0: link up, 1000 Mbps\n"},
	} {
		cmd := exec.Command(testkit.Bin("check-plan9"), tt.args...)
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
		if (tt.code == 3 && strings.HasPrefix(tt.stdout, "CheckPlan9 ")) != (errb.Len() > 0) {
			t.Errorf("%q: stderr %q", tt.args, errb.String())
		}
	}
}

// Every subcommand, where no Plan 9 name space is, says so as UNKNOWN in
// the same words, on this machine's own / (Linux) as well.
func TestWrongNamespace(t *testing.T) {
	empty := t.TempDir()
	linux := testkit.LinuxRoot(t, 200)
	const todo = "; point --root at a mounted Plan 9 name space, or read the host over 9P with --9p ADDR (such as tcp!gnot!17564)"
	roots := map[string]string{
		"/nonexistent/mackerel-plan9": "--root /nonexistent/mackerel-plan9 does not exist" + todo,
		empty:                         "--root " + empty + " is not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap" + todo,
		linux:                         "--root " + linux + " is Linux's name space, not a Plan 9 one (/proc/1/status is in Linux's format)" + todo,
	}
	_, errSwap := os.Stat("/dev/swap")
	_, errSysstat := os.Stat("/dev/sysstat")
	if runtime.GOOS == "linux" && os.IsNotExist(errSwap) && os.IsNotExist(errSysstat) {
		roots["/"] = "--root / is Linux's name space, not a Plan 9 one (/proc/1/status is in Linux's format)" + todo
	}
	subcommands := map[string][]string{
		"Memory": {"memory"}, "Swap": {"swap"}, "Load": {"load", "-w", "4"}, "Uptime": {"uptime"},
		"Procs": {"procs"}, "RebootRequired": {"reboot-required"}, "FileServer": {"fs", "--fs", "cwfs:/srv/cwfs.cmd"},
		"Link": {"link", "-i", "ether0"},
	}
	for root, says := range roots {
		for checker, args := range subcommands {
			cmd := exec.Command(testkit.Bin("check-plan9"), append(args, "--root", root)...)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			var ee *exec.ExitError
			if want := checker + " UNKNOWN: " + says + "\n"; !errors.As(err, &ee) || ee.ExitCode() != 3 || out.String() != want || errb.Len() > 0 {
				t.Errorf("%q --root %s: %v, stderr %q\ngot  %q\nwant %q", args, root, err, errb.String(), out.String(), want)
			}
		}
	}
}
