package agent

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"9fans.net/go/plan9"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/p9test"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// A fleet's hosts begin and are read each at its own second of the
// minute, by its name, all within the minute's first 45 s; every minute's
// values are stamped with the minute (but those read at a host's start,
// with its start) and posted within it, once.
func TestFleetReadsAtOwnSeconds(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	names := []string{"a", "b", "gnot"}
	var mu sync.Mutex
	reads := map[string][]time.Time{} // the collections' readings of /proc
	var body strings.Builder
	for _, n := range names {
		srv := &p9test.Server{Root: testkit.Capture(testkit.Front11879amd64), Fault: func(tx *plan9.Fcall, path string) p9test.Fault {
			if tx.Type == plan9.Topen && path == "proc" {
				mu.Lock()
				reads[n] = append(reads[n], clock.Now())
				mu.Unlock()
			}
			return p9test.Answer
		}}
		fmt.Fprintf(&body, "[host.%s]\naddress = %q\n", n, p9test.Start(t, srv))
	}
	a, _, log := fleetAgent(t, api, clock, body.String())
	end := t0.Add(6 * time.Minute)
	if err := runFor(t, a, clock, end); err != nil {
		t.Fatal(err, log.String())
	}
	seconds := map[time.Duration]bool{}
	started := map[int64]bool{}
	for _, n := range names {
		own := collectOffset(n)
		seconds[own] = true
		started[t0.Add(own).Unix()] = true
		if len(reads[n]) == 0 || reads[n][0].Before(t0.Add(own)) {
			t.Errorf("%s first read at %v, before its start at %v", n, reads[n], t0.Add(own))
		}
		if own >= collectSpread {
			t.Errorf("%s is read at %v into the minute", n, own)
		}
		minutes := map[time.Time]bool{}
		for _, at := range reads[n] {
			minutes[at.Truncate(time.Minute)] = true
			if into := at.Sub(at.Truncate(time.Minute)); into != own && at.After(t0.Add(own)) {
				t.Errorf("%s read at %v, %v into the minute, not at its own %v", n, at.Format("15:04:05.000"), into, own)
			}
		}
		if len(minutes) < 5 {
			t.Errorf("%s read in %d minutes", n, len(minutes))
		}
	}
	if len(seconds) != len(names) {
		t.Errorf("%d hosts read at %d seconds of the minute", len(names), len(seconds))
	}
	type key struct {
		host string
		min  int64
	}
	load := map[key]int{}
	for _, v := range api.Posted(t) {
		if v.Name == "loadavg1" {
			if v.Time%60 != 0 && !started[v.Time] {
				t.Errorf("loadavg1 of %s stamped %v", v.HostID, time.Unix(v.Time, 0).UTC())
			}
			load[key{v.HostID, v.Time}]++
		}
	}
	for _, c := range api.Calls("POST", "/api/v0/tsdb") {
		var vals []struct {
			HostID, Name string
			Time         int64
		}
		c.Decode(t, &vals)
		for _, v := range vals {
			if v.Name == "loadavg1" && !c.At.Before(time.Unix(v.Time, 0).Add(time.Minute)) {
				t.Errorf("the loadavg1 of %s for %v posted at %v", v.HostID, time.Unix(v.Time, 0).UTC(), c.At)
			}
		}
	}
	for k, n := range load {
		if n != 1 {
			t.Errorf("%s's minute %v posted %d times", k.host, time.Unix(k.min, 0).UTC(), n)
		}
	}
	if len(load) < 3*5 {
		t.Errorf("%d host-minutes of loadavg1", len(load))
	}
}

// An aligned schedule with an offset fires at the host's own second of
// each minute, and each firing stands for its minute; late by a minute
// or more, it stands for the minute it is late in.
func TestEveryOffset(t *testing.T) {
	m := t0.Truncate(time.Minute) // 10:00:00
	e := every{interval: time.Minute, align: true, offset: 24 * time.Second}
	if got := e.after(m.Add(10 * time.Second)); !got.Equal(m.Add(24 * time.Second)) {
		t.Errorf("after 10:00:10: %v", got)
	}
	if got := e.after(m.Add(24 * time.Second)); !got.Equal(m.Add(84 * time.Second)) {
		t.Errorf("after 10:00:24: %v", got)
	}
	e.at(m.Add(24 * time.Second))
	if at := e.fire(m.Add(24 * time.Second)); !at.Equal(m) || !e.next.Equal(m.Add(84*time.Second)) {
		t.Errorf("fired at 10:00:24 for %v, next %v", at, e.next)
	}
	if at := e.fire(m.Add(85 * time.Second)); !at.Equal(m.Add(time.Minute)) {
		t.Errorf("fired a second late for %v", at)
	}
	if at := e.fire(m.Add(5 * time.Minute)); !at.Equal(m.Add(4*time.Minute)) || !e.next.Equal(m.Add(5*time.Minute+24*time.Second)) {
		t.Errorf("fired minutes late for %v, next %v", at, e.next)
	}
	// A first firing at the start, not aligned, stands for itself.
	start := m.Add(40 * time.Second)
	e.at(start)
	if at := e.fire(start); !at.Equal(start) {
		t.Errorf("the start's firing stands for %v", at)
	}
}
