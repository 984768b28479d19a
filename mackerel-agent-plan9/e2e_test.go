package main

// End-to-end tests of the built agent: run as a user runs it, against a
// stand-in API on loopback, on the captures of real kernels, and beside
// the real mackerel-agent (v0.87.0, pinned in ../tools/go.mod).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testexec"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/queue"
)

func TestMain(m *testing.M) {
	testkit.Main(m, "mackerel-agent-plan9", "mackerel-plugin-plan9", "check-plan9")
}

func runAgent(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(testkit.Bin("mackerel-agent-plan9"), args...)
	var o, e bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

func writeConf(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "agent.conf")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// readmeNames reads the README's table of system metrics: the names the
// agent may post, and those it leaves out.
func readmeNames(t *testing.T) (posted, leftOut map[string]bool) {
	posted, leftOut = map[string]bool{}, map[string]bool{}
	for _, cells := range testkit.Table(t, testkit.READMESection(t, "## System metrics of mackerel-agent-plan9")) {
		name := strings.Trim(cells[0], "`")
		if cells[1] == "—" {
			leftOut[name] = true
		} else {
			posted[name] = true
		}
	}
	return posted, leftOut
}

// once on every capture: the host's specs from its files, the plugin's
// values and graph definitions, and exactly the system metrics that the
// README's table promises for that kernel.
func TestOnceOnCaptures(t *testing.T) {
	posted, leftOut := readmeNames(t)
	if len(posted) < 15 || len(leftOut) < 10 {
		t.Fatalf("README table: %d posted, %d left out", len(posted), len(leftOut))
	}
	for _, c := range testkit.Captures {
		t.Run(c, func(t *testing.T) {
			root := testkit.Capture(c)
			conf := writeConf(t, fmt.Sprintf("root = %q\n[plugin.metrics.plan9]\ncommand = [%q, \"--root\", %q]\n",
				t.TempDir(), testkit.Bin("mackerel-plugin-plan9"), root))
			stdout, stderr, code := runAgent(t, "", "once", "-conf", conf, "--root", root)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var out struct {
				Host struct {
					Name string
					Meta struct {
						Kernel map[string]string
						Memory map[string]string
						CPU    []map[string]string
					}
					Interfaces []struct {
						Name          string
						IPv4Addresses []string
						MacAddress    string
					}
				}
				Metrics struct {
					Values map[string]float64
				}
				GraphDefs []struct{ Name string }
			}
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			if out.Host.Name != "gnot" || out.Host.Meta.Kernel["name"] != "Plan 9" || out.Host.Meta.Kernel["os"] != "plan9" || len(out.Host.Meta.CPU) != 1 {
				t.Errorf("host %+v", out.Host)
			}
			if len(out.Host.Interfaces) != 1 || out.Host.Interfaces[0].MacAddress != "52:54:00:12:34:56" || out.Host.Interfaces[0].IPv4Addresses[0] != "10.0.2.15" {
				t.Errorf("interfaces %+v", out.Host.Interfaces)
			}
			var sys []string
			custom := 0
			for n := range out.Metrics.Values {
				if strings.HasPrefix(n, "custom.plan9.") {
					custom++
				} else {
					sys = append(sys, n)
				}
			}
			sort.Strings(sys)
			// The README's promises for these captures: every name with a
			// unit, but swap where the kernel has none (9k), interfaces
			// (virtio NICs count no bytes), filesystems (no console
			// named), and cpu.system (two readings of unchanging files
			// charge no process a tick, so the busy share is all user).
			var want []string
			for n := range posted {
				switch {
				case strings.HasPrefix(n, "memory.swap_") && strings.Contains(c, "9k10"),
					strings.HasPrefix(n, "interface."), strings.HasPrefix(n, "filesystem."), n == "cpu.system.percentage":
					continue
				}
				want = append(want, n)
			}
			sort.Strings(want)
			if strings.Join(sys, " ") != strings.Join(want, " ") {
				t.Errorf("system metrics\n%v\nwant\n%v", sys, want)
			}
			for n := range out.Metrics.Values {
				if leftOut[n] {
					t.Errorf("%s posted, but the README says it is left out", n)
				}
			}
			if custom < 55 || len(out.GraphDefs) != 19 {
				t.Errorf("%d plugin values, %d graph definitions", custom, len(out.GraphDefs))
			}
		})
	}
}

// The plugin values in once are what the real mackerel-agent's once
// collects from the same plugin.
func TestOnceMatchesUpstream(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs mackerel-agent; skipped with -short")
	}
	root := testkit.Capture(testkit.Legacy386)
	dir := t.TempDir()
	body := fmt.Sprintf("apikey = \"dummy\"\nroot = %q\ncloud_platform = \"none\"\n[plugin.metrics.plan9]\ncommand = [%q, \"--root\", %q]\nenv = { MACKEREL_PLUGIN_WORKDIR = %q }\n",
		dir, testkit.Bin("mackerel-plugin-plan9"), root, dir)
	conf := writeConf(t, body)
	cmd := testexec.Command(t, "go", "tool", "mackerel-agent", "once", "-conf", conf)
	cmd.Dir = testkit.Path("tools")
	up, err := cmd.Output()
	if err != nil {
		t.Fatalf("mackerel-agent once: %v", err)
	}
	var upstream struct {
		Metrics struct {
			Values []struct {
				Values map[string]struct{ Value float64 }
			}
		}
	}
	if err := json.Unmarshal(up, &upstream); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runAgent(t, "", "once", "-conf", conf, "--root", root)
	if code != 0 {
		t.Fatal(stderr)
	}
	var ours struct {
		Metrics struct{ Values map[string]float64 }
	}
	json.Unmarshal([]byte(stdout), &ours)
	n := 0
	for _, v := range upstream.Metrics.Values {
		for k, x := range v.Values {
			if !strings.HasPrefix(k, "custom.") {
				continue
			}
			n++
			if g, ok := ours.Metrics.Values[k]; !ok || g != x.Value {
				t.Errorf("%s: ours %v (%v), upstream %v", k, g, ok, x.Value)
			}
		}
	}
	if n < 55 {
		t.Errorf("upstream collected %d custom values", n)
	}
}

// Wrong name spaces and configurations stop the agent with one clear
// line and exit 1, before anything is posted.
func TestRefusals(t *testing.T) {
	empty := t.TempDir()
	good := writeConf(t, "apikey = \"k\"\napibase = \"http://127.0.0.1:1\"\nroot = \""+t.TempDir()+"\"\n")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-conf", good, "--root", "/nonexistent"}, "mackerel-agent-plan9: --root /nonexistent does not exist; on the Plan 9 host leave --root out, elsewhere point it at a mounted Plan 9 name space\n"},
		{[]string{"-conf", good, "--root", empty}, "mackerel-agent-plan9: --root " + empty + " is not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap; on the Plan 9 host leave --root out, elsewhere point it at a mounted Plan 9 name space\n"},
		{[]string{"-conf", good, "--root", "/"}, "mackerel-agent-plan9: --root / is Linux's name space, not a Plan 9 one (/proc/1/status is in Linux's format)"},
		{[]string{"-conf", writeConf(t, "apikey = \"k\"\nroles = [\n"), "--root", empty}, ":2:10: roles: unexpected EOF; expected value"},
		{[]string{"-conf", writeConf(t, "root = \"/tmp\"\n")}, ": apikey: not set"},
		{[]string{"-conf", good, "--root", ""}, "--root: give a directory"},
		{[]string{"bogus"}, `unexpected argument "bogus"`},
	} {
		_, stderr, code := runAgent(t, "", tt.args...)
		if code != 1 || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") > 2 {
			t.Errorf("%q: exit %d, %q\nwant %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	stdout, _, code := runAgent(t, "", "version")
	if code != 0 || !strings.HasPrefix(stdout, "mackerel-agent-plan9 version ") || !strings.Contains(stdout, "linux amd64") && !strings.Contains(stdout, "[linux ") {
		t.Errorf("exit %d: %q", code, stdout)
	}
}

// The built agent against the stand-in API: it registers, sends graph
// definitions, values and check reports, and on an interrupt posts what
// is queued, sets on_stop and exits 0. retire then retires the host.
func TestRunAndRetire(t *testing.T) {
	api := mackereltest.NewServer(t, nil)
	// An id that posts at second 0 of the minute waits no start-up delay.
	var id string
	for id == "" || queue.HostSecond(id) > 1 || queue.HostSecond(id)/4 > 0 {
		id = api.AddHost("gnot", "")
	}
	root := testkit.Capture(testkit.Front11879amd64)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "id"), []byte(id), 0o644)
	conf := writeConf(t, fmt.Sprintf(`apikey = %q
apibase = %q
root = %q
[host_status]
on_start = "working"
on_stop = "maintenance"
[plugin.metrics.plan9]
command = [%q, "--root", %q]
[plugin.checks.load]
command = [%q, "load", "--root", %q, "-w", "0.5", "-c", "9"]
`, mackereltest.Key, api.URL(), dir, testkit.Bin("mackerel-plugin-plan9"), root, testkit.Bin("check-plan9"), root))
	cmd := exec.Command(testkit.Bin("mackerel-agent-plan9"), "-conf", conf, "--root", root)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The values' run comes at the minute's tick, within 30 s of the
	// start; the check within 15 s. Twice that and the runs' own time.
	const wait = 90 * time.Second
	deadline := time.Now().Add(wait)
	posted := func(name string) bool {
		for _, v := range api.Posted(t) {
			if v.Name == name {
				return true
			}
		}
		return false
	}
	for !posted("custom.plan9.memory.total") || len(api.Calls("POST", "/api/v0/monitoring/checks/report")) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("nothing posted in %v:\n%s", wait, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pid, err := os.ReadFile(filepath.Join(dir, "pid")); err != nil || strings.TrimSpace(string(pid)) != fmt.Sprint(cmd.Process.Pid) {
		t.Errorf("pid file %q %v", pid, err)
	}
	// A second agent on the same root is refused.
	if _, e, code := runAgent(t, "", "-conf", conf, "--root", root); code != 1 || !strings.Contains(e, "an agent already runs as pid") {
		t.Errorf("second agent: exit %d %q", code, e)
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(40 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("did not stop:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "pid")); err == nil {
		t.Error("the pid file is left behind")
	}
	if h := api.Host(id); h.Status != "maintenance" {
		t.Errorf("status %q after the stop", h.Status)
	}
	got := map[string]float64{}
	for _, v := range api.Posted(t) {
		if v.HostID != id {
			t.Errorf("value for %s", v.HostID)
		}
		got[v.Name] = v.Value
	}
	for n, w := range map[string]float64{"memory.total": 1067155456, "loadavg1": 1.299, "custom.plan9.memory.total": 1067155456, "custom.plan9.processes.sleeping": 37} {
		if got[n] != w {
			t.Errorf("%s = %v, want %v", n, got[n], w)
		}
	}
	var rep struct {
		Reports []struct{ Name, Status, Message string }
	}
	api.Calls("POST", "/api/v0/monitoring/checks/report")[0].Decode(t, &rep)
	if len(rep.Reports) != 1 || rep.Reports[0].Status != "WARNING" || !strings.HasPrefix(rep.Reports[0].Message, "Load WARNING: ") {
		t.Errorf("reports %+v", rep.Reports)
	}
	if len(api.Calls("POST", "/api/v0/graph-defs/create")) != 1 {
		t.Error("no graph definitions")
	}

	// retire asks first; --force does not.
	if _, _, code := runAgent(t, "n\n", "retire", "-conf", conf); code != 1 || api.Host(id).IsRetired {
		t.Errorf("retire, answered no: exit %d", code)
	}
	if _, e, code := runAgent(t, "", "retire", "-force", "-conf", conf); code != 0 || !api.Host(id).IsRetired {
		t.Errorf("retire -force: exit %d %s", code, e)
	}
	if _, err := os.Stat(filepath.Join(dir, "id")); err == nil {
		t.Error("the id file is left after retire")
	}
}
