package checkplan9

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
)

var allCaptures = []string{
	"qemu-9front-11879-amd64-9pc64", "qemu-9front-11879-386-9pc",
	"qemu-9front-2016-9emul-amd64-9pc64", "qemu-9front-2016-9emul-386-9pcf",
	"qemu-rsc-plan9-9legacy-386-9pc", "qemu-rsc-plan9-9legacy-amd64-9k10",
}

// Every check gives the same verdict and message over 9P as on the same
// files on disk.
func TestSameOver9P(t *testing.T) {
	checks := [][]string{
		{"memory"}, {"memory", "-w", "0.5"}, {"swap"}, {"load", "-w", "1.5"}, {"uptime", "-w", "5"},
		{"procs"}, {"procs", "-p", "^mntgen$", "-w", "1"}, {"procs", "--broken"}, {"link", "-i", "ether0"},
	}
	for _, c := range allCaptures {
		root := captureDir(c)
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
