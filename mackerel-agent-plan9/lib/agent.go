// Package agent is mackerel-agent-plan9: a Mackerel agent for Plan 9 and
// 9front hosts. Upstream's mackerel-agent does not build for Plan 9; this
// one does what it does there, with its configuration file: it registers
// each watched host (keeping its id in a file), posts every minute the
// system metrics it reads from the kernel's files and the values of the
// metric plugins it runs, runs check plugins and reports their results,
// and keeps six hours of values through an outage of the API.
//
// The work is cut along its seams: package config reads the
// configuration, runner runs plugins, host collects one watched host,
// queue holds what is to be sent and decides when, and api is the only
// caller of Mackerel's API. This package ties them together in one loop
// (Agent.Run) on a Clock, so that tests run hours of it on a simulated
// clock; everything slow (plugins, requests, reads of the kernel's files)
// runs beside the loop and hands it its result.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/api"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/config"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/host"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/runner"
)

// Intervals and bounds of the loop.
const (
	SampleInterval  = 5 * time.Second
	MetricsInterval = time.Minute
	SpecsInterval   = time.Hour
	// startTickGap: no tick at start when the minute's own comes this
	// soon; two collections seconds apart would run every plugin twice.
	startTickGap   = 30 * time.Second
	sampleTimeout  = 4 * time.Second
	collectTimeout = 50 * time.Second
	// drainTime is how long a stop may take to post what is queued.
	drainTime = 30 * time.Second
	// stopGrace bounds the wait for plugins ended at a stop.
	stopGrace = 5 * time.Second
	// registration retries back off from 3 s to a few minutes.
	registerFirst = 3 * time.Second
	registerLimit = 5 * time.Minute
	// custom identifiers not found are looked up again hourly.
	customRetry = time.Hour
	// graph definitions that fail are tried this often before the
	// plugins' values go without them.
	defsTries = 3
)

// Options configure an Agent.
type Options struct {
	Config *config.Config
	// Hosts are the hosts to watch: one for the native agent.
	Hosts []HostOptions
	// Clock is the real clock when nil.
	Clock Clock
	// Log receives the log (standard error when nil).
	Log               io.Writer
	Version, Revision string
	// HTTPTimeout bounds each API request (30 s, as upstream, when 0).
	HTTPTimeout time.Duration
	// Runner runs plugins and checks (a zero runner.Runner when nil).
	Runner Runner
	// Fleet watches the configuration's [host.NAME] tables, those of
	// Shard, instead of Hosts.
	Fleet bool
	Shard Shard
	// Reload delivers the configuration read again (a hangup): in fleet
	// mode hosts added start, hosts removed stop (they are not retired),
	// changed ones start again, and the others go on without a gap.
	Reload <-chan *config.Config
}

// HostOptions is one host to watch: what package host needs, and where
// its id is kept.
type HostOptions struct {
	host.Options
	// IDFile keeps the host's id on Mackerel.
	IDFile string
	// Offset is when in the minute the host's system metrics and plugins
	// are read (and in five seconds, its samples): 0 for the native
	// agent, as upstream's; a fleet host's own, so that a fleet's reads
	// do not all wait on the same seconds.
	Offset time.Duration
	// conf is a fleet host's table, to tell at a reload whether it changed.
	conf *config.Host
}

// Agent is one running agent.
type Agent struct {
	conf              *config.Config
	api               *api.Client
	clock             Clock
	log               *logger.Logger
	run               Runner
	version, revision string
	hosts             []*watched
	shard             Shard
	reload            <-chan *config.Config

	// The loop's state, touched by the loop only.
	events      chan event
	due         dueHosts
	done        chan struct{}
	inflight    int
	runCtx      context.Context // ends when the agent stops: plugins end
	cancelRuns  context.CancelFunc
	terminating bool
	deadline    time.Time
	fatal       error
	// observe, when set, is called at every turn of the loop (tests).
	observe func()
}

// New returns an agent for the configuration. It reaches nothing yet.
func New(o Options) (*Agent, error) {
	if o.Config == nil {
		return nil, errors.New("agent: no configuration")
	}
	a := &Agent{conf: o.Config, clock: o.Clock, version: o.Version, revision: o.Revision, run: o.Runner}
	if a.clock == nil {
		a.clock = realClock{}
	}
	if a.version == "" {
		a.version = "devel"
	}
	if a.revision == "" {
		a.revision = "unknown"
	}
	if a.run == nil {
		a.run = &runner.Runner{}
	}
	w := o.Log
	if w == nil {
		w = os.Stderr
	}
	a.log = logger.New(w, o.Config.Verbose, o.Config.Silent, nil)
	c, err := api.New(api.Options{
		APIKey: o.Config.Apikey, APIBase: o.Config.Apibase, UserAgent: a.UserAgent(),
		Version: a.version, Revision: a.revision, Timeout: o.HTTPTimeout,
		DisableKeepAlives: o.Config.DisableHTTPKeepAlive, Log: a.log,
	})
	if err != nil {
		return nil, &config.Error{File: o.Config.File, Key: "apibase", Msg: err.Error()}
	}
	a.api = c
	a.shard, a.reload = o.Shard, o.Reload
	if o.Fleet {
		o.Hosts = a.fleetHosts(o.Config, o.Shard)
	}
	for _, ho := range o.Hosts {
		a.hosts = append(a.hosts, a.newWatched(ho))
	}
	return a, nil
}

// UserAgent is what the agent calls itself in requests and host meta.
func (a *Agent) UserAgent() string {
	return fmt.Sprintf("mackerel-agent-plan9/%s (Revision %s)", a.version, a.revision)
}

// ErrUnposted is returned by Run when it stopped with values or reports
// it could not post.
var ErrUnposted = errors.New("stopped before everything was posted")

// Run watches the hosts until term says stop: on the first value from
// term it ends the plugins still running and posts what is queued, for up
// to 30 s; a second value ends it at once. It returns nil when nothing was
// left unposted, an error wrapping ErrUnposted when something was, and
// another error when the agent cannot go on (the API refuses its key at
// start, say).
func (a *Agent) Run(term <-chan struct{}) error {
	a.events = make(chan event, 64)
	a.done = make(chan struct{})
	a.runCtx, a.cancelRuns = context.WithCancel(context.Background())
	defer a.cancelRuns()
	for _, w := range a.hosts {
		if err := w.h.MakeWorkdir(); err != nil {
			return err
		}
	}
	now := a.clock.Now()
	for _, w := range a.hosts {
		w.start(now)
	}
	err := a.loop(term)
	a.stopRuns()
	close(a.done)
	if err != nil {
		return err
	}
	a.hostStatusOnStop()
	if n, r := a.unposted(); n+r > 0 {
		a.log.Errorf("Stopping with %d values and %d check reports not posted", n, r)
		return fmt.Errorf("%w: %d values and %d check reports", ErrUnposted, n, r)
	}
	return nil
}

func (a *Agent) loop(term <-chan struct{}) error {
	a.due.reset(a.hosts, a.clock.Now())
	var last time.Time
	for {
		now := a.clock.Now()
		if a.fatal != nil {
			return a.fatal
		}
		if now.Before(last) {
			// The clock stepped back: every host's schedules are brought
			// back (runDue does it) before they are ordered again.
			for _, w := range a.hosts {
				w.runDue(now)
			}
			a.due.reset(a.hosts, now)
		}
		last = now
		// Each host due runs once a turn, even if it is due again at once.
		due := a.due.takeDue(now)
		for _, w := range due {
			w.runDue(now)
		}
		for _, w := range due {
			a.due.schedule(w, now)
		}
		if a.observe != nil {
			a.observe()
		}
		if a.terminating && a.drained(now) {
			return nil
		}
		ch, stop := a.clock.Until(soonest(a.deadline, a.due.next()), a.inflight)
		select {
		case ev := <-a.events:
			a.inflight--
			if ev.f != nil {
				ev.f()
			}
			if ev.w != nil {
				a.due.schedule(ev.w, a.clock.Now())
			}
		case <-ch:
		case c := <-a.reload:
			if !a.terminating {
				a.reloadHosts(c, a.clock.Now())
				a.due.reset(a.hosts, a.clock.Now())
			}
		case _, ok := <-term:
			if !ok {
				term = nil
			}
			if a.terminating {
				stop()
				a.log.Warningf("Stopped again: ending at once")
				return nil
			}
			a.terminate(a.clock.Now())
			a.due.reset(a.hosts, a.clock.Now())
		}
		stop()
	}
}

// event is the end of a job run beside the loop: f, which the loop
// applies, and the host it is for (nil for none).
type event struct {
	w *watched
	f func()
}

// spawn runs job beside the loop for w (nil for no host); the function it
// returns is applied by the loop, and w's schedules looked at again.
func (a *Agent) spawn(w *watched, job func() func()) {
	a.inflight++
	go func() {
		ev := event{w, job()}
		select {
		case a.events <- ev:
		case <-a.done:
		}
	}()
}

// terminate starts the stop: nothing new is collected, the plugins and
// checks still running are ended, and the queues are posted a second
// apart for up to 30 s.
func (a *Agent) terminate(now time.Time) {
	n, r := a.unposted()
	a.log.Infof("Stopping: posting %d queued values and %d check reports within %v", n, r, drainTime)
	a.terminating = true
	a.deadline = now.Add(drainTime)
	a.cancelRuns()
	for _, w := range a.hosts {
		w.stop(now)
	}
}

// drained says whether the stop may end: everything is posted, or the
// time is up.
func (a *Agent) drained(now time.Time) bool {
	if a.deadline.Sub(now) > drainTime {
		a.deadline = now.Add(drainTime) // the clock stepped back
	}
	if !now.Before(a.deadline) {
		return true
	}
	for _, w := range a.hosts {
		if !w.drained() {
			return false
		}
	}
	return true
}

func (a *Agent) unposted() (values, reports int) {
	for _, w := range a.hosts {
		values += w.metrics.Len()
		reports += w.reports.Len()
	}
	return values, reports
}

// stopRuns ends every plugin and check still running, and waits a
// little for them to be gone, so that the agent leaves nothing behind.
func (a *Agent) stopRuns() {
	a.cancelRuns()
	a.run.KillAll()
	deadline := time.Now().Add(stopGrace)
	for a.run.Running() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := a.run.Running(); n > 0 {
		a.log.Warningf("%d plugins or checks did not end after they were killed", n)
	}
}

// hostStatusOnStop sets [host_status] on_stop on every registered host.
func (a *Agent) hostStatusOnStop() {
	st := a.conf.HostStatus.OnStop
	if st == "" {
		return
	}
	for _, w := range a.hosts {
		if w.id == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), api.DefaultTimeout)
		if err := a.api.UpdateHostStatus(ctx, w.id, st); err != nil {
			w.log.Errorf("Failed to update the host status on stop: %v", err)
		}
		cancel()
	}
}

// Retire retires the host whose id file is named, and deletes the file.
func (a *Agent) Retire(ctx context.Context, idFile string) error {
	id, err := loadHostID(idFile)
	if err != nil {
		return err
	}
	var b backoff
	b.first, b.limit = registerFirst, registerLimit
	for try := 1; ; try++ {
		err = a.api.RetireHost(ctx, id)
		if err == nil || try == 5 || api.Classify(err) == api.KeyRefused || api.Status(err) == 404 {
			break
		}
		a.log.Warningf("%v", err)
		a.sleep(b.failed(a.clock.Now(), api.RetryAfter(err)))
	}
	if err != nil {
		return fmt.Errorf("retiring the host %s failed: %v", id, err)
	}
	a.log.Infof("This host (hostID: %s) has been retired.", id)
	if err := os.Remove(idFile); err != nil {
		a.log.Warningf("Failed to remove the host id file: %v", err)
	}
	return nil
}

// sleep waits d on the agent's clock.
func (a *Agent) sleep(d time.Duration) {
	ch, stop := a.clock.Until(a.clock.Now().Add(d), 0)
	defer stop()
	<-ch
}
