// Package metricname holds the rules of Mackerel metric names that the
// plugin, the agent and the file-server reader share.
package metricname

import "strings"

// Segment makes s one segment of a metric name, as mackerel-agent does for
// device names: every character but ASCII letters and digits, '-' and '_'
// becomes '_'. Device, pool and file-system names go through it.
func Segment(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// ValidPrefix reports whether s can begin a metric name: segments that
// Segment leaves as they are, joined by single dots.
func ValidPrefix(s string) bool {
	for _, seg := range strings.Split(s, ".") {
		if seg == "" || Segment(seg) != seg {
			return false
		}
	}
	return true
}
