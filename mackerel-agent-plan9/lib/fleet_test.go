package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"9fans.net/go/plan9"
	mp "github.com/mackerelio/go-mackerel-plugin"
	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/config"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/host"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/queue"
	mpplan9 "github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-plugin-plan9/lib"
)

// fleetHost is a Plan 9 host for the fleet's tests: a real capture served
// over 9P on the loopback, which can be taken down (every request then
// closes the connection) and brought back.
type fleetHost struct {
	addr string
	down atomic.Bool
	srv  *p9test.Server
}

func newFleetHost(t *testing.T, capture string) *fleetHost {
	h := &fleetHost{}
	h.srv = &p9test.Server{Root: testkit.Capture(capture), Fault: func(*plan9.Fcall, string) p9test.Fault {
		if h.down.Load() {
			return p9test.Hangup
		}
		return p9test.Answer
	}}
	h.addr = p9test.Start(t, h.srv)
	return h
}

// fleetAgent is an agent on the simulated clock watching the [host.*]
// tables of body.
func fleetAgent(t *testing.T, api *mackereltest.Server, clock *simClock, body string, opts ...func(*Options)) (*Agent, *config.Config, *syncBuffer) {
	t.Helper()
	conf := testConfig(t, api, body)
	var log syncBuffer
	o := Options{Config: conf, Fleet: true, Clock: clock, Log: &log, Version: "0.1.0", Revision: "abc",
		HTTPTimeout: 5 * time.Second, Runner: newSimRunner(clock)}
	for _, f := range opts {
		f(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a, conf, &log
}

// reportsOf are the check reports that arrived for a host, by check.
func reportsOf(t *testing.T, api *mackereltest.Server, hostID string) map[string][]sentReport {
	out := map[string][]sentReport{}
	for _, r := range reports(t, api) {
		if api.Calls("POST", "/api/v0/monitoring/checks/report")[r.Request].Status == 200 && r.Source.HostID == hostID {
			out[r.Name] = append(out[r.Name], r)
		}
	}
	return out
}

// Two hosts, one of which goes down: each is registered under its own
// sysname (or found by the id it had), gets the native agent's system
// metrics, the plugin's values and its checks; the one that goes down has
// plan9-reachable CRITICAL and no system metrics (absent, never zero)
// until it answers again, and never delays the other's minute.
func TestFleetTwoHostsOneFailing(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	gnot := newFleetHost(t, testkit.Front11879amd64)
	cirno := newFleetHost(t, testkit.Legacy386)
	a, conf, log := fleetAgent(t, api, clock, fmt.Sprintf(`
[host.gnot]
address = %q
roles = ["plan9:cpu"]
checks = ["procs --broken", "load -w 0.5 -c 9"]
[host.cirno]
address = %q
timeout = "2s"
`, gnot.addr, cirno.addr))
	// cirno was registered by an earlier run.
	cirnoID := api.AddHost("cirno", "")
	os.MkdirAll(conf.HostDir("cirno"), 0o755)
	os.WriteFile(filepath.Join(conf.HostDir("cirno"), "id"), []byte(cirnoID), 0o600)
	clock.at(t0.Add(3*time.Minute), func() { cirno.down.Store(true) })
	clock.at(t0.Add(8*time.Minute), func() { cirno.down.Store(false) })
	if err := runFor(t, a, clock, t0.Add(12*time.Minute)); err != nil {
		t.Fatal(err, log.String())
	}
	creates := api.Calls("POST", "/api/v0/hosts")
	if len(creates) != 1 {
		t.Fatalf("%d hosts created, want gnot only:\n%s", len(creates), log.String())
	}
	var param mackerel.CreateHostParam
	creates[0].Decode(t, &param)
	gnotID := "H002"
	if param.Name != "gnot" || len(param.RoleFullnames) != 1 || len(param.Checks) != 3 {
		t.Errorf("gnot's entry %+v", param)
	}
	if b, _ := os.ReadFile(filepath.Join(conf.HostDir("gnot"), "id")); string(b) != gnotID {
		t.Errorf("gnot's id file holds %q", b)
	}
	// System metrics and the plugin's values, per host and minute.
	type key struct {
		host string
		min  int64
	}
	load, custom := map[key]bool{}, map[string]int{}
	for _, v := range api.Posted(t) {
		if v.Name == "loadavg1" {
			load[key{v.HostID, v.Time / 60}] = true
		}
		if strings.HasPrefix(v.Name, "custom.plan9.") {
			custom[v.HostID]++
		}
	}
	for m := t0.Unix() / 60; m < t0.Add(12*time.Minute).Unix()/60; m++ {
		if !load[key{gnotID, m}] {
			t.Errorf("gnot has no load average for %v", time.Unix(m*60, 0).UTC())
		}
		down := m >= t0.Add(3*time.Minute).Unix()/60 && m < t0.Add(8*time.Minute).Unix()/60
		edge := m == t0.Add(3*time.Minute).Unix()/60 || m == t0.Add(8*time.Minute).Unix()/60
		if load[key{cirnoID, m}] == down && !edge {
			t.Errorf("cirno, down %v: load average for %v: %v", down, time.Unix(m*60, 0).UTC(), load[key{cirnoID, m}])
		}
	}
	if custom[gnotID] < 10*50 || custom[cirnoID] < 5*50 {
		t.Errorf("plugin values: %v", custom)
	}
	g, c := reportsOf(t, api, gnotID), reportsOf(t, api, cirnoID)
	if len(g["procs-broken"]) == 0 || len(g["load-w-0-5-c-9"]) == 0 || g["load-w-0-5-c-9"][0].Status != "WARNING" {
		t.Errorf("gnot's checks: %+v", g)
	}
	var states []string
	for _, r := range c[ReachableCheck] {
		if len(states) == 0 || states[len(states)-1] != r.Status {
			states = append(states, r.Status)
		}
	}
	if strings.Join(states, " ") != "OK CRITICAL OK" {
		t.Errorf("cirno's %s: %v\n%s", ReachableCheck, c[ReachableCheck], log.String())
	}
	for _, r := range c[ReachableCheck] {
		// the address, once (the session's error names it)
		if r.Status == "CRITICAL" && strings.Count(r.Message, cirno.addr) != 1 {
			t.Errorf("the CRITICAL says %q", r.Message)
		}
	}
	// One 9P session per host, dialled again once after the outage.
	t.Logf("gnot %d requests", gnot.srv.Requests())
}

// A hangup's configuration adds a host, removes one and changes none of
// the third: the third goes on without a gap.
func TestFleetReload(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	a1, b1, c1 := newFleetHost(t, testkit.Front11879amd64), newFleetHost(t, testkit.Legacy386), newFleetHost(t, testkit.Front11879x386)
	body := func(hosts ...*fleetHost) string {
		var b strings.Builder
		for i, h := range hosts {
			fmt.Fprintf(&b, "[host.%c]\naddress = %q\n", "abc"[map[*fleetHost]int{a1: 0, b1: 1, c1: 2}[h]], h.addr)
			_ = i
		}
		return b.String()
	}
	reload := make(chan *config.Config, 1)
	a, conf, log := fleetAgent(t, api, clock, body(a1, b1), func(o *Options) { o.Reload = reload })
	next := testConfig(t, api, body(a1, c1))
	next.Root = conf.Root
	next.Pidfile = conf.Pidfile
	clock.at(t0.Add(150*time.Second), func() { reload <- next })
	if err := runFor(t, a, clock, t0.Add(6*time.Minute)); err != nil {
		t.Fatal(err, log.String())
	}
	ids := map[string]string{}
	for _, dir := range []string{"a", "b", "c"} {
		b, _ := os.ReadFile(filepath.Join(conf.HostDir(dir), "id"))
		ids[dir] = string(b)
	}
	mins := map[string]map[int64]bool{}
	for _, v := range api.Posted(t) {
		if v.Name == "loadavg1" {
			if mins[v.HostID] == nil {
				mins[v.HostID] = map[int64]bool{}
			}
			mins[v.HostID][v.Time/60] = true
		}
	}
	start, end := t0.Unix()/60, t0.Add(6*time.Minute).Unix()/60
	for m := start; m < end; m++ {
		if !mins[ids["a"]][m] {
			t.Errorf("a, unchanged, lacks minute %v", time.Unix(m*60, 0).UTC())
		}
	}
	if n := len(mins[ids["b"]]); n > 4 {
		t.Errorf("b posted %d minutes, after it was removed at 2.5 min", n)
	}
	if n := len(mins[ids["c"]]); n < 3 || mins[ids["c"]][start] {
		t.Errorf("c, added at 2.5 min, posted %v", mins[ids["c"]])
	}
	if !strings.Contains(log.String(), "hosts 1 added, 1 removed, 0 changed; 2 watched") {
		t.Errorf("log:\n%s", log.String())
	}
	if n := len(api.Calls("POST", "/api/v0/hosts/"+ids["b"]+"/retire")); n != 0 {
		t.Error("b was retired")
	}
}

// --shard K/N splits a fleet: every host in exactly one of N shards, and
// about evenly.
func TestShard(t *testing.T) {
	counts := make([]int, 4)
	for i := range 1000 {
		name := fmt.Sprintf("host%d", i)
		n := 0
		for k := uint64(1); k <= 4; k++ {
			if (Shard{k, 4}).Has(name) {
				counts[k-1]++
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%s in %d shards", name, n)
		}
	}
	for _, c := range counts {
		if c < 200 || c > 300 {
			t.Errorf("shards of 1000: %v", counts)
		}
	}
	for _, bad := range []string{"0/4", "5/4", "1", "a/b", "1/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	_ = queue.HostSecond
}

// The plugin computed in-process defines the same graphs as the command
// prints with MACKEREL_AGENT_PLUGIN_META.
func TestInProcessGraphDefs(t *testing.T) {
	p := &mpplan9.Plugin{Prefix: "plan9"}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	mp.NewMackerelPlugin(p).OutputDefinitions()
	os.Stdout = stdout
	w.Close()
	out, _ := io.ReadAll(r)
	want, err := host.ParseGraphDefs(string(out))
	if err != nil || len(want) < 15 {
		t.Fatalf("%d definitions: %v", len(want), err)
	}
	got := (&plan9Values{p: p}).GraphDefs()
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if string(wj) != string(gj) {
		t.Errorf("in-process:\n%s\nthe command:\n%s", gj, wj)
	}
}
