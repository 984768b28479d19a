package host

import (
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/config"
)

func seed(t testing.TB, name string) string {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The seeds parse as the plugin meant them: every line a value, every
// graph defined.
func TestSeedsParse(t *testing.T) {
	vals, bad, first := parseValues(&config.MetricPlugin{}, seed(t, "plugin-values.txt"), time.Now())
	if len(vals) != 67 || bad != 0 {
		t.Errorf("%d values, %d bad (%s)", len(vals), bad, first)
	}
	defs, badDefs, err := parseGraphDefs(seed(t, "plugin-meta.txt"))
	if err != nil || len(defs) != 19 || len(badDefs) != 0 {
		t.Errorf("%d graph definitions, bad %v, %v", len(defs), badDefs, err)
	}
}

// Whatever a plugin prints, the values kept are finite, named as Mackerel
// accepts, and no more than its lines; a note names a line.
func FuzzParseValues(f *testing.F) {
	f.Add(seed(f, "plugin-values.txt"), false)
	f.Add("a.b 1 2\nx\n\n c.d\t-3e4\t5 extra\n", true)
	f.Add("a.b NaN 0\na..b 1 0\n", false)
	now := time.Unix(1795341660, 0)
	name := regexp.MustCompile(`^custom\.[-a-zA-Z0-9_]+(\.[-a-zA-Z0-9_]+)*$`)
	f.Fuzz(func(t *testing.T, out string, ts bool) {
		p := &config.MetricPlugin{UsePluginTimestamp: ts}
		vals, bad, first := parseValues(p, out, now)
		if len(vals)+bad > strings.Count(out, "\n")+1 {
			t.Fatalf("%d values and %d bad from %d lines", len(vals), bad, strings.Count(out, "\n")+1)
		}
		if (bad > 0) != (first != "") || (first != "" && !strings.HasPrefix(first, "line ")) {
			t.Fatalf("bad %d, first %q", bad, first)
		}
		for _, v := range vals {
			if !name.MatchString(v.Name) || math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
				t.Fatalf("kept %+v", v)
			}
			if ts && (v.Time == 0 || time.Unix(v.Time, 0).Sub(now).Abs() >= allowTimeWindow) {
				t.Fatalf("kept time %d", v.Time)
			}
		}
	})
}

// Whatever a plugin prints for its graph definitions, those kept have
// names, units and metrics Mackerel accepts.
func FuzzParseGraphDefs(f *testing.F) {
	f.Add(seed(f, "plugin-meta.txt"))
	f.Add("# mackerel-agent-plugin\n{\"graphs\":{\"a.#\":{\"unit\":\"bytes\",\"metrics\":[{\"name\":\"*\"}]}}}")
	f.Add("#mackerel-agent-plugin version=2\n{}")
	graph := regexp.MustCompile(`^custom\.([-a-zA-Z0-9_]+|[*#])(\.([-a-zA-Z0-9_]+|[*#]))*$`)
	f.Fuzz(func(t *testing.T, out string) {
		defs, _, err := parseGraphDefs(out)
		if err != nil && len(defs) > 0 {
			t.Fatalf("definitions with an error: %v", err)
		}
		for _, d := range defs {
			if !graph.MatchString(d.Name) || strings.Count(d.Name, "#") > 1 || !validUnits[d.Unit] {
				t.Fatalf("kept graph %+v", d)
			}
			for _, m := range d.Metrics {
				if !strings.HasPrefix(m.Name, d.Name+".") || !graph.MatchString(m.Name) || strings.Count(m.Name, "#") > 1 {
					t.Fatalf("kept metric %+v of %s", m, d.Name)
				}
			}
		}
	})
}
