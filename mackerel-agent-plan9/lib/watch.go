package agent

import (
	"context"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/api"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/host"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/queue"
)

// watched is one watched host as the loop runs it: what it collects
// (host.Host), what waits to be sent (its queues), its entry on Mackerel
// (reg) and its schedules. The loop alone touches it.
type watched struct {
	a   *Agent
	h   *host.Host
	o   HostOptions
	log *logger.Logger
	// ctx ends when the host stops being watched (a stop, or a reload
	// that removed it): its plugins and checks end with it.
	ctx    context.Context
	cancel context.CancelFunc

	reg     registration
	id      string // the host's id on Mackerel; "" until it is known
	custom  map[string]*customHost
	metrics queue.Metrics
	reports queue.Reports

	sample, tick, specs every
	// sys runs the reads of the kernel's files one at a time: the
	// collector keeps its samples between them.
	sys     []sysJob
	sysBusy bool
	// plugins that are still running, by name.
	running            map[string]bool
	checks             []*checkRun
	defs               graphDefs
	posting, reporting bool
	stopped            bool

	// The loop's order of hosts (dueHosts): when something of the host
	// next falls due, its place, and whether it is no longer watched.
	dueAt    time.Time
	dueIndex int
	gone     bool
}

type sysJob struct {
	kind string // "sample", "collect", "param": one of each waits at most
	run  func(ctx context.Context) func()
}

type checkRun struct {
	c       *host.Check
	sched   every
	running bool
}

// graphDefs is the state of sending the plugins' graph definitions.
type graphDefs struct {
	at      time.Time // when to send them
	busy    bool
	settled bool // sent, refused, or given up: the plugins' values may go
	tries   int
	defs    []*mackerel.GraphDefsParam
	fetched bool
}

// customHost is a host that plugins post to through a custom_identifier.
type customHost struct {
	id    string
	state queue.Resolution
	retry backoff
	busy  bool
}

func (a *Agent) newWatched(o HostOptions) *watched {
	lg := a.log
	if o.Name != "" {
		lg = lg.With(o.Name)
	}
	o.Log, o.Runner = lg, a.run
	if o.AgentName == "" {
		o.AgentName, o.Version, o.Revision = a.UserAgent(), a.version, a.revision
	}
	w := &watched{a: a, h: host.New(o.Options), o: o, log: lg, running: map[string]bool{}, custom: map[string]*customHost{}, dueIndex: -1}
	w.reg.idFile = o.IDFile
	w.metrics = queue.Metrics{Second: -1, Log: lg}
	w.metrics.HoldPlugins = len(w.h.Plugins()) > 0
	w.reports = queue.Reports{Checks: len(w.h.Checks()), Log: lg}
	for _, c := range w.h.Checks() {
		w.checks = append(w.checks, &checkRun{c: c, sched: every{interval: c.Plugin.Interval}})
	}
	for _, p := range o.Plugins {
		w.addCustom(p.CustomIdentifier)
	}
	for _, c := range o.Checks {
		w.addCustom(c.CustomIdentifier)
	}
	return w
}

func (w *watched) addCustom(ci string) {
	if ci != "" && w.custom[ci] == nil {
		w.custom[ci] = &customHost{retry: backoff{first: registerFirst, limit: registerLimit}}
	}
}

// start sets the schedules, from the host's offset on (at once for the
// native agent; a fleet's hosts each at its own second, so that a
// thousand do not dial, read their specs and register at once): a sample
// at once, then every 5 s in the phase of the offset; a tick at once (but
// none just before the minute's own, or while the host's own second of
// this minute is still to come), then at its own second of every minute;
// registration at once; checks and graph definitions a few seconds on,
// spread by the host's name so that a fleet started together does not
// call the API at once.
func (w *watched) start(now time.Time) {
	w.ctx, w.cancel = context.WithCancel(w.a.runCtx)
	now = now.Add(w.o.Offset)
	w.sample = every{interval: SampleInterval, align: true, offset: w.o.Offset % SampleInterval, next: now}
	w.tick = every{interval: MetricsInterval, align: true, offset: w.o.Offset, next: now}
	if own := w.tick.after(now); own.Sub(now) < startTickGap || w.tick.slot(own).Equal(now.Truncate(MetricsInterval)) {
		w.tick.next = own
	}
	w.specs = every{interval: SpecsInterval}
	w.reg.start(w, now)
	w.reg.retry.next = now
	spread := now.Add(startSpread(w.h.Name(), w.reg.id))
	for _, c := range w.checks {
		c.sched.at(spread)
	}
	w.defs.at = spread
	if len(w.h.Plugins()) == 0 {
		w.defs.settled = true
	}
}

// remove stops watching the host at once: its plugins and checks end, its
// connection closes, and what it queued is dropped.
func (w *watched) remove(why string) {
	w.gone = true
	w.cancel()
	if r, ok := w.o.System.(*host.Remote); ok {
		r.Session().Close()
	}
	if n, r := w.metrics.Len(), w.reports.Len(); n+r > 0 {
		w.log.Warningf("No longer watched (%s): %d values and %d check reports dropped", why, n, r)
	} else {
		w.log.Infof("No longer watched: %s", why)
	}
}

func (w *watched) stop(now time.Time) {
	w.stopped = true
	// What waited for its graph definitions goes now, or never.
	w.metrics.HoldPlugins = false
	w.metrics.Stop(now)
	w.reports.Stop(now)
	w.reg.stop(now)
}

// drained says whether the host has nothing left that a stop could
// still post: its queues are empty, or it is not registered and the try
// made at the stop failed too.
func (w *watched) drained() bool {
	if w.id == "" && w.reg.triedAtStop && !w.reg.busy {
		return true
	}
	return w.metrics.Len() == 0 && w.reports.Len() == 0 && !w.posting && !w.reporting
}

// resolve maps a queue's target to a host id.
func (w *watched) resolve(target string) (string, queue.Resolution) {
	if target == "" {
		if w.id == "" {
			return "", queue.Pending
		}
		return w.id, queue.Resolved
	}
	c := w.custom[target]
	if c == nil {
		return "", queue.Unknown
	}
	return c.id, c.state
}

// runDue starts what is due at now.
func (w *watched) runDue(now time.Time) {
	w.reg.runDue(w, now)
	if !w.stopped {
		if w.sample.due(now) {
			w.sample.fire(now)
			w.startSample()
		}
		if w.tick.due(now) {
			w.startCollection(w.tick.fire(now))
		}
		if w.id != "" && w.specs.due(now) {
			w.specs.fire(now)
			w.startSpecs()
		}
		if !w.defs.settled && !w.defs.busy && !now.Before(w.defs.at) {
			w.startGraphDefs()
		}
		for _, c := range w.checks {
			if !c.running && c.sched.due(now) {
				w.startCheck(c, c.sched.fire(now))
			}
		}
	}
	for ci, c := range w.custom {
		if c.state != queue.Resolved && !c.busy && c.retry.due(now) {
			w.lookupCustom(ci, c)
		}
	}
	if !w.posting && !w.metrics.Due(now).IsZero() && !now.Before(w.metrics.Due(now)) {
		w.startPost(now)
	}
	if !w.reporting && !w.reports.Due(now).IsZero() && !now.Before(w.reports.Due(now)) {
		w.startReport(now)
	}
}

// nextDue is when something of the host next falls due.
func (w *watched) nextDue(now time.Time) time.Time {
	next := soonest(w.reg.nextDue(now), w.metrics.Due(now), w.reports.Due(now))
	for _, c := range w.custom {
		if c.state != queue.Resolved && !c.busy {
			next = soonest(next, c.retry.next)
		}
	}
	if w.stopped {
		return next
	}
	next = soonest(next, w.sample.next, w.tick.next)
	if w.id != "" {
		next = soonest(next, w.specs.next)
	}
	if !w.defs.settled && !w.defs.busy {
		next = soonest(next, w.defs.at)
	}
	for _, c := range w.checks {
		if !c.running {
			next = soonest(next, c.sched.next)
		}
	}
	return next
}

// submitSys queues a read of the kernel's files, unless one of its kind
// already waits.
func (w *watched) submitSys(j sysJob) bool {
	for _, q := range w.sys {
		if q.kind == j.kind {
			return false
		}
	}
	w.sys = append(w.sys, j)
	w.pumpSys()
	return true
}

func (w *watched) pumpSys() {
	if w.sysBusy || len(w.sys) == 0 {
		return
	}
	j := w.sys[0]
	w.sys = w.sys[1:]
	w.sysBusy = true
	w.a.spawn(w, func() func() {
		f := j.run(w.ctx)
		return func() {
			w.sysBusy = false
			if f != nil {
				f()
			}
			w.pumpSys()
		}
	})
}

func (w *watched) startSample() {
	w.submitSys(sysJob{kind: "sample", run: func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, sampleTimeout)
		defer cancel()
		w.h.Sample(ctx, w.a.clock.Now())
		return nil
	}})
}

// startCollection collects the minute stamped at: the system metrics, and
// each metric plugin's values, each into a batch of its own, so that a
// slow plugin costs only its own values' time.
func (w *watched) startCollection(at time.Time) {
	if !w.submitSys(sysJob{kind: "collect", run: func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, collectTimeout)
		defer cancel()
		// The time of the reading, not of the tick: the collector matches
		// it against the processes' real times.
		b := w.h.Collect(ctx, at, w.a.clock.Now())
		return func() { w.metrics.Add(b, w.a.clock.Now()) }
	}}) {
		w.log.Warningf("The system metrics of the last minute are still being read; skipping those of %s", at.Format(time.RFC3339))
	}
	for _, p := range w.h.Plugins() {
		n := p.Name
		if w.running[n] {
			w.log.Warningf("plugin %s is still running; skipping its run of %s", n, at.Format(time.RFC3339))
			continue
		}
		w.running[n] = true
		w.a.spawn(w, func() func() {
			b := w.h.PluginValues(w.ctx, p, at)
			return func() {
				w.running[n] = false
				w.metrics.Add(b, w.a.clock.Now())
			}
		})
	}
}

func (w *watched) startSpecs() {
	w.submitSys(sysJob{kind: "param", run: func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		param, err := w.h.Param(ctx)
		if err == nil {
			err = w.a.api.UpdateHost(ctx, w.id, param)
		}
		return func() {
			if err != nil {
				w.log.Errorf("Error while updating host specs: %v", err)
			} else {
				w.log.Debugf("Host specs sent.")
			}
		}
	}})
}

// startGraphDefs runs the plugins for their graph definitions, once, and
// sends them; a failed send is tried again a minute later, a few times,
// before the plugins' values go without them.
func (w *watched) startGraphDefs() {
	w.defs.busy = true
	fetched := w.defs.fetched
	w.a.spawn(w, func() func() {
		defs := w.defs.defs
		if !fetched {
			defs = w.h.GraphDefs(w.ctx)
		}
		var err error
		if len(defs) > 0 {
			ctx, cancel := context.WithTimeout(w.ctx, time.Minute)
			err = w.a.api.CreateGraphDefs(ctx, defs)
			cancel()
		}
		return func() {
			w.defs.busy, w.defs.defs, w.defs.fetched = false, defs, true
			w.defs.tries++
			now := w.a.clock.Now()
			switch {
			case err == nil:
				w.defs.settled = true
			case api.Classify(err) == api.Refused || w.defs.tries >= defsTries:
				w.log.Errorf("Failed to create graphdefs: %v; the plugins' values go without them", err)
				w.defs.settled = true
			default:
				w.log.Warningf("Failed to create graphdefs (will retry): %v", err)
				w.defs.at = now.Add(time.Minute)
			}
			if w.defs.settled {
				w.metrics.HoldPlugins = false
				w.metrics.Kick(now)
			}
		}
	})
}

func (w *watched) startCheck(c *checkRun, at time.Time) {
	c.running = true
	w.a.spawn(w, func() func() {
		r := w.h.RunCheck(w.ctx, c.c, at)
		return func() {
			c.running = false
			prev := c.c.Last()
			rep, send, urgent := c.c.Apply(r)
			w.log.Debugf("checker %q: status=%s message=%q", c.c.Plugin.Name, r.Status, r.Message)
			if send {
				w.reports.Add(rep, urgent, w.a.clock.Now())
			}
			if c.c.Plugin.Action != nil {
				w.a.spawn(w, func() func() {
					w.h.RunAction(w.ctx, c.c, r, prev)
					return nil
				})
			}
		}
	})
}

func (w *watched) startPost(now time.Time) {
	vals := w.metrics.Take(now, w.resolve)
	if vals == nil {
		return
	}
	w.posting = true
	w.a.spawn(w, func() func() {
		err := w.a.api.PostValues(context.Background(), vals)
		return func() {
			w.posting = false
			w.metrics.Done(err, w.a.clock.Now())
		}
	})
}

func (w *watched) startReport(now time.Time) {
	r := w.reports.Take(now, w.resolve)
	if r == nil {
		return
	}
	w.reporting = true
	w.a.spawn(w, func() func() {
		err := w.a.api.PostCheckReports(context.Background(), r)
		return func() {
			w.reporting = false
			for _, name := range w.reports.Done(err, w.a.clock.Now()) {
				for _, c := range w.checks {
					if c.c.Plugin.Name == name {
						c.c.Refused()
					}
				}
			}
		}
	})
}

// lookupCustom finds the host of a custom_identifier. Not found, its
// values and reports are given up, and it is looked up again hourly; a
// failed lookup is tried again with backoff.
func (w *watched) lookupCustom(ci string, c *customHost) {
	c.busy = true
	w.a.spawn(w, func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), api.DefaultTimeout)
		defer cancel()
		h, err := w.a.api.FindCustomHost(ctx, ci)
		return func() {
			c.busy = false
			now := w.a.clock.Now()
			switch {
			case err != nil:
				w.log.Warningf("Failed to retrieve the host of custom_identifier %q (will retry): %v", ci, err)
				c.retry.failed(now, api.RetryAfter(err))
			case h == nil:
				w.log.Warningf("No host has custom_identifier %q (create it with mkr create --customIdentifier %s NAME); its values and reports are given up until it exists", ci, ci)
				c.state = queue.Unknown
				c.retry.next = now.Add(customRetry)
			default:
				c.id, c.state = h.ID, queue.Resolved
				c.retry.reset()
				w.metrics.Kick(now)
				w.reports.Kick(now)
			}
		}
	})
}

// startSpread is how long after the start a host's checks and graph
// definitions begin: up to 15 s, by its name and id (when the id file
// gives it), so that a fleet started together does not call at once.
func startSpread(name, id string) time.Duration {
	return time.Duration(queue.HostSecond(name+id)/4) * time.Second
}
