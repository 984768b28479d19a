package runner

import (
	"fmt"
	"strings"
)

// parseExitString turns a Plan 9 exit string into a number. The wait
// message reads "prog pid: status"; rc passes on its last command's
// status ("rc 12: check-plan9 34: 2"), and a pipeline's statuses are
// joined by '|'. Go programs exit with the decimal code as their status.
func parseExitString(msg string) int {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if i := strings.LastIndexByte(msg, '|'); i >= 0 {
		msg = msg[i+1:]
	}
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return 0
	}
	var n int
	if _, err := fmt.Sscanf(msg, "%d", &n); err != nil || fmt.Sprint(n) != msg || n < 0 {
		return -1
	}
	return n
}

// unquote undoes the kernel's %q of the exit string in a wait message:
// 'text', with a quote inside doubled; a string without blanks or quotes
// comes unquoted.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}
