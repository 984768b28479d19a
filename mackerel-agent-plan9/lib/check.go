package agent

import (
	"context"
	"time"

	"github.com/mackerelio/mackerel-client-go"
)

// Check reporting, as upstream (command/command.go runChecker and
// runCheckersLoop, mackerel/check.go).
const (
	maxMessageRunes        = 1024
	reportChunk            = 20
	reportDelay            = time.Second      // between chunks
	reportDelayMany        = 15 * time.Second // between chunks when many are queued
	reportRetryDelay       = 30 * time.Second
	reportFlushInterval    = time.Minute
	minNotificationMinutes = 10
	reportQueueMinutes     = 6 * 60
)

type status string

const (
	statusUndefined status = ""
	statusOK        status = "OK"
	statusWarning   status = "WARNING"
	statusCritical  status = "CRITICAL"
	statusUnknown   status = "UNKNOWN"
)

func statusOf(code int) status {
	switch code {
	case 0:
		return statusOK
	case 1:
		return statusWarning
	case 2:
		return statusCritical
	}
	return statusUnknown
}

// checkState is one check plugin and what it last reported.
type checkState struct {
	p       *CheckPlugin
	next    time.Time
	running bool
	last    status
	lastMsg string
}

// report is one check result to send.
type report struct {
	check    *CheckPlugin
	status   status
	message  string
	occurred time.Time
}

// startCheck runs a check plugin in the background.
func (a *Agent) startCheck(c *checkState, now time.Time) {
	c.running = true
	a.spawn(func() func() {
		res := a.run.run(c.p.Command, a.pluginEnv(c.p.Command)...)
		st, msg := statusOf(res.ExitCode), res.Stdout
		if res.Err != nil {
			st, msg = statusUnknown, res.Err.Error()
		}
		if res.Stderr != "" {
			a.log.Warningf("Checker %q output stderr: %s", c.p.Name, res.Stderr)
		}
		return func() { a.checkDone(c, report{check: c.p, status: st, message: msg, occurred: now}) }
	})
}

// checkDone applies upstream's rules: an OK that repeats the last report
// is not sent; with prevent_alert_auto_close no OK is; a change of status
// goes at once, except a first result that is OK, which goes with the
// rest, within the minute.
func (a *Agent) checkDone(c *checkState, r report) {
	c.running = false
	now := a.clock.Now()
	// The next run keeps to the schedule, skipping runs that a slow check
	// or a stopped clock missed.
	for !c.next.After(now) {
		c.next = c.next.Add(c.p.Interval)
	}
	a.log.Debugf("checker %q: status=%s message=%q", c.p.Name, r.status, r.message)
	if c.p.Action != nil {
		prev, msg, st := c.last, r.message, r.status
		a.spawn(func() func() {
			res := a.run.run(*c.p.Action, "MACKEREL_STATUS="+string(st), "MACKEREL_PREVIOUS_STATUS="+string(prev), "MACKEREL_CHECK_MESSAGE="+msg)
			return func() {
				if res.Err != nil || res.Stderr != "" {
					a.log.Warningf("Checker %q action: %v stdout %q stderr %q exit %d", c.p.Name, res.Err, res.Stdout, res.Stderr, res.ExitCode)
				}
			}
		})
	}
	last, lastMsg := c.last, c.lastMsg
	c.last, c.lastMsg = r.status, r.message
	switch {
	case r.status == statusOK && last == statusOK && r.message == lastMsg:
		return
	case r.status == statusOK && c.p.PreventAlertAutoClose:
		return
	}
	a.queueReport(r)
	if r.status != last && !(r.status == statusOK && last == statusUndefined) {
		a.reportAt = now
	}
}

func (a *Agent) queueReport(r report) {
	a.reports = append(a.reports, r)
	if limit := reportQueueMinutes * max(len(a.checks), 1); len(a.reports) > limit {
		a.log.Errorf("%d check reports are waiting; giving up the oldest %d", len(a.reports), len(a.reports)-limit)
		a.reports = a.reports[len(a.reports)-limit:]
	}
	if a.reportAt.IsZero() {
		a.reportAt = a.lastFlush.Add(reportFlushInterval)
	}
}

// startReport sends the oldest reports of one host, at most 20.
func (a *Agent) startReport() {
	a.reportAt = time.Time{}
	ci := a.reports[0].check.CustomIdentifier
	var chunk, rest []report
	for _, r := range a.reports {
		if len(chunk) < reportChunk && r.check.CustomIdentifier == ci {
			chunk = append(chunk, r)
		} else {
			rest = append(rest, r)
		}
	}
	many := len(a.reports) > 2*len(a.checks)
	a.reports = rest
	hostID, ok := a.hostFor(ci)
	if !ok {
		// The custom_identifier host was not found at start; upstream
		// drops its reports likewise.
		a.reportNext(many)
		return
	}
	payload := &mackerel.CheckReports{}
	for _, r := range chunk {
		payload.Reports = append(payload.Reports, &mackerel.CheckReport{
			Source:               mackerel.NewCheckSourceHost(hostID),
			Name:                 r.check.Name,
			Status:               mackerel.CheckStatus(r.status),
			Message:              truncateRunes(r.message, maxMessageRunes),
			OccurredAt:           r.occurred.Unix(),
			NotificationInterval: normalize(r.check.NotificationInterval, minNotificationMinutes),
			MaxCheckAttempts:     normalize(r.check.MaxCheckAttempts, 0),
		})
	}
	a.reporting = true
	a.spawn(func() func() {
		start := time.Now()
		err := a.api.PostCheckReportsContext(context.Background(), payload)
		if err != nil && time.Since(start) < retryNetworkUnder && isNetworkError(err) {
			a.log.Warningf("ReportCheckMonitors: failed to report (will retry immediately): %v", err)
			err = a.api.PostCheckReportsContext(context.Background(), payload)
		}
		return func() {
			a.reporting = false
			switch {
			case err == nil:
				a.reportNext(many)
			case isClientError(err):
				a.log.Errorf("ReportCheckMonitors: the API refused %d reports, which are given up: %v", len(chunk), apiErrorHint(err))
				a.reportNext(many)
			default:
				a.log.Warningf("ReportCheckMonitors: failed to report (will retry): %v", err)
				a.reports = append(chunk, a.reports...)
				a.reportAt = a.clock.Now().Add(reportRetryDelay)
			}
		}
	})
}

// reportNext schedules the chunk after one that was sent, or the next
// minute's flush.
func (a *Agent) reportNext(many bool) {
	now := a.clock.Now()
	a.lastFlush = now
	switch {
	case len(a.reports) == 0:
		a.reportAt = time.Time{}
	case many:
		a.reportAt = now.Add(reportDelayMany)
	default:
		a.reportAt = now.Add(reportDelay)
	}
}

// normalize is upstream's: nil is "not set" (0); below lo becomes lo.
func normalize(p *int32, lo int32) uint {
	switch {
	case p == nil:
		return 0
	case *p < lo:
		return uint(lo)
	}
	return uint(*p)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
