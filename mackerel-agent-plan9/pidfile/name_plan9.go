package pidfile

import (
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/p9stats"
)

const namesKnown = true

// isAgent compares the first field of /proc/N/status: the name of the
// program's text, cut alike for both on classic kernels.
func isAgent(pid int) bool {
	procs, _ := p9stats.NewDefaultFS("/").Procs()
	var self, other string
	for _, p := range procs {
		switch p.PID {
		case selfPid:
			self = p.Name
		case pid:
			other = p.Name
		}
	}
	return self != "" && other == self
}
