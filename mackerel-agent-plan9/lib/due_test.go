package agent

import (
	"testing"
	"time"
)

// The loop's order of hosts: soonest first, hosts with nothing scheduled
// last, each placed again by its new time, and a host no longer watched
// never again.
func TestDueHosts(t *testing.T) {
	host := func(name string, at time.Duration) *watched {
		w := &watched{o: HostOptions{}, dueIndex: -1}
		w.o.Name = name
		if at > 0 {
			w.sample.next = t0.Add(at)
		}
		return w
	}
	a, b, c, idle := host("a", 3*time.Second), host("b", time.Second), host("c", 2*time.Second), host("idle", 0)
	var h dueHosts
	h.reset([]*watched{a, idle, b, c}, t0)
	names := func(ws []*watched) string {
		s := ""
		for _, w := range ws {
			s += w.o.Name
		}
		return s
	}
	if !h.next().Equal(t0.Add(time.Second)) {
		t.Errorf("next %v", h.next())
	}
	if got := names(h.takeDue(t0.Add(2 * time.Second))); got != "bc" {
		t.Errorf("due at 2 s: %q", got)
	}
	b.sample.next = t0.Add(10 * time.Second)
	h.schedule(b, t0)
	c.gone = true
	h.schedule(c, t0)
	if got := names(h.takeDue(t0.Add(time.Hour))); got != "ab" {
		t.Errorf("due in an hour: %q", got)
	}
	if h.Len() != 1 || !h.next().IsZero() {
		t.Errorf("left %d, next %v", h.Len(), h.next())
	}
	// A host whose time moves earlier comes first.
	h.reset([]*watched{a, b, idle}, t0)
	idle.sample.next = t0
	h.schedule(idle, t0)
	if got := names(h.takeDue(t0)); got != "idle" {
		t.Errorf("due at once: %q", got)
	}
}
