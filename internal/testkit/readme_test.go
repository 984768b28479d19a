package testkit

import (
	"reflect"
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	text := "intro\n\n| a | b |\n|---|:-:|\n| `x|y` | 1 \\| 2 |\n|  c  |d|\n\nafter\n| not | this |\n"
	want := [][]string{{"`x|y`", "1 | 2"}, {"c", "d"}}
	if got := Table(t, text); !reflect.DeepEqual(got, want) {
		t.Errorf("%q", got)
	}
}

// A section ends at the next heading of its level or above, not at a
// deeper one, nor at a line of a code block that begins with #.
func TestREADMESection(t *testing.T) {
	sec := READMESection(t, "## Running the agent on Plan 9")
	if !strings.Contains(sec, "# root = ") || strings.Contains(sec, "\n## ") {
		t.Errorf("section:\n%s", sec)
	}
	if rows := Table(t, READMESection(t, "## What the plugin reports")); len(rows) < 19 {
		t.Errorf("%d rows", len(rows))
	}
}
