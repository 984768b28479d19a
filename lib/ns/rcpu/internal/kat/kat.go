// Package kat reads the known answers 9front's own programs printed
// (lib/ns/rcpu/testdata/kat): sets of "name value" lines.
package kat

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Set is one set of answers.
type Set map[string]string

// Bytes returns the hexadecimal value name as bytes.
func (s Set) Bytes(t testing.TB, name string) []byte {
	t.Helper()
	v, ok := s[name]
	if !ok {
		t.Fatalf("known answers: no %q", name)
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		t.Fatalf("known answers: %s: %v", name, err)
	}
	return b
}

// Load returns the sets of kat.out by name.
func Load(t testing.TB) map[string]Set {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	f, err := os.Open(filepath.Join(filepath.Dir(file), "../../testdata/kat/kat.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sets := map[string]Set{}
	var cur Set
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, val, _ := strings.Cut(sc.Text(), " ")
		if name == "set" {
			cur = Set{}
			sets[val] = cur
			continue
		}
		if cur == nil {
			t.Fatalf("known answers: %q before any set", sc.Text())
		}
		cur[name] = val
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sets
}
