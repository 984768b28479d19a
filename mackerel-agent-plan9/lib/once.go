package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/cli"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/config"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/host"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/runner"
)

// onceOutput is what once prints.
type onceOutput struct {
	Host      *mackerel.CreateHostParam  `json:"host"`
	Metrics   onceMetrics                `json:"metrics"`
	GraphDefs []*mackerel.GraphDefsParam `json:"graphDefs"`
}

type onceMetrics struct {
	Time int64 `json:"time"`
	// Values are this host's: the system metrics and the plugins' without
	// custom_identifier.
	Values map[string]float64 `json:"values"`
	// CustomIdentifiers holds the values of plugins that post to other
	// hosts, by custom_identifier.
	CustomIdentifiers map[string]map[string]float64 `json:"customIdentifiers,omitempty"`
}

// onceInterval is the interval over which once measures rates, as
// upstream's once.
const onceInterval = time.Second

// once prints the host's specs, one round of metrics with rates over one
// second, and the plugins' graph definitions. It posts nothing and writes
// nothing: the plugins keep their state where they would by hand.
func once(opts options, io IO) int {
	c, err := load(opts, false, io.Stderr)
	if _, serr := os.Stat(opts.Conf); err != nil && errors.Is(serr, fs.ErrNotExist) {
		// As upstream's once: no configuration is no plugins, not an
		// error. One that exists but cannot be used is.
		fmt.Fprintf(io.Stderr, "[NOTICE] %s does not exist: the system metrics only\n", opts.Conf)
		c, err = config.Empty(opts.Conf), nil
	}
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	lg := logger.New(io.Stderr, c.Verbose, c.Silent, nil)
	hosts, err := nativeHosts(opts, c, lg, "")
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	v, rev := cli.Build()
	ho := hosts[0]
	ho.Log, ho.Runner = lg, &runner.Runner{}
	ho.AgentName, ho.Version, ho.Revision = fmt.Sprintf("mackerel-agent-plan9/%s (Revision %s)", v, rev), v, rev
	out, err := collectOnce(context.Background(), host.New(ho.Options), realClock{})
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return errorf(io.Stderr, "%v", err)
	}
	fmt.Fprintf(io.Stdout, "%s\n", b)
	return 0
}

func collectOnce(ctx context.Context, h *host.Host, clock Clock) (*onceOutput, error) {
	param, err := h.Param(ctx)
	if err != nil {
		return nil, err
	}
	sample := func() {
		sctx, cancel := context.WithTimeout(ctx, sampleTimeout)
		h.Sample(sctx, clock.Now())
		cancel()
	}
	sample()
	ch, stop := clock.Until(clock.Now().Add(onceInterval), 0)
	<-ch
	stop()
	sample()
	now := clock.Now()
	cctx, cancel := context.WithTimeout(ctx, collectTimeout)
	sys := h.Collect(cctx, now, now)
	cancel()
	out := &onceOutput{Host: param, Metrics: onceMetrics{Time: now.Unix(), Values: map[string]float64{}}}
	for _, v := range sys.Values {
		out.Metrics.Values[v.Name] = v.Value
	}
	for _, p := range h.Plugins() {
		m := out.Metrics.Values
		if ci := p.Target; ci != "" {
			if out.Metrics.CustomIdentifiers == nil {
				out.Metrics.CustomIdentifiers = map[string]map[string]float64{}
			}
			if out.Metrics.CustomIdentifiers[ci] == nil {
				out.Metrics.CustomIdentifiers[ci] = map[string]float64{}
			}
			m = out.Metrics.CustomIdentifiers[ci]
		}
		for _, v := range h.PluginValues(ctx, p, now).Values {
			m[v.Name] = v.Value
		}
	}
	out.GraphDefs = h.GraphDefs(ctx)
	if out.GraphDefs == nil {
		out.GraphDefs = []*mackerel.GraphDefsParam{}
	}
	return out, nil
}
