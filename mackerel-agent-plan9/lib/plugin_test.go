package agent

import (
	"fmt"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPluginFaultsAndRouting(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	other := api.AddHost("remote", "remote-id")
	good := script(t, "good", `echo "good.a	1	0"; echo "good.skip	2	0"; echo "meta=[$MACKEREL_AGENT_PLUGIN_META] workdir=$MACKEREL_PLUGIN_WORKDIR" >&2`)
	garbage := script(t, "garbage", `echo "junk"; echo "g.ok	3	0"; echo "g.nan	NaN	0"; printf '\000\001\377\376 binary 1\n%%%% 1 2\nname\tvalue\ttime\n'`)
	hang := script(t, "hang", `echo "h.x	1	0"; sleep 300`)
	fail := script(t, "fail", `echo "f.x	4	0"; exit 3`)
	remote := script(t, "remote", `echo "r.x	5	0"`)
	lost := script(t, "lost", `echo "l.x	6	0"`)
	conf := testConfig(t, api, fmt.Sprintf(`
[plugin.metrics.good]
command = %q
exclude_pattern = 'skip'
[plugin.metrics.garbage]
command = %q
[plugin.metrics.hang]
command = %q
timeout_seconds = 1
[plugin.metrics.fail]
command = %q
[plugin.metrics.remote]
command = %q
custom_identifier = "remote-id"
[plugin.metrics.lost]
command = %q
custom_identifier = "no-such"
`, good, garbage, hang, fail, remote, lost))
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
	if err := runFor(t, a, clock, t0.Add(30*time.Second)); err != nil {
		t.Fatal(err, log.String())
	}
	got := map[string]string{}
	for _, v := range api.Posted(t) {
		got[v.Name] = fmt.Sprintf("%s=%v", v.HostID, v.Value)
	}
	want := map[string]string{"custom.good.a": "H002=1", "custom.g.ok": "H002=3", "custom.f.x": "H002=4", "custom.r.x": other + "=5", "loadavg1": "H002=0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("posted %v\nwant %v\n%s", got, want, log.String())
	}
	l := log.String()
	for _, w := range []string{
		"plugin garbage: 5 lines left out; the first: line 1 \"junk\": want name, value and time",
		"Failed to execute command " + hang + " (skip these metrics): command timed out",
		`outputted to STDERR: "meta=[] workdir=` + filepath.Join(conf.Root, "work"),
		`No host has custom_identifier "no-such"`,
	} {
		if !strings.Contains(l, w) {
			t.Errorf("log lacks %q:\n%s", w, l)
		}
	}
}
