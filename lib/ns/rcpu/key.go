package rcpu

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/tokenize"
	"github.com/mackerel-plan9/mackerel-plugin-plan9/lib/ns/rcpu/dp9ik"
)

// maxKeyFile bounds a key file: one factotum line.
const maxKeyFile = 4096

// ReadKeyFile reads a dp9ik key from a file readable only by its owner,
// holding one line in factotum's form:
//
//	key proto=dp9ik dom=DOMAIN user=USER !password=SECRET
//
// Values may be quoted as factotum quotes them ('it”s'). The password is
// never part of an error.
func ReadKeyFile(path string) (*dp9ik.Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("key file %s: readable by others (mode %#o); make it readable by its owner only: chmod 600 %s", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("key file %s: longer than %d bytes; it holds one line", path, maxKeyFile)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// ParseKey parses a factotum key line.
func ParseKey(line string) (*dp9ik.Key, error) {
	line = strings.TrimSpace(line)
	if strings.Contains(line, "\n") {
		return nil, errors.New("more than one line; give only the dp9ik key")
	}
	toks, err := tokenize.Split(line)
	if err != nil {
		return nil, err
	}
	if len(toks) > 0 && toks[0] == "key" {
		toks = toks[1:]
	}
	attr := map[string]string{}
	for _, t := range toks {
		name, val, ok := strings.Cut(t, "=")
		if !ok {
			name = strings.TrimSuffix(name, "?")
		}
		if _, dup := attr[name]; dup {
			return nil, fmt.Errorf("attribute %s given twice", name)
		}
		attr[name] = val
	}
	switch {
	case attr["proto"] != "dp9ik":
		return nil, fmt.Errorf("proto=%s, not proto=dp9ik", attr["proto"])
	case attr["user"] == "":
		return nil, errors.New("no user=")
	case attr["dom"] == "":
		return nil, errors.New("no dom= (the authentication domain)")
	case attr["!password"] == "":
		return nil, errors.New("no !password=")
	case len(attr["user"]) >= dp9ik.ANameLen:
		return nil, fmt.Errorf("user %s longer than %d bytes", attr["user"], dp9ik.ANameLen-1)
	case len(attr["dom"]) >= dp9ik.DomLen:
		return nil, fmt.Errorf("dom %s longer than %d bytes", attr["dom"], dp9ik.DomLen-1)
	}
	return dp9ik.NewKey(attr["user"], attr["dom"], attr["!password"]), nil
}
