package agent

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/queue"
)

// An agent is judged by its worst minute. These tests give it the worst
// the issue tracker saw: an API down at boot, a lost recovery, clock
// steps, slow and flooding plugins, an outage of an hour.

// loadSeq is the loadavg1 values posted, in the order they arrived: the
// fake system numbers its collections so.
func loadSeq(t *testing.T, api *mackereltest.Server) []float64 {
	var seq []float64
	for _, v := range api.Posted(t) {
		if v.Name == "loadavg1" {
			seq = append(seq, v.Value)
		}
	}
	return seq
}

func inOrder(seq []float64, n int) bool {
	if len(seq) != n {
		return false
	}
	for i, v := range seq {
		if v != float64(i) {
			return false
		}
	}
	return true
}

// The API answers nothing but 503 for the first 20 minutes: the agent
// neither ends nor stops collecting; it registers when the API is back
// and posts every minute it queued, oldest first, once, under the host's
// id. The same with an id file.
func TestAPIDownAtStart(t *testing.T) {
	for _, withID := range []bool{false, true} {
		t.Run(fmt.Sprint("id file ", withID), func(t *testing.T) {
			clock := newSimClock(t0)
			api := mackereltest.NewServer(t, clock.Now)
			conf := testConfig(t, api, "")
			id := "H001"
			if withID {
				id = api.AddHost("gnot", "")
				os.MkdirAll(conf.Root, 0o755)
				os.WriteFile(conf.IDFile(), []byte(id), 0o644)
			}
			back := t0.Add(20 * time.Minute)
			api.Fail = func(c mackereltest.Call) int {
				if c.At.Before(back) {
					return http.StatusServiceUnavailable
				}
				return 0
			}
			a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
			if err := runFor(t, a, clock, t0.Add(40*time.Minute)); err != nil {
				t.Fatal(err, log.String())
			}
			if seq := loadSeq(t, api); !inOrder(seq, 41) {
				t.Errorf("posted %v, want the 41 minutes in order", seq)
			}
			for _, v := range api.Posted(t) {
				if v.HostID != id {
					t.Fatalf("posted to %q", v.HostID)
				}
			}
			tries := len(api.Calls("POST", "/api/v0/hosts")) + len(api.Calls("GET", "/api/v0/hosts/"+id))
			if tries < 5 || tries > 30 {
				t.Errorf("%d tries to register in 20 minutes", tries)
			}
			if !strings.Contains(log.String(), "the values are queued") {
				t.Errorf("log:\n%s", log)
			}
		})
	}
}

// An API that cannot be reached at all: the agent keeps trying, and an
// interrupt during the tries stops it at once, with exit status 1 for the
// values it could not post.
func TestUnreachableAPIAndInterrupt(t *testing.T) {
	clock := newSimClock(t0)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	conf := testConfig(t, nil, "")
	conf.Apibase = "http://" + addr
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
	stop := t0.Add(10 * time.Minute)
	err := runFor(t, a, clock, stop)
	if !errors.Is(err, ErrUnposted) {
		t.Errorf("Run: %v", err)
	}
	if d := clock.Now().Sub(stop); d > 5*time.Second {
		t.Errorf("the stop took %v", d)
	}
	if !strings.Contains(log.String(), "registering the host") {
		t.Errorf("log:\n%s", log)
	}
}

// A check's recovery arrives whatever the API answers on the way: a 429
// is waited out (Retry-After), a 401 keeps the report queued, and a 400
// that refuses a report makes the next result go even if it is an
// unchanged OK.
func TestCheckRecoveryArrives(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusUnauthorized, http.StatusBadRequest, http.StatusNotFound} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			clock := newSimClock(t0)
			api := mackereltest.NewServer(t, clock.Now)
			api.RetryAfter = "7"
			failed := 0
			api.Fail = func(c mackereltest.Call) int {
				if c.Path == "/api/v0/monitoring/checks/report" && strings.Contains(string(c.Body), `"OK"`) && failed < 3 {
					failed++
					return status
				}
				return 0
			}
			conf := testConfig(t, api, fmt.Sprintf("[plugin.checks.svc]\ncommand = %q\n", planned(t, "2 down", "0 fine", "0 fine", "0 fine", "0 fine")))
			a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
			if err := runFor(t, a, clock, t0.Add(10*time.Minute)); err != nil {
				t.Fatal(err, log.String())
			}
			var last string
			for i, r := range reports(t, api) {
				if api.Calls("POST", "/api/v0/monitoring/checks/report")[r.Request].Status == 200 {
					last = r.Status
				}
				_ = i
			}
			if last != "OK" {
				t.Errorf("the last report that arrived is %q, want the recovery\n%s", last, log)
			}
		})
	}
}

// The wall clock steps: back an hour, forward ten minutes, and from 1970
// to today as on a board with no clock that timesync sets. The agent
// collects on: no gap of more than a minute of passing time, no burst,
// no loop over the gap.
func TestClockSteps(t *testing.T) {
	epoch := time.Date(1970, 1, 1, 0, 0, 7, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		start time.Time
		by    time.Duration
	}{
		{"back an hour", t0, -time.Hour},
		{"forward ten minutes", t0, 10 * time.Minute},
		{"from 1970 to today", epoch, t0.Sub(epoch)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := newSimClock(tt.start)
			clock.step(tt.start.Add(5*time.Minute+20*time.Second), tt.by)
			api := mackereltest.NewServer(t, clock.Now)
			sys := &fakeSystem{clock: clock}
			a, log := newTestAgent(t, testConfig(t, api, ""), sys, clock)
			clock.stopAfter = 15 * time.Minute
			if err := runFor(t, a, clock, time.Time{}); err != nil {
				t.Fatal(err, log.String())
			}
			if len(sys.elapsed) < 14 || len(sys.elapsed) > 17 {
				t.Errorf("%d collections in 15 minutes", len(sys.elapsed))
			}
			for i := 1; i < len(sys.elapsed); i++ {
				if d := sys.elapsed[i] - sys.elapsed[i-1]; d > 61*time.Second || d < 10*time.Second {
					t.Errorf("collections %d and %d %v apart", i-1, i, d)
				}
			}
		})
	}
}

// A plugin that takes 75 s, one that hangs until its timeout and one that
// floods cost only their own values: each minute's system metrics are
// posted within the minute, and the flood is cut to 10,000 values a run,
// posted in bounded requests.
func TestSlowPluginsCostOnlyTheirValues(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	conf := testConfig(t, api, `
[plugin.metrics.slow]
command = ["sim", "75", "1"]
timeout_seconds = 100
[plugin.metrics.hang]
command = ["sim", "100000", "1"]
timeout_seconds = 5
[plugin.metrics.flood]
command = ["sim", "0", "20000"]
`)
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock, func(o *Options) { o.Runner = newSimRunner(clock) })
	if err := runFor(t, a, clock, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err, log.String())
	}
	posts := api.Calls("POST", "/api/v0/tsdb")
	sent := map[int64]time.Time{} // loadavg1's tick -> when it arrived
	for _, c := range posts {
		var vals []struct {
			Name string
			Time int64
		}
		c.Decode(t, &vals)
		if len(vals) > queue.DefaultMaxRequest {
			t.Errorf("a request of %d values", len(vals))
		}
		for _, v := range vals {
			if v.Name == "loadavg1" && c.Status == 200 {
				sent[v.Time] = c.At
			}
		}
	}
	if len(sent) < 10 {
		t.Errorf("%d minutes of system metrics posted", len(sent))
	}
	for tick, at := range sent {
		if d := at.Sub(time.Unix(tick, 0)); d > time.Minute {
			t.Errorf("the system metrics of %v were posted %v later", time.Unix(tick, 0).UTC(), d)
		}
	}
	if first := posts[0].At.Sub(t0); first > 5*time.Second {
		t.Errorf("the first post came %v after the start", first)
	}
	flood := 0
	for _, v := range api.Posted(t) {
		if strings.HasPrefix(v.Name, "custom.sim.") && v.Time == t0.Unix() {
			flood++
		}
	}
	if flood != 10_000+1 { // the flood's first 10,000, and the slow plugin's one
		t.Errorf("%d values of the first minute's plugins", flood)
	}
	if !strings.Contains(log.String(), "plugin flood printed 20000 values; the 10000 after the first 10000 are dropped") ||
		!strings.Contains(log.String(), "command timed out") {
		t.Errorf("log:\n%s", log)
	}
}

// Through an hour-long outage the queue holds the hour's values and no
// more; afterwards it holds nothing.
func TestMemoryFlatThroughOutage(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	back := t0.Add(time.Hour)
	api.Fail = func(c mackereltest.Call) int {
		if c.Path == "/api/v0/tsdb" && c.At.Before(back) {
			return http.StatusBadGateway
		}
		return 0
	}
	conf := testConfig(t, api, "[plugin.metrics.p]\ncommand = [\"sim\", \"0\", \"1000\"]\n")
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock, func(o *Options) { o.Runner = newSimRunner(clock) })
	peak := 0
	a.observe = func() { peak = max(peak, a.hosts[0].metrics.Bytes()) }
	if err := runFor(t, a, clock, t0.Add(90*time.Minute)); err != nil {
		t.Fatal(err, log.String())
	}
	// 61 minutes of 1,001 values at 32 bytes, with room for the batches.
	if limit := 61 * 1001 * 40; peak > limit || peak < 61*1001*32 {
		t.Errorf("the queue held at most %d bytes; want about %d", peak, 61*1001*32)
	}
	if n := a.hosts[0].metrics.Bytes(); n != 0 {
		t.Errorf("%d bytes held after the outage", n)
	}
	t.Logf("peak %d bytes for %d minutes of 1,001 values", peak, 61)
}

// Verbose, the log says each request's method, path, status and size,
// never the API key.
func TestLogHoldsNoKey(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	conf := testConfig(t, api, "verbose = true\n")
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
	if err := runFor(t, a, clock, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err, log.String())
	}
	if strings.Contains(log.String(), mackereltest.Key) || strings.Contains(strings.ToLower(log.String()), "x-api-key") {
		t.Errorf("the log holds the key:\n%s", log)
	}
	if !strings.Contains(log.String(), "POST /api/v0/tsdb: 200") {
		t.Errorf("the requests are not logged:\n%s", log)
	}
}
