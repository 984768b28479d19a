package config

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/cli"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testexec"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// A file that holds the API key and that others can read gets one
// warning line; one that only its owner can read gets none.
func TestPermissionWarning(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no permission bits")
	}
	for _, tt := range []struct {
		mode os.FileMode
		want string
	}{
		{0o600, ""},
		{0o400, ""},
		{0o700, ""},
		{0o620, ""}, // the group may write, not read: not the key's concern
		{0o640, "mode 0640: its group can read the API key in it; chmod 600 "},
		{0o644, "mode 0644: everyone can read the API key in it; chmod 600 "},
		{0o604, "mode 0604: everyone can read the API key in it; chmod 600 "},
	} {
		f := writeConf(t, "apikey = \"k\"\n")
		if err := os.Chmod(f, tt.mode); err != nil {
			t.Fatal(err)
		}
		got := PermissionWarning(f)
		if tt.want == "" && got != "" || tt.want != "" && got != f+": "+tt.want+f {
			t.Errorf("%04o: %q", tt.mode, got)
		}
		c, _, err := Load(f, true)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == "" && len(c.Warnings) > 0 || tt.want != "" && !reflect.DeepEqual(c.Warnings, []string{got}) {
			t.Errorf("%04o: Load's warnings %q", tt.mode, c.Warnings)
		}
	}
	if w := PermissionWarning(filepath.Join(t.TempDir(), "none")); w != "" {
		t.Errorf("a missing file: %q", w)
	}
	// Only the file that holds the key counts.
	dir := t.TempDir()
	f := filepath.Join(dir, "agent.conf")
	os.WriteFile(f, []byte("include = \"*.inc\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "key.inc"), []byte("apikey = \"k\"\n"), 0o644)
	c, _, err := Load(f, true)
	if err != nil || len(c.Warnings) != 1 || !strings.HasPrefix(c.Warnings[0], filepath.Join(dir, "key.inc")+": mode 0644") {
		t.Errorf("%v %q", err, c.Warnings)
	}
}

// namespaceCheck is the agent's --root check, as the agent passes it to
// Test.
func namespaceCheck(root string) func(*Config) error {
	return func(c *Config) error {
		if c.Fleet() {
			return nil
		}
		what, ok := cli.Namespace{Root: root}.Describe(p9stats.NewFS(ns.Dir(root)).CheckPlan9(nil))
		if !ok {
			return nil
		}
		return errors.New(what)
	}
}

// configtest prints what upstream's prints, with this agent's notices
// and warnings, and fails on an error, an unknown key or a name space
// that is not Plan 9's.
func TestConfigtest(t *testing.T) {
	capture := testkit.Capture(testkit.Front11879amd64)
	empty := t.TempDir()
	good := writeConf(t, "apikey = \"k\"\n")
	http := writeConf(t, "apikey = \"k\"\napibase = \"http://10.0.2.2:8080\"\ncloud_platform = \"none\"\n")
	os.Chmod(http, 0o644)
	unknown := writeConf(t, "apikey = \"k\"\napikye = \"k\"\n")
	fleet := writeConf(t, "apikey = \"k\"\n[host.gnot]\naddress = \"gnot\"\n")
	for _, tt := range []struct {
		file  string
		check func(*Config) error
		ok    bool
		want  string
	}{
		{good, nil, true, "SUCCESS (" + good + ")\n"},
		{good, namespaceCheck(capture), true, "SUCCESS (" + good + ")\n"},
		{good, namespaceCheck(empty), false, "[CRITICAL] --root " + empty + " is not a Plan 9 name space: it has neither /dev/sysstat nor /dev/swap\n"},
		{good, namespaceCheck("/nonexistent"), false, "[CRITICAL] --root /nonexistent does not exist\n"},
		{fleet, namespaceCheck("/nonexistent"), true, "SUCCESS (" + fleet + ")\n"},
		{http, nil, true, "[NOTICE] " + http + ": cloud_platform is ignored: Plan 9 hosts are not cloud instances the agent could ask\n" +
			"[WARNING] " + http + ": apibase: http: the API key crosses the network unencrypted; use https\n" +
			"[WARNING] " + http + ": mode 0644: everyone can read the API key in it; chmod 600 " + http + "\n" +
			"SUCCESS (" + http + ")\n"},
		{unknown, namespaceCheck(capture), false, "[WARNING] apikye is unexpected key. Did you mean apikey ?\n"},
		{writeConf(t, "apikey = \"k\"\nroles = [\n"), nil, false, "[CRITICAL] failed to test config: "},
	} {
		var b bytes.Buffer
		ok := Test(&b, tt.file, tt.check)
		if ok != tt.ok || !strings.HasPrefix(b.String(), tt.want) {
			t.Errorf("%s: %v\n%s\nwant %v\n%s", tt.file, ok, b.String(), tt.ok, tt.want)
		}
	}
}

// configtest reports the same unknown keys, with the same suggestions, as
// the real mackerel-agent v0.87.0 (pinned in tools/go.mod) reports of the
// same file: the first near key in upstream's order, nothing under a key
// already reported, [plugin.KIND.NAME] of an unknown kind.
func TestConfigtestMatchesUpstream(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs mackerel-agent; skipped with -short")
	}
	conf := writeConf(t, `apikey = "k"
apikye = "k"
apibse = "https://api.mackerelio.com"
rot = "/tmp"
pidfle = "/tmp/pid"
verbos = true
silnt = true
display_nam = "x"
rols = ["a:b"]
http_proxyy = "http://p:1"
includ = "x"
diagnostc = true
[host_status]
on_strat = "working"
on_sop = "standby"
[filesystems]
ignor = "x"
use_mountpont = true
[interfaces]
ignore = "x"
use_adaptor = true
[disk]
ignore = "x"
[plugin.metrics.x]
command = "true"
comand = "true"
timeout_second = 3
exclude_patern = "x"
custom_identifer = "y"
[plugin.metric.y]
command = "true"
[plugin.foo.q]
command = "true"
[plugin.checks.z]
command = "true"
check_intervl = 5
max_check_attempt = 3
notification_intervals = 10
memos = "m"
action = { command = "true", en = { A = "1" }, usr = "x" }
[plugins.check.w]
command = "true"
[interfaces.foo.bar]
baz = 1
`)
	warnings := func(s string) []string {
		var w []string
		for _, l := range strings.Split(s, "\n") {
			if i := strings.Index(l, "[WARNING] "); i >= 0 {
				w = append(w, l[i+len("[WARNING] "):])
			}
		}
		sort.Strings(w)
		return w
	}
	cmd := testexec.Command(t, "go", "tool", "mackerel-agent", "configtest", "-conf", conf)
	cmd.Dir = testkit.Path("tools")
	var ue bytes.Buffer
	cmd.Stderr = &ue
	if err := cmd.Run(); err == nil {
		t.Fatal("upstream's configtest passed")
	} else if _, ok := err.(*exec.ExitError); !ok {
		t.Fatal(err)
	}
	var ours bytes.Buffer
	if Test(&ours, conf, nil) {
		t.Error("ours passed")
	}
	up, got := warnings(ue.String()), warnings(ours.String())
	if len(up) < 25 || strings.Join(up, "\n") != strings.Join(got, "\n") {
		t.Errorf("upstream (%d):\n%s\nours (%d):\n%s", len(up), strings.Join(up, "\n"), len(got), strings.Join(got, "\n"))
	}
}
