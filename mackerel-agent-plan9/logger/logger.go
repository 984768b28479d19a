// Package logger writes the agent's log as upstream's mackerel-agent does,
// "2026/11/22 10:00:00 INFO <agent> message", so that what operators grep
// for carries over. In a fleet each watched host's lines carry its name.
package logger

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Logger writes levelled lines to one writer. A nil *Logger discards
// everything. It is safe for concurrent use.
type Logger struct {
	out    *output
	prefix string
}

type output struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool // DEBUG lines too
	silent  bool // WARNING and ERROR only
	now     func() time.Time
}

// New returns a logger writing to w. verbose adds DEBUG lines; silent
// leaves out INFO lines. now stamps the lines (time.Now when nil).
func New(w io.Writer, verbose, silent bool, now func() time.Time) *Logger {
	if now == nil {
		now = time.Now
	}
	return &Logger{out: &output{w: w, verbose: verbose, silent: silent, now: now}}
}

// With returns a logger whose lines begin with "name: ", sharing l's
// writer and levels.
func (l *Logger) With(name string) *Logger {
	if l == nil {
		return nil
	}
	return &Logger{out: l.out, prefix: l.prefix + name + ": "}
}

// Verbose says whether DEBUG lines are written.
func (l *Logger) Verbose() bool { return l != nil && l.out.verbose }

func (l *Logger) logf(level, format string, args ...any) {
	if l == nil || l.out.w == nil {
		return
	}
	o := l.out
	switch {
	case level == "DEBUG" && !o.verbose, level == "INFO" && o.silent:
		return
	}
	msg := fmt.Sprintf(format, args...)
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, "%s %s <agent> %s%s\n", o.now().Format("2006/01/02 15:04:05"), level, l.prefix, msg)
}

func (l *Logger) Debugf(format string, args ...any)   { l.logf("DEBUG", format, args...) }
func (l *Logger) Infof(format string, args ...any)    { l.logf("INFO", format, args...) }
func (l *Logger) Warningf(format string, args ...any) { l.logf("WARNING", format, args...) }
func (l *Logger) Errorf(format string, args ...any)   { l.logf("ERROR", format, args...) }
