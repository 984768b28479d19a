// Package config reads mackerel-agent-plan9's configuration: upstream
// mackerel-agent's agent.conf, with this agent's own keys ([filesystems]
// consoles, [host.NAME]). Load decodes the file into its schema, checks
// everything that would fail at run time, and resolves it into a Config,
// the only form the agent uses; unknown keys are reported with the nearest
// known one, as upstream's configtest reports them.
package config

import (
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/runner"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
)

// Config is the configuration as the agent uses it: defaults filled in,
// every value checked.
type Config struct {
	File string // the file given to Load

	Apikey               string
	Apibase              string // an absolute http or https URL
	Root                 string // the state directory
	Pidfile              string
	DisplayName          string
	Roles                []string // service:role
	Verbose, Silent      bool
	HTTPProxy            string
	HTTPSProxy           string
	DisableHTTPKeepAlive bool
	HostStatus           HostStatus
	Filesystems          Filesystems
	Interfaces           Interfaces

	MetricPlugins map[string]*MetricPlugin
	CheckPlugins  map[string]*CheckPlugin
	// Hosts are the [host.NAME] tables: with any, the agent watches them
	// and does not register the machine it runs on (see Fleet).
	Hosts map[string]*Host

	// Notices say what was accepted but means nothing here, or was
	// adjusted as upstream adjusts it; Warnings say what will work but
	// should not be so (a key others can read, an API in clear text).
	// Neither stops the agent; both are worth a line at configtest and at
	// start.
	Notices  []string
	Warnings []string
}

// HostStatus is [host_status]: the status the host is given when the
// agent starts and stops ("" leaves it as it is).
type HostStatus struct {
	OnStart string `toml:"on_start"`
	OnStop  string `toml:"on_stop"`
}

// Filesystems is [filesystems].
type Filesystems struct {
	Ignore   *regexp.Regexp // file-server names to leave out
	Consoles []fsspace.Spec // the native agent's file servers
}

// Interfaces is [interfaces].
type Interfaces struct {
	Ignore *regexp.Regexp
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

// Host is a [host.NAME]: a Plan 9 host watched over 9P and posted as a
// Mackerel host of its own.
type Host struct {
	// Name is the table's name, which names the host's state directory
	// (HostDir); the host is registered under its own /dev/sysname.
	Name        string
	Address     string // a dial string, as --9p takes; see checkAddress
	DisplayName string
	Roles       []string
	Checks      []HostCheck
	Timeout     time.Duration // for each dial and each reading
	Consoles    []fsspace.Spec
	// AuthKey is the file of the dp9ik key for an rcpu! address (an
	// absolute path: a relative one is taken from the configuration
	// file's directory); AuthServer is the auth server's address, ""
	// for p9auth.DOMAIN. Both are "" for plain 9P.
	AuthKey, AuthServer string
}

// HostCheck is one line of a host's checks, run in-process.
type HostCheck struct {
	// Name is the check monitor's name on Mackerel: the line's words
	// joined by '-', with what Mackerel refuses in a name left out
	// ("procs --broken" is procs-broken).
	Name string
	// Args are check-plan9's arguments: the subcommand, then its options.
	Args []string
}

// Command is a command to run, as package runner runs it.
type Command = runner.Command

// Defaults and bounds.
const (
	DefaultAPIBase = "https://api.mackerelio.com"
	// DefaultTimeout is how long a plugin or an action may run, as
	// upstream.
	DefaultTimeout = 30 * time.Second
	// MaxTimeout bounds timeout_seconds: an hour, the longest
	// check_interval.
	MaxTimeout = time.Hour
	// DefaultHostTimeout is how long a fleet host has to answer.
	DefaultHostTimeout = 10 * time.Second
	// MinHostTimeout and MaxHostTimeout bound a host's timeout: under a
	// second a 9P round trip across a continent fails for nothing; over a
	// minute one reading would overlap the next minute's.
	MinHostTimeout = time.Second
	MaxHostTimeout = time.Minute
	// MaxCheckAttempts is the API's limit on max_check_attempts.
	MaxCheckAttempts = 10
)

// DefaultRoot is where the agent keeps its host ids and state: following
// Plan 9 custom, $home/lib/mackerel ($HOME elsewhere, so that one README
// serves both).
func DefaultRoot() string { return filepath.Join(home(), "lib", "mackerel") }

// DefaultConfigFile is $home/lib/mackerel/agent.conf.
func DefaultConfigFile() string { return filepath.Join(DefaultRoot(), "agent.conf") }

// Fleet reports whether the agent watches [host.NAME] hosts rather than
// the machine it runs on.
func (c *Config) Fleet() bool { return len(c.Hosts) > 0 }

// IDFile is where the host id of the machine the agent runs on is kept,
// as upstream: <root>/id.
func (c *Config) IDFile() string { return filepath.Join(c.Root, "id") }

// HostDir is the state directory of the fleet host name:
// <root>/hosts/NAME, holding its id file (HostDir(name)/id).
func (c *Config) HostDir(name string) string { return filepath.Join(c.Root, "hosts", name) }

// HostNames lists the fleet's hosts in order.
func (c *Config) HostNames() []string { return slices.Sorted(maps.Keys(c.Hosts)) }

// CustomIdentifiers lists the custom_identifier hosts that plugins post
// to, in the order of the plugins' names.
func (c *Config) CustomIdentifiers() []string {
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(c.MetricPlugins)) {
		add(c.MetricPlugins[n].CustomIdentifier)
	}
	for _, n := range slices.Sorted(maps.Keys(c.CheckPlugins)) {
		add(c.CheckPlugins[n].CustomIdentifier)
	}
	return ids
}
