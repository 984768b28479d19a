package host

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/config"
)

// allowTimeWindow is how far a plugin's own timestamp may be from the
// agent's clock with use_plugin_timestamp.
const allowTimeWindow = 15 * time.Minute

// metricValue is one value a plugin printed, named as posted ("custom." +
// the plugin's name). Time is 0 unless the plugin's own time is used.
type metricValue struct {
	Name  string
	Value float64
	Time  int64
}

// validMetricKey is what Mackerel accepts after "custom.": letters,
// digits, '-' and '_' in elements joined by single dots. The agent checks
// it because the API refuses a whole request over one bad name, and with
// it every other value of the minute.
var validMetricKey = regexp.MustCompile(`^[-a-zA-Z0-9_]+(\.[-a-zA-Z0-9_]+)*$`)

// parseValues reads a plugin's output: "name value time" lines, split on
// any run of blanks, as upstream reads them. Lines it cannot use are left
// out; bad says how many and quotes the first.
func parseValues(p *config.MetricPlugin, out string, now time.Time) (vals []metricValue, bad int, first string) {
	seen := map[string]int{}
	note := func(n int, line, why string) {
		bad++
		if first == "" {
			if len(line) > 60 {
				line = line[:60] + "…"
			}
			first = fmt.Sprintf("line %d %q: %s", n, line, why)
		}
	}
	for i, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 3 {
			note(i+1, line, "want name, value and time")
			continue
		}
		key := f[0]
		if p.Include != nil && !p.Include.MatchString(key) {
			continue
		}
		if p.Exclude != nil && p.Exclude.MatchString(key) {
			continue
		}
		if !validMetricKey.MatchString(key) {
			note(i+1, line, "the name is not one Mackerel accepts")
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			note(i+1, line, "the value is not a finite number")
			continue
		}
		mv := metricValue{Name: "custom." + key, Value: v}
		if p.UsePluginTimestamp {
			ts, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				note(i+1, line, "the time is not a Unix time")
				continue
			}
			if d := now.Sub(time.Unix(ts, 0)); d >= allowTimeWindow || d <= -allowTimeWindow {
				note(i+1, line, "the time is more than 15 minutes from the agent's clock")
				continue
			}
			mv.Time = ts
		}
		// A name printed twice keeps its last value, as upstream.
		if j, ok := seen[mv.Name]; ok {
			vals[j] = mv
			continue
		}
		seen[mv.Name] = len(vals)
		vals = append(vals, mv)
	}
	return vals, bad, first
}

// pluginMetaHeader is the first line of a plugin's graph definitions.
var pluginMetaHeader = regexp.MustCompile(`^#\s*mackerel-agent-plugin\b(.*)`)

// errNoMeta means the plugin printed no graph definitions, which is not a
// fault: plenty of plugins have none.
var errNoMeta = errors.New("no graph definitions (no # mackerel-agent-plugin line)")

var validUnits = map[string]bool{"float": true, "integer": true, "percentage": true, "seconds": true,
	"milliseconds": true, "bytes": true, "bytes/sec": true, "bits/sec": true, "iops": true}

// A graph name may hold the wildcards * and # as whole elements.
var validGraphKey = regexp.MustCompile(`^([-a-zA-Z0-9_]+|[*#])(\.([-a-zA-Z0-9_]+|[*#]))*$`)
var validMetricPart = regexp.MustCompile(`^([-a-zA-Z0-9_]+|[*#])$`)

// parseGraphDefs reads the graph definitions a plugin prints when
// MACKEREL_AGENT_PLUGIN_META is set: a header line, then one JSON object.
// Names get "custom.", and a missing unit is float, as upstream. A graph
// whose names or unit Mackerel would refuse is left out and reported in
// bad, since one bad definition could cost all of them.
func parseGraphDefs(out string) (defs []*mackerel.GraphDefsParam, bad []string, err error) {
	r := bufio.NewReader(strings.NewReader(out))
	header, err := r.ReadString('\n')
	if err != nil && header == "" {
		return nil, nil, errNoMeta
	}
	m := pluginMetaHeader.FindStringSubmatch(strings.TrimRight(header, "\r\n"))
	if m == nil {
		return nil, nil, errNoMeta
	}
	for _, kv := range strings.Fields(m[1]) {
		if k, v, _ := strings.Cut(kv, "="); k == "version" && v != "1" {
			return nil, nil, fmt.Errorf("unsupported plugin meta version %q", v)
		}
	}
	var meta struct {
		Graphs map[string]struct {
			Label   string
			Unit    string
			Metrics []struct {
				Name    string
				Label   string
				Stacked bool
			}
		}
	}
	if err := json.NewDecoder(r).Decode(&meta); err != nil {
		return nil, nil, fmt.Errorf("graph definitions: %v", err)
	}
	for _, key := range slices.Sorted(maps.Keys(meta.Graphs)) {
		g := meta.Graphs[key]
		unit := g.Unit
		if unit == "" {
			unit = "float"
		}
		switch {
		case !validGraphKey.MatchString(key) || strings.Count(key, "#") > 1:
			bad = append(bad, fmt.Sprintf("graph %q: not a name Mackerel accepts", key))
			continue
		case !validUnits[unit]:
			bad = append(bad, fmt.Sprintf("graph %q: unit %q is not one of Mackerel's", key, unit))
			continue
		}
		d := &mackerel.GraphDefsParam{Name: "custom." + key, DisplayName: g.Label, Unit: unit}
		ok := true
		for _, mt := range g.Metrics {
			if !validMetricPart.MatchString(mt.Name) || (mt.Name == "#" && strings.Contains(key, "#")) {
				bad = append(bad, fmt.Sprintf("graph %q: metric %q: not a name Mackerel accepts", key, mt.Name))
				ok = false
				break
			}
			d.Metrics = append(d.Metrics, &mackerel.GraphDefsMetric{Name: d.Name + "." + mt.Name, DisplayName: mt.Label, IsStacked: mt.Stacked})
		}
		if ok {
			defs = append(defs, d)
		}
	}
	sortDefs(defs)
	return defs, bad, nil
}

func sortDefs(defs []*mackerel.GraphDefsParam) {
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
}

// ParseGraphDefs is what the agent makes of graph definitions a plugin
// prints: those that Mackerel would take, named with "custom.".
func ParseGraphDefs(out string) ([]*mackerel.GraphDefsParam, error) {
	defs, _, err := parseGraphDefs(out)
	return defs, err
}
