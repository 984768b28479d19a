// Command mackerel-agent-plan9 is a Mackerel agent for the Plan 9 or
// 9front host it runs on. See mackerel-agent-plan9/lib and the README.
package main

import agent "github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/lib"

func main() {
	agent.Do()
}
