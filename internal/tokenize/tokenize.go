// Package tokenize splits a line into words as Plan 9's tokenize(2) does,
// and so as factotum reads its keys and as an operator quotes words for
// rc: blanks separate words, a single-quoted part (anywhere in a word) is
// taken as it is, and two quotes within it stand for one.
package tokenize

import (
	"errors"
	"strings"
)

// ErrQuote is a quote left open.
var ErrQuote = errors.New("a quote is not closed")

// Split returns the words of s.
func Split(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			w.WriteByte('\'')
			i++
		case c == '\'':
			quoted, inWord = !quoted, true
		case !quoted && (c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, ErrQuote
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
