// Package agent is mackerel-agent-plan9: a Mackerel agent for the Plan 9
// or 9front host it runs on. Upstream's mackerel-agent does not build for
// Plan 9; this one does what it does there, with its configuration file:
// it registers the host (keeping its id in <root>/id), posts every minute
// the system metrics that it reads from the kernel's files through
// package sysmetrics and the values of the metric plugins it runs, runs
// check plugins and reports their results, and keeps six hours of values
// through an outage of the API.
//
// Everything time-driven happens in one loop (Agent.Run) on a Clock, so
// that tests can run hours of it on a simulated clock; plugins, requests
// and reads of the kernel's files run beside the loop and hand it their
// results.
package agent

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/lib/sysmetrics"
)

// System is what the agent reads of its own host: sysmetrics.Collector,
// with the host's specs.
type System interface {
	// Sample takes the five-second sample of the load and CPU figures.
	Sample(ctx context.Context, now time.Time)
	// Collect returns the system metrics of the interval since the last
	// Collect, under Mackerel's own names.
	Collect(ctx context.Context, now time.Time) map[string]float64
	// Specs describes the host for its entry on Mackerel.
	Specs(ctx context.Context) (HostSpecs, error)
}

// HostSpecs is the host's name, meta and interfaces.
type HostSpecs = sysmetrics.HostSpecs

// Intervals of the loop, as upstream.
const (
	SampleInterval      = 5 * time.Second
	MetricsInterval     = time.Minute
	SpecsInterval       = time.Hour
	maxCollections      = 3
	startTickGap        = 30 * time.Second
	sampleTimeout       = 4 * time.Second
	collectTimeout      = 50 * time.Second
	defaultHTTPTimeout  = 30 * time.Second
	specsRequestTimeout = time.Minute
)

// Options configure an Agent.
type Options struct {
	Config *Config
	System System
	// Clock is the real clock when nil.
	Clock Clock
	// Log receives the log (standard error when nil).
	Log               io.Writer
	Version, Revision string
	// HTTPTimeout bounds each API request (30 s, as upstream, when 0).
	HTTPTimeout time.Duration
	// KillAfter is how long a timed-out plugin has before it is killed
	// (10 s when 0).
	KillAfter time.Duration
}

// Agent is one running agent.
type Agent struct {
	conf              *Config
	api               *mackerel.Client
	clock             Clock
	log               *logger
	run               runner
	sys               System
	version, revision string
	workdir           string
	host              *mackerel.Host
	customHosts       map[string]string

	// The loop's state, touched by the loop only.
	events      chan func()
	sysJobs     chan func()
	done        chan struct{}
	inflight    int
	nextSample  time.Time
	sampling    bool
	nextTick    time.Time
	collecting  int
	nextSpecs   time.Time
	graphDefsAt time.Time
	graphDefsOn bool // the graph definitions are being sent
	// graphDefsDone opens posting: values go after their definitions.
	graphDefsDone bool
	post          poster
	checks        []*checkState
	reports       []report
	reportAt      time.Time
	lastFlush     time.Time
	reporting     bool
	terminating   bool
	deadline      time.Time
}

// New returns an agent for the configuration. It reaches nothing yet.
// System may be nil for an agent that only retires its host.
func New(o Options) (*Agent, error) {
	if o.Config == nil {
		return nil, errors.New("agent: no configuration")
	}
	a := &Agent{
		conf: o.Config, clock: o.Clock, sys: o.System, version: o.Version, revision: o.Revision,
		run:     runner{killAfter: o.KillAfter},
		workdir: filepath.Join(o.Config.Root, "work"),
	}
	if a.clock == nil {
		a.clock = realClock{}
	}
	if a.version == "" {
		a.version = "devel"
	}
	if a.revision == "" {
		a.revision = "unknown"
	}
	w := o.Log
	if w == nil {
		w = os.Stderr
	}
	a.log = &logger{w: w, verbose: o.Config.Verbose, silent: o.Config.Silent}
	api, err := mackerel.NewClientWithOptions(o.Config.Apikey, o.Config.Apibase, o.Config.Verbose)
	if err != nil {
		return nil, &ConfigError{File: o.Config.File, Key: "apibase", Msg: err.Error()}
	}
	api.UserAgent = a.userAgent()
	api.AdditionalHeaders.Set("X-Agent-Version", a.version)
	api.AdditionalHeaders.Set("X-Revision", a.revision)
	api.PrioritizedLogger = a.log
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = o.Config.DisableHTTPKeepAlive
	api.HTTPClient.Transport = t
	if o.HTTPTimeout > 0 {
		api.HTTPClient.Timeout = o.HTTPTimeout
	}
	a.api = api
	for _, n := range sortedKeys(o.Config.CheckPlugins) {
		a.checks = append(a.checks, &checkState{p: o.Config.CheckPlugins[n]})
	}
	return a, nil
}

// Run registers or finds the host and then runs until term says stop:
// on the first value from term it posts what is queued, for up to 30 s,
// and returns; a second value makes it return at once.
func (a *Agent) Run(term <-chan struct{}) error {
	if a.sys == nil {
		return errors.New("agent: no system to read")
	}
	ctx := context.Background()
	if err := os.MkdirAll(a.workdir, 0o755); err != nil {
		return err
	}
	if err := a.prepareHost(ctx); err != nil {
		return err
	}
	a.findCustomHosts(ctx)
	a.log.Infof("Start: apibase = %s, hostName = %s, hostID = %s", a.conf.Apibase, a.host.Name, a.host.ID)
	err := a.loop(term)
	if st := a.conf.HostStatus.OnStop; err == nil && st != "" {
		ctx, cancel := context.WithTimeout(ctx, defaultHTTPTimeout)
		defer cancel()
		if e := a.api.UpdateHostStatusContext(ctx, a.host.ID, st); e != nil {
			a.log.Errorf("Failed to update the host status on stop: %v", apiErrorHint(e))
		}
	}
	return err
}

func (a *Agent) loop(term <-chan struct{}) error {
	a.events = make(chan func(), 64)
	a.sysJobs = make(chan func(), 16)
	a.done = make(chan struct{})
	defer close(a.done)
	go a.sysWorker()

	now := a.clock.Now()
	a.post.second = HostSecond(a.host.ID)
	a.nextSample, a.nextTick, a.nextSpecs, a.lastFlush = now, now, now, now
	// A tick at start, as upstream, unless the minute's own comes within
	// startTickGap: two collections seconds apart would run every plugin
	// twice at once (two runs of mackerel-plugin-plan9 race for its state
	// file, which Plan 9's rename then refuses) and post a minute with no
	// samples behind its CPU figures.
	if b := now.Truncate(MetricsInterval).Add(MetricsInterval); b.Sub(now) < startTickGap {
		a.nextTick = b
	}
	// As upstream: graph definitions, the first post and the first checks
	// wait half the host's second, so that a fleet started together does
	// not call the API at once.
	a.graphDefsAt = now.Add(time.Duration(a.post.second/2) * time.Second)
	for _, c := range a.checks {
		c.next = a.graphDefsAt
	}
	for {
		now := a.clock.Now()
		a.runDue(now)
		if a.terminating && a.drained(now) {
			return nil
		}
		ch, stop := a.clock.Until(a.nextDue(), a.inflight > 0)
		select {
		case f := <-a.events:
			a.inflight--
			if f != nil {
				f()
			}
		case <-ch:
		case _, ok := <-term:
			if !ok {
				term = nil
			}
			if a.terminating {
				stop()
				a.log.Warningf("Stopped again: leaving %d values unposted", a.queuedValues())
				return errors.New("stopped before the queue was posted")
			}
			a.terminate(a.clock.Now())
		}
		stop()
	}
}

// spawn runs job beside the loop; the function it returns is applied by
// the loop.
func (a *Agent) spawn(job func() func()) {
	a.inflight++
	go func() {
		f := job()
		select {
		case a.events <- f:
		case <-a.done:
		}
	}()
}

// sysWorker reads the kernel's files for the loop, one job at a time: the
// collector keeps the samples between them.
func (a *Agent) sysWorker() {
	for {
		select {
		case f := <-a.sysJobs:
			f()
		case <-a.done:
			return
		}
	}
}

func (a *Agent) submitSys(f func()) bool {
	select {
	case a.sysJobs <- f:
		return true
	case <-a.done:
		return false
	}
}

// runDue starts what is due at now.
func (a *Agent) runDue(now time.Time) {
	if !a.terminating {
		if !now.Before(a.nextSample) {
			a.startSample()
			for !a.nextSample.After(now) {
				a.nextSample = a.nextSample.Add(SampleInterval)
			}
		}
		if !now.Before(a.nextTick) {
			a.startCollection(a.nextTick)
			a.nextTick = now.Truncate(MetricsInterval).Add(MetricsInterval)
		}
		if !now.Before(a.nextSpecs) {
			a.startSpecs()
			a.nextSpecs = now.Add(SpecsInterval)
		}
		if !a.graphDefsDone && !a.graphDefsOn && !now.Before(a.graphDefsAt) {
			a.startGraphDefs()
		}
		for _, c := range a.checks {
			if !c.running && !now.Before(c.next) {
				a.startCheck(c, now)
			}
		}
	}
	if a.post.inflight == 0 && !a.post.at.IsZero() && !now.Before(a.post.at) {
		a.startPost()
	}
	if !a.reporting && len(a.reports) > 0 && !a.reportAt.IsZero() && !now.Before(a.reportAt) {
		a.startReport()
	}
}

// nextDue is when something next falls due.
func (a *Agent) nextDue() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	consider(a.post.at)
	if len(a.reports) > 0 && !a.reporting {
		consider(a.reportAt)
	}
	if a.terminating {
		consider(a.deadline)
		return next
	}
	consider(a.nextSample)
	consider(a.nextTick)
	consider(a.nextSpecs)
	if !a.graphDefsDone && !a.graphDefsOn {
		consider(a.graphDefsAt)
	}
	for _, c := range a.checks {
		if !c.running {
			consider(c.next)
		}
	}
	return next
}

// terminate starts the stop: nothing new is collected, and the queue is
// posted a second apart for up to 30 s.
func (a *Agent) terminate(now time.Time) {
	a.log.Infof("Stopping: posting %d queued values within %v", a.queuedValues(), drainTime)
	a.terminating = true
	a.deadline = now.Add(drainTime)
	a.graphDefsDone = true
	a.post.state = postTerminating
	if a.post.inflight == 0 {
		a.post.at = time.Time{}
		a.schedulePost()
	}
	if len(a.reports) > 0 && !a.reporting {
		a.reportAt = now
	}
}

// drained says whether the stop may end: everything is posted, or the
// time is up.
func (a *Agent) drained(now time.Time) bool {
	if len(a.post.queue) == 0 && len(a.reports) == 0 && !a.reporting {
		return true
	}
	if !now.Before(a.deadline) {
		a.log.Errorf("Stopping with %d values and %d check reports not posted", a.queuedValues(), len(a.reports))
		return true
	}
	return false
}

func (a *Agent) queuedValues() int {
	n := 0
	for _, b := range a.post.queue {
		n += len(b.values)
	}
	return n
}

func (a *Agent) startSample() {
	if a.sampling {
		return // the last sample has not finished; skip this one
	}
	a.sampling = true
	a.inflight++
	ok := a.submitSys(func() {
		ctx, cancel := context.WithTimeout(context.Background(), sampleTimeout)
		defer cancel()
		a.sys.Sample(ctx, a.clock.Now())
		select {
		case a.events <- func() { a.sampling = false }:
		case <-a.done:
		}
	})
	if !ok {
		a.inflight--
	}
}

// startCollection collects the minute of tick: the system metrics and
// every metric plugin's values, in parallel, into one batch.
func (a *Agent) startCollection(tick time.Time) {
	if a.collecting >= maxCollections {
		a.log.Warningf("%d collections are still running; skipping the one of %s", a.collecting, tick.Format(time.RFC3339))
		return
	}
	a.collecting++
	plugins := a.conf.MetricPlugins
	a.spawn(func() func() {
		sysc := make(chan map[string]float64, 1)
		if !a.submitSys(func() {
			ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
			defer cancel()
			// The time of the reading, not of the tick: the collector
			// matches it against the processes' real times, and a
			// machine that stalled reads late.
			sysc <- a.sys.Collect(ctx, a.clock.Now())
		}) {
			return nil
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		b := &batch{tick: tick}
		for _, n := range sortedKeys(plugins) {
			p := plugins[n]
			wg.Add(1)
			go func() {
				defer wg.Done()
				vals := a.pluginValues(p, tick)
				hostID, ok := a.hostFor(p.CustomIdentifier)
				if !ok {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, v := range vals {
					t := tick.Unix()
					if v.Time != 0 {
						t = v.Time
					}
					b.values = append(b.values, &mackerel.HostMetricValue{HostID: hostID, MetricValue: &mackerel.MetricValue{Name: v.Name, Time: t, Value: v.Value}})
				}
			}()
		}
		wg.Wait()
		var sys map[string]float64
		select {
		case sys = <-sysc:
		case <-a.done:
			return nil
		}
		for _, n := range sortedKeys(sys) {
			v := sys[n]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				a.log.Warningf("Invalid value: %s = %v is not sent", n, v)
				continue
			}
			if a.ignoredSystemMetric(n) {
				continue
			}
			b.values = append(b.values, &mackerel.HostMetricValue{HostID: a.host.ID, MetricValue: &mackerel.MetricValue{Name: n, Time: tick.Unix(), Value: v}})
		}
		return func() {
			a.collecting--
			a.log.Debugf("Enqueuing %d values of %s", len(b.values), tick.Format(time.RFC3339))
			a.enqueue(b)
		}
	})
}

// ignoredSystemMetric applies [interfaces] and [filesystems] ignore to
// interface.NAME.* and filesystem.NAME.*.
func (a *Agent) ignoredSystemMetric(name string) bool {
	f := strings.Split(name, ".")
	if len(f) < 3 {
		return false
	}
	switch f[0] {
	case "interface":
		return a.conf.Interfaces.Ignore != nil && a.conf.Interfaces.Ignore.MatchString(f[1])
	case "filesystem":
		return a.conf.Filesystems.Ignore != nil && a.conf.Filesystems.Ignore.MatchString(f[1])
	}
	return false
}

// pluginEnv is what the agent adds to a plugin's environment, after the
// configuration's env: a work directory under root for plugins' state
// files, unless the environment names one.
func (a *Agent) pluginEnv(cmd Command, extra ...string) []string {
	set := os.Getenv(envPluginWorkdir) != ""
	for _, e := range cmd.Env {
		set = set || strings.HasPrefix(e, envPluginWorkdir+"=")
	}
	if !set {
		extra = append(extra, envPluginWorkdir+"="+a.workdir)
	}
	return extra
}

// pluginValues runs a metric plugin for its values. A plugin that fails or
// prints lines it should not costs its own values only, with a log line.
func (a *Agent) pluginValues(p *MetricPlugin, now time.Time) []metricValue {
	res := a.run.run(p.Command, a.pluginEnv(p.Command, envPluginMeta+"=")...)
	if res.Stderr != "" {
		a.log.Infof("command %s outputted to STDERR: %q", p.Command, res.Stderr)
	}
	if res.Err != nil {
		a.log.Errorf("Failed to execute command %s (skip these metrics): %v", p.Command, res.Err)
		return nil
	}
	if res.Truncated {
		a.log.Warningf("plugin %s printed more than %d bytes; the rest was dropped", p.Name, MaxStdout)
	}
	vals, bad, first := parseValues(p, res.Stdout, a.clock.Now())
	if bad > 0 {
		a.log.Warningf("plugin %s: %d lines left out; the first: %s", p.Name, bad, first)
	}
	return vals
}

// graphDefs runs every metric plugin for its graph definitions.
func (a *Agent) graphDefs() []*mackerel.GraphDefsParam {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var all []*mackerel.GraphDefsParam
	for _, n := range sortedKeys(a.conf.MetricPlugins) {
		p := a.conf.MetricPlugins[n]
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := a.run.run(p.Command, a.pluginEnv(p.Command, envPluginMeta+"=1")...)
			if res.Err != nil {
				a.log.Errorf("Failed to fetch meta information from plugin %s; seems that the plugin has a bug: %v", p.Name, res.Err)
				return
			}
			defs, bad, err := parseGraphDefs(res.Stdout)
			switch {
			case errors.Is(err, errNoMeta):
				a.log.Debugf("plugin %s: %v", p.Name, err)
			case err != nil:
				a.log.Errorf("Failed to fetch meta information from plugin %s; seems that the plugin has a bug: %v", p.Name, err)
			}
			for _, b := range bad {
				a.log.Warningf("plugin %s: %s; that graph is not defined", p.Name, b)
			}
			mu.Lock()
			all = append(all, defs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all
}

// startGraphDefs sends every plugin's graph definitions, once, as
// upstream: one request, not retried.
func (a *Agent) startGraphDefs() {
	a.graphDefsOn = true
	a.spawn(func() func() {
		defs := a.graphDefs()
		var err error
		if len(defs) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), specsRequestTimeout)
			err = a.api.CreateGraphDefsContext(ctx, defs)
			cancel()
		}
		return func() {
			if err != nil {
				a.log.Errorf("Failed to create graphdefs: %v", apiErrorHint(err))
			}
			a.graphDefsOn, a.graphDefsDone = false, true
			a.schedulePost()
		}
	})
}

// startSpecs sends the host's specs, as at start and every hour.
func (a *Agent) startSpecs() {
	a.spawn(func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), specsRequestTimeout)
		defer cancel()
		param, err := a.hostParam(ctx)
		if err == nil {
			_, err = a.api.UpdateHostContext(ctx, a.host.ID, (*mackerel.UpdateHostParam)(param))
		}
		return func() {
			if err != nil {
				a.log.Errorf("Error while updating host specs: %v", apiErrorHint(err))
			} else {
				a.log.Debugf("Host specs sent.")
			}
		}
	})
}
