package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// An Error is a configuration that cannot be used: the file, where in it
// when known, the key, and what is wrong.
type Error struct {
	File      string
	Line, Col int // from 1; 0 when not known
	Key       string
	Msg       string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// typeErr is how BurntSushi/toml words a value of the wrong type, which
// it returns as a plain error.
var typeErr = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): (.*)$`)

// decodeError turns an error of toml.Decode on input, the text of file,
// into an *Error at the right place.
func decodeError(file, input string, err error) *Error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		line, col := position(input, pe.Position.Start)
		return &Error{File: file, Line: line, Col: col, Key: pe.LastKey, Msg: pe.Message}
	}
	if m := typeErr.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Key: m[2], Msg: strings.Replace(m[3], "incompatible types: TOML value has type", "a value of type", 1)}
	}
	return &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

// position is the line and column (from 1, in characters) of the byte
// offset start of input.
//
// BurntSushi/toml v1.6.0 gets both wrong at a line's end: its lexer counts
// the newline it has just read before it reports an error there, so an
// error at the end of line 2 is said to be on line 3, and its column
// search takes a line's newline for the start of the next line. The
// offset is right, so both are computed again from it. An error at the
// end of the input, after its last newline, is put at the end of the
// last line, where the operator's editor shows the unclosed bracket or
// string: a 2-line file has no line 3.
func position(input string, start int) (line, col int) {
	start = max(0, min(start, len(input)))
	if start == len(input) && start > 0 && input[start-1] == '\n' {
		start--
	}
	before := input[:start]
	line = 1 + strings.Count(before, "\n")
	col = 1 + utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:])
	return line, col
}
