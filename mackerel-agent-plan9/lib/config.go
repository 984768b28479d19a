package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
)

// Config is mackerel-agent.conf as this agent reads it. The keys are
// upstream's, so that what an operator knows of mackerel-agent carries
// over; [filesystems] consoles is this agent's own (Plan 9 file servers
// report their space only on their consoles).
type Config struct {
	Apikey               string     `toml:"apikey"`
	Apibase              string     `toml:"apibase"`
	Root                 string     `toml:"root"`
	Pidfile              string     `toml:"pidfile"`
	DisplayName          string     `toml:"display_name"`
	Roles                []string   `toml:"roles"`
	Verbose              bool       `toml:"verbose"`
	Silent               bool       `toml:"silent"`
	HTTPProxy            string     `toml:"http_proxy"`
	HTTPSProxy           string     `toml:"https_proxy"`
	DisableHTTPKeepAlive bool       `toml:"disable_http_keep_alive"`
	Include              string     `toml:"include"`
	HostStatus           HostStatus `toml:"host_status"`
	Filesystems          struct {
		Ignore        *Regexp  `toml:"ignore"`
		UseMountpoint bool     `toml:"use_mountpoint"`
		Consoles      []string `toml:"consoles"`
	} `toml:"filesystems"`
	Interfaces struct {
		Ignore           *Regexp `toml:"ignore"`
		UseAdapterMetric bool    `toml:"use_adapter"`
	} `toml:"interfaces"`
	Disks struct {
		Ignore *Regexp `toml:"ignore"`
	} `toml:"disks"`
	Diagnostic    bool   `toml:"diagnostic"`
	CloudPlatform string `toml:"cloud_platform"`

	Plugin map[string]map[string]*PluginConfig `toml:"plugin"`

	// Set by LoadConfig.
	File          string
	MetricPlugins map[string]*MetricPlugin `toml:"-"`
	CheckPlugins  map[string]*CheckPlugin  `toml:"-"`
	Consoles      []fsspace.Spec           `toml:"-"`
	// Notices are keys that upstream's agent knows but that mean nothing
	// on Plan 9; they are accepted, and said so.
	Notices []string `toml:"-"`
}

// HostStatus is [host_status]: the status the host is given when the
// agent starts and stops.
type HostStatus struct {
	OnStart string `toml:"on_start"`
	OnStop  string `toml:"on_stop"`
}

// PluginConfig is one [plugin.KIND.NAME] table, as written.
type PluginConfig struct {
	CommandConfig
	NotificationInterval  *minutes      `toml:"notification_interval"`
	CheckInterval         *minutes      `toml:"check_interval"`
	ExecutionInterval     *minutes      `toml:"execution_interval"`
	MaxCheckAttempts      *int32        `toml:"max_check_attempts"`
	CustomIdentifier      *string       `toml:"custom_identifier"`
	PreventAlertAutoClose bool          `toml:"prevent_alert_auto_close"`
	IncludePattern        *Regexp       `toml:"include_pattern"`
	ExcludePattern        *Regexp       `toml:"exclude_pattern"`
	Action                CommandConfig `toml:"action"`
	Memo                  string        `toml:"memo"`
	UsePluginTimestamp    bool          `toml:"use_plugin_timestamp"`
}

// CommandConfig is the command part of a plugin or an action.
type CommandConfig struct {
	Raw            any               `toml:"command"`
	User           string            `toml:"user"`
	Env            map[string]string `toml:"env"`
	TimeoutSeconds int64             `toml:"timeout_seconds"`
}

// Regexp is a regular expression compiled when the file is read, so that a
// bad one is an error naming its key.
type Regexp struct{ *regexp.Regexp }

func (r *Regexp) UnmarshalText(b []byte) error {
	re, err := regexp.Compile(string(b))
	if err != nil {
		return err
	}
	r.Regexp = re
	return nil
}

// minutes is a number of minutes written as an integer or as a Go
// duration that is a whole number of minutes ("5m", "1h"), as upstream
// accepts.
type minutes int32

func (m *minutes) UnmarshalText(b []byte) error {
	s := string(b)
	if n, err := strconv.ParseInt(s, 10, 32); err == nil {
		if n < 0 {
			return fmt.Errorf("%d minutes is negative", n)
		}
		*m = minutes(n)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is neither minutes nor a duration such as 5m", s)
	}
	if d < 0 || d != d.Round(time.Minute) || d.Minutes() > 1<<31-1 {
		return fmt.Errorf("%v is not a whole, non-negative number of minutes", d)
	}
	*m = minutes(d / time.Minute)
	return nil
}

func (m *minutes) ptr() *int32 {
	if m == nil {
		return nil
	}
	v := int32(*m)
	return &v
}

// Command is a command to run: a string, run by the shell (rc on Plan 9,
// sh elsewhere), or an argument vector, run directly.
type Command struct {
	Shell   string
	Args    []string
	Env     []string // KEY=VALUE from the configuration
	Timeout time.Duration
}

func (c Command) String() string {
	if len(c.Args) > 0 {
		return strings.Join(c.Args, " ")
	}
	return c.Shell
}

// MetricPlugin is a [plugin.metrics.NAME].
type MetricPlugin struct {
	Name               string
	Command            Command
	CustomIdentifier   string // "" for this host
	Include, Exclude   *regexp.Regexp
	UsePluginTimestamp bool
}

// CheckPlugin is a [plugin.checks.NAME].
type CheckPlugin struct {
	Name                  string
	Command               Command
	CustomIdentifier      string
	NotificationInterval  *int32 // minutes
	Interval              time.Duration
	MaxCheckAttempts      *int32
	PreventAlertAutoClose bool
	Action                *Command
	Memo                  string
}

// DefaultTimeout is how long a plugin may run, as upstream.
const DefaultTimeout = 30 * time.Second

// DefaultAPIBase is Mackerel's API.
const DefaultAPIBase = "https://api.mackerelio.com"

// A ConfigError is a configuration that cannot be used: the file, where in
// it when known, and what is wrong.
type ConfigError struct {
	File      string
	Line, Col int
	Key       string
	Msg       string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// UnexpectedKey is a key that the configuration does not know, with the
// nearest one it does know, if any is near.
type UnexpectedKey struct {
	File, Key, Suggest string
}

func (u UnexpectedKey) String() string {
	if u.Suggest == "" {
		return fmt.Sprintf("%s is unexpected key.", u.Key)
	}
	return fmt.Sprintf("%s is unexpected key. Did you mean %s ?", u.Key, u.Suggest)
}

// LoadConfig reads the configuration file and the files its include names.
// requireKey says whether a missing apikey is an error (it is not for
// once). Unknown keys do not stop it; they are returned for the caller to
// warn about, as upstream's configtest does.
func LoadConfig(file string, requireKey bool) (*Config, []UnexpectedKey, error) {
	c := &Config{File: file, MetricPlugins: map[string]*MetricPlugin{}, CheckPlugins: map[string]*CheckPlugin{}}
	unexpected, err := c.decode(file)
	if err != nil {
		return nil, nil, err
	}
	if c.Include != "" {
		pattern := c.Include
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(filepath.Dir(file), pattern)
		}
		files, err := filepath.Glob(pattern)
		if err != nil {
			return nil, nil, &ConfigError{File: file, Key: "include", Msg: err.Error()}
		}
		for _, f := range files {
			roles := c.Roles
			c.Roles = nil
			u, err := c.decode(f)
			if err != nil {
				return nil, nil, err
			}
			if c.Roles == nil {
				c.Roles = roles
			}
			unexpected = append(unexpected, u...)
		}
	}
	if err := c.finish(requireKey); err != nil {
		return nil, nil, err
	}
	return c, unexpected, nil
}

// decode reads one file into c and builds its plugins, replacing those of
// the same name that an earlier file defined.
func (c *Config) decode(file string) ([]UnexpectedKey, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, &ConfigError{File: file, Msg: errors.Unwrap(err).Error()}
	}
	c.Plugin = nil
	md, err := toml.Decode(string(b), c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &ConfigError{File: file, Line: pe.Position.Line, Col: pe.Position.Col, Key: pe.LastKey, Msg: pe.Message}
		}
		return nil, &ConfigError{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	unexpected := unexpectedKeys(file, md, c.Plugin)
	c.Notices = append(c.Notices, notices(file, md)...)
	for kind, plugins := range c.Plugin {
		for name, p := range plugins {
			key := "plugin." + kind + "." + name
			var err error
			switch kind {
			case "metrics":
				c.MetricPlugins[name], err = p.metricPlugin(name)
			case "checks":
				c.CheckPlugins[name], err = p.checkPlugin(name)
			case "metadata":
				// Accepted, as notices say; upstream's host metadata
				// plugins are not run by this agent.
			}
			if err != nil {
				return nil, &ConfigError{File: file, Key: key, Msg: err.Error()}
			}
		}
	}
	return unexpected, nil
}

// finish checks what must hold of the whole configuration and fills in
// defaults.
func (c *Config) finish(requireKey bool) error {
	if requireKey && c.Apikey == "" {
		return &ConfigError{File: c.File, Key: "apikey", Msg: "not set: an API key with write permission is needed (Mackerel → Organization → API Keys)"}
	}
	if c.Apibase == "" {
		c.Apibase = DefaultAPIBase
	}
	if c.Root == "" {
		c.Root = DefaultRoot()
	}
	if c.Pidfile == "" {
		c.Pidfile = filepath.Join(c.Root, "pid")
	}
	for _, s := range []struct{ key, v string }{{"host_status.on_start", c.HostStatus.OnStart}, {"host_status.on_stop", c.HostStatus.OnStop}} {
		switch s.v {
		case "", "working", "standby", "maintenance", "poweroff":
		default:
			return &ConfigError{File: c.File, Key: s.key, Msg: fmt.Sprintf("%q is not one of working, standby, maintenance, poweroff", s.v)}
		}
	}
	for _, r := range c.Roles {
		if svc, role, ok := strings.Cut(r, ":"); !ok || svc == "" || role == "" {
			return &ConfigError{File: c.File, Key: "roles", Msg: fmt.Sprintf("%q is not service:role", r)}
		}
	}
	c.Consoles = nil
	for _, s := range c.Filesystems.Consoles {
		sp, err := fsspace.ParseSpec(s)
		if err != nil {
			return &ConfigError{File: c.File, Key: "filesystems.consoles", Msg: strings.TrimPrefix(err.Error(), "--fs ")}
		}
		c.Consoles = append(c.Consoles, sp)
	}
	return nil
}

func (p *PluginConfig) command() (*Command, error) {
	cmd, err := p.CommandConfig.parse()
	if err != nil {
		return nil, err
	}
	if cmd == nil {
		return nil, errors.New("command is missing: give a string (run by " + shellName() + ") or an array of strings")
	}
	return cmd, nil
}

func (cc CommandConfig) parse() (*Command, error) {
	var cmd Command
	switch v := cc.Raw.(type) {
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
	default:
		return nil, fmt.Errorf("command must be a string or an array of strings, not %T", cc.Raw)
	}
	if cc.User != "" {
		return nil, fmt.Errorf("user = %q: running a plugin as another user is not supported (Plan 9 has no sudo); run the agent as the user the plugin needs", cc.User)
	}
	for k, v := range cc.Env {
		if strings.Contains(k, "=") {
			return nil, fmt.Errorf("env: the name %q contains '='", k)
		}
		if k = strings.TrimSpace(k); k != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	sort.Strings(cmd.Env)
	if cc.TimeoutSeconds < 0 {
		return nil, fmt.Errorf("timeout_seconds = %d is negative", cc.TimeoutSeconds)
	}
	cmd.Timeout = time.Duration(cc.TimeoutSeconds) * time.Second
	if cmd.Timeout == 0 {
		cmd.Timeout = DefaultTimeout
	}
	return &cmd, nil
}

// validName is what Mackerel allows in a check monitor's name.
var validCheckName = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)

func (p *PluginConfig) metricPlugin(name string) (*MetricPlugin, error) {
	cmd, err := p.command()
	if err != nil {
		return nil, err
	}
	m := &MetricPlugin{Name: name, Command: *cmd, UsePluginTimestamp: p.UsePluginTimestamp}
	if p.CustomIdentifier != nil {
		m.CustomIdentifier = *p.CustomIdentifier
	}
	if p.IncludePattern != nil {
		m.Include = p.IncludePattern.Regexp
	}
	if p.ExcludePattern != nil {
		m.Exclude = p.ExcludePattern.Regexp
	}
	return m, nil
}

func (p *PluginConfig) checkPlugin(name string) (*CheckPlugin, error) {
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
		MaxCheckAttempts:      p.MaxCheckAttempts,
		PreventAlertAutoClose: p.PreventAlertAutoClose,
		Interval:              time.Minute,
	}
	if p.CustomIdentifier != nil {
		c.CustomIdentifier = *p.CustomIdentifier
	}
	if iv := p.CheckInterval.ptr(); iv != nil {
		// Upstream clamps the interval to 1–60 minutes.
		c.Interval = time.Duration(min(max(*iv, 1), 60)) * time.Minute
	}
	if c.PreventAlertAutoClose && c.MaxCheckAttempts != nil && *c.MaxCheckAttempts > 1 {
		one := int32(1)
		c.MaxCheckAttempts = &one
	}
	if utf8.RuneCountInString(c.Memo) > 250 {
		c.Memo = string([]rune(c.Memo)[:250])
	}
	if p.Action.Raw != nil {
		a, err := p.Action.parse()
		if err != nil {
			return nil, fmt.Errorf("action: %v", err)
		}
		c.Action = a
	}
	return c, nil
}

// CustomIdentifiers lists the custom_identifier hosts that plugins post to.
func (c *Config) CustomIdentifiers() []string {
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, n := range sortedKeys(c.MetricPlugins) {
		add(c.MetricPlugins[n].CustomIdentifier)
	}
	for _, n := range sortedKeys(c.CheckPlugins) {
		add(c.CheckPlugins[n].CustomIdentifier)
	}
	return ids
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ignoredKeys are keys of upstream's configuration that have no meaning
// for this agent; they are accepted with a notice.
var ignoredKeys = map[string]string{
	"diagnostic":                          "the agent's own memory metrics are not posted",
	"cloud_platform":                      "Plan 9 hosts are not cloud instances the agent could ask",
	"disks":                               "Plan 9 kernels keep no per-disk I/O counters",
	"filesystems.use_mountpoint":          "file servers are named by their console",
	"interfaces.use_adapter":              "there are no Windows adapters",
	"plugin.metadata":                     "host metadata plugins are not run",
	"plugin.checks.*.execution_interval":  "it applies to metadata plugins only",
	"plugin.metrics.*.execution_interval": "it applies to metadata plugins only",
}

func notices(file string, md toml.MetaData) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range md.Keys() {
		cands := []string{k.String()}
		if len(k) >= 2 && k[0] == "plugin" {
			cands = append(cands, "plugin."+k[1])
		}
		if len(k) >= 4 && k[0] == "plugin" {
			cands = append(cands, strings.Join(append([]string{k[0], k[1], "*"}, k[3:]...), "."))
		}
		for _, cand := range cands {
			if why, ok := ignoredKeys[cand]; ok && !seen[cand] {
				seen[cand] = true
				out = append(out, fmt.Sprintf("%s: %s is ignored: %s", file, cand, why))
			}
		}
	}
	return out
}

// unexpectedKeys lists the keys of md that Config does not know, with a
// suggestion: the first known key within an edit distance of 2, as
// upstream's configtest suggests.
func unexpectedKeys(file string, md toml.MetaData, plugins map[string]map[string]*PluginConfig) []UnexpectedKey {
	candidates := keyNames(reflect.TypeFor[Config]())
	var out []UnexpectedKey
	var reported []string
	undecoded := md.Undecoded()
	sort.Slice(undecoded, func(i, j int) bool { return undecoded[i].String() < undecoded[j].String() })
	for _, k := range undecoded {
		key := k.String()
		parent := strings.Join(k[:len(k)-1], ".")
		if hasPrefixKey(reported, parent) || hasPrefixKey(reported, k[0]) {
			continue // a key under one already reported
		}
		u := UnexpectedKey{File: file, Key: key}
		if known(candidates, k[0]) {
			if s := suggest(k[len(k)-1], candidates); s != "" {
				u.Suggest = strings.TrimPrefix(parent+"."+s, ".")
			}
		} else {
			u.Key = k[0]
			u.Suggest = suggest(k[0], candidates)
		}
		out = append(out, u)
		reported = append(reported, u.Key)
	}
	for kind, ps := range plugins {
		if kind == "metrics" || kind == "checks" || kind == "metadata" {
			continue
		}
		s := suggest(kind, []string{"metrics", "checks", "metadata"})
		if s == "" {
			s = "metrics"
		}
		for _, name := range sortedKeys(ps) {
			out = append(out, UnexpectedKey{File: file, Key: "plugin." + kind + "." + name, Suggest: "plugin." + s + "." + name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func hasPrefixKey(keys []string, k string) bool {
	for _, r := range keys {
		if r == k || strings.HasPrefix(k, r+".") {
			return true
		}
	}
	return false
}

func known(candidates []string, k string) bool {
	for _, c := range candidates {
		if c == k {
			return true
		}
	}
	return false
}

// keyNames lists every TOML key name of t and of the tables within it.
func keyNames(t reflect.Type) []string {
	for t.Kind() == reflect.Map || t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[Regexp]() {
		return nil
	}
	var names []string
	for _, f := range reflect.VisibleFields(t) {
		tag := f.Tag.Get("toml")
		if tag == "-" || f.Anonymous || !f.IsExported() {
			continue
		}
		if tag == "" {
			continue // set by LoadConfig, never read from the file
		}
		names = append(names, tag)
		names = append(names, keyNames(f.Type)...)
	}
	return names
}

func suggest(given string, candidates []string) string {
	for _, c := range candidates {
		if levenshtein(given, c) < 3 {
			return c
		}
	}
	return ""
}

// levenshtein is the edit distance between a and b, in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// home is $home on Plan 9 (or /usr/$user where, as in cpurc, $home is
// not set) and $HOME elsewhere.
func home() string {
	if runtime.GOOS == "plan9" {
		if h := os.Getenv("home"); h != "" {
			return h
		}
		if u := os.Getenv("user"); u != "" {
			return "/usr/" + u
		}
	}
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "/"
}

// DefaultRoot is where the agent keeps its host id and state: following
// Plan 9 custom, $home/lib/mackerel.
func DefaultRoot() string { return filepath.Join(home(), "lib", "mackerel") }

// DefaultConfigFile is $home/lib/mackerel/agent.conf.
func DefaultConfigFile() string { return filepath.Join(DefaultRoot(), "agent.conf") }

func shellName() string {
	if runtime.GOOS == "plan9" {
		return "rc"
	}
	return "sh"
}
