package config

import (
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/runner"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeConf writes body as a configuration only its owner can read, as
// the README says to keep it.
func writeConf(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "agent.conf")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// loadTestdata loads testdata/name from a copy only its owner can read
// (a checkout's files are as the umask made them), with the dp9ik key
// file its hosts name beside it.
func loadTestdata(t *testing.T, name string) *Config {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f := writeConf(t, string(b))
	if err := os.WriteFile(filepath.Join(filepath.Dir(f), "dp9ik.key"), []byte("key proto=dp9ik dom=example.org user=mon !password=x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, unexpected, err := Load(f, true)
	if err != nil || len(unexpected) > 0 {
		t.Fatalf("%s: %v %v", name, err, unexpected)
	}
	return c
}

// Every key an operator knows from mackerel-agent.conf is read.
func TestKeys(t *testing.T) {
	c := loadTestdata(t, "agent.conf")
	if c.Apibase != "https://api.mackerelio.com" || c.Root != "/usr/glenda/lib/mackerel" || c.Pidfile != "/usr/glenda/lib/mackerel/pid" ||
		!c.Verbose || c.HTTPProxy != "http://proxy:3128" || c.HTTPSProxy != "http://proxy:3129" || !c.DisableHTTPKeepAlive ||
		c.HostStatus.OnStop != "poweroff" || len(c.Roles) != 2 || c.DisplayName != "gnot" {
		t.Errorf("%+v", c)
	}
	if c.Fleet() || len(c.Hosts) != 0 || c.IDFile() != "/usr/glenda/lib/mackerel/id" {
		t.Errorf("not a fleet: %v %v %s", c.Fleet(), c.Hosts, c.IDFile())
	}
	fs := c.Filesystems
	if len(fs.Consoles) != 2 || fs.Consoles[0].Kind != "cwfs" || fs.Consoles[0].Console != "srv/cwfs.cmd" || !fs.Ignore.MatchString("tmpfs") {
		t.Errorf("filesystems %+v", fs)
	}
	if !c.Interfaces.Ignore.MatchString("ether1") || c.Interfaces.Ignore.MatchString("ether10") {
		t.Errorf("interfaces %v", c.Interfaces.Ignore)
	}
	m := c.MetricPlugins["plan9"]
	if !reflect.DeepEqual(m.Command.Args, []string{"mackerel-plugin-plan9", "--fs", "cwfs:/srv/cwfs.cmd"}) ||
		!reflect.DeepEqual(m.Command.Env, []string{"A=1", "B=2"}) || m.Command.Timeout != 20*time.Second ||
		!m.Include.MatchString("plan9.load") || !m.Exclude.MatchString("plan9.percpu.0.busy") || m.CustomIdentifier != "other" || !m.UsePluginTimestamp {
		t.Errorf("metrics plugin %+v", m)
	}
	if s := c.MetricPlugins["rcstring"].Command; s.Shell != "mackerel-plugin-plan9 | grep -v percpu" || s.Timeout != DefaultTimeout || s.String() != s.Shell {
		t.Errorf("string command %+v", s)
	}
	ck := c.CheckPlugins["reboot"]
	if ck.Interval != 5*time.Minute || *ck.NotificationInterval != 60 || *ck.MaxCheckAttempts != 3 || ck.Memo != "the kernel" ||
		ck.Action == nil || ck.Action.Shell != "echo $MACKEREL_STATUS >>/tmp/x" || ck.Action.Timeout != 5*time.Second ||
		!reflect.DeepEqual(ck.Action.Env, []string{"X=y"}) {
		t.Errorf("check %+v", ck)
	}
	if c.CheckPlugins["rare"].Interval != time.Hour {
		t.Errorf("check_interval 600 minutes: %v, want the 60-minute limit", c.CheckPlugins["rare"].Interval)
	}
	if !strings.Contains(strings.Join(c.Notices, "\n"), "plugin.checks.rare.check_interval = 600: checked every 1h0m0s") {
		t.Errorf("no notice of the clamped interval: %q", c.Notices)
	}
	if ids := c.CustomIdentifiers(); !reflect.DeepEqual(ids, []string{"other"}) {
		t.Errorf("custom identifiers %v", ids)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %q", c.Warnings)
	}
}

// Keys it does not know are named with the nearest known one, as
// upstream's configtest names them.
func TestUnexpectedKeys(t *testing.T) {
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
[host.gnot]
adress = "tcp!gnot!564"
address = "tcp!gnot!564"
`)
	_, unexpected, err := Load(f, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range unexpected {
		got = append(got, u.String())
		if u.File != f {
			t.Errorf("%+v: not %s", u, f)
		}
	}
	want := []string{
		"apikye is unexpected key. Did you mean apikey ?",
		"host.gnot.adress is unexpected key. Did you mean host.gnot.address ?",
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
func TestIgnoredKeys(t *testing.T) {
	f := writeConf(t, `
apikey = "k"
cloud_platform = "none"
diagnostic = true
conffile = "/etc/mackerel-agent/mackerel-agent.conf"
[disks]
ignore = "sda"
[plugin.metadata.m]
command = "true"
execution_interval = 5
`)
	c, unexpected, err := Load(f, true)
	if err != nil || len(unexpected) > 0 {
		t.Fatal(err, unexpected)
	}
	got := strings.Join(c.Notices, "\n")
	for _, k := range []string{"cloud_platform is ignored", "diagnostic is ignored", "conffile is ignored", "disks is ignored", "plugin.metadata is ignored"} {
		if !strings.Contains(got, f+": "+k) {
			t.Errorf("no notice %q in\n%s", k, got)
		}
	}
}

// A file that cannot be used stops the agent with the file, where, the
// key and what; every value that would fail at run time is refused here.
func TestErrors(t *testing.T) {
	const k = "apikey = \"k\"\n"
	for _, tt := range []struct{ body, want string }{
		{k + "roles = [\"a:b\"\n", ":2:15: roles: expected a comma (',') or array terminator (']'), but got end of file"},
		{k + "[plugin.metrics.x]\ncommand = \"true\"\ninclude_pattern = \"(\"\n", ":4:20: plugin.metrics.x.include_pattern: error parsing regexp: missing closing ): `(`"},
		{k + "[plugin.metrics.x]\ncommand = 5\n", ": plugin.metrics.x: command must be a string or an array of strings, not int64"},
		{k + "[plugin.metrics.x]\ncommand = []\n", ": plugin.metrics.x: command is an empty array"},
		{k + "[plugin.metrics.x]\ncommand = [\"\", \"a\"]\n", ": plugin.metrics.x: command: the program's name is empty"},
		{k + "[plugin.metrics.x]\nenv = {A = \"1\"}\n", ": plugin.metrics.x: command is missing: give a string (run by " + runner.ShellName() + ")"},
		{k + "[plugin.checks.x]\ncommand = \"true\"\nuser = \"none\"\n", `: plugin.checks.x: user = "none": running a plugin as another user is not supported`},
		{k + "[plugin.checks.x]\ncommand = \"true\"\ncheck_interval = \"90s\"\n", ":4:19: plugin.checks.x.check_interval: 1m30s is not a whole number of minutes"},
		{k + "[plugin.checks.x]\ncommand = \"true\"\nnotification_interval = 99999999999999\n", ":4:25: plugin.checks.x.notification_interval: 99999999999999 minutes is out of range (0 to 2147483647)"},
		{k + "[plugin.checks.x]\ncommand = \"true\"\nnotification_interval = -1\n", ":4:25: plugin.checks.x.notification_interval: -1 minutes is out of range"},
		{k + "[plugin.checks.x]\ncommand = \"true\"\nnotification_interval = \"-5m\"\n", "-5m0s is out of range"},
		{k + "[plugin.checks.x]\ncommand = \"true\"\nmax_check_attempts = 11\n", ": plugin.checks.x: max_check_attempts = 11 is out of range: 1 to 10"},
		{k + "[plugin.checks.x]\ncommand = \"true\"\nmax_check_attempts = 99999999999999\n", "max_check_attempts = 99999999999999 is out of range"},
		{k + "[plugin.checks.x]\ncommand = \"true\"\nmax_check_attempts = \"3\"\n", ":4: plugin.checks.x.max_check_attempts: a value of type string; destination has type integer"},
		{k + "[plugin.metrics.x]\ncommand = \"true\"\ntimeout_seconds = 99999999999999\n", ": plugin.metrics.x: timeout_seconds = 99999999999999 is out of range: 1 to 3600, or 0 for the default of 30"},
		{k + "[plugin.metrics.x]\ncommand = \"true\"\ntimeout_seconds = -1\n", "timeout_seconds = -1 is out of range"},
		{k + "[plugin.checks.x]\ncommand = \"true\"\naction = { command = \"true\", timeout_seconds = 3601 }\n", ": plugin.checks.x: action: timeout_seconds = 3601 is out of range"},
		{k + "[plugin.checks.x]\ncommand = \"true\"\naction = { env = { A = \"1\" } }\n", ": plugin.checks.x: action: command is missing"},
		{k + "[plugin.checks.\"a.b\"]\ncommand = \"true\"\n", `: plugin.checks.a.b: a check's name may hold only letters, digits, '-' and '_'`},
		{k + "[host_status]\non_start = \"up\"\n", `: host_status.on_start: "up" is not one of working, standby, maintenance, poweroff`},
		{k + "roles = [\"nocolon\"]\n", `: roles: "nocolon" is not service:role`},
		{k + "[filesystems]\nconsoles = [\"ffs:/srv/x\"]\n", `: filesystems.consoles: "ffs:/srv/x": kind "ffs" is not one of cwfs, hjfs, gefs, fossil`},
		{k + "apibase = \"not a url\"\n", `: apibase: "not a url" is not an absolute http or https URL such as https://api.mackerelio.com`},
		{k + "apibase = \"api.mackerelio.com\"\n", `: apibase: "api.mackerelio.com" is not an absolute http or https URL`},
		{k + "apibase = \"ftp://api.mackerelio.com\"\n", `: apibase: "ftp://api.mackerelio.com" is not an absolute http or https URL`},
		{k + "apibase = \"https://\"\n", `: apibase: "https://" is not an absolute http or https URL`},
		{k + "apibase = \"https://a b\"\n", `: apibase: "https://a b" is not a URL: invalid character " " in host name`},
		{k + "apibase = \"https://u:secret@api.mackerelio.com\"\n", `: apibase: "https://u:xxxxx@api.mackerelio.com" holds a user name or password`},
		{k + "apibase = \"https://api.mackerelio.com/?x=1\"\n", `: apibase: "https://api.mackerelio.com/?x=1" has a query or fragment`},
		{k + "http_proxy = \"http://\"\n", `: http_proxy: "http://" is not a proxy URL such as http://proxy:3128`},
		{k + "https_proxy = \"ftp://proxy:21\"\n", `: https_proxy: "ftp://proxy:21": the proxy's scheme is not http, https or socks5`},
		{"display_name = \"x\"\n", ": apikey: not set"},
	} {
		f := writeConf(t, tt.body)
		_, _, err := Load(f, true)
		if err == nil || !strings.HasPrefix(err.Error(), f) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q:\n%v\nwant %s%s", tt.body, err, f, tt.want)
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("%q: %T, not *Error", tt.body, err)
		}
	}
	if _, _, err := Load(filepath.Join(t.TempDir(), "none.conf"), true); err == nil || !strings.HasSuffix(err.Error(), "none.conf: no such file or directory") {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := Load(t.TempDir(), true); err == nil || !strings.HasSuffix(err.Error(), ": is a directory") {
		t.Errorf("a directory: %v", err)
	}
	big := writeConf(t, "apikey = \"k\"\n#"+strings.Repeat("x", MaxFileSize)+"\n")
	if _, _, err := Load(big, true); err == nil || err.Error() != big+": larger than 4 MiB, which no configuration is" {
		t.Errorf("a huge file: %v", err)
	}
	// once needs no key.
	if _, _, err := Load(writeConf(t, "display_name = \"x\"\n"), false); err != nil {
		t.Errorf("without requiring the key: %v", err)
	}
}

// Values at the ends of their ranges are taken.
func TestBounds(t *testing.T) {
	c, _, err := Load(writeConf(t, `apikey = "k"
apibase = "http://127.0.0.1:8080/mackerel"
http_proxy = "proxy:3128"
https_proxy = "socks5://proxy:1080"
[plugin.metrics.long]
command = "true"
timeout_seconds = 3600
[plugin.checks.x]
command = "true"
max_check_attempts = 10
notification_interval = 2147483647
check_interval = 0
[plugin.checks.y]
command = "true"
max_check_attempts = 5
prevent_alert_auto_close = true
memo = "`+strings.Repeat("é", 300)+`"
`), true)
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricPlugins["long"].Command.Timeout != time.Hour || *c.CheckPlugins["x"].MaxCheckAttempts != 10 ||
		*c.CheckPlugins["x"].NotificationInterval != 2147483647 || c.CheckPlugins["x"].Interval != time.Minute {
		t.Errorf("%+v %+v", c.MetricPlugins["long"], c.CheckPlugins["x"])
	}
	y := c.CheckPlugins["y"]
	if *y.MaxCheckAttempts != 1 || y.Memo != strings.Repeat("é", 250) {
		t.Errorf("%d %d", *y.MaxCheckAttempts, len([]rune(y.Memo)))
	}
	notices := strings.Join(c.Notices, "\n")
	for _, n := range []string{"plugin.checks.x.check_interval = 0: checked every 1m0s", "plugin.checks.y.max_check_attempts is 1 with prevent_alert_auto_close",
		"plugin.checks.y.memo is cut to its first 250 characters"} {
		if !strings.Contains(notices, n) {
			t.Errorf("no notice %q in\n%s", n, notices)
		}
	}
	if len(c.Warnings) != 0 {
		t.Errorf("an API on loopback over http: %q", c.Warnings)
	}
}

// An API reached over http elsewhere than loopback works, with a warning.
func TestHTTPWarning(t *testing.T) {
	for _, base := range []string{"http://10.0.2.2:8080", "http://api.example.org"} {
		f := writeConf(t, "apikey = \"k\"\napibase = \""+base+"\"\n")
		c, _, err := Load(f, true)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{f + ": apibase: http: the API key crosses the network unencrypted; use https"}; !reflect.DeepEqual(c.Warnings, want) {
			t.Errorf("%s: %q", base, c.Warnings)
		}
	}
	for _, base := range []string{"http://localhost:1", "http://[::1]:1", "http://127.0.0.2"} {
		if c, _, err := Load(writeConf(t, "apikey = \"k\"\napibase = \""+base+"\"\n"), true); err != nil || len(c.Warnings) > 0 {
			t.Errorf("%s: %v %q", base, err, c.Warnings)
		}
	}
}

// include merges more files; a plugin or host of the same name is
// replaced; an error or an unknown key names the file it is in.
func TestInclude(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("conf.d/a.conf", "[plugin.metrics.x]\ncommand = \"replaced\"\n[plugin.checks.c]\ncommand = \"true\"\n[host.gnot]\naddress = \"tcp!gnot2!564\"\n")
	write("conf.d/b.conf", "roles = [\"s:r\"]\n[plugin.metrics.y]\ncommand = \"y\"\nbogus = 1\n[host.cirno]\naddress = \"cirno:564\"\n")
	f := filepath.Join(dir, "agent.conf")
	write("agent.conf", "apikey = \"k\"\nroles = [\"s:main\"]\ninclude = \"conf.d/*.conf\"\n[plugin.metrics.x]\ncommand = \"original\"\n[host.gnot]\naddress = \"tcp!gnot!564\"\n")
	c, unexpected, err := Load(f, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricPlugins["x"].Command.Shell != "replaced" || c.MetricPlugins["y"] == nil || c.CheckPlugins["c"] == nil {
		t.Errorf("plugins %v %v", c.MetricPlugins, c.CheckPlugins)
	}
	if !reflect.DeepEqual(c.HostNames(), []string{"cirno", "gnot"}) || c.Hosts["gnot"].Address != "tcp!gnot2!564" {
		t.Errorf("hosts %v", c.Hosts)
	}
	if !reflect.DeepEqual(c.Roles, []string{"s:r"}) {
		t.Errorf("roles %v", c.Roles)
	}
	if len(unexpected) != 1 || unexpected[0].Key != "plugin.metrics.y.bogus" || unexpected[0].File != filepath.Join(dir, "conf.d/b.conf") {
		t.Errorf("unexpected %+v", unexpected)
	}
	write("conf.d/b.conf", "[host.Gnot]\naddress = \"tcp!gnot!564\"\n")
	if _, _, err := Load(f, true); err == nil || !strings.Contains(err.Error(), "b.conf: host.Gnot: differs from host.gnot") {
		t.Errorf("names differing in case: %v", err)
	}
	write("conf.d/b.conf", "[plugin.checks.c]\ncommand = 1\n")
	if _, _, err := Load(f, true); err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "conf.d/b.conf")+": plugin.checks.c:") {
		t.Errorf("an error in an included file: %v", err)
	}
	write("agent.conf", "apikey = \"k\"\ninclude = \"[\"\n")
	if _, _, err := Load(f, true); err == nil || !strings.Contains(err.Error(), "agent.conf: include: syntax error in pattern") {
		t.Errorf("a bad pattern: %v", err)
	}
}

// The configuration of no file has the defaults.
func TestEmpty(t *testing.T) {
	c := Empty("/x/agent.conf")
	if c.File != "/x/agent.conf" || c.Apibase != DefaultAPIBase || c.Root != DefaultRoot() || c.Pidfile != filepath.Join(DefaultRoot(), "pid") ||
		c.MetricPlugins == nil || c.CheckPlugins == nil || c.Hosts == nil || c.Fleet() {
		t.Errorf("%+v", c)
	}
	if DefaultConfigFile() != filepath.Join(DefaultRoot(), "agent.conf") || !filepath.IsAbs(DefaultRoot()) {
		t.Errorf("%s %s", DefaultConfigFile(), DefaultRoot())
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

// Every configuration the README shows loads, with no unknown key.
func TestREADMEConfigurations(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(b), "```toml\n")[1:]
	if len(blocks) < 3 {
		t.Fatalf("%d toml blocks", len(blocks))
	}
	for _, blk := range blocks {
		body, _, _ := strings.Cut(blk, "```")
		f := writeConf(t, body)
		// The key file its rcpu host names.
		if err := os.WriteFile(filepath.Join(filepath.Dir(f), "mon.key"), []byte("key proto=dp9ik dom=example.org user=mon !password=x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, unexpected, err := Load(f, false)
		if err != nil || len(unexpected) > 0 {
			t.Errorf("%v %v in\n%s", err, unexpected, body)
		}
	}
}
