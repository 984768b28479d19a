package agent

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/queue"
)

// An arbitrary start, a few seconds past a minute, as a real start is.
var t0 = time.Date(2026, 11, 22, 10, 0, 7, 0, time.UTC)

// runFor runs the agent on the simulated clock until it has been stopped
// at stopAt and has drained its queue.
func runFor(t *testing.T, a *Agent, clock *simClock, stopAt time.Time) error {
	t.Helper()
	clock.stopAt = stopAt
	done := make(chan error, 1)
	go func() { done <- a.Run(clock.term) }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("the agent did not stop; simulated time %v", clock.Now())
		return nil
	}
}

const valuePlugin = `
if [ -n "$MACKEREL_AGENT_PLUGIN_META" ]; then
	echo '# mackerel-agent-plugin'
	echo '{"graphs":{"test":{"label":"Test","unit":"integer","metrics":[{"name":"value","label":"Value","stacked":true}]}}}'
	exit 0
fi
echo "test.value	42	$(date +%s)"
echo "test.workdir_set	$( [ -d "$MACKEREL_PLUGIN_WORKDIR" ] && echo 1 || echo 0 )	0"
`

// A first start registers the host with its specs, saves its id, sends
// the plugins' graph definitions, then posts each minute's values at the
// host's own second, with the right host id and time.
func TestRegisterAndPost(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	conf := testConfig(t, api, fmt.Sprintf(`
display_name = "Glenda's gnot"
roles = ["plan9:cpu"]
[host_status]
on_start = "working"
on_stop = "standby"
[plugin.metrics.test]
command = %q
[plugin.checks.alive]
command = "exit 0"
memo = "always OK"
`, script(t, "plugin", valuePlugin)))
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
	if err := runFor(t, a, clock, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err, log.String())
	}

	creates := api.Calls("POST", "/api/v0/hosts")
	if len(creates) != 1 {
		t.Fatalf("%d host creations", len(creates))
	}
	var param mackerel.CreateHostParam
	creates[0].Decode(t, &param)
	if param.Name != "gnot" || param.DisplayName != "Glenda's gnot" || len(param.RoleFullnames) != 1 || param.RoleFullnames[0] != "plan9:cpu" {
		t.Errorf("host param %+v", param)
	}
	if param.Meta.AgentName != "mackerel-agent-plan9/0.1.0 (Revision abc)" || param.Meta.Kernel["os"] != "plan9" {
		t.Errorf("meta %+v", param.Meta)
	}
	if len(param.Checks) != 1 || param.Checks[0].Name != "alive" || param.Checks[0].Memo != "always OK" {
		t.Errorf("checks %+v", param.Checks)
	}
	if len(param.Interfaces) != 1 || param.Interfaces[0].MacAddress != "52:54:00:12:34:56" {
		t.Errorf("interfaces %+v", param.Interfaces)
	}
	id, err := os.ReadFile(conf.IDFile())
	if err != nil || string(id) != "H001" {
		t.Errorf("id file %q %v", id, err)
	}
	if h := api.Host("H001"); h.Status != "standby" {
		t.Errorf("status after stop %q, want standby (on_stop)", h.Status)
	}
	statuses := api.Calls("POST", "/api/v0/hosts/H001/status")
	if len(statuses) != 2 || !strings.Contains(string(statuses[0].Body), `"working"`) || !strings.Contains(string(statuses[1].Body), `"standby"`) {
		t.Errorf("status calls %v", statuses)
	}
	if len(api.Calls("PUT", "/api/v0/hosts/H001")) != 1 {
		t.Errorf("specs sent %d times in 5 minutes, want once", len(api.Calls("PUT", "/api/v0/hosts/H001")))
	}

	defs := api.Calls("POST", "/api/v0/graph-defs/create")
	if len(defs) != 1 {
		t.Fatalf("%d graph-defs calls", len(defs))
	}
	var gd []mackerel.GraphDefsParam
	defs[0].Decode(t, &gd)
	if len(gd) != 1 || gd[0].Name != "custom.test" || gd[0].Unit != "integer" || len(gd[0].Metrics) != 1 ||
		gd[0].Metrics[0].Name != "custom.test.value" || !gd[0].Metrics[0].IsStacked {
		t.Errorf("graph defs %s", defs[0].Body)
	}

	sec := queue.HostSecond("H001")
	posts := api.Calls("POST", "/api/v0/tsdb")
	if len(posts) < 5 {
		t.Fatalf("%d posts in 5 minutes: %s", len(posts), log.String())
	}
	for _, p := range posts {
		if strings.Contains(string(p.Body), "custom.test") && p.At.Before(defs[0].At) {
			t.Errorf("the plugin's values posted at %v before their graph definitions at %v", p.At, defs[0].At)
		}
	}
	for _, p := range posts[1 : len(posts)-1] {
		// Steady state: at the host's own second of the minute.
		if p.At.Second() != sec {
			t.Errorf("posted at %v, want second %d", p.At, sec)
		}
	}
	vals := api.Posted(t)
	ticks := map[int64]map[string]float64{}
	for _, v := range vals {
		if v.HostID != "H001" {
			t.Errorf("value for host %q", v.HostID)
		}
		if ticks[v.Time] == nil {
			ticks[v.Time] = map[string]float64{}
		}
		ticks[v.Time][v.Name] = v.Value
	}
	// The first tick at start, then one at every minute's second 0.
	want := []int64{t0.Unix()}
	for m := t0.Truncate(time.Minute).Add(time.Minute); !m.After(t0.Add(5 * time.Minute)); m = m.Add(time.Minute) {
		want = append(want, m.Unix())
	}
	for i, tm := range want {
		got := ticks[tm]
		if got["custom.test.value"] != 42 || got["custom.test.workdir_set"] != 1 || got["loadavg1"] != float64(i) {
			t.Errorf("tick %v: %v", time.Unix(tm, 0).UTC(), got)
		}
	}
	if len(ticks) != len(want) {
		t.Errorf("%d ticks posted, want %d", len(ticks), len(want))
	}
}

// An id file names the host: it is found, not created again.
func TestIDFileReused(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	id := api.AddHost("gnot", "")
	conf := testConfig(t, api, "")
	os.MkdirAll(conf.Root, 0o755)
	os.WriteFile(conf.IDFile(), []byte(id+"\n"), 0o644)
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
	if err := runFor(t, a, clock, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err, log.String())
	}
	if n := len(api.Calls("POST", "/api/v0/hosts")); n != 0 {
		t.Errorf("%d host creations", n)
	}
	if n := len(api.Calls("GET", "/api/v0/hosts/"+id)); n != 1 {
		t.Errorf("%d lookups of the host", n)
	}
	if b, _ := os.ReadFile(conf.IDFile()); string(b) != id {
		t.Errorf("id file rewritten as %q", b)
	}
	for _, v := range api.Posted(t) {
		if v.HostID != id {
			t.Errorf("posted to %q", v.HostID)
		}
	}
}

// An id file that names a host Mackerel does not know, or that cannot be
// used, stops the agent with an error saying what to do.
func TestIDFileProblems(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	conf := testConfig(t, api, "")
	os.MkdirAll(conf.Root, 0o755)
	for _, tt := range []struct{ content, want string }{
		{"HGONE", "Mackerel knows no host HGONE, which " + conf.IDFile() + " names: it was retired, or belongs to another organization than the API key's; delete " + conf.IDFile() + " to register this host anew"},
		{"\n", "the host id file " + conf.IDFile() + ` holds "\n", not a host id: delete it to register this host anew`},
	} {
		os.WriteFile(conf.IDFile(), []byte(tt.content), 0o644)
		a, _ := newTestAgent(t, conf, &fakeSystem{}, clock)
		err := a.Run(make(chan struct{}))
		if err == nil || err.Error() != tt.want {
			t.Errorf("id file %q: %v\nwant %s", tt.content, err, tt.want)
		}
	}
	if n := len(api.Calls("POST", "/api/v0/tsdb")); n != 0 {
		t.Errorf("posted %d times", n)
	}
	// A wrong API key: the 401 stops registration at once, not after 20 tries.
	os.Remove(conf.IDFile())
	api.Fail = func(c mackereltest.Call) int { return http.StatusUnauthorized }
	a, _ := newTestAgent(t, conf, &fakeSystem{}, clock)
	start := clock.Now()
	err := a.Run(make(chan struct{}))
	if err == nil || !strings.Contains(err.Error(), "check apikey") || clock.Now() != start {
		t.Errorf("401: %v after %v", err, clock.Now().Sub(start))
	}
}

// The API answers 503 for ten minutes' worth of batches, then recovers:
// every batch arrives afterwards, in order, none twice.
func TestOutageLosesNothing(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	outageEnd := t0.Add(11 * time.Minute)
	api.Fail = func(c mackereltest.Call) int {
		if c.Path == "/api/v0/tsdb" && c.At.Before(outageEnd) {
			return http.StatusServiceUnavailable
		}
		return 0
	}
	conf := testConfig(t, api, "")
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
	if err := runFor(t, a, clock, t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err, log.String())
	}
	failed := 0
	for _, c := range api.Calls("POST", "/api/v0/tsdb") {
		if c.Status == http.StatusServiceUnavailable {
			failed++
		}
	}
	if failed < 10 {
		t.Errorf("only %d failed posts", failed)
	}
	var seq []float64
	for _, v := range api.Posted(t) {
		if v.Name == "loadavg1" {
			seq = append(seq, v.Value)
		}
	}
	// 31 ticks: one at start and one a minute for 30 minutes.
	if len(seq) != 31 {
		t.Fatalf("%d batches arrived, want 31: %v", len(seq), seq)
	}
	for i, v := range seq {
		if v != float64(i) {
			t.Fatalf("batches out of order or repeated: %v", seq)
		}
	}
	if !strings.Contains(log.String(), "Failed to send metrics (will retry)") {
		t.Errorf("the failures were not logged:\n%s", log.String())
	}
}

// Through six hours of outage nothing is given up; upstream's agent would
// have dropped the oldest batches after an hour of retries.
func TestSixHourOutage(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	outageEnd := t0.Add(5*time.Hour + 50*time.Minute)
	api.Fail = func(c mackereltest.Call) int {
		if c.Path == "/api/v0/tsdb" && c.At.Before(outageEnd) {
			return http.StatusBadGateway
		}
		return 0
	}
	conf := testConfig(t, api, "")
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
	if err := runFor(t, a, clock, t0.Add(8*time.Hour)); err != nil {
		t.Fatal(err)
	}
	seen := map[float64]int{}
	for _, v := range api.Posted(t) {
		if v.Name == "loadavg1" {
			seen[v.Value]++
		}
	}
	for i := 0; i <= 8*60; i++ {
		if seen[float64(i)] != 1 {
			t.Fatalf("batch %d arrived %d times; log:\n%s", i, seen[float64(i)], tail(log.String(), 20))
		}
	}
}

func tail(s string, n int) string {
	l := strings.Split(s, "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// A stop posts what is queued, a second apart, within 30 s.
func TestStopDrainsQueue(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	// Down until the stop: ticks at 10:00:07, 10:01, 10:02 and 10:03 queue.
	stop := t0.Add(3*time.Minute + 50*time.Second)
	api.Fail = func(c mackereltest.Call) int {
		if c.Path == "/api/v0/tsdb" && !c.At.After(stop) {
			return http.StatusServiceUnavailable
		}
		return 0
	}
	conf := testConfig(t, api, "")
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
	if err := runFor(t, a, clock, stop); err != nil {
		t.Fatal(err, log.String())
	}
	if n := len(api.Posted(t)); n != 4 {
		t.Errorf("%d values posted after the stop, want the 4 queued: %+v\n%s", n, api.Posted(t), log.String())
	}
	if end := clock.Now(); end.Sub(stop) > drainTime {
		t.Errorf("the stop took %v", end.Sub(stop))
	}
}

// Started late in a minute, the agent waits for the minute's own tick
// rather than collecting twice, seconds apart.
func TestNoTickJustBeforeTheMinute(t *testing.T) {
	start := time.Date(2026, 11, 22, 10, 0, 45, 0, time.UTC)
	clock := newSimClock(start)
	api := mackereltest.NewServer(t, clock.Now)
	sys := &fakeSystem{}
	a, log := newTestAgent(t, testConfig(t, api, ""), sys, clock)
	if err := runFor(t, a, clock, start.Add(2*time.Minute)); err != nil {
		t.Fatal(err, log.String())
	}
	var ticks []string
	for _, c := range sys.collects {
		ticks = append(ticks, c.Format("15:04:05"))
	}
	if strings.Join(ticks, " ") != "10:01:00 10:02:00" {
		t.Errorf("collections at %v", ticks)
	}
}
