//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package pidfile

// isAgent: these systems give no process name without cgo or sysctl
// parsing; the lock alone decides.
func isAgent(pid int) bool { return false }

const namesKnown = false
