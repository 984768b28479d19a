package config

import (
	"errors"
	"fmt"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/runner"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
)

// Load reads the configuration file and the files its include names,
// checks it and resolves it. requireKey says whether a missing apikey is
// an error (it is not for once). Unknown keys do not stop it; they are
// returned for the caller to warn about, as upstream's configtest does.
func Load(file string, requireKey bool) (*Config, []UnexpectedKey, error) {
	l := loader{s: &schema{}, c: newConfig(file)}
	if err := l.decode(file); err != nil {
		return nil, nil, err
	}
	if l.s.Include != "" {
		pattern := l.s.Include
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(filepath.Dir(file), pattern)
		}
		files, err := filepath.Glob(pattern)
		if err != nil {
			return nil, nil, &Error{File: file, Key: "include", Msg: err.Error()}
		}
		for _, f := range files {
			// An included file's roles replace the earlier ones only
			// when it sets them, as upstream.
			roles := l.s.Roles
			l.s.Roles = nil
			if err := l.decode(f); err != nil {
				return nil, nil, err
			}
			if l.s.Roles == nil {
				l.s.Roles = roles
			}
		}
	}
	if err := l.finish(requireKey); err != nil {
		return nil, nil, err
	}
	return l.c, l.unexpected, nil
}

// Empty is the configuration of no file, as once uses when there is
// none: defaults, no plugins, no hosts.
func Empty(file string) *Config {
	l := loader{s: &schema{}, c: newConfig(file)}
	if err := l.finish(false); err != nil {
		panic("config: the defaults do not load: " + err.Error())
	}
	return l.c
}

// MaxFileSize bounds each file of the configuration: a fleet of a
// thousand hosts takes a few hundred kilobytes.
const MaxFileSize = 4 << 20

// readFile reads file, up to MaxFileSize; its errors leave out the file
// name, which the caller puts first.
func readFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, bare(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, bare(err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d MiB, which no configuration is", MaxFileSize>>20)
	}
	return b, nil
}

// bare is err without the operation and path of an *os.PathError, for a
// message that names the file itself.
func bare(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func newConfig(file string) *Config {
	return &Config{File: file, MetricPlugins: map[string]*MetricPlugin{}, CheckPlugins: map[string]*CheckPlugin{}, Hosts: map[string]*Host{}}
}

// loader decodes the files of one configuration into one schema and
// resolves what each file defines as it is read, so that an error names
// the file it is in.
type loader struct {
	s          *schema
	c          *Config
	unexpected []UnexpectedKey
	// keyFiles are the files that set apikey.
	keyFiles []string
	// hostFile is the file that defined each host, for a name clash.
	hostFile map[string]string
}

// decode reads one file into the schema and resolves its plugins and
// hosts, replacing those of the same name that an earlier file defined.
func (l *loader) decode(file string) error {
	b, err := readFile(file)
	if err != nil {
		return &Error{File: file, Msg: err.Error()}
	}
	l.s.Plugin, l.s.Host = nil, nil
	md, err := toml.Decode(string(b), l.s)
	if err != nil {
		return decodeError(file, string(b), err)
	}
	if md.IsDefined("apikey") {
		l.keyFiles = append(l.keyFiles, file)
	}
	l.unexpected = append(l.unexpected, unexpectedKeys(file, md, l.s.Plugin)...)
	l.c.Notices = append(l.c.Notices, notices(file, md)...)
	for _, kind := range slices.Sorted(maps.Keys(l.s.Plugin)) {
		plugins := l.s.Plugin[kind]
		for _, name := range slices.Sorted(maps.Keys(plugins)) {
			p := plugins[name]
			key := "plugin." + kind + "." + name
			var err error
			switch kind {
			case "metrics":
				l.c.MetricPlugins[name], err = p.metricPlugin(name)
			case "checks":
				var c *CheckPlugin
				c, err = p.checkPlugin(name)
				if c != nil {
					l.c.CheckPlugins[name] = c
					l.c.Notices = append(l.c.Notices, c.adjusted(file, key, p)...)
				}
			}
			if err != nil {
				return &Error{File: file, Key: key, Msg: err.Error()}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(l.s.Host)) {
		h, err := resolveHost(file, name, l.s.Host[name])
		if err != nil {
			return &Error{File: file, Key: "host." + name, Msg: err.Error()}
		}
		if l.hostFile == nil {
			l.hostFile = map[string]string{}
		}
		for other, f := range l.hostFile {
			// The state directories of two names that differ in case
			// only are one directory on macOS's and Windows' disks.
			if other != name && strings.EqualFold(other, name) {
				return &Error{File: file, Key: "host." + name, Msg: fmt.Sprintf("differs from host.%s (%s) only in case; their state directories would clash", other, f)}
			}
		}
		l.hostFile[name] = file
		l.c.Hosts[name] = h
	}
	return nil
}

// finish checks what must hold of the whole configuration and fills in
// the defaults.
func (l *loader) finish(requireKey bool) error {
	s, c := l.s, l.c
	fail := func(key, format string, args ...any) error {
		return &Error{File: c.File, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if requireKey && s.Apikey == "" {
		return fail("apikey", "not set: an API key with write permission is needed (Mackerel → Organization → API Keys)")
	}
	c.Apikey = s.Apikey
	c.Apibase = s.Apibase
	if c.Apibase == "" {
		c.Apibase = DefaultAPIBase
	}
	warning, err := checkAPIBase(c.Apibase)
	if err != nil {
		return fail("apibase", "%v", err)
	}
	if warning != "" {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s: apibase: %s", c.File, warning))
	}
	for _, p := range []struct{ key, v string }{{"http_proxy", s.HTTPProxy}, {"https_proxy", s.HTTPSProxy}} {
		if err := checkProxy(p.v); err != nil {
			return fail(p.key, "%v", err)
		}
	}
	c.HTTPProxy, c.HTTPSProxy = s.HTTPProxy, s.HTTPSProxy
	c.Root = s.Root
	if c.Root == "" {
		c.Root = DefaultRoot()
	}
	c.Pidfile = s.Pidfile
	if c.Pidfile == "" {
		c.Pidfile = filepath.Join(c.Root, "pid")
	}
	c.DisplayName = s.DisplayName
	c.Verbose, c.Silent, c.DisableHTTPKeepAlive = s.Verbose, s.Silent, s.DisableHTTPKeepAlive
	for _, st := range []struct{ key, v string }{{"host_status.on_start", s.HostStatus.OnStart}, {"host_status.on_stop", s.HostStatus.OnStop}} {
		switch st.v {
		case "", "working", "standby", "maintenance", "poweroff":
		default:
			return fail(st.key, "%q is not one of working, standby, maintenance, poweroff", st.v)
		}
	}
	c.HostStatus = s.HostStatus
	if err := checkRoles(s.Roles); err != nil {
		return fail("roles", "%v", err)
	}
	c.Roles = s.Roles
	consoles, err := parseConsoles(s.Filesystems.Consoles)
	if err != nil {
		return fail("filesystems.consoles", "%v", err)
	}
	c.Filesystems = Filesystems{Ignore: s.Filesystems.Ignore.re(), Consoles: consoles}
	c.Interfaces = Interfaces{Ignore: s.Interfaces.Ignore.re()}
	if c.Fleet() {
		for _, k := range []struct {
			key string
			set bool
			why string
		}{
			{"display_name", s.DisplayName != "", "it names the machine the agent runs on, which is not registered in fleet mode; give each [host.NAME] its own"},
			{"roles", len(s.Roles) > 0, "they are the machine's the agent runs on, which is not registered in fleet mode; give each [host.NAME] its own"},
			{"filesystems.consoles", len(consoles) > 0, "they are the machine's the agent runs on; give each [host.NAME] its own consoles"},
		} {
			if k.set {
				c.Notices = append(c.Notices, fmt.Sprintf("%s: %s is ignored: %s", c.File, k.key, k.why))
			}
		}
	}
	for _, f := range l.keyFiles {
		if w := PermissionWarning(f); w != "" {
			c.Warnings = append(c.Warnings, w)
		}
	}
	return nil
}

// checkAPIBase accepts only an absolute http or https URL, which is what
// the API client can use; http is a warning, as the key then crosses the
// network in clear, unless the API is on this machine.
func checkAPIBase(s string) (warning string, err error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %v", s, errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("%q is not an absolute http or https URL such as %s", s, DefaultAPIBase)
	}
	if u.User != nil {
		return "", fmt.Errorf("%q holds a user name or password, which the API does not take (the API key is apikey)", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q has a query or fragment, which the API's paths would be appended after", s)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return "http: the API key crosses the network unencrypted; use https", nil
	}
	return "", nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkProxy accepts what Go's proxy-from-environment accepts: a URL, or
// host:port for an http proxy.
func checkProxy(s string) error {
	if s == "" {
		return nil
	}
	t := s
	if !strings.Contains(t, "://") {
		t = "http://" + t
	}
	u, err := url.Parse(t)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a proxy URL such as http://proxy:3128", s)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
		return nil
	}
	return fmt.Errorf("%q: the proxy's scheme is not http, https or socks5", s)
}

func checkRoles(roles []string) error {
	for _, r := range roles {
		if svc, role, ok := strings.Cut(r, ":"); !ok || svc == "" || role == "" {
			return fmt.Errorf("%q is not service:role", r)
		}
	}
	return nil
}

func parseConsoles(specs []string) ([]fsspace.Spec, error) {
	var out []fsspace.Spec
	for _, s := range specs {
		sp, err := fsspace.ParseSpec(s)
		if err != nil {
			return nil, errors.New(strings.TrimPrefix(err.Error(), "--fs "))
		}
		out = append(out, sp)
	}
	return out, nil
}

func (p *pluginTable) command() (*Command, error) {
	cmd, err := p.commandTable.parse()
	if err != nil {
		return nil, err
	}
	if cmd == nil {
		return nil, errors.New("command is missing: give a string (run by " + runner.ShellName() + ") or an array of strings")
	}
	return cmd, nil
}

func (ct commandTable) parse() (*Command, error) {
	var cmd Command
	switch v := ct.Raw.(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(v) == "" {
			return nil, errors.New("command is empty")
		}
		cmd.Shell = v
	case []any:
		if len(v) == 0 {
			return nil, errors.New("command is an empty array")
		}
		for _, a := range v {
			s, ok := a.(string)
			if !ok {
				return nil, fmt.Errorf("command: %v is not a string", a)
			}
			cmd.Args = append(cmd.Args, s)
		}
		if cmd.Args[0] == "" {
			return nil, errors.New("command: the program's name is empty")
		}
	default:
		return nil, fmt.Errorf("command must be a string or an array of strings, not %T", ct.Raw)
	}
	if ct.User != "" {
		return nil, fmt.Errorf("user = %q: running a plugin as another user is not supported (Plan 9 has no sudo); run the agent as the user the plugin needs", ct.User)
	}
	for k, v := range ct.Env {
		if strings.Contains(k, "=") {
			return nil, fmt.Errorf("env: the name %q contains '='", k)
		}
		if k = strings.TrimSpace(k); k != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	sort.Strings(cmd.Env)
	if ct.TimeoutSeconds < 0 || ct.TimeoutSeconds > int64(MaxTimeout/time.Second) {
		return nil, fmt.Errorf("timeout_seconds = %d is out of range: 1 to %d, or 0 for the default of %d", ct.TimeoutSeconds, MaxTimeout/time.Second, DefaultTimeout/time.Second)
	}
	cmd.Timeout = time.Duration(ct.TimeoutSeconds) * time.Second
	if cmd.Timeout == 0 {
		cmd.Timeout = DefaultTimeout
	}
	return &cmd, nil
}

// validCheckName is what Mackerel allows in a check monitor's name.
var validCheckName = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)

func (p *pluginTable) metricPlugin(name string) (*MetricPlugin, error) {
	cmd, err := p.command()
	if err != nil {
		return nil, err
	}
	m := &MetricPlugin{Name: name, Command: *cmd, UsePluginTimestamp: p.UsePluginTimestamp,
		Include: p.IncludePattern.re(), Exclude: p.ExcludePattern.re()}
	if p.CustomIdentifier != nil {
		m.CustomIdentifier = *p.CustomIdentifier
	}
	return m, nil
}

// maxMemo is how much of memo the API keeps; upstream cuts it there.
const maxMemo = 250

func (p *pluginTable) checkPlugin(name string) (*CheckPlugin, error) {
	if !validCheckName.MatchString(name) {
		return nil, errors.New("a check's name may hold only letters, digits, '-' and '_'")
	}
	cmd, err := p.command()
	if err != nil {
		return nil, err
	}
	c := &CheckPlugin{
		Name: name, Command: *cmd, Memo: p.Memo,
		NotificationInterval:  p.NotificationInterval.ptr(),
		PreventAlertAutoClose: p.PreventAlertAutoClose,
		Interval:              time.Minute,
	}
	if p.CustomIdentifier != nil {
		c.CustomIdentifier = *p.CustomIdentifier
	}
	if n := p.MaxCheckAttempts; n != nil {
		if *n < 0 || *n > MaxCheckAttempts {
			return nil, fmt.Errorf("max_check_attempts = %d is out of range: 1 to %d, as the API takes", *n, MaxCheckAttempts)
		}
		v := int32(*n)
		c.MaxCheckAttempts = &v
	}
	if iv := p.CheckInterval.ptr(); iv != nil {
		// Upstream clamps the interval to 1–60 minutes.
		c.Interval = time.Duration(min(max(*iv, 1), 60)) * time.Minute
	}
	if c.PreventAlertAutoClose && c.MaxCheckAttempts != nil && *c.MaxCheckAttempts > 1 {
		one := int32(1)
		c.MaxCheckAttempts = &one
	}
	if utf8.RuneCountInString(c.Memo) > maxMemo {
		c.Memo = string([]rune(c.Memo)[:maxMemo])
	}
	if p.Action.Raw != nil || p.Action.User != "" || len(p.Action.Env) > 0 || p.Action.TimeoutSeconds != 0 {
		a, err := p.Action.parse()
		if err != nil {
			return nil, fmt.Errorf("action: %v", err)
		}
		if a == nil {
			return nil, errors.New("action: command is missing")
		}
		c.Action = a
	}
	return c, nil
}

// adjusted says what was changed from what the table p, in file, asked
// for, as upstream changes it without a word.
func (c *CheckPlugin) adjusted(file, key string, p *pluginTable) []string {
	var out []string
	if iv := p.CheckInterval.ptr(); iv != nil && time.Duration(*iv)*time.Minute != c.Interval {
		out = append(out, fmt.Sprintf("%s: %s.check_interval = %d: checked every %v, as mackerel-agent clamps it to 1 to 60 minutes", file, key, *iv, c.Interval))
	}
	if p.MaxCheckAttempts != nil && *p.MaxCheckAttempts > 1 && c.PreventAlertAutoClose {
		out = append(out, fmt.Sprintf("%s: %s.max_check_attempts is 1 with prevent_alert_auto_close, as in mackerel-agent", file, key))
	}
	if c.Memo != p.Memo {
		out = append(out, fmt.Sprintf("%s: %s.memo is cut to its first %d characters, as Mackerel keeps", file, key, maxMemo))
	}
	return out
}
