package agent

import (
	"context"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/runner"
)

// Clock is the agent's time. The agent's one loop owns every schedule
// (samples, minute ticks, posts, retries, checks), so that tests can run
// hours of it through a simulated Clock in moments.
type Clock interface {
	Now() time.Time
	// Until returns a channel that receives when the clock reaches t (a
	// zero t: never), and a function that releases it. inflight is how
	// much work the loop has running beside it, whose ends it also waits
	// for: a simulated clock moves on only when that work itself waits
	// for time.
	Until(t time.Time, inflight int) (<-chan time.Time, func())
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Until(t time.Time, inflight int) (<-chan time.Time, func()) {
	if t.IsZero() {
		return nil, func() {}
	}
	tm := time.NewTimer(time.Until(t))
	return tm.C, func() { tm.Stop() }
}

// Runner runs plugins and checks: *runner.Runner, or a stand-in in tests.
type Runner interface {
	Run(ctx context.Context, cmd runner.Command, extraEnv ...string) runner.Result
	// KillAll ends every command still running at once.
	KillAll()
	// Running is the number of commands running.
	Running() int
}
