package checkplan9

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// Every check gives the same verdict and message over 9P as on the same
// files on disk.
func TestSameOver9P(t *testing.T) {
	checks := [][]string{
		{"memory"}, {"memory", "-w", "0.5"}, {"swap"}, {"load", "-w", "1.5"}, {"uptime", "-w", "5"},
		{"procs"}, {"procs", "-p", "^mntgen$", "-w", "1"}, {"procs", "--broken"}, {"link", "-i", "ether0"},
	}
	for _, c := range testkit.Captures {
		root := testkit.Capture(c)
		addr := p9test.Start(t, &p9test.Server{Root: root})
		for _, args := range checks {
			lcode, local := run(t, append(args, "--root", root)...)
			rcode, remote := run(t, append(args, "--9p", addr)...)
			if lcode != rcode || local != remote {
				t.Errorf("%s %q:\n--root %d %q\n--9p   %d %q", c, args, lcode, local, rcode, remote)
			}
		}
	}
	// reboot-required reads the kernel a.out over 9P with ReadAt.
	for _, kernel := range []string{string(aout(true, uint32(built.Unix()), false)), string(aout(false, uint32(built.Add(time.Hour).Unix()), false)), string(aout(true, 0, true))} {
		root := host9front(t, built, map[string]string{"amd64/9pc64": kernel})
		touch(t, filepath.Join(root, "amd64/9pc64"), built.Add(2*time.Minute))
		addr := p9test.Start(t, &p9test.Server{Root: root})
		lcode, local := run(t, "reboot-required", "--root", root)
		rcode, remote := run(t, "reboot-required", "--9p", addr)
		if lcode != rcode || local != remote {
			t.Errorf("reboot-required:\n--root %d %q\n--9p   %d %q", lcode, local, rcode, remote)
		}
	}
}

// An unreachable or silent host is UNKNOWN within the timeout.
func TestUnreachable(t *testing.T) {
	start := time.Now()
	code, line := run(t, "memory", "--9p", "127.0.0.1:1", "--timeout", "2s")
	if code != 3 || line[:23] != "Memory UNKNOWN: 9P 127." || time.Since(start) > 3*time.Second {
		t.Errorf("%d %q", code, line)
	}
}

// Every subcommand refuses a flag value that cannot work before anything
// is read: the 9P server named sees no connection.
func TestBadFlagValues(t *testing.T) {
	srv := &p9test.Server{Root: testkit.Capture(testkit.Front11879amd64)}
	addr := p9test.Start(t, srv)
	table(t, []tc{
		{"timeout", []string{"memory", "--timeout", "0", "--9p", addr}, 3, "CheckPlan9 UNKNOWN: --timeout 0s: give a duration above zero, such as 10s"},
		{"negative timeout", []string{"procs", "--timeout", "-1s", "--9p", addr}, 3, "CheckPlan9 UNKNOWN: --timeout -1s: give a duration above zero, such as 10s"},
		{"empty 9p", []string{"swap", "--9p", ""}, 3, "CheckPlan9 UNKNOWN: --9p: empty; give the address of a Plan 9 host's exportfs, such as tcp!gnot!17564"},
		{"bad 9p", []string{"uptime", "--9p", "il!gnot!17008"}, 3, `CheckPlan9 UNKNOWN: --9p: "il!gnot!17008": network "il" is not tcp`},
		{"root and 9p", []string{"load", "-w", "1", "--root", "/", "--9p", addr}, 3, "CheckPlan9 UNKNOWN: --root and --9p: give one or the other"},
		{"user without 9p", []string{"memory", "--user", "glenda", "--root", testkit.Capture(testkit.Front11879amd64)}, 3, "CheckPlan9 UNKNOWN: --user: only with --9p, as the user to attach as"},
		{"aname without 9p", []string{"procs", "--aname", "/usr"}, 3, "CheckPlan9 UNKNOWN: --aname: only with --9p"},
		{"procs over", []string{"procs", "-w", "-1", "--9p", addr}, 3, "CheckPlan9 UNKNOWN: --warning-over -1: give a number of processes, 0 or more"},
		{"procs under", []string{"procs", "-C", "-2", "--9p", addr}, 3, "CheckPlan9 UNKNOWN: --critical-under -2: give a number of processes, 0 or more"},
		{"uptime", []string{"uptime", "-c", "-5", "--9p", addr}, 3, "CheckPlan9 UNKNOWN: --critical-under -5: give a number of seconds, 0 or more"},
		{"uptime NaN", []string{"uptime", "-W", "NaN", "--9p", addr}, 3, "CheckPlan9 UNKNOWN: --warning-over NaN: give a number of seconds, 0 or more"},
		{"link", []string{"link", "-i", "", "--9p", addr}, 3, `CheckPlan9 UNKNOWN: --interface "": give a device name such as ether0`},
		{"link path", []string{"link", "-i", "../dev", "--9p", addr}, 3, `CheckPlan9 UNKNOWN: --interface "../dev": give a device name such as ether0`},
		{"kernel", []string{"reboot-required", "--kernel", "", "--9p", addr}, 3, `CheckPlan9 UNKNOWN: --kernel "": give the path of a kernel, such as /n/9fat/9pc64`},
		{"fs NaN", []string{"fs", "--fs", "cwfs:/srv/cwfs.cmd", "-w", "NaN%", "--9p", addr}, 3, `CheckPlan9 UNKNOWN: --warning "NaN%": want a percentage such as 10% or a size such as 2GB`},
		{"fs Inf", []string{"fs", "--fs", "cwfs:/srv/cwfs.cmd", "-c", "Inf", "--9p", addr}, 3, `CheckPlan9 UNKNOWN: --critical "Inf": want a percentage such as 10% or a size such as 2GB`},
		{"two at once", []string{"memory", "-w", "101", "-c", "102", "--9p", addr}, 3, "CheckPlan9 UNKNOWN: --warning: 101 is not a percentage; --critical: 102 is not a percentage"},
		// A state no kernel shows, and a warning beyond its critical.
		{"unknown state class", []string{"procs", "-s", "zombie", "--9p", addr}, 3,
			`CheckPlan9 UNKNOWN: --state "zombie": neither a class (running, ready, sleeping, stopped, broken, moribund, new) nor a state Plan 9 kernels show, such as Pread, Await or Rendez`},
		{"unknown raw state", []string{"procs", "-s", "pread", "--9p", addr}, 3, `CheckPlan9 UNKNOWN: --state "pread": neither a class …`},
		{"load", []string{"load", "-w", "5", "-c", "2", "--9p", addr}, 3,
			"CheckPlan9 UNKNOWN: --warning 5 is beyond --critical 2, so WARNING could never be reported; give a --warning of at most 2"},
		{"memory", []string{"memory", "-w", "90", "-c", "80", "--9p", addr}, 3,
			"CheckPlan9 UNKNOWN: --warning 90 is beyond --critical 80, so WARNING could never be reported; give a --warning of at most 80"},
		{"memory default", []string{"memory", "-c", "90", "--9p", addr}, 3,
			"CheckPlan9 UNKNOWN: --warning 95 (the default) is beyond --critical 90, so WARNING could never be reported; give a --warning of at most 90"},
		{"swap", []string{"swap", "--warning", "81", "--9p", addr}, 3,
			"CheckPlan9 UNKNOWN: --warning 81 is beyond --critical 80 (the default), so WARNING could never be reported; give a --warning of at most 80"},
		{"procs over", []string{"procs", "-w", "5", "-c", "3", "--9p", addr}, 3,
			"CheckPlan9 UNKNOWN: --warning-over 5 is beyond --critical-over 3, so WARNING could never be reported; give a --warning-over of at most 3"},
		{"procs under", []string{"procs", "-C", "2", "--9p", addr}, 3,
			"CheckPlan9 UNKNOWN: --warning-under 1 (the default) is beyond --critical-under 2, so WARNING could never be reported; give a --warning-under of at least 2"},
		{"uptime under", []string{"uptime", "-w", "100", "-c", "200", "--9p", addr}, 3,
			"CheckPlan9 UNKNOWN: --warning-under 100 is beyond --critical-under 200, so WARNING could never be reported; give a --warning-under of at least 200"},
		{"uptime both", []string{"uptime", "-w", "100", "-c", "200", "-W", "2e6", "-C", "1e6", "--9p", addr}, 3,
			"CheckPlan9 UNKNOWN: --warning-under 100 is beyond --critical-under 200, so WARNING could never be reported; give a --warning-under of at least 200; " +
				"--warning-over 2e+06 is beyond --critical-over 1e+06, so WARNING could never be reported; give a --warning-over of at most 1e+06"},
		{"fs percent", []string{"fs", "--fs", "cwfs:/srv/cwfs.cmd", "-w", "5%", "--9p", addr}, 3,
			"CheckPlan9 UNKNOWN: --warning 5% is beyond --critical 10% (the default), so WARNING could never be reported; give a --warning of at least 10%"},
		{"fs size", []string{"fs", "--fs", "cwfs:/srv/cwfs.cmd", "-w", "1GB", "-c", "2GB", "--9p", addr}, 3,
			"CheckPlan9 UNKNOWN: --warning 1GB is beyond --critical 2GB, so WARNING could never be reported; give a --warning of at least 2GB"},
	})
	if n := srv.Requests(); n != 0 {
		t.Errorf("the server had %d requests", n)
	}
	// procs' --user is a process owner: it needs no --9p.
	if code, line := run(t, "procs", "-u", "glenda", "--root", testkit.Capture(testkit.Front11879amd64)); code != 0 || line != "Procs OK: Found 37 matching processes" {
		t.Errorf("procs -u: %d %q", code, line)
	}
}

// Over 9P, a tree that is not a Plan 9 name space is UNKNOWN, saying so.
func TestWrongNamespaceOver9P(t *testing.T) {
	addr := p9test.Start(t, &p9test.Server{Root: t.TempDir()})
	for _, args := range [][]string{{"memory"}, {"procs"}, {"reboot-required"}, {"link", "-i", "ether0"}} {
		code, line := run(t, append(args, "--9p", addr)...)
		want := " UNKNOWN: --9p " + addr + " is not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap; export the Plan 9 host's root (exportfs -r /), letting /dev, /net and /proc through any -P pattern"
		if code != 3 || !strings.HasSuffix(line, want) {
			t.Errorf("%q: %d %q", args, code, line)
		}
	}
}
