//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// The built agent watching a fleet of two hosts over 9P: both are
// registered with their system metrics, the plugin's values and their
// checks; a hangup's file removes one and adds another; a stop exits 0;
// retire --host retires one.
func TestFleetBuilt(t *testing.T) {
	api := mackereltest.NewServer(t, nil)
	serve := func(capture string) string {
		return p9test.Start(t, &p9test.Server{Root: testkit.Capture(capture)})
	}
	// a's capture has two broken processes: its check is CRITICAL, sent
	// at once.
	a, b, c := serve(testkit.Front2016amd64), serve(testkit.Legacy386), serve(testkit.Front11879amd64)
	root := t.TempDir()
	head := fmt.Sprintf("apikey = %q\napibase = %q\nroot = %q\n", mackereltest.Key, api.URL(), root)
	conf := writeConf(t, head+fmt.Sprintf(`
[host.a]
address = %q
checks = ["procs --broken"]
[host.b]
address = %q
`, a, b))
	p := startAgent(t, "-conf", conf)
	registered := func(names ...string) func() bool {
		return func() bool {
			for _, n := range names {
				if _, err := os.Stat(filepath.Join(root, "hosts", n, "id")); err != nil {
					return false
				}
			}
			return true
		}
	}
	// Each host begins at its own second within 45 s of the start.
	waitFor(t, "a and b registered", 90*time.Second, registered("a", "b"))
	idOf := func(n string) string {
		b, _ := os.ReadFile(filepath.Join(root, "hosts", n, "id"))
		return string(b)
	}
	posted := func(host, name string) bool {
		for _, v := range api.Posted(t) {
			if v.HostID == host && v.Name == name {
				return true
			}
		}
		return false
	}
	waitFor(t, "a's and b's values", 90*time.Second, func() bool {
		return posted(idOf("a"), "loadavg1") && posted(idOf("a"), "custom.plan9.memory.total") && posted(idOf("b"), "memory.total")
	})
	waitFor(t, "a's check reports", 90*time.Second, func() bool {
		r := api.Calls("POST", "/api/v0/monitoring/checks/report")
		all := ""
		for _, c := range r {
			all += string(c.Body)
		}
		return strings.Contains(all, `"name":"procs-broken","status":"CRITICAL"`)
	})

	// A hangup: b goes, c comes, a goes on.
	os.WriteFile(conf, []byte(head+fmt.Sprintf("[host.a]\naddress = %q\nchecks = [\"procs --broken\"]\n[host.c]\naddress = %q\n", a, c)), 0o600)
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload", 20*time.Second, func() bool { return strings.Contains(p.log(), "Reloaded") })
	waitFor(t, "c registered", 90*time.Second, registered("c"))
	if !strings.Contains(p.log(), "hosts 1 added, 1 removed, 0 changed; 2 watched") {
		t.Errorf("log:\n%s", p.log())
	}
	if code, _ := p.stop(); code != 0 {
		t.Errorf("exit %d:\n%s", code, p.log())
	}

	if _, e, code := runAgent(t, "", "retire", "-force", "-host", "b", "-conf", conf); code != 1 || !strings.Contains(e, "has no [host.b]") {
		t.Errorf("retire of a host no longer configured: exit %d %s", code, e)
	}
	cID := idOf("c")
	if _, e, code := runAgent(t, "", "retire", "-force", "-host", "c", "-conf", conf); code != 0 || !api.Host(cID).IsRetired {
		t.Errorf("retire -host c: exit %d %s", code, e)
	}
	if _, e, code := runAgent(t, "", "retire", "-force", "-conf", conf); code != 1 || !strings.Contains(e, "name the host with --host") {
		t.Errorf("retire in fleet mode without --host: exit %d %s", code, e)
	}
}
