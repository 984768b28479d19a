//go:build !unix && !plan9

package agent

import "os"

var stopSignals = []os.Signal{os.Interrupt}

var hangupSignals []os.Signal
