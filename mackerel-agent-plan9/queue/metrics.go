package queue

import (
	"time"
	"unsafe"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/api"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
)

// Bounds of the metric queue.
const (
	// DefaultMaxAge: six hours of values survive an outage, as upstream's
	// 360 queued minutes.
	DefaultMaxAge = 6 * time.Hour
	// DefaultMaxValues bounds the queue's memory whatever the plugins
	// print: about 16 MB of values.
	DefaultMaxValues = 500_000
	// DefaultMaxRequest bounds one request's values.
	DefaultMaxRequest = 10_000
)

// Value is one metric value. Its name is shared with the other minutes'
// values of the same metric (the producer interns it), so that a queued
// value costs its 32 bytes.
type Value struct {
	Name  string
	Time  int64
	Value float64
}

// Batch is one source's values of one collection: a minute's system
// metrics, or one run of a plugin.
type Batch struct {
	// Source names it in the log: "system metrics", "plugin NAME".
	Source string
	// Target is the host the values go to: "" for the watched host, else
	// a plugin's custom_identifier.
	Target string
	// System batches go first: a minute's load, CPU and memory are posted
	// on time whatever the plugins queued.
	System bool
	Values []Value

	queued time.Time
	alone  bool // sent alone since a request that mixed it was refused
}

// Metrics is a host's queue of metric values, oldest first. Its zero value
// uses the default bounds.
type Metrics struct {
	MaxAge     time.Duration
	MaxValues  int
	MaxRequest int
	// Second is the host's own second of the minute to post at, so that a
	// fleet does not post at once (HostSecond).
	Second int
	// HoldPlugins keeps plugins' values back until their graph
	// definitions were sent: values posted first would get graphs of
	// their own.
	HoldPlugins bool
	Log         *logger.Logger

	batches  []*Batch
	values   int
	inflight []part
	taken    time.Time // when the request in flight was taken
	pace     pacer
}

// part is the first n values of a batch, as a request carries them.
type part struct {
	b *Batch
	n int
}

func (q *Metrics) maxAge() time.Duration { return or(q.MaxAge, DefaultMaxAge) }
func (q *Metrics) maxValues() int        { return or(q.MaxValues, DefaultMaxValues) }
func (q *Metrics) maxRequest() int       { return or(q.MaxRequest, DefaultMaxRequest) }

func or[T int | time.Duration](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

// Len is the number of values queued.
func (q *Metrics) Len() int { return q.values }

// Bytes is about what the queued values hold in memory.
func (q *Metrics) Bytes() int {
	return q.values*int(unsafe.Sizeof(Value{})) + len(q.batches)*int(unsafe.Sizeof(Batch{})+unsafe.Sizeof(&Batch{}))
}

// Add queues b. Batches older than MaxAge, and the oldest beyond
// MaxValues, are given up, with one log line each saying how many values.
func (q *Metrics) Add(b Batch, now time.Time) {
	if len(b.Values) == 0 {
		return
	}
	b.queued = now
	q.batches = append(q.batches, &b)
	q.values += len(b.Values)
	q.trim(now)
	q.pace.schedule(now, q.Second, q.sendable())
}

// trim gives up what is too old, then the oldest beyond MaxValues, never
// what a request in flight carries.
func (q *Metrics) trim(now time.Time) {
	kept := q.batches[:0]
	for _, b := range q.batches {
		if !q.carried(b) && now.Sub(b.queued) > q.maxAge() {
			q.drop(b, len(b.Values), "it waited more than "+q.maxAge().String())
			continue
		}
		kept = append(kept, b)
	}
	over := q.values - q.maxValues()
	for i, b := range kept {
		if over > 0 && !q.carried(b) {
			over -= len(b.Values)
			q.drop(b, len(b.Values), "the queue holds its most values")
			kept[i] = nil
		}
	}
	q.batches = kept
	q.compact()
}

func (q *Metrics) carried(b *Batch) bool {
	for _, p := range q.inflight {
		if p.b == b {
			return true
		}
	}
	return false
}

// drop gives up the first n values of b, which the caller then removes.
func (q *Metrics) drop(b *Batch, n int, why string) {
	q.values -= n
	q.Log.Errorf("Giving up %d values of %s queued at %s: %s", n, b.Source, b.queued.Format(time.RFC3339), why)
}

func (q *Metrics) sendable() bool { return len(q.inflight) == 0 && len(q.batches) > 0 }

// Due is when the next request should go; zero when none is waiting.
func (q *Metrics) Due(now time.Time) time.Time { return q.pace.due(now) }

// Take returns the next request's values, oldest first with the system
// metrics ahead, at most MaxRequest of them, and marks them in flight. It
// returns nil when nothing can go yet (nothing is due, a request is in
// flight, or every target is pending). Batches for an unknown target are
// given up.
func (q *Metrics) Take(now time.Time, resolve Resolver) []*mackerel.HostMetricValue {
	if len(q.inflight) > 0 || !q.pace.ready(now) {
		return nil
	}
	q.pace.at = time.Time{}
	q.taken = now
	q.trim(now)
	room := q.maxRequest()
	var out []*mackerel.HostMetricValue
	take := func(b *Batch) bool {
		id, r := resolve(b.Target)
		switch {
		case r == Pending || (q.HoldPlugins && !b.System):
			return true
		case r == Unknown:
			q.drop(b, len(b.Values), "no host has its custom_identifier "+b.Target)
			b.Values = nil
			return true
		case b.alone && len(out) > 0:
			return true
		}
		n := min(room, len(b.Values))
		for _, v := range b.Values[:n] {
			out = append(out, &mackerel.HostMetricValue{HostID: id, MetricValue: &mackerel.MetricValue{Name: v.Name, Time: v.Time, Value: v.Value}})
		}
		q.inflight = append(q.inflight, part{b, n})
		room -= n
		return room > 0 && !b.alone
	}
	for _, system := range []bool{true, false} {
		for _, b := range q.batches {
			if b.System == system && len(b.Values) > 0 && !take(b) {
				break
			}
		}
		if room == 0 || (len(q.inflight) == 1 && q.inflight[0].b.alone) {
			break
		}
	}
	q.compact()
	return out
}

// compact removes batches with no values left.
func (q *Metrics) compact() {
	kept := q.batches[:0]
	for _, b := range q.batches {
		if b != nil && len(b.Values) > 0 {
			kept = append(kept, b)
		}
	}
	clear(q.batches[len(kept):])
	q.batches = kept
}

// Done takes the answer to the request Take made: err is nil when the API
// took it.
func (q *Metrics) Done(err error, now time.Time) {
	parts := q.inflight
	q.inflight = nil
	switch v := api.Classify(err); {
	case err == nil:
		for _, p := range parts {
			p.b.Values = p.b.Values[p.n:]
			q.values -= p.n
		}
	case v == api.Refused && len(parts) > 1:
		for _, p := range parts {
			p.b.alone = true
		}
		q.Log.Warningf("The API refused a request of %d sources' values (%v); sending each source alone", len(parts), err)
	case v == api.Refused:
		p := parts[0]
		q.drop(p.b, p.n, "the API refused them: "+err.Error())
		p.b.Values = p.b.Values[p.n:]
	}
	q.compact()
	q.pace.done(err, now, q.Log, "metrics", q.waiting())
	if err == nil && q.pace.state == paceBacklog && !q.waitedSince(q.taken) {
		// What waits arrived while the request flew: the minute's other
		// sources, read a moment after the first. It is no backlog, and
		// goes at the host's second, or at once when that has passed.
		q.pace.state = paceNormal
	}
	q.pace.schedule(now, q.Second, q.sendable())
}

// waitedSince says whether values that could go were queued at t or
// before.
func (q *Metrics) waitedSince(t time.Time) bool {
	for _, b := range q.batches {
		if !b.queued.After(t) && (b.System || !q.HoldPlugins) {
			return true
		}
	}
	return false
}

// waiting is how many values could go in the next request: those held
// back do not make a backlog.
func (q *Metrics) waiting() int {
	if !q.HoldPlugins {
		return q.values
	}
	n := 0
	for _, b := range q.batches {
		if b.System {
			n += len(b.Values)
		}
	}
	return n
}

// Kick schedules a request for what waits: after the targets it waited
// for were resolved, say.
func (q *Metrics) Kick(now time.Time) { q.pace.schedule(now, q.Second, q.sendable()) }

// Stop makes the queue send what it holds a second apart, as upstream
// does while stopping.
func (q *Metrics) Stop(now time.Time) {
	q.pace.stop(now)
	q.pace.schedule(now, q.Second, q.sendable())
}

// Busy says whether a request is in flight.
func (q *Metrics) Busy() bool { return len(q.inflight) > 0 }
