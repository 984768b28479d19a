package agent

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// logger writes upstream-style lines to standard error:
// "2026/11/22 10:00:00 INFO <agent> message".
type logger struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool // DEBUG lines too
	silent  bool // WARNING and ERROR only
	now     func() time.Time
}

func (l *logger) logf(level, format string, args ...any) {
	if l == nil || l.w == nil {
		return
	}
	switch level {
	case "DEBUG":
		if !l.verbose {
			return
		}
	case "INFO":
		if l.silent {
			return
		}
	}
	now := time.Now
	if l.now != nil {
		now = l.now
	}
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %s <agent> %s\n", now().Format("2006/01/02 15:04:05"), level, msg)
}

func (l *logger) Debugf(format string, args ...any)   { l.logf("DEBUG", format, args...) }
func (l *logger) Infof(format string, args ...any)    { l.logf("INFO", format, args...) }
func (l *logger) Warningf(format string, args ...any) { l.logf("WARNING", format, args...) }
func (l *logger) Errorf(format string, args ...any)   { l.logf("ERROR", format, args...) }

// Tracef receives mackerel-client-go's request dumps when verbose is set.
func (l *logger) Tracef(format string, args ...any) { l.logf("DEBUG", format, args...) }
