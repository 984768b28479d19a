//go:build unix

package agent

import (
	"os"
	"syscall"
)

// stopSignals stop the agent, as upstream's.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
