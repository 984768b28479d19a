package main

// End-to-end tests: the built plugin run by the real mackerel-agent
// (v0.87.0, pinned in ../tools/go.mod), as a user would configure it.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testexec"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m, "mackerel-plugin-plan9") }

// tool runs one of the tools pinned in ../tools/go.mod; it and what it
// starts end with the test.
func tool(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs mackerel-agent; skipped with -short")
	}
	cmd := testexec.Command(t, "go", args...)
	cmd.Dir = testkit.Path("tools")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, e.String())
	}
	return o.String(), e.String()
}

// agentConf writes a mackerel-agent.conf whose plan9 plugin reads the
// named capture, with what `mackerel-agent once` needs (§5 of the
// protocol notes): a dummy apikey and no cloud probing.
func agentConf(t *testing.T, capture string) string {
	dir := t.TempDir()
	conf := filepath.Join(dir, "mackerel-agent.conf")
	body := fmt.Sprintf(`apikey = "dummy-not-a-real-key"
root = %q
pidfile = %q
cloud_platform = "none"

[plugin.metrics.plan9]
command = [%q, "--root", %q]
env = { MACKEREL_PLUGIN_WORKDIR = %q }
`, filepath.Join(dir, "root"), filepath.Join(dir, "agent.pid"), testkit.Bin("mackerel-plugin-plan9"), testkit.Capture(capture), dir)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

func TestAgentOnce(t *testing.T) {
	stdout, stderr := tool(t, "tool", "mackerel-agent", "once", "-conf", agentConf(t, testkit.Front11879amd64))
	var out struct {
		Metrics struct {
			Values []struct {
				Values map[string]struct{ Value float64 }
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("%v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	got := map[string]float64{}
	for _, v := range out.Metrics.Values {
		for k, x := range v.Values {
			if strings.HasPrefix(k, "custom.") {
				got[k] = x.Value
			}
		}
	}
	// Values the capture's bytes imply (see lib/plan9_test.go for all).
	want := map[string]float64{
		"custom.plan9.loadavg.load":                1.299,
		"custom.plan9.cpu.busy":                    75,
		"custom.plan9.cpu.idle":                    24,
		"custom.plan9.cpu.interrupt":               1,
		"custom.plan9.percpu.0.busy":               75,
		"custom.plan9.memory.used":                 1011 * 4096,
		"custom.plan9.memory.reclaim":              837 * 4096,
		"custom.plan9.memory.free":                 (150376 - 1011 - 837) * 4096,
		"custom.plan9.memory.kernel":               104215 * 4096,
		"custom.plan9.memory.total":                1067155456,
		"custom.plan9.swap.total":                  320000 * 4096,
		"custom.plan9.pool.malloc.allocated":       2695808,
		"custom.plan9.pool.secret.max":             16777216,
		"custom.plan9.processes.sleeping":          37,
		"custom.plan9.processes.running":           0,
		"custom.plan9.tcp_established.established": 1,
		"custom.plan9.uptime.seconds":              6.558524214,
		// A first run measures rates over a short interval: the capture
		// does not change, so they are zero, and present.
		"custom.plan9.kernel.context_switches":     0,
		"custom.plan9.interface.ether0.in_packets": 0,
		"custom.plan9.tcp.in_segs":                 0,
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
	if len(got) != 67 {
		t.Errorf("%d custom metrics, want 67", len(got))
	}
}

// The graph definitions as the agent's own code parses them from the
// plugin's MACKEREL_AGENT_PLUGIN_META output.
func TestAgentGraphDefs(t *testing.T) {
	stdout, _ := tool(t, "run", "./graphdefs", agentConf(t, testkit.Front11879amd64))
	var defs map[string][]struct {
		Name, DisplayName, Unit string
		Metrics                 []struct {
			Name, DisplayName string
			IsStacked         bool
		}
	}
	if err := json.Unmarshal([]byte(stdout), &defs); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	graphs := map[string]string{}
	metrics := map[string]bool{}
	for _, g := range defs["plan9"] {
		graphs[g.Name] = g.Unit
		for _, m := range g.Metrics {
			if !strings.HasPrefix(m.Name, g.Name+".") {
				t.Errorf("metric %s outside graph %s", m.Name, g.Name)
			}
			metrics[m.Name] = m.IsStacked
		}
	}
	for name, unit := range map[string]string{
		"custom.plan9.loadavg": "float", "custom.plan9.cpu": "percentage", "custom.plan9.percpu.#": "percentage",
		"custom.plan9.kernel": "float", "custom.plan9.memory": "bytes", "custom.plan9.swap": "bytes",
		"custom.plan9.pool.#": "bytes", "custom.plan9.interface.#": "float", "custom.plan9.interface_bytes.#": "bytes/sec",
		"custom.plan9.interface_errors.#": "float", "custom.plan9.ip": "float", "custom.plan9.tcp": "float",
		"custom.plan9.tcp_established": "integer", "custom.plan9.udp": "float", "custom.plan9.processes": "integer",
		"custom.plan9.uptime": "float", "custom.plan9.filesystem.#": "bytes", "custom.plan9.temperature.#": "float",
		"custom.plan9.battery": "percentage",
	} {
		if graphs[name] != unit {
			t.Errorf("graph %s: unit %q, want %q", name, graphs[name], unit)
		}
	}
	if len(graphs) != 19 {
		t.Errorf("%d graphs: %v", len(graphs), graphs)
	}
	for m, stacked := range map[string]bool{
		"custom.plan9.cpu.busy": true, "custom.plan9.percpu.#.idle": true, "custom.plan9.memory.total": false,
		"custom.plan9.memory.kernel": true, "custom.plan9.processes.broken": true, "custom.plan9.interface_bytes.#.in_bytes": false,
		"custom.plan9.filesystem.#.used": false, "custom.plan9.temperature.#.celsius": false,
	} {
		if s, ok := metrics[m]; !ok || s != stacked {
			t.Errorf("%s: present %v, stacked %v", m, ok, s)
		}
	}
}

// The built plugin, run by hand or by the agent where no Plan 9 name space
// is: one line on standard error that says so and what to do, nothing on
// standard output, exit status 1. On this machine's own / (Linux) too.
func TestWrongNamespace(t *testing.T) {
	empty := t.TempDir()
	linux := testkit.LinuxRoot(t, 500)
	cases := []struct{ root, says string }{
		{"/nonexistent/mackerel-plan9", "--root /nonexistent/mackerel-plan9 does not exist; "},
		{empty, "--root " + empty + " is not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap; "},
		{linux, "--root " + linux + " is Linux's name space, not a Plan 9 one (/proc/1/status is in Linux's format); "},
	}
	_, errSwap := os.Stat("/dev/swap")
	_, errSysstat := os.Stat("/dev/sysstat")
	if runtime.GOOS == "linux" && os.IsNotExist(errSwap) && os.IsNotExist(errSysstat) {
		cases = append(cases, struct{ root, says string }{"/", "--root / is Linux's name space, not a Plan 9 one"})
	}
	for _, c := range cases {
		cmd := exec.Command(testkit.Bin("mackerel-plugin-plan9"), "--root", c.root)
		cmd.Env = append(os.Environ(), "MACKEREL_PLUGIN_WORKDIR="+t.TempDir(), "MACKEREL_AGENT_PLUGIN_META=")
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		lines := strings.Split(strings.TrimSuffix(e.String(), "\n"), "\n")
		if code != 1 || o.Len() != 0 || len(lines) != 1 ||
			!strings.HasPrefix(lines[0], "mackerel-plugin-plan9: "+c.says) ||
			!strings.HasSuffix(lines[0], "point --root at a mounted Plan 9 name space, or read the host over 9P with --9p ADDR (such as tcp!gnot!17564)") {
			t.Errorf("--root %s: exit %d (%v), stdout %q\nstderr %q", c.root, code, err, o.String(), e.String())
		}
	}
}

// A flag value that cannot work is refused, naming the flag.
func TestBadTimeout(t *testing.T) {
	cmd := exec.Command(testkit.Bin("mackerel-plugin-plan9"), "--timeout", "-1s", "--root", testkit.Capture(testkit.Front11879amd64))
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || o.Len() != 0 ||
		e.String() != "mackerel-plugin-plan9: --timeout -1s: give a duration above zero, such as 10s\nTry mackerel-plugin-plan9 --help.\n" {
		t.Errorf("%v, stdout %q, stderr %q", err, o.String(), e.String())
	}
}
