package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mackerelio/mackerel-client-go"
)

const testKey = "test-api-key"

// simClock is a simulated clock: it jumps to the next deadline whenever
// the agent waits on nothing but time, so hours pass in moments. At stopAt
// it delivers one stop request on term, as an interrupt note would.
type simClock struct {
	mu      sync.Mutex
	now     time.Time
	stopAt  time.Time
	term    chan struct{}
	stopped bool
}

func newSimClock(start time.Time) *simClock {
	return &simClock{now: start, term: make(chan struct{}, 2)}
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) Until(t time.Time, busy bool) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if !t.After(c.now) {
		ch <- c.now
		return ch, func() {}
	}
	if busy {
		return nil, func() {} // the agent's own work will wake it
	}
	if !c.stopAt.IsZero() && !c.stopped && t.After(c.stopAt) {
		if c.stopAt.After(c.now) {
			c.now = c.stopAt
		}
		c.stopped = true
		c.term <- struct{}{}
		return nil, func() {}
	}
	if t.IsZero() {
		return nil, func() {}
	}
	c.now = t
	ch <- t
	return ch, func() {}
}

// apiCall is one request the stand-in API received.
type apiCall struct {
	Method, Path string
	Query        map[string][]string
	Body         []byte
	At           time.Time // on the simulated clock
	Status       int       // what it answered
}

func (c apiCall) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(c.Body, v); err != nil {
		t.Fatalf("%s %s: body %s: %v", c.Method, c.Path, c.Body, err)
	}
}

// fakeAPI is a stand-in for Mackerel's API on loopback. It checks what
// every request must carry (the API key, a JSON body) and keeps hosts as
// the real one does, so that the agent's calls can be checked in full.
type fakeAPI struct {
	t     testing.TB
	srv   *httptest.Server
	clock *simClock

	mu     sync.Mutex
	calls  []apiCall
	hosts  map[string]*mackerel.Host
	nextID int
	// fail, when set, may answer a request with an error status instead.
	fail func(c apiCall) int
}

func newFakeAPI(t testing.TB, clock *simClock) *fakeAPI {
	f := &fakeAPI{t: t, clock: clock, hosts: map[string]*mackerel.Host{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// addHost registers a host as if created earlier (by mkr create, say).
func (f *fakeAPI) addHost(name, customIdentifier string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := fmt.Sprintf("H%03d", f.nextID)
	f.hosts[id] = &mackerel.Host{ID: id, Name: name, CustomIdentifier: customIdentifier, Status: "working"}
	return id
}

func (f *fakeAPI) host(id string) *mackerel.Host {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hosts[id]
}

// callsTo returns the calls of a method and path, in order.
func (f *fakeAPI) callsTo(method, path string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == method && c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeAPI) answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := apiCall{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body}
	if f.clock != nil {
		c.At = f.clock.Now()
	}
	status := http.StatusOK
	defer func() {
		c.Status = status
		f.mu.Lock()
		f.calls = append(f.calls, c)
		f.mu.Unlock()
	}()
	if r.Header.Get("X-Api-Key") != testKey {
		f.t.Errorf("%s %s: X-Api-Key %q", r.Method, r.URL.Path, r.Header.Get("X-Api-Key"))
		status = http.StatusUnauthorized
		f.answer(w, status, map[string]any{"error": map[string]string{"message": "Authentication failed."}})
		return
	}
	if !strings.HasPrefix(r.Header.Get("User-Agent"), "mackerel-agent-plan9/") {
		f.t.Errorf("%s %s: User-Agent %q", r.Method, r.URL.Path, r.Header.Get("User-Agent"))
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if !json.Valid(body) || r.Header.Get("Content-Type") != "application/json" {
			f.t.Errorf("%s %s: not a JSON body (%q): %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"), body)
		}
	}
	if f.fail != nil {
		if s := f.fail(c); s != 0 {
			status = s
			f.answer(w, status, map[string]any{"error": map[string]string{"message": http.StatusText(s)}})
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v0/"), "/")
	notFound := func() {
		status = http.StatusNotFound
		f.answer(w, status, map[string]any{"error": map[string]string{"message": "Host Not Found."}})
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/api/v0/hosts":
		var param mackerel.CreateHostParam
		c.decode(f.t, &param)
		if param.Name == "" {
			f.t.Errorf("POST /api/v0/hosts without a name: %s", body)
		}
		f.nextID++
		id := fmt.Sprintf("H%03d", f.nextID)
		f.hosts[id] = &mackerel.Host{ID: id, Name: param.Name, DisplayName: param.DisplayName, Status: "standby",
			Meta: param.Meta, Interfaces: param.Interfaces}
		f.answer(w, status, map[string]string{"id": id})
	case r.Method == "GET" && r.URL.Path == "/api/v0/hosts":
		var hosts []*mackerel.Host
		for _, id := range sortedKeys(f.hosts) {
			if h := f.hosts[id]; h.CustomIdentifier == r.URL.Query().Get("customIdentifier") && !h.IsRetired {
				hosts = append(hosts, h)
			}
		}
		f.answer(w, status, map[string]any{"hosts": hosts})
	case len(p) == 2 && p[0] == "hosts" && r.Method == "GET":
		h, ok := f.hosts[p[1]]
		if !ok || h.IsRetired {
			notFound()
			return
		}
		f.answer(w, status, map[string]any{"host": h})
	case len(p) == 2 && p[0] == "hosts" && r.Method == "PUT":
		h, ok := f.hosts[p[1]]
		if !ok {
			notFound()
			return
		}
		var param mackerel.UpdateHostParam
		c.decode(f.t, &param)
		h.Meta, h.Interfaces = param.Meta, param.Interfaces
		f.answer(w, status, map[string]string{"id": h.ID})
	case len(p) == 3 && p[0] == "hosts" && p[2] == "status" && r.Method == "POST":
		h, ok := f.hosts[p[1]]
		if !ok {
			notFound()
			return
		}
		var s struct{ Status string }
		c.decode(f.t, &s)
		h.Status = s.Status
		f.answer(w, status, map[string]bool{"success": true})
	case len(p) == 3 && p[0] == "hosts" && p[2] == "retire" && r.Method == "POST":
		h, ok := f.hosts[p[1]]
		if !ok {
			notFound()
			return
		}
		h.IsRetired = true
		f.answer(w, status, map[string]bool{"success": true})
	case r.Method == "POST" && r.URL.Path == "/api/v0/tsdb":
		var vals []struct {
			HostID string   `json:"hostId"`
			Name   string   `json:"name"`
			Time   int64    `json:"time"`
			Value  *float64 `json:"value"`
		}
		c.decode(f.t, &vals)
		for _, v := range vals {
			if f.hosts[v.HostID] == nil || v.Name == "" || v.Time == 0 || v.Value == nil {
				f.t.Errorf("tsdb: bad value %+v", v)
			}
		}
		f.answer(w, status, map[string]bool{"success": true})
	case r.Method == "POST" && r.URL.Path == "/api/v0/graph-defs/create":
		var defs []mackerel.GraphDefsParam
		c.decode(f.t, &defs)
		f.answer(w, status, map[string]bool{"success": true})
	case r.Method == "POST" && r.URL.Path == "/api/v0/monitoring/checks/report":
		var rep struct {
			Reports []struct {
				Source struct{ Type, HostID string }
				Name   string
				Status string
			}
		}
		c.decode(f.t, &rep)
		for _, x := range rep.Reports {
			if x.Source.Type != "host" || f.hosts[x.Source.HostID] == nil || x.Name == "" || x.Status == "" {
				f.t.Errorf("check report: bad %+v", x)
			}
		}
		f.answer(w, status, map[string]bool{"success": true})
	default:
		status = http.StatusNotFound
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		f.answer(w, status, map[string]any{"error": map[string]string{"message": "Not Found"}})
	}
}

// fakeSystem stands in for sysmetrics in tests of the loop: each minute's
// collection yields "loadavg1" = how many collections came before, so
// that a test can tell the batches apart and check their order.
type fakeSystem struct {
	mu       sync.Mutex
	samples  []time.Time
	collects []time.Time
}

func (f *fakeSystem) Sample(ctx context.Context, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.samples = append(f.samples, now)
}

func (f *fakeSystem) Collect(ctx context.Context, now time.Time) map[string]float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.collects = append(f.collects, now)
	return map[string]float64{"loadavg1": float64(len(f.collects) - 1)}
}

func (f *fakeSystem) Specs(ctx context.Context) (HostSpecs, error) {
	return HostSpecs{Name: "gnot", Meta: mackerel.HostMeta{Kernel: mackerel.Kernel{"name": "Plan 9", "os": "plan9"}},
		Interfaces: []mackerel.Interface{{Name: "ether0", IPv4Addresses: []string{"10.0.2.15"}, MacAddress: "52:54:00:12:34:56"}}}, nil
}

// script writes an executable sh script and returns its path.
func script(t testing.TB, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// testConfig parses a configuration written for a test, with the stand-in
// API's address and the test key.
func testConfig(t testing.TB, api *fakeAPI, body string) *Config {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "agent.conf")
	base := ""
	if api != nil {
		base = api.srv.URL
	}
	text := fmt.Sprintf("apikey = %q\napibase = %q\nroot = %q\n", testKey, base, filepath.Join(dir, "root")) + body
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, unexpected, err := LoadConfig(file, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(unexpected) > 0 {
		t.Fatalf("unexpected keys: %v", unexpected)
	}
	return c
}

// newTestAgent returns an agent on the simulated clock whose log is kept.
func newTestAgent(t testing.TB, conf *Config, sys System, clock *simClock) (*Agent, *bytes.Buffer) {
	t.Helper()
	var log syncBuffer
	a, err := New(Options{Config: conf, System: sys, Clock: clock, Log: &log, Version: "0.1.0", Revision: "abc",
		HTTPTimeout: 5 * time.Second, KillAfter: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return a, &log.Buffer
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// tsdbValues returns every value posted, in the order posted, with the
// request it came in.
type postedValue struct {
	HostID, Name string
	Time         int64
	Value        float64
	Request      int
}

func (f *fakeAPI) posted(t testing.TB) []postedValue {
	var out []postedValue
	for i, c := range f.callsTo("POST", "/api/v0/tsdb") {
		if c.Status != http.StatusOK {
			continue
		}
		var vals []struct {
			HostID string  `json:"hostId"`
			Name   string  `json:"name"`
			Time   int64   `json:"time"`
			Value  float64 `json:"value"`
		}
		c.decode(t, &vals)
		for _, v := range vals {
			out = append(out, postedValue{v.HostID, v.Name, v.Time, v.Value, i})
		}
	}
	return out
}
