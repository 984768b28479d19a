//go:build unix

package agent

import (
	"os"
	"syscall"
)

// stopSignals stop the agent, as upstream's.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// hangupSignals stop the native agent and reload a fleet's configuration.
var hangupSignals = []os.Signal{syscall.SIGHUP}
