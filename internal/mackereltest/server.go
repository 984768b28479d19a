// Package mackereltest is a stand-in for Mackerel's API on loopback, for
// tests: it checks what every request must carry (the API key, the agent's
// User-Agent, a JSON body), keeps hosts as the real API does, records every
// call, and can be told to fail.
package mackereltest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mackerelio/mackerel-client-go"
)

// Key is the API key the server accepts.
const Key = "test-api-key"

// Call is one request the stand-in API received.
type Call struct {
	Method, Path string
	Query        map[string][]string
	Body         []byte
	At           time.Time // on the simulated clock
	Status       int       // what it answered
}

func (c Call) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(c.Body, v); err != nil {
		t.Fatalf("%s %s: body %s: %v", c.Method, c.Path, c.Body, err)
	}
}

func (c Call) decode(f *Server, v any) {
	if err := json.Unmarshal(c.Body, v); err != nil {
		f.Errorf("%s %s: body %s: %v", c.Method, c.Path, c.Body, err)
	}
}

// Server is a stand-in for Mackerel's API on loopback. It checks what
// every request must carry (the API key, a JSON body) and keeps hosts as
// the real one does, so that the agent's calls can be checked in full.
type Server struct {
	// Errorf reports a request that breaks the API's rules.
	Errorf func(format string, args ...any)
	// OnCall, when set, sees every call once it is answered.
	OnCall func(Call)
	srv    *httptest.Server
	// Now stamps each call (the agent's simulated clock in its tests).
	Now func() time.Time

	mu     sync.Mutex
	calls  []Call
	hosts  map[string]*mackerel.Host
	nextID int
	// Fail, when set, may answer a request with an error status instead.
	Fail func(c Call) int
	// RetryAfter, when set, is the Retry-After header of those answers.
	RetryAfter string
}

func NewServer(t testing.TB, now func() time.Time) *Server {
	f := New(t.Errorf)
	if now != nil {
		f.Now = now
	}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// New returns a Server that is not listening: an http.Handler.
func New(errorf func(format string, args ...any)) *Server {
	return &Server{Errorf: errorf, Now: time.Now, hosts: map[string]*mackerel.Host{}}
}

// URL is the server's base URL, for apibase.
func (f *Server) URL() string { return f.srv.URL }

// AddHost registers a host as if created earlier (by mkr create, say).
func (f *Server) AddHost(name, customIdentifier string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := fmt.Sprintf("H%03d", f.nextID)
	f.hosts[id] = &mackerel.Host{ID: id, Name: name, CustomIdentifier: customIdentifier, Status: "working"}
	return id
}

func (f *Server) Host(id string) *mackerel.Host {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hosts[id]
}

// Calls returns the calls of a method and path, in order.
func (f *Server) Calls(method, path string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if c.Method == method && c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

func (f *Server) answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// ServeHTTP answers one request as Mackerel's API would.
func (f *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body}
	c.At = f.Now()
	status := http.StatusOK
	defer func() {
		c.Status = status
		f.mu.Lock()
		f.calls = append(f.calls, c)
		f.mu.Unlock()
		if f.OnCall != nil {
			f.OnCall(c)
		}
	}()
	if r.Header.Get("X-Api-Key") != Key {
		f.Errorf("%s %s: X-Api-Key %q", r.Method, r.URL.Path, r.Header.Get("X-Api-Key"))
		status = http.StatusUnauthorized
		f.answer(w, status, map[string]any{"error": map[string]string{"message": "Authentication failed."}})
		return
	}
	if !strings.HasPrefix(r.Header.Get("User-Agent"), "mackerel-agent-plan9/") {
		f.Errorf("%s %s: User-Agent %q", r.Method, r.URL.Path, r.Header.Get("User-Agent"))
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if !json.Valid(body) || r.Header.Get("Content-Type") != "application/json" {
			f.Errorf("%s %s: not a JSON body (%q): %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"), body)
		}
	}
	if f.Fail != nil {
		if s := f.Fail(c); s != 0 {
			status = s
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
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
		c.decode(f, &param)
		if param.Name == "" {
			f.Errorf("POST /api/v0/hosts without a name: %s", body)
		}
		f.nextID++
		id := fmt.Sprintf("H%03d", f.nextID)
		f.hosts[id] = &mackerel.Host{ID: id, Name: param.Name, DisplayName: param.DisplayName, Status: "standby",
			Meta: param.Meta, Interfaces: param.Interfaces}
		f.answer(w, status, map[string]string{"id": id})
	case r.Method == "GET" && r.URL.Path == "/api/v0/hosts":
		var hosts []*mackerel.Host
		for _, id := range slices.Sorted(maps.Keys(f.hosts)) {
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
		c.decode(f, &param)
		h.Meta, h.Interfaces = param.Meta, param.Interfaces
		f.answer(w, status, map[string]string{"id": h.ID})
	case len(p) == 3 && p[0] == "hosts" && p[2] == "status" && r.Method == "POST":
		h, ok := f.hosts[p[1]]
		if !ok {
			notFound()
			return
		}
		var s struct{ Status string }
		c.decode(f, &s)
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
		c.decode(f, &vals)
		for _, v := range vals {
			if f.hosts[v.HostID] == nil || v.Name == "" || v.Time == 0 || v.Value == nil {
				f.Errorf("tsdb: bad value %+v", v)
			}
		}
		f.answer(w, status, map[string]bool{"success": true})
	case r.Method == "POST" && r.URL.Path == "/api/v0/graph-defs/create":
		var defs []mackerel.GraphDefsParam
		c.decode(f, &defs)
		f.answer(w, status, map[string]bool{"success": true})
	case r.Method == "POST" && r.URL.Path == "/api/v0/monitoring/checks/report":
		var rep struct {
			Reports []struct {
				Source struct{ Type, HostID string }
				Name   string
				Status string
			}
		}
		c.decode(f, &rep)
		for _, x := range rep.Reports {
			if x.Source.Type != "host" || f.hosts[x.Source.HostID] == nil || x.Name == "" || x.Status == "" {
				f.Errorf("check report: bad %+v", x)
			}
		}
		f.answer(w, status, map[string]bool{"success": true})
	default:
		status = http.StatusNotFound
		f.Errorf("unexpected request %s %s", r.Method, r.URL)
		f.answer(w, status, map[string]any{"error": map[string]string{"message": "Not Found"}})
	}
}

// Value is one value posted, with the index of the request it came in.
type Value struct {
	HostID, Name string
	Time         int64
	Value        float64
	Request      int
}

// Posted returns every value the API accepted, in the order posted.
func (f *Server) Posted(t testing.TB) []Value {
	var out []Value
	for i, c := range f.Calls("POST", "/api/v0/tsdb") {
		if c.Status != http.StatusOK {
			continue
		}
		var vals []struct {
			HostID string  `json:"hostId"`
			Name   string  `json:"name"`
			Time   int64   `json:"time"`
			Value  float64 `json:"value"`
		}
		c.Decode(t, &vals)
		for _, v := range vals {
			out = append(out, Value{v.HostID, v.Name, v.Time, v.Value, i})
		}
	}
	return out
}
