package agent

import (
	"fmt"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/mackereltest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// planned writes a check that, on its nth run, exits and prints what the
// nth line of its plan says ("code message").
func planned(t *testing.T, plan ...string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "plan"), []byte(strings.Join(plan, "\n")+"\n"), 0o644)
	return script(t, "check", fmt.Sprintf(`d=%q
n=$(cat $d/n 2>/dev/null || echo 0); n=$((n+1)); echo $n >$d/n
line=$(sed -n "${n}p" $d/plan)
[ -z "$line" ] && line="0 fine"
printf '%%s' "${line#* }"; exit "${line%%%% *}"
`, dir))
}

type sentReport struct {
	Source struct {
		Type   string `json:"type"`
		HostID string `json:"hostId"`
	} `json:"source"`
	Name                 string `json:"name"`
	Status               string `json:"status"`
	Message              string `json:"message"`
	OccurredAt           int64  `json:"occurredAt"`
	NotificationInterval uint   `json:"notificationInterval"`
	MaxCheckAttempts     uint   `json:"maxCheckAttempts"`
	At                   time.Time
	Request              int
}

func reports(t *testing.T, f *mackereltest.Server) []sentReport {
	var out []sentReport
	for i, c := range f.Calls("POST", "/api/v0/monitoring/checks/report") {
		var body struct{ Reports []sentReport }
		c.Decode(t, &body)
		if len(body.Reports) == 0 || len(body.Reports) > 20 {
			t.Errorf("a request of %d reports", len(body.Reports))
		}
		for _, r := range body.Reports {
			r.At, r.Request = c.At, i
			out = append(out, r)
		}
	}
	return out
}

// Upstream's rules (command/command.go runChecker): an OK that repeats the
// last report is not resent, every non-OK is, a change of status goes at
// once, other reports with the minute's; the first result, when OK, is
// sent with the minute's too, not at once (a check appears on Mackerel
// only once it has reported). Exit 3 and others are UNKNOWN.
func TestCheckReportRules(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	check := planned(t, "0 fine", "0 fine", "2 down", "2 down", "0 fine", "0 fine", "0 fine now", "5 weird", "3 unknown")
	conf := testConfig(t, api, fmt.Sprintf(`
[plugin.checks.svc]
command = %q
notification_interval = 5
max_check_attempts = 3
`, check))
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
	if err := runFor(t, a, clock, t0.Add(9*time.Minute+30*time.Second)); err != nil {
		t.Fatal(err, log.String())
	}
	got := reports(t, api)
	want := []struct {
		status, msg string
		run         int  // which run (1-based) produced it
		immediate   bool // sent within the second of the run
	}{
		{"OK", "fine", 1, false},
		{"CRITICAL", "down", 3, true},
		{"CRITICAL", "down", 4, false},
		{"OK", "fine", 5, true},
		{"OK", "fine now", 7, false},
		{"UNKNOWN", "weird", 8, true},
		{"UNKNOWN", "unknown", 9, false},
		{"OK", "fine", 10, true},
	}
	if len(got) != len(want) {
		t.Fatalf("%d reports, want %d: %+v\n%s", len(got), len(want), got, log.String())
	}
	first := t0.Add(startSpread("", ""))
	for i, w := range want {
		g := got[i]
		run := first.Add(time.Duration(w.run-1) * time.Minute)
		if g.Status != w.status || g.Message != w.msg || g.OccurredAt != run.Unix() {
			t.Errorf("report %d: %s %q at %v, want %s %q at %v", i, g.Status, g.Message, time.Unix(g.OccurredAt, 0).UTC(), w.status, w.msg, run)
		}
		if w.immediate && !g.At.Equal(run) {
			t.Errorf("report %d (%s) sent at %v, want at once (%v)", i, g.Status, g.At, run)
		}
		if !w.immediate && (g.At.Before(run) || g.At.Sub(run) > time.Minute) {
			t.Errorf("report %d (%s) sent at %v, want within the minute after %v", i, g.Status, g.At, run)
		}
		if g.Source.Type != "host" || g.Source.HostID != "H001" || g.Name != "svc" {
			t.Errorf("report %d: %+v", i, g)
		}
		// Below 10 minutes is raised to 10, as upstream.
		if g.NotificationInterval != 10 || g.MaxCheckAttempts != 3 {
			t.Errorf("report %d: notificationInterval %d, maxCheckAttempts %d", i, g.NotificationInterval, g.MaxCheckAttempts)
		}
	}
}

// Many reports go 20 to a request, grouped by host; a message is cut to
// 1024 runes; a custom_identifier check reports as that host; with
// prevent_alert_auto_close no OK is sent and max_check_attempts is 1.
func TestCheckReportShapes(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	other := api.AddHost("remote", "gnot-remote")
	var b strings.Builder
	for i := 0; i < 25; i++ {
		fmt.Fprintf(&b, "[plugin.checks.c%02d]\ncommand = %q\n", i, planned(t, "2 bad"))
	}
	long := script(t, "long", `printf '%s' "$(printf 'é%.0s' $(seq 2000))"; exit 1`)
	fmt.Fprintf(&b, "[plugin.checks.long]\ncommand = %q\n", long)
	fmt.Fprintf(&b, "[plugin.checks.remote]\ncommand = %q\ncustom_identifier = \"gnot-remote\"\n", planned(t, "1 warn"))
	fmt.Fprintf(&b, "[plugin.checks.missing]\ncommand = %q\ncustom_identifier = \"no-such-host\"\n", planned(t, "2 lost"))
	fmt.Fprintf(&b, "[plugin.checks.sticky]\ncommand = %q\nprevent_alert_auto_close = true\nmax_check_attempts = 4\nnotification_interval = \"15m\"\n", planned(t, "2 bad", "0 fine", "0 fine"))
	conf := testConfig(t, api, b.String())
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
	if err := runFor(t, a, clock, t0.Add(150*time.Second)); err != nil {
		t.Fatal(err, log.String())
	}
	got := reports(t, api)
	per := map[string][]sentReport{}
	for _, r := range got {
		per[r.Name] = append(per[r.Name], r)
	}
	for i := 0; i < 25; i++ {
		if n := len(per[fmt.Sprintf("c%02d", i)]); n < 2 {
			t.Errorf("c%02d reported %d times in 2 runs", i, n)
		}
	}
	if r := per["long"]; len(r) == 0 || utf8.RuneCountInString(r[0].Message) != 1024 || !strings.HasPrefix(r[0].Message, "éé") {
		t.Errorf("long message: %d reports, %d runes", len(r), utf8.RuneCountInString(per["long"][0].Message))
	}
	if r := per["remote"]; len(r) == 0 || r[0].Source.HostID != other {
		t.Errorf("remote: %+v", r)
	}
	if r := per["missing"]; len(r) != 0 {
		t.Errorf("a check of an unknown custom_identifier host was sent: %+v", r)
	}
	if r := per["sticky"]; len(r) != 1 || r[0].Status != "CRITICAL" || r[0].MaxCheckAttempts != 1 || r[0].NotificationInterval != 15 {
		t.Errorf("sticky: %+v", r)
	}
	// Requests never mix hosts.
	hosts := map[int]string{}
	for _, r := range got {
		if h, ok := hosts[r.Request]; ok && h != r.Source.HostID {
			t.Errorf("request %d mixes hosts %s and %s", r.Request, h, r.Source.HostID)
		}
		hosts[r.Request] = r.Source.HostID
	}
	// The host's check list leaves out the checks of other hosts.
	if !strings.Contains(log.String(), `No host has custom_identifier "no-such-host"`) {
		t.Errorf("the missing host was not logged:\n%s", log.String())
	}
}

// The action runs after every check with the status, the previous one and
// the whole message.
func TestCheckAction(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	out := filepath.Join(t.TempDir(), "actions")
	action := script(t, "action", fmt.Sprintf(`echo "$MACKEREL_STATUS/$MACKEREL_PREVIOUS_STATUS/$MACKEREL_CHECK_MESSAGE" >>%q`, out))
	conf := testConfig(t, api, fmt.Sprintf(`
[plugin.checks.svc]
command = %q
action = { command = %q }
`, planned(t, "2 down", "0 up"), action))
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
	if err := runFor(t, a, clock, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err, log.String())
	}
	b, _ := os.ReadFile(out)
	if got := string(b); got != "CRITICAL//down\nOK/CRITICAL/up\n" {
		t.Errorf("actions saw %q", got)
	}
}

// A check that fails to report (the API is down) is retried, oldest
// first; a 4xx gives the reports up.
func TestCheckReportRetry(t *testing.T) {
	clock := newSimClock(t0)
	api := mackereltest.NewServer(t, clock.Now)
	api.Fail = func(c mackereltest.Call) int {
		if c.Path == "/api/v0/monitoring/checks/report" && c.At.Before(t0.Add(3*time.Minute)) {
			return 500
		}
		return 0
	}
	conf := testConfig(t, api, fmt.Sprintf("[plugin.checks.svc]\ncommand = %q\n", planned(t, "2 a", "2 b", "2 c", "2 d", "2 e")))
	a, log := newTestAgent(t, conf, &fakeSystem{}, clock)
	if err := runFor(t, a, clock, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err, log.String())
	}
	var msgs []string
	for _, r := range reports(t, api) {
		if api.Calls("POST", "/api/v0/monitoring/checks/report")[r.Request].Status == 200 {
			msgs = append(msgs, r.Message)
		}
	}
	if strings.Join(msgs, "") != "abcde" {
		t.Errorf("reports arrived as %q", msgs)
	}
}
