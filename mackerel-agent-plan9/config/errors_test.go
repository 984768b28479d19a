package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A TOML error is reported where the operator's editor shows it: never
// past the file's last line, and at the start of a line rather than the
// end of the one before.
func TestTOMLPositions(t *testing.T) {
	for _, tt := range []struct {
		body      string
		line, col int
	}{
		// BurntSushi/toml v1.6.0 says line 3 for the first four: its
		// lexer has counted the newline it stopped at.
		{"apikey = \"k\"\nroles = [\n", 2, 10},
		{"apikey = \"k\"\n[a\n", 2, 3},
		{"a = 1\nb = {x = 1,\n", 2, 12},
		{"apikey = \"k\"\nfoo = \n", 2, 7},
		// ... and column 9 of line 3 for the second foo, which starts it.
		{"apikey = \"k\"\nfoo = 1\nfoo = 2\n", 3, 1},
		{"apikey = \"k\"\nroles = [", 2, 9},
		{"apikey = \"k\"\nroles = \"x\n", 2, 11},
		{"apikey = \"k\"\r\nroles = [\r\n", 2, 11},
		{"x = \"\"\"abc\n", 1, 11},
		{"# é\nr = \"ô\n", 2, 7},
		{"\n\n\n", 0, 0}, // no error
	} {
		f := writeConf(t, tt.body)
		_, _, err := Load(f, false)
		var e *Error
		if tt.line == 0 {
			if err != nil {
				t.Errorf("%q: %v", tt.body, err)
			}
			continue
		}
		if !errors.As(err, &e) || e.Line != tt.line || e.Col != tt.col {
			t.Errorf("%q: %v, want line %d column %d", tt.body, err, tt.line, tt.col)
		}
	}
}

func TestPosition(t *testing.T) {
	const in = "ab\ncd\n"
	for _, tt := range []struct{ start, line, col int }{
		{-1, 1, 1}, {0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {5, 2, 3}, {6, 2, 3}, {99, 2, 3},
	} {
		if l, c := position(in, tt.start); l != tt.line || c != tt.col {
			t.Errorf("%d: %d:%d, want %d:%d", tt.start, l, c, tt.line, tt.col)
		}
	}
	if l, c := position("", 0); l != 1 || c != 1 {
		t.Errorf("empty: %d:%d", l, c)
	}
}

// Whatever a file holds, Load returns a configuration or an *Error naming
// the file and a place inside it; it never panics.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"agent.conf", "fleet.conf"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("apikey = \"k\"\nroles = [\n")
	f.Add("a = 1\nb = {x = 1,\n")
	f.Add("[host.x]\naddress = \"rcpu!x!17019\"\nchecks = [\"procs 'a''b'\"]\ntimeout = \"1m\"\n")
	f.Add("[plugin.checks.x]\ncommand = \"true\"\nmax_check_attempts = 99999999999\nnotification_interval = \"1h\"\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		file := filepath.Join(dir, "agent.conf")
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		c, _, err := Load(file, false)
		if err == nil {
			if c.Apibase == "" || c.Root == "" || c.MetricPlugins == nil {
				t.Fatalf("%+v", c)
			}
			for _, h := range c.Hosts {
				if h.Timeout < MinHostTimeout || h.Timeout > MaxHostTimeout || !validHostName.MatchString(h.Name) {
					t.Fatalf("host %+v", h)
				}
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.File != file || e.Msg == "" {
			t.Fatalf("%T %v", err, err)
		}
		lines := strings.Split(body, "\n")
		if strings.HasSuffix(body, "\n") {
			lines = lines[:len(lines)-1]
		}
		if e.Line > max(len(lines), 1) || e.Line < 0 || (e.Line > 0 && len(lines) > 0 && e.Col > len([]rune(lines[e.Line-1]))+1) {
			t.Fatalf("%v: past the end of %q", err, body)
		}
	})
}
