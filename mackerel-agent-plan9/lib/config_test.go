package agent

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeConf(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "agent.conf")
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// Every key an operator knows from mackerel-agent.conf is read.
func TestConfigKeys(t *testing.T) {
	f := writeConf(t, `
apikey = "k"
apibase = "http://10.0.2.2:8080"
root = "/usr/glenda/lib/mackerel"
display_name = "gnot"
roles = ["plan9:cpu", "plan9:auth"]
verbose = true
http_proxy = "http://proxy:3128"
https_proxy = "http://proxy:3129"

[host_status]
on_start = "working"
on_stop = "poweroff"

[filesystems]
consoles = ["cwfs:/srv/cwfs.cmd", "hjfs:/srv/hjfs.cmd"]
ignore = "^tmp"

[plugin.metrics.plan9]
command = ["mackerel-plugin-plan9", "--fs", "cwfs:/srv/cwfs.cmd"]
env = { A = "1", " B " = "2" }
timeout_seconds = 20
include_pattern = '^plan9\.'
exclude_pattern = '\.percpu\.'
custom_identifier = "other"
use_plugin_timestamp = true

[plugin.metrics.rcstring]
command = "mackerel-plugin-plan9 | grep -v percpu"

[plugin.checks.reboot]
command = ["check-plan9", "reboot-required"]
check_interval = "5m"
notification_interval = 60
max_check_attempts = 3
prevent_alert_auto_close = false
memo = "the kernel"
action = { command = "echo $MACKEREL_STATUS >>/tmp/x", env = { X = "y" }, timeout_seconds = 5 }

[plugin.checks.rare]
command = "check-plan9 uptime"
check_interval = 600
`)
	c, unexpected, err := LoadConfig(f, true)
	if err != nil || len(unexpected) > 0 {
		t.Fatalf("%v %v", err, unexpected)
	}
	if c.Apibase != "http://10.0.2.2:8080" || c.Root != "/usr/glenda/lib/mackerel" || c.Pidfile != "/usr/glenda/lib/mackerel/pid" ||
		!c.Verbose || c.HTTPProxy != "http://proxy:3128" || c.HostStatus.OnStop != "poweroff" || len(c.Roles) != 2 {
		t.Errorf("%+v", c)
	}
	if len(c.Consoles) != 2 || c.Consoles[0].Kind != "cwfs" || c.Consoles[0].Console != "srv/cwfs.cmd" || !c.Filesystems.Ignore.MatchString("tmpfs") {
		t.Errorf("consoles %+v", c.Consoles)
	}
	m := c.MetricPlugins["plan9"]
	if !reflect.DeepEqual(m.Command.Args, []string{"mackerel-plugin-plan9", "--fs", "cwfs:/srv/cwfs.cmd"}) ||
		!reflect.DeepEqual(m.Command.Env, []string{"A=1", "B=2"}) || m.Command.Timeout != 20*time.Second ||
		!m.Include.MatchString("plan9.load") || !m.Exclude.MatchString("plan9.percpu.0.busy") || m.CustomIdentifier != "other" || !m.UsePluginTimestamp {
		t.Errorf("metrics plugin %+v", m)
	}
	if s := c.MetricPlugins["rcstring"].Command; s.Shell != "mackerel-plugin-plan9 | grep -v percpu" || s.Timeout != DefaultTimeout {
		t.Errorf("string command %+v", s)
	}
	ck := c.CheckPlugins["reboot"]
	if ck.Interval != 5*time.Minute || *ck.NotificationInterval != 60 || *ck.MaxCheckAttempts != 3 || ck.Memo != "the kernel" ||
		ck.Action == nil || ck.Action.Shell != "echo $MACKEREL_STATUS >>/tmp/x" || ck.Action.Timeout != 5*time.Second {
		t.Errorf("check %+v", ck)
	}
	if c.CheckPlugins["rare"].Interval != time.Hour {
		t.Errorf("check_interval 600 minutes: %v, want the 60-minute limit", c.CheckPlugins["rare"].Interval)
	}
	if ids := c.CustomIdentifiers(); !reflect.DeepEqual(ids, []string{"other"}) {
		t.Errorf("custom identifiers %v", ids)
	}
}

// Keys it does not know are named with the nearest known one, as
// upstream's configtest names them.
func TestConfigUnexpectedKeys(t *testing.T) {
	f := writeConf(t, `
apikye = "k"
apikey = "k"
verbos = true
[host_status]
on_strat = "working"
[plugin.metrics.x]
comand = "true"
command = "true"
[plugin.metric.y]
command = "true"
[plugin.checks.z]
command = "true"
action = { command = "true", en = { A = "1" } }
[plugins.check.w]
command = "true"
`)
	_, unexpected, err := LoadConfig(f, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range unexpected {
		got = append(got, u.String())
	}
	want := []string{
		"apikye is unexpected key. Did you mean apikey ?",
		"host_status.on_strat is unexpected key. Did you mean host_status.on_start ?",
		"plugin.checks.z.action.en is unexpected key. Did you mean plugin.checks.z.action.env ?",
		"plugin.metric.y is unexpected key. Did you mean plugin.metrics.y ?",
		"plugin.metrics.x.comand is unexpected key. Did you mean plugin.metrics.x.command ?",
		"plugins is unexpected key. Did you mean plugin ?",
		"verbos is unexpected key. Did you mean verbose ?",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Upstream keys that mean nothing on Plan 9 are accepted with a notice.
func TestConfigIgnoredKeys(t *testing.T) {
	f := writeConf(t, `
apikey = "k"
cloud_platform = "none"
diagnostic = true
[disks]
ignore = "sda"
[plugin.metadata.m]
command = "true"
execution_interval = 5
`)
	c, unexpected, err := LoadConfig(f, true)
	if err != nil || len(unexpected) > 0 {
		t.Fatal(err, unexpected)
	}
	got := strings.Join(c.Notices, "\n")
	for _, k := range []string{"cloud_platform is ignored", "diagnostic is ignored", "disks is ignored", "plugin.metadata is ignored"} {
		if !strings.Contains(got, k) {
			t.Errorf("no notice %q in\n%s", k, got)
		}
	}
}

// A file that cannot be used stops the agent with the file, where and
// what.
func TestConfigErrors(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{"apikey = \"k\"\nroles = [\"a:b\"\n", ":2:15: roles: expected a comma (',') or array terminator (']'), but got end of file"},
		{"apikey = \"k\"\n[plugin.metrics.x]\ncommand = \"true\"\ninclude_pattern = \"(\"\n", ":4:20: plugin.metrics.x.include_pattern: error parsing regexp: missing closing ): `(`"},
		{"apikey = \"k\"\n[plugin.metrics.x]\ncommand = 5\n", ": plugin.metrics.x: command must be a string or an array of strings, not int64"},
		{"apikey = \"k\"\n[plugin.metrics.x]\ncommand = []\n", ": plugin.metrics.x: command is an empty array"},
		{"apikey = \"k\"\n[plugin.metrics.x]\nenv = {A = \"1\"}\n", ": plugin.metrics.x: command is missing"},
		{"apikey = \"k\"\n[plugin.checks.x]\ncommand = \"true\"\nuser = \"none\"\n", `: plugin.checks.x: user = "none": running a plugin as another user is not supported`},
		{"apikey = \"k\"\n[plugin.checks.x]\ncommand = \"true\"\ncheck_interval = \"90s\"\n", ":4:19: plugin.checks.x.check_interval: 1m30s is not a whole, non-negative number of minutes"},
		{"apikey = \"k\"\n[plugin.checks.\"a.b\"]\ncommand = \"true\"\n", `: plugin.checks.a.b: a check's name may hold only letters, digits, '-' and '_'`},
		{"apikey = \"k\"\n[host_status]\non_start = \"up\"\n", `: host_status.on_start: "up" is not one of working, standby, maintenance, poweroff`},
		{"apikey = \"k\"\nroles = [\"nocolon\"]\n", `: roles: "nocolon" is not service:role`},
		{"apikey = \"k\"\n[filesystems]\nconsoles = [\"ffs:/srv/x\"]\n", `: filesystems.consoles: "ffs:/srv/x": kind "ffs" is not one of cwfs, hjfs, gefs, fossil`},
		{"display_name = \"x\"\n", ": apikey: not set"},
	} {
		f := writeConf(t, tt.body)
		_, _, err := LoadConfig(f, true)
		if err == nil || !strings.HasPrefix(err.Error(), f) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q:\n%v\nwant %s%s", tt.body, err, f, tt.want)
		}
	}
	if _, _, err := LoadConfig(filepath.Join(t.TempDir(), "none.conf"), true); err == nil || !strings.Contains(err.Error(), "none.conf: no such file or directory") {
		t.Errorf("missing file: %v", err)
	}
	// once needs no key.
	if _, _, err := LoadConfig(writeConf(t, "display_name = \"x\"\n"), false); err != nil {
		t.Errorf("without requiring the key: %v", err)
	}
}

// include merges more files; a plugin of the same name is replaced.
func TestConfigInclude(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "conf.d", "a.conf"), []byte("[plugin.metrics.x]\ncommand = \"replaced\"\n[plugin.checks.c]\ncommand = \"true\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "conf.d", "b.conf"), []byte("roles = [\"s:r\"]\n[plugin.metrics.y]\ncommand = \"y\"\nbogus = 1\n"), 0o644)
	f := filepath.Join(dir, "agent.conf")
	os.WriteFile(f, []byte("apikey = \"k\"\nroles = [\"s:main\"]\ninclude = \"conf.d/*.conf\"\n[plugin.metrics.x]\ncommand = \"original\"\n"), 0o644)
	c, unexpected, err := LoadConfig(f, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricPlugins["x"].Command.Shell != "replaced" || c.MetricPlugins["y"] == nil || c.CheckPlugins["c"] == nil {
		t.Errorf("plugins %v %v", c.MetricPlugins, c.CheckPlugins)
	}
	if !reflect.DeepEqual(c.Roles, []string{"s:r"}) {
		t.Errorf("roles %v", c.Roles)
	}
	if len(unexpected) != 1 || unexpected[0].Key != "plugin.metrics.y.bogus" || !strings.HasSuffix(unexpected[0].File, "b.conf") {
		t.Errorf("unexpected %+v", unexpected)
	}
}

func TestLevenshtein(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"apikey", "apikye", 2}, {"kitten", "sitting", 3}, {"über", "uber", 1}, {"", "abc", 3}} {
		if got := levenshtein(tt.a, tt.b); got != tt.d {
			t.Errorf("%q %q: %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}
