package agent

import (
	"os"
	"syscall"
)

// stopSignals are the notes that stop the agent: interrupt and hangup,
// as the kernel posts them, and as `echo interrupt >/proc/N/note` posts
// them, with echo's newline: the kernel keeps it in the note, and
// os/signal delivers only notes that match a Notify'd one exactly, so
// without these the documented way to stop the agent did nothing.
var stopSignals = []os.Signal{os.Interrupt, syscall.Note("hangup"), syscall.Note("interrupt\n"), syscall.Note("hangup\n")}

// hangupSignals: on Plan 9 a hangup stops the agent (stopSignals holds
// it), whatever it watches.
var hangupSignals []os.Signal
