package host

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/config"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/queue"
)

// MaxMessageRunes is where a check's message is cut, as upstream cuts it:
// when it is read, so that a queued report holds no more.
const MaxMessageRunes = 1024

// minNotificationMinutes is upstream's floor of notification_interval.
const minNotificationMinutes = 10

// Check is one check of a host and what it last reported. Its state is
// the agent loop's: Apply and Refused are called from the loop only.
type Check struct {
	Plugin *config.CheckPlugin
	// Exec, when set, computes the result in-process instead of running
	// Plugin's command.
	Exec func(ctx context.Context) (mackerel.CheckStatus, string)

	last    mackerel.CheckStatus
	lastMsg string
	// resend: the API refused this check's last report for good, so its
	// next result goes whatever it is.
	resend bool
}

// Result is what one run of a check found.
type Result struct {
	Status  mackerel.CheckStatus
	Message string
	At      time.Time
}

// StatusOf is upstream's reading of a check's exit code.
func StatusOf(code int) mackerel.CheckStatus {
	switch code {
	case 0:
		return mackerel.CheckStatusOK
	case 1:
		return mackerel.CheckStatusWarning
	case 2:
		return mackerel.CheckStatusCritical
	}
	return mackerel.CheckStatusUnknown
}

// RunCheck runs c's command. A command that cannot run, or runs out of
// time, is UNKNOWN with the error as its message.
func (h *Host) RunCheck(ctx context.Context, c *Check, now time.Time) Result {
	if c.Exec != nil {
		st, msg := c.Exec(ctx)
		return Result{Status: st, Message: truncateRunes(msg, MaxMessageRunes), At: now}
	}
	res := h.o.Runner.Run(ctx, c.Plugin.Command, h.env(c.Plugin.Command)...)
	if res.Stderr != "" {
		h.log.Warningf("Checker %q output stderr: %s", c.Plugin.Name, res.Stderr)
	}
	r := Result{Status: StatusOf(res.ExitCode), Message: res.Stdout, At: now}
	if res.Err != nil {
		r.Status, r.Message = mackerel.CheckStatusUnknown, res.Err.Error()
	}
	r.Message = truncateRunes(r.Message, MaxMessageRunes)
	return r
}

// RunAction runs c's action, if it has one, after a result, with the
// environment upstream gives it.
func (h *Host) RunAction(ctx context.Context, c *Check, r Result, prev mackerel.CheckStatus) {
	a := c.Plugin.Action
	if a == nil {
		return
	}
	res := h.o.Runner.Run(ctx, *a, append(h.env(*a), "MACKEREL_STATUS="+string(r.Status),
		"MACKEREL_PREVIOUS_STATUS="+string(prev), "MACKEREL_CHECK_MESSAGE="+r.Message)...)
	if res.Err != nil || res.Stderr != "" {
		h.log.Warningf("Checker %q action: %v stdout %q stderr %q exit %d", c.Plugin.Name, res.Err, res.Stdout, res.Stderr, res.ExitCode)
	}
}

// Last is the status c last reported ("" before its first result).
func (c *Check) Last() mackerel.CheckStatus { return c.last }

// Apply takes a result under upstream's rules and says whether to queue
// its report, and whether at once: an OK that repeats the last report is
// not sent, nor with prevent_alert_auto_close any OK; a change of status
// goes at once, except a first result that is OK, which goes with the
// minute's reports. A check whose last report the API refused sends its
// next result whatever it is.
func (c *Check) Apply(r Result) (rep queue.Report, send, urgent bool) {
	p := c.Plugin
	last, lastMsg, resend := c.last, c.lastMsg, c.resend
	c.last, c.lastMsg, c.resend = r.Status, r.Message, false
	ok := r.Status == mackerel.CheckStatusOK
	switch {
	case ok && p.PreventAlertAutoClose:
		return rep, false, false
	case ok && last == mackerel.CheckStatusOK && r.Message == lastMsg && !resend:
		return rep, false, false
	}
	rep = queue.Report{
		Check: p.Name, Target: p.CustomIdentifier, Status: r.Status, Message: r.Message, Occurred: r.At,
		NotificationInterval: normalize(p.NotificationInterval, minNotificationMinutes),
		MaxCheckAttempts:     normalize(p.MaxCheckAttempts, 0),
	}
	urgent = r.Status != last && !(ok && last == "")
	return rep, true, urgent
}

// Refused marks c's last report as refused for good by the API.
func (c *Check) Refused() { c.resend = true }

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
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
