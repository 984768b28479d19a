package tokenize

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	for in, want := range map[string][]string{
		"":                           nil,
		"  procs   --broken \t":      {"procs", "--broken"},
		"key proto=dp9ik dom=x":      {"key", "proto=dp9ik", "dom=x"},
		"!password='it''s a secret'": {"!password=it's a secret"},
		"a''b":                       {"ab"},
		"''":                         {""},
		"procs -p 'rc -l'":           {"procs", "-p", "rc -l"},
		"héllo wörld":                {"héllo", "wörld"},
	} {
		got, err := Split(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := Split("a 'b"); err != ErrQuote {
		t.Errorf("an open quote: %v", err)
	}
}

// Whatever the line, the words are found again by quoting each and
// splitting their join.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"procs --broken", "key proto=dp9ik dom=9front user=mon !password='x''y'", "'", "a''b c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := Split(s)
		if err != nil {
			return
		}
		var q []string
		for _, w := range words {
			q = append(q, "'"+strings.ReplaceAll(w, "'", "''")+"'")
		}
		again, err := Split(strings.Join(q, " "))
		if err != nil || !reflect.DeepEqual(again, words) && len(words) > 0 {
			t.Fatalf("%q: %q, then %q %v", s, words, again, err)
		}
	})
}
