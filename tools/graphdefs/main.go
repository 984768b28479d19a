// Command graphdefs prints, as JSON, the graph definitions mackerel-agent
// would post for each metric plugin of a mackerel-agent.conf: the agent's
// own code runs each plugin with MACKEREL_AGENT_PLUGIN_META set and parses
// what it prints. The tests of mackerel-plugin-plan9 use it to check the
// definitions as the agent reads them.
//
//	go run ./graphdefs mackerel-agent.conf
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/mackerelio/mackerel-agent/config"
	"github.com/mackerelio/mackerel-agent/metrics"
	mkr "github.com/mackerelio/mackerel-client-go"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: graphdefs mackerel-agent.conf")
		os.Exit(2)
	}
	conf, err := config.LoadConfig(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "graphdefs:", err)
		os.Exit(1)
	}
	out := map[string][]*mkr.GraphDefsParam{}
	for name, p := range conf.MetricPlugins {
		defs, err := metrics.NewPluginGenerator(p).PrepareGraphDefs()
		if err != nil {
			fmt.Fprintf(os.Stderr, "graphdefs: plugin %s: %v\n", name, err)
			os.Exit(1)
		}
		out[name] = defs
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "graphdefs:", err)
		os.Exit(1)
	}
}
