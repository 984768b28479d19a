//go:build linux

package main

// The scale of fleet mode, measured on the built agent: one process
// watching N simulated Plan 9 hosts, each behind 50 ms of round trip.
// Linux only, for /proc/PID/stat and /proc/PID/status. It runs only when
// asked for, and takes some eight minutes a size:
//
//	go test -run '^$' -bench Fleet -benchtime 1x -timeout 30m ./mackerel-agent-plan9/

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"9fans.net/go/plan9"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/queue"
)

const (
	// benchOneWay is each direction's delay: 50 ms of round trip.
	benchOneWay = 25 * time.Millisecond
	// benchSteady minutes are measured, after the start-up and one more
	// minute for the values queued during it.
	benchSteady = 3
	// benchSlack is how long after its minute's end a minute's load may
	// arrive and still count as on time: the request's own travel.
	benchSlack = time.Second
	// benchStartLimit bounds the start-up: every host registered.
	benchStartLimit = 5 * time.Minute
	// userHZ is the unit of /proc/PID/stat's times on every Linux the
	// agent is built for.
	userHZ = 100
)

// BenchmarkFleet runs the built agent on a fleet of N hosts, each a real
// kernel's capture served over 9P on the loopback behind a proxy that
// holds every byte 25 ms each way, posting to a stand-in API; both run in
// the test process, so that the agent's processor time and memory are its
// own. It reports, over benchSteady minutes after the start-up:
//
//	cpu-%/host      the agent's processor time per host, in % of one core
//	cpu-%           the same for the whole fleet
//	MB/host         the agent's resident memory (VmRSS) at the end, per host
//	peak-MB/host    its peak resident memory (VmHWM), start-up included
//	late-minutes    host-minutes whose loadavg1 did not arrive within the
//	                minute after it (missing ones included)
//	post-delay-s    the longest wait of a minute's values past when they
//	                were due: the host's own second of the minute to post
//	                at, or its reading when that ended later
//	startup-s       from the start until every host was registered
func BenchmarkFleet(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			var r benchResult
			for range b.N {
				r = benchFleet(b, n)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(r.cpu*100/float64(n), "cpu-%/host")
			b.ReportMetric(r.cpu*100, "cpu-%")
			b.ReportMetric(r.rss/float64(n)/1e6, "MB/host")
			b.ReportMetric(r.hwm/float64(n)/1e6, "peak-MB/host")
			b.ReportMetric(float64(r.late), "late-minutes")
			b.ReportMetric(r.delay.Seconds(), "post-delay-s")
			b.ReportMetric(r.startup.Seconds(), "startup-s")
		})
	}
}

type benchResult struct {
	cpu      float64 // cores
	rss, hwm float64 // bytes
	late     int
	delay    time.Duration
	startup  time.Duration
}

// benchHost is one simulated host: it records when its /proc was opened,
// as the reading of its system metrics and of the plugin's values does.
type benchHost struct {
	name  string
	srv   *p9test.Server
	mu    sync.Mutex
	procs []time.Time
}

func (h *benchHost) fault(tx *plan9.Fcall, path string) p9test.Fault {
	if tx.Type == plan9.Topen && path == "proc" {
		h.mu.Lock()
		h.procs = append(h.procs, time.Now())
		h.mu.Unlock()
	}
	return p9test.Answer
}

// benchRequests counts the 9P requests the hosts received.
func benchRequests(hosts []*benchHost) int64 {
	var n int64
	for _, h := range hosts {
		n += h.srv.Requests()
	}
	return n
}

// readBefore is when the host's /proc was last opened from m to at; zero
// when it was not.
func (h *benchHost) readBefore(m, at time.Time) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	var last time.Time
	for _, t := range h.procs {
		if !t.Before(m) && t.Before(at) {
			last = t
		}
	}
	return last
}

// benchArrivals records, per host and minute, when the first request
// carrying the minute's loadavg1 arrived.
type benchArrivals struct {
	mu      sync.Mutex
	n       int
	created []time.Time // when each host was created
	load    map[string]map[int64]time.Time
	errs    []string
}

func (a *benchArrivals) onCall(c mackereltest.Call) {
	if c.Status != http.StatusOK {
		return
	}
	switch {
	case c.Method == "POST" && c.Path == "/api/v0/hosts":
		a.mu.Lock()
		a.created = append(a.created, c.At)
		a.mu.Unlock()
	case c.Method == "POST" && c.Path == "/api/v0/tsdb":
		var vals []struct {
			HostID string `json:"hostId"`
			Name   string `json:"name"`
			Time   int64  `json:"time"`
		}
		if err := json.Unmarshal(c.Body, &vals); err != nil {
			a.mu.Lock()
			a.errs = append(a.errs, err.Error())
			a.mu.Unlock()
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, v := range vals {
			if v.Name != "loadavg1" {
				continue
			}
			m := a.load[v.HostID]
			if m == nil {
				m = map[int64]time.Time{}
				a.load[v.HostID] = m
			}
			if _, ok := m[v.Time]; !ok {
				m[v.Time] = c.At
			}
		}
	}
}

func benchFleet(b *testing.B, n int) benchResult {
	arr := &benchArrivals{n: n, load: map[string]map[int64]time.Time{}}
	api := mackereltest.NewServer(b, nil)
	api.OnCall = arr.onCall
	dir := b.TempDir()
	root := filepath.Join(dir, "root")
	var conf strings.Builder
	fmt.Fprintf(&conf, "apikey = %q\napibase = %q\nroot = %q\n", mackereltest.Key, api.URL(), root)
	hosts := make([]*benchHost, n)
	for i := range hosts {
		h := &benchHost{name: fmt.Sprintf("h%04d", i)}
		h.srv = &p9test.Server{Root: testkit.Capture(testkit.Front11879amd64), Fault: h.fault}
		fmt.Fprintf(&conf, "\n[host.%s]\naddress = %q\nchecks = [\"memory -w 90 -c 95\"]\n", h.name, p9test.Proxy(b, p9test.Start(b, h.srv), benchOneWay))
		hosts[i] = h
	}
	file := filepath.Join(dir, "agent.conf")
	if err := os.WriteFile(file, []byte(conf.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	logTail := func() string {
		lg, _ := os.ReadFile(logFile.Name())
		if len(lg) > 4000 {
			lg = lg[len(lg)-4000:]
		}
		return string(lg)
	}

	cmd := exec.Command(testkit.Bin("mackerel-agent-plan9"), "-conf", file)
	cmd.Stderr = logFile
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			<-exited
		}
	}()
	pid := cmd.Process.Pid

	// The start-up: every host registered.
	for {
		arr.mu.Lock()
		done := len(arr.created) >= n
		arr.mu.Unlock()
		if done {
			break
		}
		if time.Since(start) > benchStartLimit {
			b.Fatalf("not every host registered within %v:\n%s", benchStartLimit, logTail())
		}
		select {
		case err := <-exited:
			stopped = true
			b.Fatalf("the agent ended: %v\n%s", err, logTail())
		case <-time.After(100 * time.Millisecond):
		}
	}
	arr.mu.Lock()
	r := benchResult{startup: arr.created[n-1].Sub(start)}
	firstCreated, halfCreated := arr.created[0].Sub(start), arr.created[n/2].Sub(start)
	arr.mu.Unlock()

	// The steady minutes begin at the first minute boundary a minute
	// after the last registration.
	first := time.Now().Add(time.Minute).Truncate(time.Minute).Add(time.Minute)
	end := first.Add(benchSteady * time.Minute)
	time.Sleep(time.Until(first))
	cpu0, self0, req0 := procCPU(b, pid), procCPU(b, os.Getpid()), benchRequests(hosts)
	time.Sleep(time.Until(end))
	cpu1, self1, req1 := procCPU(b, pid), procCPU(b, os.Getpid()), benchRequests(hosts)
	r.cpu = (cpu1 - cpu0).Seconds() / end.Sub(first).Seconds()
	r.rss, r.hwm = procMem(b, pid, "VmRSS"), procMem(b, pid, "VmHWM")
	// The last steady minute's values are due within the next minute.
	time.Sleep(time.Until(end.Add(time.Minute + benchSlack)))

	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			b.Errorf("the agent's exit: %v\n%s", err, logTail())
		}
	case <-time.After(45 * time.Second):
		b.Errorf("the agent did not stop within 45 s of an interrupt")
	}

	arr.mu.Lock()
	defer arr.mu.Unlock()
	for _, e := range arr.errs {
		b.Errorf("tsdb body: %s", e)
	}
	if len(arr.load) != n {
		b.Errorf("%d hosts posted a loadavg1, want %d", len(arr.load), n)
	}
	var lates []string
	var into, past []time.Duration
	for _, h := range hosts {
		raw, err := os.ReadFile(filepath.Join(root, "hosts", h.name, "id"))
		if err != nil {
			b.Errorf("%s: %v", h.name, err)
			continue
		}
		id := string(raw)
		sec := time.Duration(queue.HostSecond(id)) * time.Second
		for m := first; m.Before(end); m = m.Add(time.Minute) {
			at, ok := arr.load[id][m.Unix()]
			switch {
			case !ok:
				lates = append(lates, fmt.Sprintf("%s (%s) %s: missing", h.name, id, m.Format("15:04")))
				continue
			case at.After(m.Add(time.Minute + benchSlack)):
				lates = append(lates, fmt.Sprintf("%s (%s) %s: %.1f s after the minute", h.name, id, m.Format("15:04"), at.Sub(m).Seconds()))
			}
			// Due at the host's second, or once read if that was later.
			due := m.Add(sec)
			if read := h.readBefore(m, at); read.After(due) {
				due = read
			}
			into, past = append(into, at.Sub(m)), append(past, at.Sub(due))
		}
	}
	r.late = len(lates)
	if len(lates) > 0 {
		b.Logf("%d of %d host-minutes late or missing, as %s", len(lates), n*benchSteady, strings.Join(lates[:min(len(lates), 10)], "; "))
	}
	if len(past) > 0 {
		r.delay = slices.Max(past)
	}
	b.Logf("%d hosts: registered from %.1f s, half by %.1f s, all by %.1f s", n, firstCreated.Seconds(), halfCreated.Seconds(), r.startup.Seconds())
	b.Logf("steady %s to %s: the agent %.1f%% of a core, the simulator %.1f%%; VmRSS %.0f MB, VmHWM %.0f MB; %.0f 9P requests a host a minute",
		first.Format("15:04:05"), end.Format("15:04:05"), r.cpu*100, 100*(self1-self0).Seconds()/end.Sub(first).Seconds(), r.rss/1e6, r.hwm/1e6,
		float64(req1-req0)/float64(n)/end.Sub(first).Minutes())
	b.Logf("a minute's loadavg1 arrived into its minute: %s; past when it was due: %s", quantiles(into), quantiles(past))
	b.Logf("the agent's log: %s", logSummary(logFile.Name()))
	return r
}

// quantiles says the median, the 99th percentile and the most of ds.
func quantiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	slices.Sort(ds)
	q := func(f float64) float64 { return ds[int(f*float64(len(ds)-1))].Seconds() }
	return fmt.Sprintf("median %.2f s, 99%% %.2f s, most %.2f s", q(0.5), q(0.99), q(1))
}

// logSummary counts the log's lines by level, and quotes the first
// warnings and errors.
func logSummary(file string) string {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	count := map[string]int{}
	var quoted []string
	for line := range strings.Lines(string(raw)) {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		count[f[2]]++
		if (f[2] == "WARNING" || f[2] == "ERROR") && len(quoted) < 5 {
			quoted = append(quoted, strings.TrimSpace(line))
		}
	}
	out := fmt.Sprintf("%d INFO, %d WARNING, %d ERROR lines", count["INFO"], count["WARNING"], count["ERROR"])
	if len(quoted) > 0 {
		out += "; the first:\n" + strings.Join(quoted, "\n")
	}
	return out
}

// procCPU is the processor time the process pid used so far, its own
// and the system's on its behalf: utime + stime of /proc/PID/stat.
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command's name, in parentheses, may hold spaces: count the
	// fields after its closing one. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		b.Fatalf("/proc/%d/stat: %q", pid, raw)
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		b.Fatalf("/proc/%d/stat: %q", pid, raw)
	}
	var ticks int64
	for _, s := range f[11:13] {
		t, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatalf("/proc/%d/stat: %q", pid, raw)
		}
		ticks += t
	}
	return time.Duration(ticks) * time.Second / userHZ
}

// procMem is a "kB" line of /proc/PID/status, in bytes.
func procMem(b *testing.B, pid int, key string) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
					return kb * 1024
				}
			}
		}
	}
	b.Fatalf("/proc/%d/status has no %s in kB", pid, key)
	return 0
}
