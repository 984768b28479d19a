package host

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/config"
)

func TestParseValues(t *testing.T) {
	now := time.Unix(1795341660, 0)
	p := &config.MetricPlugin{Name: "t"}
	out := "a.b\t1\t0\n" +
		"a.c 2.5 whatever extra fields\n" +
		"\n" +
		"a.d\t1e3\t0\r\n" +
		"two fields\n" +
		"a.nan\tNaN\t0\n" +
		"a.inf\t+Inf\t0\n" +
		"a.hex\t0x10\t0\n" +
		"bad..name\t1\t0\n" +
		"bad name!\t1 0\n" +
		".lead\t1\t0\n" +
		"a.b\t7\t0\n"
	vals, bad, first := parseValues(p, out, now)
	got := map[string]float64{}
	for _, v := range vals {
		got[v.Name] = v.Value
		if v.Time != 0 {
			t.Errorf("%s has its own time without use_plugin_timestamp", v.Name)
		}
	}
	want := map[string]float64{"custom.a.b": 7, "custom.a.c": 2.5, "custom.a.d": 1000}
	if fmt.Sprint(got) != fmt.Sprint(want) || bad != 7 || !strings.HasPrefix(first, `line 5 "two fields": want name, value and time`) {
		t.Errorf("%v, %d bad, first %q", got, bad, first)
	}

	p = &config.MetricPlugin{Include: regexp.MustCompile(`^plan9\.`), Exclude: regexp.MustCompile(`percpu`), UsePluginTimestamp: true}
	out = fmt.Sprintf("plan9.load\t1\t%d\nplan9.percpu.0.busy\t2\t%d\nother.x\t3\t%d\nplan9.old\t4\t%d\nplan9.future\t5\t%d\nplan9.notime\t6\tx\n",
		now.Unix()-60, now.Unix(), now.Unix(), now.Unix()-16*60, now.Unix()+16*60)
	vals, bad, _ = parseValues(p, out, now)
	if len(vals) != 1 || vals[0].Name != "custom.plan9.load" || vals[0].Time != now.Unix()-60 || bad != 3 {
		t.Errorf("%+v, %d bad", vals, bad)
	}
}

func TestParseGraphDefs(t *testing.T) {
	out := "# mackerel-agent-plugin version=1\n" +
		`{"graphs":{"p9.mem":{"label":"Mem","unit":"bytes","metrics":[{"name":"used","label":"Used","stacked":true},{"name":"free"}]},` +
		`"p9.ether.#":{"Label":"Ether","Unit":"bytes/sec","Metrics":[{"Name":"in"}]},` +
		`"p9.nounit":{"metrics":[{"name":"*"}]},` +
		`"bad name!":{"metrics":[{"name":"x"}]},` +
		`"p9.two.#.#":{"metrics":[{"name":"x"}]},` +
		`"p9.furlongs":{"unit":"furlongs","metrics":[{"name":"x"}]},` +
		`"p9.dotted":{"metrics":[{"name":"a.b"}]}}}` + "\ntrailing garbage"
	defs, bad, err := parseGraphDefs(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range defs {
		s := d.Name + " " + d.Unit + " " + d.DisplayName + ":"
		for _, m := range d.Metrics {
			s += fmt.Sprintf(" %s(%s,%v)", m.Name, m.DisplayName, m.IsStacked)
		}
		got = append(got, s)
	}
	want := []string{
		"custom.p9.ether.# bytes/sec Ether: custom.p9.ether.#.in(,false)",
		"custom.p9.mem bytes Mem: custom.p9.mem.used(Used,true) custom.p9.mem.free(,false)",
		"custom.p9.nounit float : custom.p9.nounit.*(,false)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(bad) != 4 {
		t.Errorf("got\n%s\nbad %q", strings.Join(got, "\n"), bad)
	}
	for _, s := range []string{"", "p9.x 1 2\n", "# mackerel-agent-pluginX\n{}", "no newline"} {
		if _, _, err := parseGraphDefs(s); err != errNoMeta {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, _, err := parseGraphDefs("# mackerel-agent-plugin version=2\n{}"); err == nil || !strings.Contains(err.Error(), "unsupported") {
		t.Errorf("version 2: %v", err)
	}
	if _, _, err := parseGraphDefs("#mackerel-agent-plugin\n{\"graphs\": 3}"); err == nil || errorsIsNoMeta(err) {
		t.Errorf("bad JSON: %v", err)
	}
}

func errorsIsNoMeta(err error) bool { return err == errNoMeta }

// A plugin that prints garbage, one that hangs and one that fails cost
// only their own values; the others' and the system's are posted, each to
// its host; include and exclude patterns apply; the environment is
// upstream's.
