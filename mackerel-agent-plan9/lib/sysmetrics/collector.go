package sysmetrics

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/fsspace"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

// SampleInterval is how often the agent calls Sample: the tick at which
// Unix kernels update their load averages.
const SampleInterval = 5 * time.Second

// Collector computes the system metrics of one Plan 9 name space. Sample
// reads the load and CPU figures every SampleInterval; Collect reads the
// rest once a minute and returns the minute's metrics. Its methods may be
// called from several goroutines.
type Collector struct {
	fsys     ns.FS
	st       p9stats.FS
	consoles []fsspace.Spec
	log      *limiter

	mu      sync.Mutex
	started bool // the interval's baselines were read
	load    loadAvg
	cpu     cpuMean // this interval's sysstat samples
	procs   *procTimes
	// procsLogged says the fallback of cpu.user for the whole busy share
	// was logged; it is logged once until /proc can be read again.
	procsLogged bool
	ethers      map[string]etherOctets
	names       map[string]bool // every name computed so far
}

// New returns a Collector reading fsys: ns.Dir(root), or a 9P client.
// consoles are the file servers whose space is reported, as --fs parses
// them. logf receives at most one line per source per minute.
func New(fsys ns.FS, consoles []fsspace.Spec, logf func(format string, args ...any)) *Collector {
	return &Collector{
		fsys:     fsys,
		st:       p9stats.NewFS(fsys),
		consoles: consoles,
		log:      newLimiter(logf),
		ethers:   map[string]etherOctets{},
		names:    map[string]bool{},
	}
}

// Sample reads /dev/sysstat once: the load, which feeds the three load
// averages, and each CPU's idle and interrupt time, which Collect
// averages. The first call also reads the counters whose differences
// Collect needs (/proc and the ethernet byte counters). now is the agent's
// clock. Sample returns by ctx's deadline.
func (c *Collector) Sample(ctx context.Context, now time.Time) {
	c.mu.Lock()
	first := !c.started
	c.mu.Unlock()
	src := p9stats.SourceSysStat
	if first {
		src |= p9stats.SourceProcs | p9stats.SourceEther
	}
	snap := c.st.Snapshot(ctx, src)

	c.mu.Lock()
	defer c.mu.Unlock()
	if first && !c.started {
		c.setBaselines(snap, now)
	}
	if err := snap.Errors[p9stats.SourceSysStat]; err != nil {
		c.log.log(now, "loadavg, cpu", "this sample is lost: %v", err)
		return
	}
	c.load.update(p9stats.LoadAverage(snap.CPUs), now)
	c.cpu.add(sysstatShares(snap.CPUs))
}

// setBaselines keeps what a snapshot holds of the counters read at an
// interval's ends. A source that failed keeps its previous reading, so the
// next interval spans two, and its rates are still right.
func (c *Collector) setBaselines(snap *p9stats.Snapshot, now time.Time) {
	c.started = true
	if err := snap.Errors[p9stats.SourceProcs]; err == nil || len(snap.Procs) > 0 {
		pt := newProcTimes(now, snap.Procs)
		c.procs = &pt
	}
	for _, e := range snap.Ethers {
		if is := e.IfStats; is.HasOctets {
			c.ethers[e.Name] = etherOctets{at: now, counters: is.Octets, rx: is.InOctets, tx: is.OutOctets}
		}
	}
}

// Collect returns the system metrics of the interval since the previous
// Collect (the first covers the time since the first Sample), named as
// Mackerel names them: loadavg1, loadavg5 and loadavg15; cpu.*.percentage,
// the mean of the interval's samples, busy time split into user and
// system in the ratio of the processes' times; memory.*; the byte rates
// interface.*.delta between the interval's ends; filesystem.* of the
// configured file servers. A metric whose source failed is left out, with
// a log line. Collect returns by ctx's deadline.
func (c *Collector) Collect(ctx context.Context, now time.Time) map[string]float64 {
	var (
		snap   *p9stats.Snapshot
		spaces []fsspace.Result
		wg     sync.WaitGroup
	)
	if len(c.consoles) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spaces = fsspace.ReadAll(ctx, c.fsys, c.consoles)
		}()
	}
	snap = c.st.Snapshot(ctx, p9stats.SourceSwap|p9stats.SourceProcs|p9stats.SourceEther)
	wg.Wait()

	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]float64{}
	names := map[string]bool{}
	post := func(name string, v float64) {
		names[name] = true
		// Never NaN, ±Inf or below zero: none of these metrics can be.
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			c.log.log(now, name, "left out: computed %v", v)
			return
		}
		out[name] = v
	}

	if c.cpu.n > 0 {
		for i, n := range loadNames {
			post(n, c.load.v[i])
		}
		c.collectCPU(snap, now, post)
	}
	if c.started {
		c.collectEthers(snap, now, post)
	}
	if err := snap.Errors[p9stats.SourceSwap]; err != nil || snap.Swap == nil {
		c.log.log(now, "memory", "left out: %v", err)
	} else if m, err := memoryMetrics(*snap.Swap); err != nil {
		c.log.log(now, "memory", "left out: /dev/swap: %v", err)
	} else {
		for n, v := range m {
			post(n, v)
		}
	}
	for _, r := range spaces {
		if r.Err != nil {
			c.log.log(now, "filesystem "+r.Spec.String(), "left out: %v", r.Err)
			continue
		}
		for _, s := range r.Spaces {
			size, used := filesystemNames(s.Segment)
			post(size, float64(s.Size))
			post(used, float64(s.Used))
		}
	}

	c.cpu = cpuMean{}
	c.setBaselines(snap, now)
	for n := range names {
		c.names[n] = true
	}
	return out
}

// collectCPU posts the interval's mean of the CPU shares, splitting the
// busy share between user and system in the ratio of the CPU time the
// processes alive at both ends accumulated, which /proc reports and
// /dev/sysstat does not.
func (c *Collector) collectCPU(snap *p9stats.Snapshot, now time.Time, post func(string, float64)) {
	m := c.cpu.mean()
	post(nameCPUIdle, m.idle)
	post(nameCPUIRQ, m.intr)
	err := snap.Errors[p9stats.SourceProcs]
	if err != nil && len(snap.Procs) == 0 {
		c.fallback(now, "/proc cannot be read: %v", err)
		post(nameCPUUser, m.busy)
		return
	}
	if err != nil {
		c.log.log(now, "cpu.user, cpu.system", "processes left out of the split: %v", err)
	}
	if c.procs == nil {
		c.fallback(now, "/proc could not be read at the interval's start")
		post(nameCPUUser, m.busy)
		return
	}
	c.procsLogged = false
	user, sys, _ := cpuTimes(*c.procs, newProcTimes(now, snap.Procs))
	if user+sys == 0 {
		// No process was charged a tick: nothing to split by.
		post(nameCPUUser, m.busy)
		return
	}
	u := m.busy * float64(user) / float64(user+sys)
	post(nameCPUUser, u)
	post(nameCPUSystem, m.busy-u)
}

// fallback logs, once until /proc can be read again, why the whole busy
// share is posted as cpu.user.
func (c *Collector) fallback(now time.Time, format string, args ...any) {
	if c.procsLogged {
		return
	}
	c.procsLogged = true
	c.log.log(now, "cpu.system", "left out, and all busy time posted as cpu.user: "+format, args...)
}

// collectEthers posts the byte rates of the devices whose drivers count
// bytes, between each device's previous reading and this one.
func (c *Collector) collectEthers(snap *p9stats.Snapshot, now time.Time, post func(string, float64)) {
	if err := snap.Errors[p9stats.SourceEther]; err != nil && !p9stats.IsNotExist(err) {
		c.log.log(now, "interface", "%v", err)
	}
	for _, e := range snap.Ethers {
		prev, ok := c.ethers[e.Name]
		if !ok {
			continue
		}
		rx, tx, ok := e.IfStats.OctetsOf(prev.counters)
		if !ok {
			continue
		}
		d := now.Sub(prev.at)
		bits := prev.counters.Bits
		maxRate := float64(e.Stats.Mbps) * 1e6 / 8
		rxName, txName := interfaceNames(e.Name)
		for _, x := range []struct {
			name      string
			prev, cur uint64
		}{{rxName, prev.rx, rx}, {txName, prev.tx, tx}} {
			if r, ok := counterRate(x.prev, x.cur, bits, d, maxRate); ok {
				post(x.name, r)
			} else if d > 0 {
				c.log.log(now, x.name, "left out: /net/%s/ifstats: the counter went back from %d to %d", e.Name, x.prev, x.cur)
			}
		}
	}
}

// Names returns the system metric names this Collector posts for the
// host's kernel: every name a Collect so far has computed, whether or not
// its value was fit to post. A name whose source has never answered is
// not among them; before the first Collect there are none.
func (c *Collector) Names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.names))
	for n := range c.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
