package agent

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	checkplan9 "github.com/mackerel-plan9/mackerel-plugin-plan9/check-plan9/lib"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/remote"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/config"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/host"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/queue"
	mpplan9 "github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-plugin-plan9/lib"
)

// Fleet mode: with [host.NAME] tables the agent watches Plan 9 hosts over
// the network, each posted as a Mackerel host of its own, exactly as if
// the native agent ran on it: its system metrics and specs from a 9P
// session kept open, the plugin's custom.plan9 values and the checks of
// its table computed in-process, and a plan9-reachable check saying
// whether it answers.

// ReachableCheck is the check every fleet host gets: CRITICAL while the
// host cannot be reached or read within its timeout.
const ReachableCheck = "plan9-reachable"

// EnvAddress tells the configuration's plugins and checks, run once per
// fleet host, which host they are for.
const EnvAddress = "PLAN9_ADDRESS"

// Shard is the part of a fleet one agent watches: the hosts whose name
// hashes to K of N, as Prometheus' hashmod shards targets, so that N
// agents split a fleet with no coordination. The zero Shard is all.
type Shard struct{ K, N uint64 }

// ParseShard reads "K/N", 1 ≤ K ≤ N.
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(s, "/")
	kk, err1 := strconv.ParseUint(k, 10, 32)
	nn, err2 := strconv.ParseUint(n, 10, 32)
	if !ok || err1 != nil || err2 != nil || kk < 1 || kk > nn {
		return Shard{}, fmt.Errorf("--shard %q: give K/N, a whole K from 1 to N", s)
	}
	return Shard{kk, nn}, nil
}

// Has says whether the shard watches the host named name: the last eight
// bytes of the MD5 of its name, modulo N, are K-1.
func (s Shard) Has(name string) bool {
	if s.N == 0 {
		return true
	}
	sum := md5.Sum([]byte(name))
	return binary.BigEndian.Uint64(sum[8:])%s.N == s.K-1
}

// fleetHosts are the hosts of the configuration that the shard watches.
func (a *Agent) fleetHosts(c *config.Config, shard Shard) []HostOptions {
	var out []HostOptions
	for _, name := range c.HostNames() {
		if shard.Has(name) {
			out = append(out, a.fleetHost(c, c.Hosts[name]))
		}
	}
	return out
}

// fleetHost is the watched host of a [host.NAME] table.
func (a *Agent) fleetHost(c *config.Config, h *config.Host) HostOptions {
	lg := a.log.With(h.Name)
	user := os.Getenv("USER")
	if user == "" {
		user = "none"
	}
	s := remote.NewSession(h.Address, remote.Options{User: user, KeyFile: h.AuthKey, AuthServer: h.AuthServer, Timeout: h.Timeout})
	sys := host.NewRemote(s, h.Consoles, h.Timeout, lg.Warningf)
	dir := c.HostDir(h.Name)
	ho := HostOptions{IDFile: filepath.Join(dir, "id"), Offset: collectOffset(h.Name), conf: h}
	ho.Name, ho.DisplayName, ho.Roles, ho.System = h.Name, h.DisplayName, h.Roles, sys
	ho.Plugins, ho.Checks = c.MetricPlugins, c.CheckPlugins
	ho.IgnoreInterfaces, ho.IgnoreFilesystems = c.Interfaces.Ignore, c.Filesystems.Ignore
	ho.Workdir = filepath.Join(dir, "work")
	ho.Env = []string{EnvAddress + "=" + h.Address}
	ho.InProcess = map[string]host.InProcess{"plan9": &plan9Values{sys: sys, clock: a.clock, p: &mpplan9.Plugin{
		Prefix: "plan9", FS: s, Consoles: h.Consoles, Identity: "9p:" + h.Address,
		StateFile: filepath.Join(dir, "work", "plan9.state"), Interval: time.Second,
		Now: time.Now, Stderr: lineLog{lg},
	}}}
	reach := &host.Check{Plugin: &config.CheckPlugin{Name: ReachableCheck, Interval: time.Minute}}
	reach.Exec = func(ctx context.Context) (mackerel.CheckStatus, string) {
		if err := sys.Reachable(ctx, a.clock.Now()); err != nil {
			// The session's errors name the address already, mostly.
			msg := err.Error()
			if !strings.Contains(msg, h.Address) {
				msg = h.Address + ": " + msg
			}
			return mackerel.CheckStatusCritical, msg
		}
		return mackerel.CheckStatusOK, h.Address + " answers"
	}
	ho.InProcessChecks = []*host.Check{reach}
	for _, hc := range h.Checks {
		ck, err := checkplan9.Parse(hc.Args)
		if err != nil {
			// config checked every line; a line it passed that the
			// checks refuse is reported as its own result.
			msg := fmt.Sprintf("check-plan9 %s: %v", strings.Join(hc.Args, " "), err)
			ho.InProcessChecks = append(ho.InProcessChecks, &host.Check{
				Plugin: &config.CheckPlugin{Name: hc.Name, Interval: time.Minute},
				Exec: func(context.Context) (mackerel.CheckStatus, string) {
					return mackerel.CheckStatusUnknown, msg
				}})
			continue
		}
		ho.InProcessChecks = append(ho.InProcessChecks, &host.Check{
			Plugin: &config.CheckPlugin{Name: hc.Name, Interval: time.Minute},
			Exec: func(ctx context.Context) (mackerel.CheckStatus, string) {
				if err := sys.Reachable(ctx, a.clock.Now()); err != nil {
					return mackerel.CheckStatusUnknown, ck.Unknown(err.Error())
				}
				code, line := ck.Run(ctx, s, h.Address)
				return host.StatusOf(code), line
			}})
	}
	return ho
}

// collectSpread is the part of the minute over which a fleet's hosts are
// read, each at its own second by its name: a thousand hosts read at the
// minute's second 0 kept both processors busy for some ten seconds, and
// their readings past the hosts' timeout. A host's reading may still take
// its whole timeout (10 s by default) and be posted within its minute.
const collectSpread = 45 * time.Second

// collectOffset is the host's own second of the minute to be read at.
func collectOffset(name string) time.Duration {
	return time.Duration(queue.HostSecond(name)) * collectSpread / 60
}

// plan9Values is mackerel-plugin-plan9 computed in-process for a fleet
// host: the same values and graph definitions as the command prints.
type plan9Values struct {
	p     *mpplan9.Plugin
	sys   *host.Remote
	clock Clock
}

// Values are none while the host does not answer: plan9-reachable says
// so, once, rather than each of the plugin's sources every minute.
func (v *plan9Values) Values(ctx context.Context, now time.Time) (map[string]float64, error) {
	if v.sys.Reachable(ctx, v.clock.Now()) != nil {
		return nil, nil
	}
	m, err := v.p.Collect(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(m))
	for k, x := range m {
		out[v.p.Prefix+"."+k] = x
	}
	return out, nil
}

func (v *plan9Values) GraphDefs() []*mackerel.GraphDefsParam {
	var out []*mackerel.GraphDefsParam
	for _, key := range slices.Sorted(maps.Keys(v.p.GraphDefinition())) {
		g := v.p.GraphDefinition()[key]
		name := "custom." + v.p.Prefix + "." + key
		unit := g.Unit
		if unit == "" {
			unit = "float"
		}
		d := &mackerel.GraphDefsParam{Name: name, DisplayName: g.Label, Unit: unit}
		for _, m := range g.Metrics {
			d.Metrics = append(d.Metrics, &mackerel.GraphDefsMetric{Name: name + "." + m.Name, DisplayName: m.Label, IsStacked: m.Stacked})
		}
		out = append(out, d)
	}
	return out
}

// lineLog passes what the in-process plugin says on its standard error to
// the host's log, a line at a time.
type lineLog struct{ l *logger.Logger }

func (w lineLog) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		w.l.Warningf("%s", strings.TrimPrefix(line, "mackerel-plugin-plan9: "))
	}
	return len(b), nil
}

var _ io.Writer = lineLog{}

// reloadHosts applies a configuration read again: hosts added start,
// hosts removed stop (they are not retired), changed ones start again
// under the same id, and the others go on without a gap.
func (a *Agent) reloadHosts(c *config.Config, now time.Time) {
	if c.Apikey != a.conf.Apikey || c.Apibase != a.conf.Apibase {
		a.log.Warningf("Reloading %s: apikey and apibase take effect at the next start", c.File)
	}
	plugins := reflect.DeepEqual(c.MetricPlugins, a.conf.MetricPlugins) && reflect.DeepEqual(c.CheckPlugins, a.conf.CheckPlugins) &&
		reflect.DeepEqual(c.Interfaces, a.conf.Interfaces) && reflect.DeepEqual(c.Filesystems, a.conf.Filesystems)
	want := map[string]*config.Host{}
	for _, name := range c.HostNames() {
		if a.shard.Has(name) {
			want[name] = c.Hosts[name]
		}
	}
	var kept []*watched
	var added, removed, changed int
	for _, w := range a.hosts {
		h, ok := want[w.o.Name]
		switch {
		case !ok:
			removed++
			w.remove("it is no longer in the configuration")
		case plugins && reflect.DeepEqual(h, w.o.conf):
			kept = append(kept, w)
			delete(want, w.o.Name)
		default:
			changed++
			w.remove("its configuration changed")
		}
	}
	old := a.conf
	a.conf = c
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if _, ok := old.Hosts[name]; !ok || !a.shard.Has(name) {
			added++
		}
		w := a.newWatched(a.fleetHost(c, want[name]))
		w.start(now)
		kept = append(kept, w)
	}
	a.hosts = kept
	a.log.Infof("Reloaded %s: hosts %d added, %d removed, %d changed; %d watched", c.File, added, removed, changed, len(a.hosts))
}
