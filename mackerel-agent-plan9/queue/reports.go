package queue

import (
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/api"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
)

// Check reporting, as upstream (command/command.go runCheckersLoop).
const (
	reportChunk     = 20               // reports of one host in one request
	reportDelay     = time.Second      // between chunks
	reportDelayMany = 15 * time.Second // between chunks when many wait
	reportRetry     = 30 * time.Second // after a failed request
	flushInterval   = time.Minute      // unchanged reports go once a minute
)

// Report is one check result to send.
type Report struct {
	Check    string
	Target   string // "" for the watched host, else a custom_identifier
	Status   mackerel.CheckStatus
	Message  string
	Occurred time.Time
	// NotificationInterval and MaxCheckAttempts are as upstream sends
	// them: 0 when not set.
	NotificationInterval, MaxCheckAttempts uint

	queued time.Time
}

// Reports is a host's queue of check reports, oldest first.
type Reports struct {
	// Max bounds the reports kept (the newest report of each check is
	// always kept); 0 is six hours of one report a minute for each of
	// Checks checks.
	Max    int
	Checks int
	Log    *logger.Logger

	reports  []Report
	inflight []Report
	pace     pacer
	flushed  time.Time
	// many: the chunk in flight was taken from a long queue.
	many bool
}

func (q *Reports) max() int {
	if q.Max > 0 {
		return q.Max
	}
	return 6 * 60 * max(q.Checks, 1)
}

// Len is the number of reports waiting, in flight included.
func (q *Reports) Len() int { return len(q.reports) + len(q.inflight) }

// Add queues r. urgent sends it at once (a change of status); the rest go
// with the minute's flush.
func (q *Reports) Add(r Report, urgent bool, now time.Time) {
	r.queued = now
	q.reports = append(q.reports, r)
	if over := len(q.reports) - q.max(); over > 0 {
		q.trim(over)
	}
	if q.pace.state == paceFirst {
		q.pace.state = paceNormal
		q.flushed = now
	}
	switch {
	case len(q.inflight) > 0:
	case q.pace.state == paceStopping:
		if q.pace.at.IsZero() {
			q.pace.at = now
		}
	case urgent && !q.pace.keyRefused && q.pace.state != paceFailed:
		q.pace.at = now
	case q.pace.at.IsZero():
		q.pace.at = maxTime(q.flushed.Add(flushInterval), now)
		if q.pace.state == paceFailed {
			q.pace.at = maxTime(q.pace.at, now.Add(q.pace.wait))
		}
	}
}

// trim gives up the n oldest reports that are not the newest of their
// check.
func (q *Reports) trim(n int) {
	newest := map[string]int{}
	for i, r := range q.reports {
		newest[r.Check] = i
	}
	kept := q.reports[:0]
	for i, r := range q.reports {
		if n > 0 && newest[r.Check] != i {
			n--
			continue
		}
		kept = append(kept, r)
	}
	if d := len(q.reports) - len(kept); d > 0 {
		q.Log.Errorf("%d check reports wait; giving up the oldest %d", len(q.reports), d)
	}
	clear(q.reports[len(kept):])
	q.reports = kept
}

// Due is when the next request should go; zero when none is waiting.
func (q *Reports) Due(now time.Time) time.Time {
	if len(q.reports) == 0 || len(q.inflight) > 0 {
		return time.Time{}
	}
	return q.pace.due(now)
}

// Take returns the next request: the oldest reports of one host, at most
// 20, and marks them in flight. Reports for an unknown target are given
// up; those for a pending one wait.
func (q *Reports) Take(now time.Time, resolve Resolver) *mackerel.CheckReports {
	if len(q.inflight) > 0 || len(q.reports) == 0 || !q.pace.ready(now) {
		return nil
	}
	q.pace.at = time.Time{}
	q.many = len(q.reports) > 2*max(q.Checks, 1)
	var (
		target, id string
		chosen     bool
		rest       []Report
		gone       int
	)
	for _, r := range q.reports {
		if !chosen || r.Target != target {
			i, res := resolve(r.Target)
			switch {
			case res == Unknown:
				gone++
				continue
			case res == Pending || chosen:
				rest = append(rest, r)
				continue
			}
			target, id, chosen = r.Target, i, true
		}
		if len(q.inflight) < reportChunk {
			q.inflight = append(q.inflight, r)
		} else {
			rest = append(rest, r)
		}
	}
	if gone > 0 {
		q.Log.Warningf("Giving up %d check reports: their custom_identifier names no host", gone)
	}
	q.reports = rest
	if len(q.inflight) == 0 {
		return nil
	}
	out := &mackerel.CheckReports{}
	for _, r := range q.inflight {
		out.Reports = append(out.Reports, &mackerel.CheckReport{
			Source:               mackerel.NewCheckSourceHost(id),
			Name:                 r.Check,
			Status:               r.Status,
			Message:              r.Message,
			OccurredAt:           r.Occurred.Unix(),
			NotificationInterval: r.NotificationInterval,
			MaxCheckAttempts:     r.MaxCheckAttempts,
		})
	}
	return out
}

// Done takes the answer to the request Take made, and returns the names
// of the checks whose reports the API refused for good (400, 413, 422):
// their next result must be sent whatever it is, so that the latest state
// of every check arrives.
func (q *Reports) Done(err error, now time.Time) (refused []string) {
	sent := q.inflight
	q.inflight = nil
	v := api.Classify(err)
	switch {
	case err == nil:
		q.flushed = now
	case v == api.Refused:
		q.Log.Errorf("The API refused %d check reports, which are given up: %v", len(sent), err)
		for _, r := range sent {
			refused = append(refused, r.Check)
		}
	default:
		q.reports = append(sent, q.reports...)
	}
	q.pace.done(err, now, q.Log, "check reports", len(q.reports))
	switch {
	case len(q.reports) == 0:
	case q.pace.state == paceStopping:
		q.pace.at = now.Add(termDelay)
	case (err == nil || v == api.Refused) && q.many:
		q.pace.at = now.Add(reportDelayMany)
	case err == nil || v == api.Refused:
		q.pace.at = now.Add(reportDelay)
	case v == api.Retry:
		q.pace.at = now.Add(reportRetry)
	default:
		q.pace.at = now.Add(q.pace.wait)
	}
	return refused
}

// Kick schedules a request for what waits: after the targets it waited
// for were resolved, say.
func (q *Reports) Kick(now time.Time) {
	if len(q.reports) > 0 && len(q.inflight) == 0 && q.pace.at.IsZero() {
		q.pace.at = now
	}
}

// Stop sends what waits a second apart.
func (q *Reports) Stop(now time.Time) {
	q.pace.state = paceStopping
	if len(q.reports) > 0 && len(q.inflight) == 0 {
		q.pace.at = now
	}
}

// Busy says whether a request is in flight.
func (q *Reports) Busy() bool { return len(q.inflight) > 0 }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
