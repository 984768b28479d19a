package checkplan9

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns"
)

// A check run in-process says exactly what check-plan9 prints for the
// same line and name space.
func TestInProcessMatchesCommand(t *testing.T) {
	root := testkit.Capture(testkit.Front11879amd64)
	for _, line := range []string{
		"load -w 0.5 -c 9",
		"memory -w 1 -c 99",
		"procs --broken",
		"procs -p rc --critical-over 100",
		"uptime -w 60",
		"swap",
		"link -i ether0",
	} {
		args := strings.Fields(line)
		var out bytes.Buffer
		want := Run(append(append([]string(nil), args...), "--root", root), &out, &out)
		c, err := Parse(args)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		got, msg := c.Run(context.Background(), ns.Dir(root), "tcp!gnot!17564")
		if got != want || msg != strings.TrimRight(out.String(), "\n") {
			t.Errorf("%s: in-process %d %q, the command %d %q", line, got, msg, want, out.String())
		}
	}
}

// Lines that cannot be a check are refused when parsed, naming what is
// wrong; a name space option is the agent's to choose.
func TestParseRefuses(t *testing.T) {
	for line, want := range map[string]string{
		"":                   "specify one command",
		"bogus":              "Unknown command",
		"load --root /mnt/x": "--root: the host's name space is the agent's",
		"load --9p tcp!a!1":  "--9p: the host's name space is the agent's",
		"load extra":         `unexpected argument "extra"`,
	} {
		_, err := Parse(strings.Fields(line))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", line, err, want)
		}
	}
}
