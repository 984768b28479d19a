package agent

import (
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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
	vals, bad, first := parseValues(&MetricPlugin{}, seed(t, "plugin-values.txt"), time.Now())
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
		p := &MetricPlugin{UsePluginTimestamp: ts}
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

// Any exit string gives a code of 0 or more, or -1 for no number.
func FuzzParseExitString(f *testing.F) {
	for _, s := range []string{"", "rc 12: check-plan9 34: 2", "x 1: |2", "sleep 5: sys: trap: fault read"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		if n := parseExitString(msg); n < -1 {
			t.Fatalf("%q: %d", msg, n)
		}
	})
}

// Any configuration file loads or fails with an error naming the file;
// unknown keys are named in valid UTF-8.
func FuzzLoadConfig(f *testing.F) {
	f.Add("apikey = \"k\"\n[plugin.metrics.x]\ncommand = [\"a\", \"b\"]\ninclude_pattern = '^x'\n")
	f.Add("apikey = \"k\"\n[plugin.checks.c]\ncommand = \"exit 2\"\ncheck_interval = \"5m\"\naction = { command = \"true\" }\n")
	f.Add("apikye = 1\n[plugins.x]\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		file := dir + "/agent.conf"
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		c, unexpected, err := LoadConfig(file, false)
		if err != nil {
			if !strings.HasPrefix(err.Error(), file) {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		for _, u := range unexpected {
			if !utf8.ValidString(u.String()) && utf8.ValidString(body) {
				t.Fatalf("%q", u)
			}
		}
		for _, p := range c.MetricPlugins {
			if p.Command.Timeout <= 0 || (p.Command.Shell == "") == (len(p.Command.Args) == 0) {
				t.Fatalf("plugin %+v", p)
			}
		}
		for _, p := range c.CheckPlugins {
			if p.Interval < time.Minute || p.Interval > time.Hour {
				t.Fatalf("check interval %v", p.Interval)
			}
		}
	})
}
