package p9stats

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// A ParseError reports malformed content: the file, the line (1-based; 0
// when the problem is not tied to one line) and what was wrong with it.
// Parsers called directly leave File empty; FS methods fill it in.
type ParseError struct {
	File string
	Line int
	Text string // the offending line, possibly shortened
	Msg  string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("p9stats: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	b.WriteString(e.Msg)
	if e.Text != "" {
		fmt.Fprintf(&b, ": %q", e.Text)
	}
	return b.String()
}

// IsNotExist reports whether err means that the file is absent from the
// name space: a normal condition (9legacy has no reclaim line, a Raspberry
// Pi no cputype), distinct from a ParseError.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

func lineError(line int, text, format string, args ...any) *ParseError {
	const max = 80
	if len(text) > max {
		text = text[:max] + "..."
	}
	return &ParseError{Line: line, Text: text, Msg: fmt.Sprintf(format, args...)}
}

// withFile names the file in a ParseError returned by a parser.
func withFile(name string, err error) error {
	var pe *ParseError
	if errors.As(err, &pe) && pe.File == "" {
		c := *pe
		c.File = name // a kernel device name such as #c/sysstat stays as it is
		if !strings.HasPrefix(name, "#") {
			c.File = "/" + name
		}
		return &c
	}
	return err
}

// lines splits b into lines without their newline; a final line without a
// newline counts, an empty trailing line does not.
func lines(b []byte) []string {
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func parseUint(s string, bits int) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok {
			return 0, fmt.Errorf("bad number %q: %v", s, ne.Err)
		}
		return 0, err
	}
	return v, nil
}

type keyValue struct {
	key, value string
	line       int
	text       string
}

// keyValues parses "Key: value" lines, as in the /net statistics files and
// ether stats. The key may contain blanks (ICMP's "AddrMaskReply  ",
// ether's "crc errs") and is trimmed, as is the value.
func keyValues(b []byte) ([]keyValue, error) {
	var kv []keyValue
	for i, l := range lines(b) {
		if strings.TrimSpace(l) == "" {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return nil, lineError(i+1, l, "no colon")
		}
		kv = append(kv, keyValue{strings.TrimSpace(k), strings.TrimSpace(v), i + 1, l})
	}
	return kv, nil
}

// counterFields parses "Key: n" lines into the named fields of a statistics
// struct. Keys the struct does not name are ignored, so newer kernels with
// more counters still parse. bits gives the kernel's width for each key
// that is not 64-bit; the required key must be present.
func counterFields(b []byte, fields map[string]*uint64, bits map[string]int, required string) error {
	kv, err := keyValues(b)
	if err != nil {
		return err
	}
	found := false
	for _, p := range kv {
		found = found || p.key == required
		f, ok := fields[p.key]
		if !ok {
			continue
		}
		w := 64
		if n, ok := bits[p.key]; ok {
			w = n
		}
		v, err := parseUint(firstField(p.value), w)
		if err != nil {
			return lineError(p.line, p.text, "%v", err)
		}
		*f = v
	}
	if !found {
		return &ParseError{Msg: "no " + required + " line"}
	}
	return nil
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}
