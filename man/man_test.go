// Package man holds the manual pages; its tests check that they render
// cleanly with groff's man(7) and use only what Plan 9's man(6) knows too.
package man

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func pages(t *testing.T) []string {
	t.Helper()
	p, err := filepath.Glob("*.8")
	if err != nil || len(p) == 0 {
		t.Fatalf("no pages: %v", err)
	}
	return p
}

// Every page renders with groff -man -ww without a warning.
func TestGroff(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("no groff")
	}
	for _, p := range pages(t) {
		var stderr bytes.Buffer
		cmd := exec.Command(groff, "-man", "-ww", "-Tutf8", "-z", p)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("%s: %v\n%s", p, err, stderr.String())
		}
	}
}

// portable are the macros both groff's man(7) and Plan 9's tmac.an
// (9legacy's and 9front's, /sys/lib/tmac/tmac.an) define. .L, .LR, .RL,
// .TF and .1C/.2C are Plan 9's only; .SB, .SY, .TQ, .UR, .MT, .OP and the
// like are groff's only. troff's own requests (lower case) are both's.
var portable = map[string]bool{}

func init() {
	for _, m := range strings.Fields("TH SH SS PP LP P TP IP HP RS RE PD DT SM B I BI BR IB IR RB RI EX EE") {
		portable[m] = true
	}
}

// quotes reports a quote in a macro's arguments that Plan 9's troff
// reads otherwise than groff: one inside an argument (groff takes it as
// it is; Plan 9's alternating-font macros pass their arguments on quoted,
// so it ends one), or a doubled one inside a quoted argument (groff's
// way of writing a quote there). Plan 9's nroff knows no \(dq either: a
// quote goes on a text line, in \fB...\fR when it is to be bold.
func quotes(args string) string {
	for i := 0; i < len(args); {
		switch {
		case args[i] == ' ' || args[i] == '\t':
			i++
		case args[i] == '"':
			end := strings.IndexByte(args[i+1:], '"')
			if end < 0 {
				return "" // a last argument may run to the line's end
			}
			i += end + 2
			if i < len(args) && args[i] != ' ' && args[i] != '\t' {
				return "a quote inside a quoted argument; put it on a text line"
			}
		default:
			for i < len(args) && args[i] != ' ' && args[i] != '\t' {
				switch args[i] {
				case '\\':
					i++
				case '"':
					return "a quote inside an argument; put it on a text line"
				}
				i++
			}
		}
	}
	return ""
}

var macroCall = regexp.MustCompile(`^[.'][ \t]*([A-Za-z0-9]+)`)

// Every page calls only macros that both man packages know, so that Plan
// 9's man renders it as groff does.
func TestPlan9Macros(t *testing.T) {
	for _, p := range pages(t) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if strings.Contains(line, `\(dq`) {
				t.Errorf("%s:%d: Plan 9's nroff prints \\(dq as dq; put a quote on a text line", p, n)
			}
			m := macroCall.FindStringSubmatch(line)
			if m == nil || strings.ToLower(m[1]) == m[1] {
				continue
			}
			if !portable[m[1]] {
				t.Errorf("%s:%d: .%s is not a macro of both groff's and Plan 9's man", p, n, m[1])
			}
			if err := quotes(line[len(m[0]):]); err != "" {
				t.Errorf("%s:%d: %s", p, n, err)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQuotes(t *testing.T) {
	for _, tt := range []struct {
		args string
		bad  bool
	}{
		{` verbose ", " silent`, false},
		{` "name value time" ,`, false},
		{` ( '' " within it is a quote), as " rc " splits`, false},
		{` "unterminated runs to the end`, false},
		{` a\"b`, false}, // \" starts a comment, not an argument's quote
		{` ["plan9:cpu"]`, true},
		{` [host."x"] );`, true},
		{` "a""b"`, true},
	} {
		if got := quotes(tt.args) != ""; got != tt.bad {
			t.Errorf("%q: %v", tt.args, got)
		}
	}
}
