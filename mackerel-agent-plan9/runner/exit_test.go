package runner

import "testing"

// Plan 9 exit strings: the number at the end, after rc's "prog pid: ".
func TestParseExitString(t *testing.T) {
	for msg, want := range map[string]int{
		"":                                0,
		"check-plan9 123: 2":              2,
		"rc 12: check-plan9 34: 1":        1,
		"rc 12: 3":                        3,
		"rc 12: |2":                       2,
		"rc 12: 2|":                       0,
		"rc 12: interrupt":                -1,
		"sleep 5: sys: trap: fault read":  -1,
		"mackerel-plugin-plan9 9: kill":   -1,
		"x 1: 007":                        -1,
		"x 1: -2":                         -1,
		"x 1: 99999999999999999999999999": -1,
	} {
		if got := parseExitString(msg); got != want {
			t.Errorf("%q: %d, want %d", msg, got, want)
		}
	}
}

// The wait message quotes the exit string as the kernel's %q does.
func TestUnquote(t *testing.T) {
	for in, want := range map[string]int{
		"'rc 12: 2'":                      2,
		"'check-plan9 34: 1'":             1,
		"":                                0,
		"'rc 12: sleep 13: interrupt'":    -1,
		"'rc 12: it''s: 3'":               3,
		"'rc 12: exit 1|2'":               2,
		"'prog 5: sys: trap: fault read'": -1,
	} {
		if got := parseExitString(unquote(in)); got != want {
			t.Errorf("%q: %d, want %d", in, got, want)
		}
	}
}

func FuzzParseExitString(f *testing.F) {
	for _, s := range []string{"", "rc 12: 2", "'rc 12: it''s: 3'", "x 1: 007", "rc 12: |2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n := parseExitString(unquote(s)); n < -1 {
			t.Errorf("%q: %d", s, n)
		}
	})
}
