package checkplan9

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// derive copies a capture and replaces files in the copy (content "-"
// removes the file), to make a host at a threshold's edge.
func derive(t *testing.T, capture string, files map[string]string) string {
	t.Helper()
	h := testkit.CopyCapture(t, capture)
	for name, content := range files {
		h.Write(name, content)
	}
	return h.Dir
}

// run runs check-plan9 and returns its exit status and its one line.
func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(args, &out, &errb)
	s := out.String()
	if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") {
		t.Errorf("%q: stdout %q is not one line", args, s)
	}
	return code, strings.TrimSuffix(s, "\n")
}

type tc struct {
	name string
	args []string
	code int
	line string // exact, or a prefix when it ends in "…"
}

func table(t *testing.T, tests []tc) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, line := run(t, tt.args...)
			ok := line == tt.line
			if p, cut := strings.CutSuffix(tt.line, "…"); cut {
				ok = strings.HasPrefix(line, p)
			}
			if code != tt.code || !ok {
				t.Errorf("%q:\ngot  %d %q\nwant %d %q", tt.args, code, line, tt.code, tt.line)
			}
		})
	}
}

func swapFile(used, total int) string {
	return "1067155456 memory\n4096 pagesize\n104215 kernel\n" + itoa(used) + "/" + itoa(total) + " user\n0/320000 swap\n837/150376 reclaim\n2695808/2916960/426454272 kernel malloc\n"
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestMemory(t *testing.T) {
	root := testkit.Capture(testkit.Front11879amd64)
	table(t, []tc{
		{"ok", []string{"memory", "--root", root}, 0, "Memory OK: 0.7% of user memory in use (3.9 MiB of 587.4 MiB; 3.3 MiB reclaimable counted as free)"},
		{"warning", []string{"memory", "-w", "0.5", "--root", root}, 1, "Memory WARNING: 0.7% …"},
		{"critical", []string{"memory", "-w", "0.1", "-c", "0.6", "--root", root}, 2, "Memory CRITICAL: 0.7% …"},
		{"edge under 95", []string{"memory", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/swap": swapFile(142857, 150376)})}, 0, "Memory OK: 95.0% …"},
		{"edge over 95", []string{"memory", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/swap": swapFile(143000, 150376)})}, 1, "Memory WARNING: 95.1% …"},
		{"over 98", []string{"memory", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/swap": swapFile(148000, 150376)})}, 2, "Memory CRITICAL: 98.4% …"},
		{"classic", []string{"memory", "--root", testkit.Capture(testkit.Legacy386)}, 0, "Memory OK: 0.3% of user memory in use (2.2 MiB of 767.9 MiB)"},
		{"9k", []string{"memory", "--root", testkit.Capture(testkit.Legacy9k)}, 0, "Memory OK: 0.3% of user memory in use (2.2 MiB of 799.9 MiB)"},
		{"malformed", []string{"memory", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/swap": "1067155456 memory\n4096 pagesize\n104215 kernel\nmany/150376 user\n"})}, 3,
			`Memory UNKNOWN: p9stats: /dev/swap: line 4: bad number "many": invalid syntax: "many/150376 user"`},
		{"missing", []string{"memory", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/swap": "-"})}, 3, "Memory UNKNOWN: open …"},
		{"bad flag", []string{"memory", "-w", "x", "--root", root}, 3, "CheckPlan9 UNKNOWN: invalid argument for flag `-w, --warning' (expected float64): strconv.ParseFloat: parsing \"x\": invalid syntax"},
		{"bad percent", []string{"memory", "-c", "101", "--root", root}, 3, "CheckPlan9 UNKNOWN: --critical: 101 is not a percentage"},
	})
}

func TestSwap(t *testing.T) {
	sw := func(used, total int) string {
		return "1067155456 memory\n4096 pagesize\n104215 kernel\n1011/150376 user\n" + itoa(used) + "/" + itoa(total) + " swap\n"
	}
	table(t, []tc{
		{"ok", []string{"swap", "--root", testkit.Capture(testkit.Front11879amd64)}, 0, "Swap OK: 0.0% of swap in use (0 B of 1.2 GiB)"},
		{"warning", []string{"swap", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/swap": sw(200000, 320000)})}, 1, "Swap WARNING: 62.5% of swap in use (781.2 MiB of 1.2 GiB)"},
		{"critical", []string{"swap", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/swap": sw(300000, 320000)})}, 2, "Swap CRITICAL: 93.8% …"},
		{"thresholds", []string{"swap", "-w", "70", "-c", "90", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/swap": sw(240000, 320000)})}, 1, "Swap WARNING: 75.0% …"},
		{"none configured", []string{"swap", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/swap": sw(0, 0)})}, 0, "Swap OK: no swap configured"},
		{"9k", []string{"swap", "--root", testkit.Capture(testkit.Legacy9k)}, 0, "Swap OK: this kernel reports no swap"},
		{"missing", []string{"swap", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/swap": "-"})}, 3, "Swap UNKNOWN: …"},
	})
}

func sysstat(loads ...int) string {
	var b strings.Builder
	for i, l := range loads {
		b.WriteString(pad(i) + pad(100) + pad(100) + pad(100) + pad(100) + pad(0) + pad(0) + pad(l) + pad(90) + pad(1) + "\n")
	}
	return b.String()
}

func pad(n int) string { return fmt.Sprintf("%11d ", n) }

func TestLoad(t *testing.T) {
	root := testkit.Capture(testkit.Front11879amd64) // load 1299: 1.30
	table(t, []tc{
		{"ok", []string{"load", "-w", "2", "-c", "4", "--root", root}, 0, "Load OK: load average: 1.30 (1 CPU)"},
		{"warning", []string{"load", "-w", "1", "--root", root}, 1, "Load WARNING: load average: 1.30 (1 CPU)"},
		{"critical", []string{"load", "-w", "1", "-c", "1.2", "--root", root}, 2, "Load CRITICAL: load average: 1.30 (1 CPU)"},
		{"check-load list", []string{"load", "-w", "1,2,3", "-c", "4,5,6", "--root", root}, 1, "Load WARNING: …"},
		{"per cpu", []string{"load", "-r", "-w", "1", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/sysstat": sysstat(1800, 0)})}, 0, "Load OK: load average: 1.80 (2 CPUs), 0.90 per CPU"},
		{"per cpu over", []string{"load", "-r", "-w", "0.8", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/sysstat": sysstat(1800, 0)})}, 1, "Load WARNING: …"},
		{"no thresholds", []string{"load", "--root", root}, 3, "CheckPlan9 UNKNOWN: give --warning, --critical or both"},
		{"bad threshold", []string{"load", "-w", "high", "--root", root}, 3, `CheckPlan9 UNKNOWN: --warning "high": want a number such as 4 or 1.5`},
		{"malformed", []string{"load", "-w", "1", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/sysstat": "0 1 2\n"})}, 3, `Load UNKNOWN: p9stats: /dev/sysstat: line 1: 3 fields, want 10: "0 1 2"`},
	})
}

func TestUptime(t *testing.T) {
	root := testkit.Capture(testkit.Front11879amd64) // 6.56 s
	long := derive(t, testkit.Front11879amd64, map[string]string{"dev/time": " 1795237723   1795237723625120246            2004643072             305157766        184000000000000 "})
	table(t, []tc{
		{"ok", []string{"uptime", "--root", root}, 0, "Uptime OK: 0 day(s) 0 hour(s) 0 minute(s) (6 second(s))"},
		{"warning under", []string{"uptime", "-w", "60", "--root", root}, 1, "Uptime WARNING: …"},
		{"critical under", []string{"uptime", "-w", "60", "-c", "10", "--root", root}, 2, "Uptime CRITICAL: …"},
		{"long", []string{"uptime", "-w", "60", "--root", long}, 0, "Uptime OK: 2 day(s) 3 hour(s) 6 minute(s) (184000 second(s))"},
		{"warning over", []string{"uptime", "-W", "86400", "--root", long}, 1, "Uptime WARNING: 2 day(s) …"},
		{"critical over", []string{"uptime", "-W", "86400", "-C", "172800", "--root", long}, 2, "Uptime CRITICAL: 2 day(s) …"},
		{"four fields", []string{"uptime", "--root", testkit.Capture(testkit.Front2016amd64)}, 0, "Uptime OK: 0 day(s) 0 hour(s) 0 minute(s) (4 second(s))"},
		{"malformed", []string{"uptime", "--root", derive(t, testkit.Front11879amd64, map[string]string{"dev/time": "soon"})}, 3, "Uptime UNKNOWN: p9stats: /dev/time: …"},
	})
}

func TestProcs(t *testing.T) {
	root := testkit.Capture(testkit.Front11879amd64) // 37 processes, three mntgen
	table(t, []tc{
		{"all", []string{"procs", "--root", root}, 0, "Procs OK: Found 37 matching processes"},
		{"pattern", []string{"procs", "-p", "^mntgen$", "--root", root}, 0, "Procs OK: Found 3 matching processes /^mntgen$/"},
		{"over", []string{"procs", "-p", "^mntgen$", "-w", "2", "--root", root}, 1, "Procs WARNING: Found 3 matching processes /^mntgen$/"},
		{"critical over", []string{"procs", "-p", "^mntgen$", "-w", "1", "-c", "2", "--root", root}, 2, "Procs CRITICAL: …"},
		{"absent", []string{"procs", "-p", "^cwfs", "--root", root}, 2, "Procs CRITICAL: Found 0 matching processes /^cwfs/"},
		{"warning under", []string{"procs", "-p", "^mntgen$", "-W", "4", "-C", "2", "--root", root}, 1, "Procs WARNING: …"},
		// Every pattern counts, whatever its position (check-procs only
		// judges the last one).
		{"first of two absent", []string{"procs", "-p", "^cwfs", "-p", "^mntgen$", "--root", root}, 2,
			"Procs CRITICAL: Found 0 matching processes /^cwfs/; Found 3 matching processes /^mntgen$/"},
		{"state class", []string{"procs", "-s", "sleeping", "-p", "kbdfs", "--root", root}, 0, "Procs OK: Found 6 matching processes /kbdfs/"},
		{"raw state", []string{"procs", "-s", "Rendez", "--root", root}, 0, "Procs OK: Found 3 matching processes"},
		{"user", []string{"procs", "-u", "bootes", "--root", root}, 2, "Procs CRITICAL: Found 0 matching processes"},
		{"exclude", []string{"procs", "-p", "mntgen|kbdfs", "-x", "kbdfs", "--root", root}, 0, "Procs OK: Found 3 matching processes /mntgen|kbdfs/"},
		{"broken", []string{"procs", "--broken", "--root", testkit.Capture(testkit.Front2016amd64)}, 2,
			"Procs CRITICAL: 2 broken: p9probe (pid 221, glenda), p9probe (pid 222, glenda)"},
		{"none broken", []string{"procs", "--broken", "--root", root}, 0, "Procs OK: no broken process among 37"},
		{"bad regexp", []string{"procs", "-p", "(", "--root", root}, 3, "CheckPlan9 UNKNOWN: --pattern \"(\": error parsing regexp: missing closing ): `(`"},
		{"no proc", []string{"procs", "--root", t.TempDir()}, 3, "Procs UNKNOWN: …"},
	})
}

func TestLink(t *testing.T) {
	root := testkit.Capture(testkit.Front11879amd64)
	down := derive(t, testkit.Front11879amd64, map[string]string{"net/ether0/stats": "in: 3686\nlink: 0\nout: 2881\nmbps: 1000\n"})
	table(t, []tc{
		{"up", []string{"link", "-i", "ether0", "--root", root}, 0, "Link OK: ether0: link up, 1000 Mbps"},
		{"down", []string{"link", "-i", "ether0", "--root", down}, 2, "Link CRITICAL: ether0: link down"},
		{"absent", []string{"link", "-i", "ether1", "--root", root}, 3, "Link UNKNOWN: ether1: no such interface (no /net/ether1/stats)"},
		{"two", []string{"link", "-i", "ether0", "-i", "ether1", "--root", down}, 2, "Link CRITICAL: ether0: link down; ether1: no such interface (no /net/ether1/stats)"},
		{"no interface", []string{"link", "--root", root}, 3, "CheckPlan9 UNKNOWN: the required flag `-i, --interface' was not specified"},
	})
}

func TestUsage(t *testing.T) {
	table(t, []tc{
		{"no subcommand", nil, 3, "CheckPlan9 UNKNOWN: Please specify one command of: fs, link, load, memory, procs, reboot-required, swap or uptime"},
		{"unknown subcommand", []string{"disk"}, 3, "CheckPlan9 UNKNOWN: Unknown command `disk'. Please specify one command of: fs, link, load, memory, procs, reboot-required, swap or uptime"},
		{"extra argument", []string{"memory", "now"}, 3, `CheckPlan9 UNKNOWN: unexpected argument "now"`},
		{"single dash long", []string{"memory", "-warning=0.1", "-root", testkit.Capture(testkit.Front11879amd64)}, 1, "Memory WARNING: …"},
	})
	var out, errb bytes.Buffer
	if code := Run([]string{"procs", "--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "--warning-under") {
		t.Errorf("help: %d %q", code, out.String())
	}
	out.Reset()
	if code := Run([]string{"--version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "check-plan9 ") {
		t.Errorf("version: %d %q", code, out.String())
	}
}

// A check that cannot finish ends at --timeout, UNKNOWN.
func TestTimeout(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "dev")
	os.MkdirAll(fifo, 0o755)
	if err := mkfifo(filepath.Join(fifo, "swap")); err != nil {
		t.Skip("no named pipes here:", err)
	}
	start := time.Now()
	code, line := run(t, "memory", "--timeout", "200ms", "--root", dir)
	if code != 3 || line != "Memory UNKNOWN: no answer within 200ms" || time.Since(start) > 2*time.Second {
		t.Errorf("%d %q after %v", code, line, time.Since(start))
	}
}

func TestMessageLength(t *testing.T) {
	var procs []string
	files := map[string]string{}
	for i := 0; i < 100; i++ {
		files["proc/"+itoa(1000+i)+"/status"] = strings.Replace(string(testkit.ReadCapture(t, testkit.Front2016amd64, "proc/221/status")), "p9probe  ", "crashed  ", 1)
		procs = append(procs, itoa(1000+i))
	}
	code, line := run(t, "procs", "--broken", "--root", derive(t, testkit.Front2016amd64, files))
	if code != 2 || len([]rune(line)) > 1024 || !strings.HasSuffix(line, "...") {
		t.Errorf("%d %d %q", code, len(line), line)
	}
}

// The tests read a second time at once where check-plan9 would wait for
// a Broken process to settle; TestBrokenSettles changes the host between.
func init() {
	settle = func(context.Context, time.Duration) bool { return true }
}

// Only a process still Broken at a second reading, by the same pid and
// name, counts: one the agent kills meanwhile (pid 221), or whose pid a
// new program took (222), does not. Without the time for a second
// reading, the first counts.
func TestBrokenSettles(t *testing.T) {
	h := testkit.CopyCapture(t, testkit.Front2016amd64)
	var waited time.Duration
	settle = func(ctx context.Context, d time.Duration) bool {
		waited = d
		os.RemoveAll(filepath.Join(h.Dir, "proc", "221"))
		h.Write("proc/222/status", strings.Replace(string(testkit.ReadCapture(t, testkit.Front2016amd64, "proc/222/status")), "p9probe  ", "rc       ", 1))
		return true
	}
	defer func() { settle = func(context.Context, time.Duration) bool { return true } }()
	if code, line := run(t, "procs", "--broken", "--root", h.Dir); code != 0 || !strings.HasPrefix(line, "Procs OK: no broken process among") || waited != 2*time.Second {
		t.Errorf("both gone after %v: %d %q", waited, code, line)
	}

	h = testkit.CopyCapture(t, testkit.Front2016amd64)
	settle = func(context.Context, time.Duration) bool {
		os.RemoveAll(filepath.Join(h.Dir, "proc", "221"))
		return true
	}
	if code, line := run(t, "procs", "--broken", "--root", h.Dir); code != 2 || line != "Procs CRITICAL: 1 broken: p9probe (pid 222, glenda)" {
		t.Errorf("one left: %d %q", code, line)
	}

	settle = func(context.Context, time.Duration) bool { return false }
	if code, line := run(t, "procs", "--broken", "--root", h.Dir); code != 2 || line != "Procs CRITICAL: 1 broken: p9probe (pid 222, glenda)" {
		t.Errorf("no time to settle: %d %q", code, line)
	}
}

// The real wait ends with ctx, and is not begun when ctx would end first.
func TestSettleWait(t *testing.T) {
	wait := settle
	defer func() { settle = wait }()
	settle = defaultSettle
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if settle(ctx, time.Second) {
		t.Error("waited with less than twice the wait left")
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if settle(ctx2, time.Hour) {
		t.Error("waited past a cancelled ctx")
	}
}
