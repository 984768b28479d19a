package agent

import "time"

// Clock is the agent's time. The agent's one loop owns every schedule
// (samples, minute ticks, posts, retries, checks), so that tests can run
// hours of it through a simulated Clock in moments.
type Clock interface {
	Now() time.Time
	// Until returns a channel that receives when the clock reaches t, and
	// a function that releases it. busy says that work is in flight
	// whose end the agent also waits for: a simulated clock moves on to t
	// only when nothing is.
	Until(t time.Time, busy bool) (<-chan time.Time, func())
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Until(t time.Time, busy bool) (<-chan time.Time, func()) {
	tm := time.NewTimer(time.Until(t))
	return tm.C, func() { tm.Stop() }
}
