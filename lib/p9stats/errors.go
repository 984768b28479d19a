package p9stats

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A ParseError reports malformed content: the file, the line (1-based; 0
// when the problem is not tied to one line) and what was wrong with it.
// Parsers called directly leave File empty; FS methods fill it in.
type ParseError struct {
	File string
	Line int
	Text string // the offending line, shortened to one short line
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
		fmt.Fprintf(&b, ": %q", excerpt(e.Text))
	}
	return b.String()
}

// maxExcerpt is the most of a file's text a message quotes: enough to
// recognise the line, and never more than one short line of a log.
const maxExcerpt = 40

// excerpt shortens text for quoting: its first line, at most maxExcerpt
// bytes of it, cut between characters, with "..." where it was cut.
func excerpt(text string) string {
	cut := false
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text, cut = text[:i], true
	}
	if len(text) > maxExcerpt {
		n := maxExcerpt
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text, cut = text[:n], true
	}
	if cut {
		text += "..."
	}
	return text
}

// IsNotExist reports whether err means that the file is absent from the
// name space: a normal condition (9legacy has no reclaim line, a Raspberry
// Pi no cputype), distinct from a ParseError.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

func lineError(line int, text, format string, args ...any) *ParseError {
	return &ParseError{Line: line, Text: excerpt(text), Msg: fmt.Sprintf(format, args...)}
}

// withFile names the file in a ParseError returned by a parser.
func withFile(name string, err error) error {
	var pe *ParseError
	if errors.As(err, &pe) && pe.File == "" {
		c := *pe
		c.File = fileName(name)
		return &c
	}
	return err
}

// fileName is how messages name the file name of the name space: rooted,
// except a kernel device name such as #c/sysstat, which stays as it is.
func fileName(name string) string {
	if strings.HasPrefix(name, "#") {
		return name
	}
	return "/" + name
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
			return 0, fmt.Errorf("bad number %q: %v", excerpt(s), ne.Err)
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

// A FilesError sums up the failures among many files of one kind, such as
// the /proc/N/status of every process: how many of how many failed, and
// the first of them in name order, whose error it wraps. It is one line
// however many failed, so that a name space full of foreign or broken
// files yields one line per kind of file, not one per file.
type FilesError struct {
	Files  string // the kind of file, such as "/proc/*/status"
	Failed int
	Total  int
	First  error
}

func (e *FilesError) Error() string {
	first := strings.TrimPrefix(e.First.Error(), "p9stats: ")
	first = strings.ReplaceAll(first, "\n", "; ")
	return fmt.Sprintf("p9stats: %s: %d of %d failed, the first: %s", e.Files, e.Failed, e.Total, first)
}

func (e *FilesError) Unwrap() error { return e.First }

// sumUp returns a *FilesError for the non-nil errors among errs, which
// are those of total files of the kind files in name order, or nil when
// there are none.
func sumUp(files string, total int, errs []error) error {
	var first error
	n := 0
	for _, err := range errs {
		if err != nil {
			if first == nil {
				first = err
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return &FilesError{Files: files, Failed: n, Total: total, First: first}
}
