// Command idle does nothing but wake every 5 s, as the agent's sampling
// does, until /tmp/idle.stop exists: what any Go program costs at rest on
// a Plan 9 kernel, to compare the agent's processor time with
// (.ci/agent-vm/idle.rc).
package main

import (
	"os"
	"time"
)

func main() {
	t := time.NewTicker(5 * time.Second)
	for range t.C {
		if _, err := os.Stat("/tmp/idle.stop"); err == nil {
			return
		}
	}
}
