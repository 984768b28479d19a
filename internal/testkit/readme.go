package testkit

import (
	"strings"
	"testing"
)

// READMESection returns the body of the README's section whose heading
// line is heading ("## System metrics of mackerel-agent-plan9"), up to the
// next heading of the same level or higher.
func READMESection(t testing.TB, heading string) string {
	t.Helper()
	text := "\n" + string(readFile(t, Path("README.md")))
	_, sec, ok := strings.Cut(text, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md: no section %q", heading)
	}
	level := len(heading) - len(strings.TrimLeft(heading, "#"))
	fenced, off := false, 0
	for _, l := range strings.SplitAfter(sec, "\n") {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
		}
		if n := len(l) - len(strings.TrimLeft(l, "#")); !fenced && n > 0 && n <= level && strings.HasPrefix(l[n:], " ") {
			return sec[:off]
		}
		off += len(l)
	}
	return sec
}

// Table returns the rows of the first Markdown table in text, each as its
// trimmed cells, without the header row and the row of dashes. A '|'
// within `code` or escaped as \| does not end a cell.
func Table(t testing.TB, text string) [][]string {
	t.Helper()
	var rows [][]string
	header := true
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "|") {
			if len(rows) > 0 || !header {
				break
			}
			continue
		}
		cells := splitRow(l)
		switch {
		case header:
			header = false
		case strings.Trim(strings.Join(cells, ""), "-: ") == "":
		default:
			rows = append(rows, cells)
		}
	}
	if len(rows) == 0 {
		t.Fatal("no table rows")
	}
	return rows
}

func splitRow(l string) []string {
	var cells []string
	var cell strings.Builder
	code := false
	for i := 1; i < len(l); i++ {
		switch c := l[i]; {
		case c == '\\' && i+1 < len(l) && l[i+1] == '|':
			cell.WriteByte('|')
			i++
		case c == '`':
			code = !code
			cell.WriteByte(c)
		case c == '|' && !code:
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(c)
		}
	}
	if rest := strings.TrimSpace(cell.String()); rest != "" {
		cells = append(cells, rest)
	}
	return cells
}
