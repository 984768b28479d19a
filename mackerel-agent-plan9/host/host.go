// Package host is one watched Plan 9 host as the agent collects it: its
// system metrics and specs (through package sysmetrics), the values and
// graph definitions of its metric plugins, and its checks' results under
// upstream's rules. It produces batches of values and check reports for
// package queue and the host's entry for the API; it never calls the API
// itself, and holds no schedule: the agent's loop says when.
package host

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/config"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/lib/sysmetrics"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/queue"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/runner"
)

// MaxPluginValues bounds what one run of a plugin adds to the queue.
const MaxPluginValues = 10_000

// System is what the agent reads of a host's kernel: sysmetrics.Collector,
// with the host's specs.
type System interface {
	// Sample takes the five-second sample of the load and CPU figures.
	Sample(ctx context.Context, now time.Time)
	// Collect returns the system metrics of the interval since the last
	// Collect, under Mackerel's own names.
	Collect(ctx context.Context, now time.Time) map[string]float64
	// Specs describes the host for its entry on Mackerel.
	Specs(ctx context.Context) (sysmetrics.HostSpecs, error)
}

// Runner runs plugins and checks: *runner.Runner, or a stand-in in tests.
type Runner interface {
	Run(ctx context.Context, cmd runner.Command, extraEnv ...string) runner.Result
}

// Options describe a watched host.
type Options struct {
	// Name is the host's name in the configuration ([host.NAME]); "" for
	// the host the agent runs on.
	Name        string
	DisplayName string
	Roles       []string
	System      System
	Plugins     map[string]*config.MetricPlugin
	Checks      map[string]*config.CheckPlugin
	// InProcess are sources of custom values computed in the agent's own
	// process (the fleet's plan9 values), by name.
	InProcess map[string]InProcess
	// InProcessChecks are checks computed in the agent's own process, by
	// name: their Plugin says the rules (interval, notification), their
	// Exec the result.
	InProcessChecks []*Check
	// IgnoreInterfaces and IgnoreFilesystems apply [interfaces] and
	// [filesystems] ignore.
	IgnoreInterfaces, IgnoreFilesystems *regexp.Regexp
	Runner                              Runner
	Log                                 *logger.Logger
	// Workdir is MACKEREL_PLUGIN_WORKDIR for the plugins, unless the
	// environment names one; "" leaves it to them.
	Workdir string
	// Env is added to every plugin's and check's environment.
	Env []string
	// Agent is what the host's meta says of the agent.
	AgentName, Version, Revision string
}

// Host is one watched host. Its methods may be called from several
// goroutines, but the agent runs at most one of Sample, Collect and Param
// at a time (they share the System's samples).
type Host struct {
	o       Options
	log     *logger.Logger
	checks  []*Check
	plugins []*Plugin

	mu    sync.Mutex
	names map[string]string // interned metric names
}

// New returns the host o describes.
func New(o Options) *Host {
	h := &Host{o: o, log: o.Log, names: map[string]string{}}
	for _, n := range slices.Sorted(maps.Keys(o.Checks)) {
		h.checks = append(h.checks, &Check{Plugin: o.Checks[n]})
	}
	h.checks = append(h.checks, o.InProcessChecks...)
	for _, n := range slices.Sorted(maps.Keys(o.Plugins)) {
		p := o.Plugins[n]
		h.plugins = append(h.plugins, &Plugin{Name: n, Target: p.CustomIdentifier, cmd: p})
	}
	for _, n := range slices.Sorted(maps.Keys(o.InProcess)) {
		h.plugins = append(h.plugins, &Plugin{Name: n, in: o.InProcess[n]})
	}
	return h
}

// InProcess is a source of custom values computed in the agent's own
// process rather than by a command.
type InProcess interface {
	// Values returns the values, named as they are posted without
	// "custom.", by ctx's deadline.
	Values(ctx context.Context, now time.Time) (map[string]float64, error)
	// GraphDefs are the values' graph definitions, named with "custom.".
	GraphDefs() []*mackerel.GraphDefsParam
}

// Plugin is one source of a host's custom values: a metric plugin the
// agent runs, or one computed in-process.
type Plugin struct {
	Name   string
	Target string // "" for the host, else a custom_identifier
	cmd    *config.MetricPlugin
	in     InProcess
}

// Name is the host's name in the configuration, "" for the agent's own.
func (h *Host) Name() string { return h.o.Name }

// Checks are the host's checks, in name order.
func (h *Host) Checks() []*Check { return h.checks }

// Plugins are the host's sources of custom values, commands first, each
// in name order.
func (h *Host) Plugins() []*Plugin { return h.plugins }

// Log is the host's logger.
func (h *Host) Log() *logger.Logger { return h.log }

// intern returns the one copy of name the host keeps, so that the
// minutes queued through an outage share their names.
func (h *Host) intern(name string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.names[name]; ok {
		return s
	}
	if len(h.names) > 4*MaxPluginValues {
		// A plugin that invents names every minute must not grow this.
		clear(h.names)
	}
	h.names[name] = name
	return name
}

// Sample takes the five-second sample.
func (h *Host) Sample(ctx context.Context, now time.Time) { h.o.System.Sample(ctx, now) }

// Collect returns the system metrics of the minute stamped at, read now.
func (h *Host) Collect(ctx context.Context, at, now time.Time) queue.Batch {
	b := queue.Batch{Source: "system metrics", System: true}
	vals := h.o.System.Collect(ctx, now)
	for _, n := range slices.Sorted(maps.Keys(vals)) {
		v := vals[n]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			h.log.Warningf("Invalid value: %s = %v is not sent", n, v)
			continue
		}
		if h.ignored(n) {
			continue
		}
		b.Values = append(b.Values, queue.Value{Name: h.intern(n), Time: at.Unix(), Value: v})
	}
	return b
}

// ignored applies [interfaces] and [filesystems] ignore to
// interface.NAME.* and filesystem.NAME.*.
func (h *Host) ignored(name string) bool {
	kind, rest, _ := cutDot(name)
	dev, _, ok := cutDot(rest)
	if !ok {
		return false
	}
	switch kind {
	case "interface":
		return h.o.IgnoreInterfaces != nil && h.o.IgnoreInterfaces.MatchString(dev)
	case "filesystem":
		return h.o.IgnoreFilesystems != nil && h.o.IgnoreFilesystems.MatchString(dev)
	}
	return false
}

func cutDot(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// env is what the agent adds to a plugin's environment, after the
// configuration's.
func (h *Host) env(cmd runner.Command, extra ...string) []string {
	extra = append(append([]string(nil), h.o.Env...), extra...)
	if h.o.Workdir == "" || os.Getenv(EnvPluginWorkdir) != "" {
		return extra
	}
	for _, e := range cmd.Env {
		if len(e) > len(EnvPluginWorkdir) && e[:len(EnvPluginWorkdir)+1] == EnvPluginWorkdir+"=" {
			return extra
		}
	}
	return append(extra, EnvPluginWorkdir+"="+h.o.Workdir)
}

// PluginValues runs a metric plugin for its values, stamped at. A plugin
// that fails, floods or prints lines it should not costs its own values
// only, with a log line.
func (h *Host) PluginValues(ctx context.Context, pl *Plugin, at time.Time) queue.Batch {
	if pl.in != nil {
		return h.inProcessValues(ctx, pl, at)
	}
	p := pl.cmd
	b := queue.Batch{Source: "plugin " + p.Name, Target: p.CustomIdentifier}
	res := h.o.Runner.Run(ctx, p.Command, h.env(p.Command, EnvPluginMeta+"=")...)
	if res.Stderr != "" {
		h.log.Infof("command %s outputted to STDERR: %q", p.Command, res.Stderr)
	}
	if res.Err != nil {
		h.log.Errorf("Failed to execute command %s (skip these metrics): %v", p.Command, res.Err)
		return b
	}
	if res.Truncated {
		h.log.Warningf("plugin %s printed more than %d bytes; the rest was dropped", p.Name, runner.MaxStdout)
	}
	vals, bad, first := parseValues(p, res.Stdout, time.Now())
	if bad > 0 {
		h.log.Warningf("plugin %s: %d lines left out; the first: %s", p.Name, bad, first)
	}
	if len(vals) > MaxPluginValues {
		h.log.Warningf("plugin %s printed %d values; the %d after the first %d are dropped", p.Name, len(vals), len(vals)-MaxPluginValues, MaxPluginValues)
		vals = vals[:MaxPluginValues]
	}
	for _, v := range vals {
		t := at.Unix()
		if v.Time != 0 {
			t = v.Time
		}
		b.Values = append(b.Values, queue.Value{Name: h.intern(v.Name), Time: t, Value: v.Value})
	}
	return b
}

// inProcessValues takes the values of a source computed in-process.
func (h *Host) inProcessValues(ctx context.Context, pl *Plugin, at time.Time) queue.Batch {
	b := queue.Batch{Source: "plugin " + pl.Name}
	vals, err := pl.in.Values(ctx, time.Now())
	if err != nil {
		h.log.Errorf("%s: %v", pl.Name, err)
		return b
	}
	for _, n := range slices.Sorted(maps.Keys(vals)) {
		v := vals[n]
		if math.IsNaN(v) || math.IsInf(v, 0) || !validMetricKey.MatchString(n) {
			continue
		}
		b.Values = append(b.Values, queue.Value{Name: h.intern("custom." + n), Time: at.Unix(), Value: v})
	}
	return b
}

// GraphDefs runs every metric plugin for its graph definitions, and adds
// those of the sources computed in-process.
func (h *Host) GraphDefs(ctx context.Context) []*mackerel.GraphDefsParam {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var all []*mackerel.GraphDefsParam
	for _, in := range h.o.InProcess {
		all = append(all, in.GraphDefs()...)
	}
	for _, n := range slices.Sorted(maps.Keys(h.o.Plugins)) {
		p := h.o.Plugins[n]
		wg.Go(func() {
			res := h.o.Runner.Run(ctx, p.Command, h.env(p.Command, EnvPluginMeta+"=1")...)
			if res.Err != nil {
				h.log.Errorf("Failed to fetch meta information from plugin %s; seems that the plugin has a bug: %v", p.Name, res.Err)
				return
			}
			defs, bad, err := parseGraphDefs(res.Stdout)
			switch {
			case errors.Is(err, errNoMeta):
				h.log.Debugf("plugin %s: %v", p.Name, err)
			case err != nil:
				h.log.Errorf("Failed to fetch meta information from plugin %s; seems that the plugin has a bug: %v", p.Name, err)
			}
			for _, b := range bad {
				h.log.Warningf("plugin %s: %s; that graph is not defined", p.Name, b)
			}
			mu.Lock()
			all = append(all, defs...)
			mu.Unlock()
		})
	}
	wg.Wait()
	sortDefs(all)
	return all
}

// MakeWorkdir makes the plugins' work directory, if the host has one.
func (h *Host) MakeWorkdir() error {
	if h.o.Workdir == "" {
		return nil
	}
	return os.MkdirAll(h.o.Workdir, 0o755)
}

// Param is the host's entry: its name, specs and checks.
func (h *Host) Param(ctx context.Context) (*mackerel.CreateHostParam, error) {
	specs, err := h.o.System.Specs(ctx)
	if err != nil {
		return nil, fmt.Errorf("collecting host specs: %v", err)
	}
	name := specs.Name
	if name == "" && h.o.Name == "" {
		if name, err = os.Hostname(); err != nil || name == "" {
			return nil, fmt.Errorf("the host has no name: /dev/sysname is empty and os.Hostname says %v", err)
		}
	}
	if name == "" {
		return nil, errors.New("the host has no name: its /dev/sysname is empty")
	}
	meta := specs.Meta
	meta.AgentVersion = h.o.Version
	meta.AgentRevision = h.o.Revision
	meta.AgentName = h.o.AgentName
	var ifs []mackerel.Interface
	for _, i := range specs.Interfaces {
		if re := h.o.IgnoreInterfaces; re != nil && re.MatchString(i.Name) {
			continue
		}
		ifs = append(ifs, i)
	}
	checks := []mackerel.CheckConfig{}
	for _, c := range h.checks {
		if c.Plugin.CustomIdentifier == "" {
			checks = append(checks, mackerel.CheckConfig{Name: c.Plugin.Name, Memo: c.Plugin.Memo})
		}
	}
	roles := h.o.Roles
	if roles == nil {
		roles = []string{}
	}
	return &mackerel.CreateHostParam{
		Name: name, DisplayName: h.o.DisplayName, Meta: meta, Interfaces: ifs,
		RoleFullnames: roles, Checks: checks,
	}, nil
}

// The environment a metric plugin sees, as upstream sets it.
const (
	EnvPluginMeta    = "MACKEREL_AGENT_PLUGIN_META"
	EnvPluginWorkdir = "MACKEREL_PLUGIN_WORKDIR"
)
