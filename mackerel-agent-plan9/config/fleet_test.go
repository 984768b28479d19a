package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// [host.NAME] tables make a fleet: each host with its address, checks in
// check-plan9's words, its timeout and its own state directory.
func TestFleet(t *testing.T) {
	c := loadTestdata(t, "fleet.conf")
	if !c.Fleet() || !reflect.DeepEqual(c.HostNames(), []string{"auth.example.org", "fs-1", "gnot"}) {
		t.Fatalf("hosts %v", c.HostNames())
	}
	g := c.Hosts["gnot"]
	want := &Host{
		Name: "gnot", Address: "tcp!gnot!17564", DisplayName: "gnot", Roles: []string{"plan9:cpu"}, Timeout: DefaultHostTimeout,
		Checks: []HostCheck{
			{Name: "procs-broken", Args: []string{"procs", "--broken"}},
			{Name: "reboot-required-kernel-n-9fat-9pc64", Args: []string{"reboot-required", "--kernel", "/n/9fat/9pc64"}},
		},
		Consoles: g.Consoles,
	}
	if !reflect.DeepEqual(g, want) || len(g.Consoles) != 1 || g.Consoles[0].Kind != "cwfs" {
		t.Errorf("gnot:\n%+v\nwant\n%+v", g, want)
	}
	fs := c.Hosts["fs-1"]
	if fs.Timeout != 2500*time.Millisecond || !reflect.DeepEqual(fs.Checks[0].Args, []string{"procs", "-p", "fossil", "-C", "1"}) ||
		fs.Checks[0].Name != "procs-p-fossil-C-1" || fs.Checks[1].Name != "uptime" {
		t.Errorf("fs-1 %+v", fs)
	}
	if a := c.Hosts["auth.example.org"]; a.Address != "rcpu!auth.example.org" || a.Timeout != 30*time.Second || a.Checks != nil ||
		a.AuthKey != filepath.Join(filepath.Dir(c.File), "dp9ik.key") || a.AuthServer != "tcp!auth.example.org!ticket" {
		t.Errorf("auth %+v", a)
	}
	if g.AuthKey != "" || g.AuthServer != "" {
		t.Errorf("plain 9P with a key: %+v", g)
	}
	if got := c.HostDir("gnot"); got != "/var/lib/mackerel-agent-plan9/hosts/gnot" {
		t.Errorf("HostDir %s", got)
	}
	if c.MetricPlugins["extra"] == nil {
		t.Errorf("plugins run per host: %v", c.MetricPlugins)
	}
}

// What names the machine the agent runs on means nothing in a fleet, and
// is said so.
func TestFleetNotices(t *testing.T) {
	f := writeConf(t, "apikey = \"k\"\ndisplay_name = \"collector\"\nroles = [\"a:b\"]\n[filesystems]\nconsoles = [\"cwfs:/srv/cwfs.cmd\"]\n[host.gnot]\naddress = \"gnot\"\n")
	c, _, err := Load(f, true)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.Notices, "\n")
	for _, k := range []string{"display_name is ignored", "roles is ignored", "filesystems.consoles is ignored"} {
		if !strings.Contains(got, f+": "+k) {
			t.Errorf("no notice %q in\n%s", k, got)
		}
	}
	// Without hosts they are the machine's own.
	c, _, _ = Load(writeConf(t, "apikey = \"k\"\ndisplay_name = \"gnot\"\n"), true)
	if len(c.Notices) != 0 {
		t.Errorf("%q", c.Notices)
	}
}

// A host table that cannot work is refused at load, naming the host.
func TestFleetErrors(t *testing.T) {
	const k = "apikey = \"k\"\n"
	for _, tt := range []struct{ body, want string }{
		{"[host.gnot]\ndisplay_name = \"g\"\n", ": host.gnot: address is missing: give the host's 9P export, such as tcp!gnot!17564"},
		{"[host.gnot]\naddress = \"udp!gnot!564\"\n", `: host.gnot: address: "udp!gnot!564": network "udp" is not tcp`},
		{"[host.gnot]\naddress = \"tcp!gnot!nine\"\n", `: host.gnot: address: "tcp!gnot!nine": unknown service "nine"`},
		{"[host.gnot]\naddress = \"gnot:99999\"\n", `: host.gnot: address: "gnot:99999": bad port "99999"`},
		{"[host.gnot]\naddress = \"tcp!a!b!c\"\n", `: host.gnot: address: "tcp!a!b!c": not a dial string`},
		{"[host.gnot]\naddress = \"rcpu!\"\n", `: host.gnot: address: "rcpu!" is not rcpu!host or rcpu!host!port`},
		{"[host.gnot]\naddress = \"rcpu!gnot!1!2\"\n", `: host.gnot: address: "rcpu!gnot!1!2": network "gnot" is not tcp`},
		{"[host.gnot]\naddress = \"rcpu!a!b!c!d\"\n", `: host.gnot: address: "rcpu!a!b!c!d": not a dial string such as tcp!host!port`},
		{"[host.gnot]\naddress = \"rcpu!gnot!ssh\"\n", `: host.gnot: address: "rcpu!gnot!ssh": unknown service "ssh"`},
		{"[host.gnot]\naddress = \"rcpu!gnot\"\n", `: host.gnot: auth_key is missing: an rcpu address needs the file of the dp9ik key`},
		{"[host.gnot]\naddress = \"tcp!gnot!564\"\nauth_key = \"/k\"\n", `: host.gnot: auth_key and auth_server are for rcpu! addresses only`},
		{"[host.gnot]\naddress = \"gnot\"\nauth_server = \"auth\"\n", `: host.gnot: auth_key and auth_server are for rcpu! addresses only`},
		{"[host.gnot]\naddress = \"rcpu!gnot\"\nauth_key = \"none.key\"\n", `: host.gnot: auth_key: key file: open ` + filepath.Join("DIR", "none.key") + `: no such file or directory`},
		{"[host.gnot]\naddress = \"rcpu!gnot\"\nauth_key = \"open.key\"\n", `: host.gnot: auth_key: key file ` + filepath.Join("DIR", "open.key") + `: readable by others (mode 0644); make it readable by its owner only: chmod 600 ` + filepath.Join("DIR", "open.key")},
		{"[host.gnot]\naddress = \"rcpu!gnot\"\nauth_key = \".\"\n", `: host.gnot: auth_key: key file DIR: not a regular file`},
		{"[host.gnot]\naddress = \"rcpu!gnot\"\nauth_key = \"ok.key\"\nauth_server = \"udp!auth!567\"\n", `: host.gnot: auth_server: "udp!auth!567": network "udp" is not tcp`},
		{"[host.gnot]\naddress = \"rcpu!gnot\"\nauth_key = \"ok.key\"\nauth_server = \"auth!kerberos\"\n", `: host.gnot: auth_server: "auth!kerberos": unknown service "kerberos"`},
		{"[host.gnot]\naddress = \"gnot\"\nroles = [\"cpu\"]\n", `: host.gnot: roles: "cpu" is not service:role`},
		{"[host.gnot]\naddress = \"gnot\"\ntimeout = 0\n", `: host.gnot: timeout = 0s is out of range: 1s to 1m0s`},
		{"[host.gnot]\naddress = \"gnot\"\ntimeout = \"500ms\"\n", `: host.gnot: timeout = 500ms is out of range: 1s to 1m0s`},
		{"[host.gnot]\naddress = \"gnot\"\ntimeout = 61\n", `: host.gnot: timeout = 1m1s is out of range`},
		{"[host.gnot]\naddress = \"gnot\"\ntimeout = 99999999999999\n", `:4:11: host.gnot.timeout: 99999999999999 seconds is out of range`},
		{"[host.gnot]\naddress = \"gnot\"\ntimeout = 2.5\n", `:4:11: host.gnot.timeout: 2.500000: give whole seconds or a duration such as "1.5s"`},
		{"[host.gnot]\naddress = \"gnot\"\ntimeout = \"soon\"\n", `:4:12: host.gnot.timeout: "soon" is neither seconds nor a duration such as "10s"`},
		{"[host.gnot]\naddress = \"gnot\"\nchecks = [\"procs -p 'x\"]\n", `: host.gnot: checks: "procs -p 'x": a quote is not closed`},
		{"[host.gnot]\naddress = \"gnot\"\nchecks = [\" \"]\n", `: host.gnot: checks: " ": empty: give a check-plan9 subcommand and its options, such as "procs --broken"`},
		{"[host.gnot]\naddress = \"gnot\"\nchecks = [\"check-plan9 procs\"]\n", `: host.gnot: checks: "check-plan9 procs": leave out check-plan9`},
		{"[host.gnot]\naddress = \"gnot\"\nchecks = [\"--broken\"]\n", `: host.gnot: checks: "--broken": begin with check-plan9's subcommand`},
		{"[host.gnot]\naddress = \"gnot\"\nchecks = [\"procs --broken\", \"procs  '--broken'\"]\n", `: host.gnot: checks: "procs --broken" and "procs  '--broken'" are both named procs-broken on Mackerel`},
		{"[host.gnot]\naddress = \"gnot\"\nchecks = [\"ü\"]\n", `: host.gnot: checks: "ü": Unknown command ` + "`ü', did you mean `fs'?"},
		{"[host.gnot]\naddress = \"gnot\"\nchecks = \"procs\"\n", `:4: host.gnot.checks: a value of type string; destination has type slice`},
		{"[host.gnot]\naddress = \"gnot\"\nconsoles = [\"cwfs\"]\n", `: host.gnot: consoles: "cwfs"`},
		{"[host.\"a/b\"]\naddress = \"gnot\"\n", `: host.a/b: the name "a/b" is not a directory name`},
		{"[host..]\naddress = \"gnot\"\n", `:2:7: unexpected table separator (table names cannot be empty)`},
		{"[host.\"..\"]\naddress = \"gnot\"\n", `: host...: the name ".." is not a directory name`},
		{"[host.\"-x\"]\naddress = \"gnot\"\n", `: host.-x: the name "-x" is not a directory name`},
		{"[host." + strings.Repeat("a", 65) + "]\naddress = \"gnot\"\n", `is not a directory name`},
		{"[host.gnot]\naddress = \"gnot\"\n[host.GNOT]\naddress = \"gnot\"\n", `: host.gnot: differs from host.GNOT`},
	} {
		f := writeConf(t, k+tt.body)
		dir := filepath.Dir(f)
		os.WriteFile(filepath.Join(dir, "open.key"), []byte("key proto=dp9ik dom=example.org user=mon !password=x\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "ok.key"), []byte("key proto=dp9ik dom=example.org user=mon !password=x\n"), 0o600)
		os.Chmod(filepath.Join(dir, "open.key"), 0o644)
		want := strings.ReplaceAll(tt.want, "DIR", dir)
		_, _, err := Load(f, true)
		if err == nil || !strings.HasPrefix(err.Error(), f) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q:\n%v\nwant %s%s", tt.body, err, f, want)
		}
	}
}

// Every form of address the 9P client and the rcpu transport take is
// taken.
func TestFleetAddresses(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	os.WriteFile(key, []byte("key proto=dp9ik dom=example.org user=mon !password=x\n"), 0o600)
	for _, a := range []string{"gnot", "gnot!564", "tcp!gnot!17564", "net!gnot!9fs", "gnot!exportfs", "gnot:564", "10.0.2.2:17564", "[::1]:564", "[::1]",
		"rcpu!gnot", "rcpu!gnot!rcpu", "rcpu!gnot!17019", "rcpu!tcp!gnot!17019", "rcpu!gnot:17019", "rcpu![fe80::1]:17019"} {
		body := "apikey = \"k\"\n[host.h]\naddress = \"" + a + "\"\n"
		if strings.HasPrefix(a, "rcpu!") {
			body += "auth_key = \"" + key + "\"\nauth_server = \"tcp!auth!ticket\"\n"
		}
		if _, _, err := Load(writeConf(t, body), true); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
}

// A check line splits as Plan 9's tokenize splits it.
func TestSplitCheck(t *testing.T) {
	for _, tt := range []struct {
		line string
		args []string
	}{
		{"procs --broken", []string{"procs", "--broken"}},
		{"  procs\t--broken \n", []string{"procs", "--broken"}},
		{"procs -p 'a b'", []string{"procs", "-p", "a b"}},
		{"procs -p a' 'b", []string{"procs", "-p", "a b"}},
		{"procs -p 'it''s'", []string{"procs", "-p", "it's"}},
		{"procs -p ''", []string{"procs", "-p", ""}},
		{"procs -p \"x\"", []string{"procs", "-p", "\"x\""}},
		{"fs --fs cwfs:/srv/cwfs.cmd -w 80%", []string{"fs", "--fs", "cwfs:/srv/cwfs.cmd", "-w", "80%"}},
	} {
		got, err := splitCheck(tt.line)
		if err != nil || !reflect.DeepEqual(got, tt.args) {
			t.Errorf("%q: %q %v, want %q", tt.line, got, err, tt.args)
		}
	}
}

// Whatever a line holds, splitting it never fails but with a message,
// and the words, quoted again, split into the same words.
func FuzzSplitCheck(f *testing.F) {
	for _, s := range []string{"procs --broken", "procs -p 'it''s' a'b c'd", "'", "reboot-required --kernel /n/9fat/9pc64", "\t\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args, err := splitCheck(line)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty message")
			}
			return
		}
		if len(args) == 0 || checkName(args) != "" && !validCheckName.MatchString(checkName(args)) {
			t.Fatalf("%q: %q named %q", line, args, checkName(args))
		}
		var q []string
		for _, a := range args {
			q = append(q, "'"+strings.ReplaceAll(a, "'", "''")+"'")
		}
		again, err := splitCheck(strings.Join(q, " "))
		if err != nil || !reflect.DeepEqual(again, args) {
			t.Fatalf("%q: %q, quoted again %q (%v)", line, args, again, err)
		}
	})
}
