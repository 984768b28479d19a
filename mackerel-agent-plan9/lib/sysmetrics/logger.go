package sysmetrics

import (
	"fmt"
	"sync"
	"time"
)

// logInterval is the least time between two log lines of one source, so
// that a source that fails on every sample fills the log with one line a
// minute, not twelve.
const logInterval = time.Minute

// limiter passes at most one line per source per logInterval to logf. Time
// is the agent's clock as given to Sample and Collect, so tests inject it.
type limiter struct {
	logf func(format string, args ...any)

	mu   sync.Mutex
	last map[string]time.Time
}

func newLimiter(logf func(format string, args ...any)) *limiter {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &limiter{logf: logf, last: map[string]time.Time{}}
}

// log writes "source: message" unless source was logged less than
// logInterval before now. A clock that went back lets the line through.
func (l *limiter) log(now time.Time, source, format string, args ...any) {
	l.mu.Lock()
	t, ok := l.last[source]
	if ok && now.Sub(t) < logInterval && !now.Before(t) {
		l.mu.Unlock()
		return
	}
	l.last[source] = now
	l.mu.Unlock()
	l.logf("%s: %s", source, fmt.Sprintf(format, args...))
}
