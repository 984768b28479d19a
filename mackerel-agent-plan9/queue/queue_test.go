package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/api"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 7, 0, time.UTC)

func status(code int) error {
	return &api.Error{Op: "posting metrics", Status: code, Err: errors.New("API request failed")}
}

var noAnswer = &api.Error{Op: "posting metrics", Err: errors.New("dial tcp: connection refused")}

func resolved(target string) (string, Resolution) {
	if target == "" {
		return "H1", Resolved
	}
	return "", Pending
}

func batch(source string, system bool, n int, first float64) Batch {
	b := Batch{Source: source, System: system}
	for i := range n {
		b.Values = append(b.Values, Value{Name: source, Time: t0.Unix(), Value: first + float64(i)})
	}
	return b
}

func testLog() (*logger.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return logger.New(&buf, true, false, func() time.Time { return t0 }), &buf
}

func values(vs []*mackerel.HostMetricValue) []float64 {
	var out []float64
	for _, v := range vs {
		out = append(out, v.Value.(float64))
	}
	return out
}

// The first request goes at once, later ones at the host's second; system
// metrics go ahead of plugins' queued before them.
func TestMetricsPacingAndOrder(t *testing.T) {
	lg, _ := testLog()
	q := &Metrics{Second: 30, Log: lg}
	q.Add(batch("plugin a", false, 2, 100), t0)
	q.Add(batch("system", true, 2, 0), t0)
	if d := q.Due(t0); !d.Equal(t0) {
		t.Fatalf("first request due %v", d)
	}
	got := values(q.Take(t0, resolved))
	if fmt.Sprint(got) != "[0 1 100 101]" {
		t.Errorf("first request %v", got)
	}
	q.Done(nil, t0)
	if q.Len() != 0 || !q.Due(t0).IsZero() {
		t.Errorf("after success: %d queued, due %v", q.Len(), q.Due(t0))
	}
	next := t0.Add(53 * time.Second) // 10:01:00
	q.Add(batch("system", true, 1, 2), next)
	if d := q.Due(next); !d.Equal(next.Add(30 * time.Second)) {
		t.Errorf("second request due %v, want the host's second", d)
	}
	if q.Take(next, resolved) != nil {
		t.Error("took before due")
	}
}

// A minute's other source, queued while the request of the first one
// flew, follows it at once: it is no backlog. What was already waiting
// when a request went is, and waits 30 s.
func TestMetricsSourcesOfAMinute(t *testing.T) {
	lg, _ := testLog()
	q := &Metrics{Second: 5, MaxRequest: 2, Log: lg}
	q.Add(batch("system", true, 1, 0), t0)
	q.Take(t0, resolved)
	q.Done(nil, t0)
	// 10:01:20, past the host's second: the plugin's values go at once.
	now := t0.Add(73 * time.Second)
	q.Add(batch("plugin", false, 2, 100), now)
	if got := values(q.Take(now, resolved)); fmt.Sprint(got) != "[100 101]" {
		t.Fatalf("first request %v", got)
	}
	q.Add(batch("system", true, 1, 1), now.Add(200*time.Millisecond))
	now = now.Add(300 * time.Millisecond)
	q.Done(nil, now)
	if d := q.Due(now); !d.Equal(now) {
		t.Errorf("the system metrics queued while the plugin's flew wait until %v", d)
	}
	if got := values(q.Take(now, resolved)); fmt.Sprint(got) != "[1]" {
		t.Errorf("second request %v", got)
	}
	q.Done(nil, now)
	// Three values, two a request: the third was waiting.
	q.Add(batch("system", true, 3, 2), now)
	q.Take(now, resolved)
	q.Done(nil, now)
	if d := q.Due(now); !d.Equal(now.Add(30 * time.Second)) {
		t.Errorf("a backlog's next request due %v, want 30 s on", d)
	}
}

// A failed request keeps its values at the head of the queue: they arrive
// later, in order, none twice.
func TestMetricsRetryKeepsOrder(t *testing.T) {
	lg, log := testLog()
	q := &Metrics{Log: lg}
	now := t0
	var sent []float64
	for minute := range 10 {
		q.Add(batch("system", true, 1, float64(minute)), now)
		if vs := q.Take(now, resolved); vs != nil {
			if minute < 5 {
				q.Done(status(503), now)
			} else {
				sent = append(sent, values(vs)...)
				q.Done(nil, now)
			}
		}
		now = now.Add(time.Minute)
	}
	for q.Len() > 0 {
		now = q.Due(now)
		sent = append(sent, values(q.Take(now, resolved))...)
		q.Done(nil, now)
	}
	if fmt.Sprint(sent) != "[0 1 2 3 4 5 6 7 8 9]" {
		t.Errorf("sent %v", sent)
	}
	if !strings.Contains(log.String(), "Failed to send metrics (will retry)") {
		t.Errorf("log:\n%s", log)
	}
}

// A refused request of several sources is split; then only the source
// the API refuses alone is given up.
func TestMetricsRefusedCostsOneSource(t *testing.T) {
	lg, log := testLog()
	q := &Metrics{Log: lg}
	q.Add(batch("system", true, 2, 0), t0)
	q.Add(batch("plugin bad", false, 2, 100), t0)
	q.Add(batch("plugin good", false, 2, 200), t0)
	now := t0
	var sent []float64
	for i := 0; q.Len() > 0 && i < 10; i++ {
		vs := q.Take(now, resolved)
		if vs == nil {
			now = q.Due(now)
			continue
		}
		if v := values(vs); v[0] == 100 || len(v) > 2 {
			q.Done(status(400), now)
		} else {
			sent = append(sent, v...)
			q.Done(nil, now)
		}
	}
	if fmt.Sprint(sent) != "[0 1 200 201]" {
		t.Errorf("sent %v", sent)
	}
	if !strings.Contains(log.String(), "Giving up 2 values of plugin bad") || strings.Contains(log.String(), "{") {
		t.Errorf("log:\n%s", log)
	}
}

// A refused key keeps everything and backs off to one request every ten
// minutes, with one error line; a 429 waits its Retry-After.
func TestMetricsKeyRefusedAndRateLimit(t *testing.T) {
	lg, log := testLog()
	q := &Metrics{Log: lg}
	now := t0
	q.Add(batch("system", true, 1, 0), now)
	var waits []time.Duration
	for range 6 {
		q.Take(now, resolved)
		q.Done(status(401), now)
		next := q.Due(now)
		waits = append(waits, next.Sub(now))
		now = next
	}
	if fmt.Sprint(waits) != "[1m0s 2m0s 4m0s 8m0s 10m0s 10m0s]" {
		t.Errorf("waits %v", waits)
	}
	if n := strings.Count(log.String(), "ERROR"); n != 1 {
		t.Errorf("%d error lines:\n%s", n, log)
	}
	q.Take(now, resolved)
	q.Done(&api.Error{Status: 429, RetryAfter: 42 * time.Second, Err: errors.New("slow down")}, now)
	if d := q.Due(now).Sub(now); d != 42*time.Second {
		t.Errorf("after a 429: %v", d)
	}
	now = q.Due(now)
	q.Take(now, resolved)
	q.Done(nil, now)
	if q.Len() != 0 || !strings.Contains(log.String(), "accepts the key again") {
		t.Errorf("%d left; log:\n%s", q.Len(), log)
	}
}

// A plugin's flood is split into bounded requests, and the minute's
// system metrics go in the first.
func TestMetricsBoundedRequests(t *testing.T) {
	lg, _ := testLog()
	q := &Metrics{Log: lg, MaxRequest: 1000}
	q.Add(batch("plugin flood", false, 2500, 100), t0)
	q.Add(batch("system", true, 3, 0), t0)
	now := t0
	var sizes []int
	for q.Len() > 0 {
		now = q.Due(now)
		vs := q.Take(now, resolved)
		if len(sizes) == 0 && vs[0].Value.(float64) != 0 {
			t.Errorf("the system metrics were not first")
		}
		sizes = append(sizes, len(vs))
		q.Done(nil, now)
	}
	if fmt.Sprint(sizes) != "[1000 1000 503]" {
		t.Errorf("request sizes %v", sizes)
	}
}

// The queue is bounded in values and in age; what is given up is logged
// as counts.
func TestMetricsBounds(t *testing.T) {
	lg, log := testLog()
	q := &Metrics{Log: lg, MaxValues: 1000}
	now := t0
	for i := range 30 {
		q.Add(batch("plugin p", false, 100, float64(i*100)), now)
	}
	if q.Len() > 1000 {
		t.Errorf("%d values held", q.Len())
	}
	if q.Bytes() > 1000*32+10*200 {
		t.Errorf("%d bytes held", q.Bytes())
	}
	q.Add(batch("system", true, 1, 0), now.Add(6*time.Hour+time.Minute))
	if q.Len() != 1 {
		t.Errorf("%d values after six hours", q.Len())
	}
	if !strings.Contains(log.String(), "the queue holds its most values") || !strings.Contains(log.String(), "waited more than 6h0m0s") {
		t.Errorf("log:\n%s", log)
	}
}

// Values wait for a pending target and are given up for an unknown one.
func TestMetricsTargets(t *testing.T) {
	lg, _ := testLog()
	q := &Metrics{Log: lg}
	b := batch("plugin c", false, 1, 7)
	b.Target = "c1"
	q.Add(b, t0)
	if vs := q.Take(t0, resolved); vs != nil || q.Len() != 1 {
		t.Fatalf("took %v for a pending target", vs)
	}
	q.Kick(t0)
	vs := q.Take(t0, func(string) (string, Resolution) { return "H9", Resolved })
	if len(vs) != 1 || vs[0].HostID != "H9" {
		t.Errorf("took %v", vs)
	}
	q.Done(nil, t0)
	q.Add(b, t0)
	q.Take(t0, func(string) (string, Resolution) { return "", Unknown })
	if q.Len() != 0 {
		t.Errorf("%d kept for an unknown target", q.Len())
	}
}

// A request scheduled before the wall clock stepped back an hour is not
// an hour away: it goes now.
func TestMetricsClockStepBack(t *testing.T) {
	lg, _ := testLog()
	q := &Metrics{Log: lg}
	q.Add(batch("system", true, 1, 0), t0)
	q.Take(t0, resolved)
	q.Done(noAnswer, t0)
	back := t0.Add(-2 * time.Hour)
	if d := q.Due(back); !d.Equal(back) {
		t.Errorf("due %v after the step back to %v", d, back)
	}
}

func report(check string, st mackerel.CheckStatus) Report {
	return Report{Check: check, Status: st, Occurred: t0}
}

// A change goes at once; the rest with the minute's flush; a refused
// report names its check so that its next result is sent.
func TestReports(t *testing.T) {
	lg, log := testLog()
	q := &Reports{Checks: 2, Log: lg}
	q.Add(report("a", "OK"), false, t0)
	if d := q.Due(t0); !d.Equal(t0.Add(time.Minute)) {
		t.Errorf("an unchanged report due %v", d)
	}
	q.Add(report("b", "CRITICAL"), true, t0)
	if d := q.Due(t0); !d.Equal(t0) {
		t.Errorf("a change due %v", d)
	}
	r := q.Take(t0, resolved)
	if len(r.Reports) != 2 || hostOf(r.Reports[0]) != "H1" {
		t.Fatalf("took %+v", r)
	}
	refused := q.Done(status(422), t0)
	if fmt.Sprint(refused) != "[a b]" || q.Len() != 0 {
		t.Errorf("refused %v, %d left", refused, q.Len())
	}
	// 5xx: kept, 30 s; 401: kept, backing off; 429: Retry-After.
	q.Add(report("a", "CRITICAL"), true, t0)
	q.Take(t0, resolved)
	q.Done(status(500), t0)
	if d := q.Due(t0); q.Len() != 1 || d.Sub(t0) != 30*time.Second {
		t.Errorf("after 500: %d left, due in %v", q.Len(), d.Sub(t0))
	}
	now := q.Due(t0)
	q.Take(now, resolved)
	q.Done(status(403), now)
	if d := q.Due(now); q.Len() != 1 || d.Sub(now) != time.Minute {
		t.Errorf("after 403: %d left, due in %v", q.Len(), d.Sub(now))
	}
	now = q.Due(now)
	q.Take(now, resolved)
	q.Done(&api.Error{Status: 429, RetryAfter: 5 * time.Second, Err: errors.New("x")}, now)
	if d := q.Due(now); q.Len() != 1 || d.Sub(now) != 5*time.Second {
		t.Errorf("after 429: %d left, due in %v", q.Len(), d.Sub(now))
	}
	now = q.Due(now)
	q.Take(now, resolved)
	q.Done(nil, now)
	if q.Len() != 0 || !strings.Contains(log.String(), "accepts the key again") {
		t.Errorf("%d left\n%s", q.Len(), log)
	}
}

// Chunks hold at most 20 reports of one host; an overfull queue keeps
// the newest report of every check.
func TestReportsChunksAndBound(t *testing.T) {
	lg, _ := testLog()
	q := &Reports{Checks: 1, Max: 30, Log: lg}
	for i := range 40 {
		r := report(fmt.Sprint("c", i%25), "WARNING")
		if i%2 == 0 {
			r.Target = "other"
		}
		q.Add(r, false, t0)
	}
	if q.Len() > 30 {
		t.Errorf("%d kept", q.Len())
	}
	newest := map[string]bool{}
	for _, r := range q.reports {
		newest[r.Check] = true
	}
	if len(newest) != 25 {
		t.Errorf("the newest of %d checks kept, want 25", len(newest))
	}
	both := func(target string) (string, Resolution) { return "H-" + target, Resolved }
	now := q.Due(t0)
	for q.Len() > 0 {
		r := q.Take(now, both)
		host := hostOf(r.Reports[0])
		for _, x := range r.Reports {
			if hostOf(x) != host {
				t.Fatal("a chunk of two hosts")
			}
		}
		if len(r.Reports) > 20 {
			t.Errorf("a chunk of %d", len(r.Reports))
		}
		q.Done(nil, now)
		now = q.Due(now)
	}
}

func hostOf(r *mackerel.CheckReport) string {
	b, _ := json.Marshal(r.Source)
	var s struct{ HostID string }
	json.Unmarshal(b, &s)
	return s.HostID
}
