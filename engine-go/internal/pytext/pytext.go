// Package pytext gives Go strings the semantics of the Python str methods the parsers rely on
// (split, strip, isprintable, len, decode), so that the Go parsers cut and clean text exactly
// as the Python ones do, and the parse error they share. Bytes that are not UTF-8 count as one character each and are never
// printable, as Python's surrogate escapes are.
package pytext

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsSpace is Python's str.isspace for one character: Go's unicode.IsSpace and the
// information separators U+001C..U+001F.
func IsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// Token is one run of non-space characters: its text and byte offsets in the line.
type Token struct {
	Text       string
	Start, End int
}

// Tokens is Python's re.finditer(r"\S+", s).
func Tokens(s string) []Token {
	var tokens []Token
	start := -1
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		space := IsSpace(r) && !(r == utf8.RuneError && size == 1)
		if space && start >= 0 {
			tokens = append(tokens, Token{s[start:i], start, i})
			start = -1
		} else if !space && start < 0 {
			start = i
		}
		i += size
	}
	if start >= 0 {
		tokens = append(tokens, Token{s[start:], start, len(s)})
	}
	return tokens
}

// Fields is Python's str.split().
func Fields(s string) []string {
	tokens := Tokens(s)
	fields := make([]string, len(tokens))
	for i, token := range tokens {
		fields[i] = token.Text
	}
	return fields
}

// Strip is Python's str.strip().
func Strip(s string) string { return RStrip(LStrip(s)) }

// LStrip is Python's str.lstrip().
func LStrip(s string) string {
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if !IsSpace(r) || (r == utf8.RuneError && size == 1) {
			break
		}
		s = s[size:]
	}
	return s
}

// RStrip is Python's str.rstrip().
func RStrip(s string) string {
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if !IsSpace(r) || (r == utf8.RuneError && size == 1) {
			break
		}
		s = s[:len(s)-size]
	}
	return s
}

// EndsWithSpace is Python's s[-1].isspace() for a non-empty s.
func EndsWithSpace(s string) bool {
	r, size := utf8.DecodeLastRuneInString(s)
	return IsSpace(r) && !(r == utf8.RuneError && size == 1)
}

// IsPrintable is Python's str.isprintable for one decoded character.
func isPrintable(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return false
	}
	return unicode.IsPrint(r)
}

// Printable is Python's s.isprintable().
func Printable(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isPrintable(r, size) {
			return false
		}
		i += size
	}
	return true
}

// ReplaceUnprintable replaces each character that is not printable with "?".
func ReplaceUnprintable(s string) string {
	if Printable(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isPrintable(r, size) {
			b.WriteString(s[i : i+size])
		} else {
			b.WriteByte('?')
		}
		i += size
	}
	return b.String()
}

// Len is Python's len(s): characters, each byte that is not UTF-8 counting as one.
func Len(s string) int { return utf8.RuneCountInString(s) }

// IsDigits is s.isascii() and s.isdigit(): one or more of 0-9.
func IsDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Excerpt is the first limit characters of s, quoted, for an error message.
func Excerpt(s string, limit int) string {
	runes := []rune(s)
	if len(runes) <= limit {
		return strconv.Quote(s)
	}
	return strconv.Quote(string(runes[:limit])) + "..."
}

// DecodeReplace is Python's bytes.decode("utf-8", "replace"): each maximal invalid
// subsequence (a bad lead byte, or a truncated sequence) becomes one U+FFFD.
func DecodeReplace(b []byte) string { return decode(b, true) }

// ValidText is text with its bytes that are not UTF-8 replaced as DecodeReplace does; valid
// text is returned as is, without a copy.
func ValidText(text string) string {
	if utf8.ValidString(text) {
		return text
	}
	return decode([]byte(text), true)
}

// DecodeIgnore is Python's bytes.decode("utf-8", "ignore").
func DecodeIgnore(b []byte) string { return decode(b, false) }

func decode(b []byte, replace bool) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			out.Write(b[i : i+size])
			i += size
			continue
		}
		if replace {
			out.WriteRune(utf8.RuneError)
		}
		i += invalidPrefixLen(b[i:])
	}
	return out.String()
}

// invalidPrefixLen is how many bytes Python consumes for one U+FFFD: the lead byte and the
// continuation bytes that still fit a well-formed sequence.
func invalidPrefixLen(b []byte) int {
	lead := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xbf)
	switch {
	case lead >= 0xc2 && lead <= 0xdf:
		need = 1
	case lead >= 0xe0 && lead <= 0xef:
		need = 2
		if lead == 0xe0 {
			lo = 0xa0
		} else if lead == 0xed {
			hi = 0x9f
		}
	case lead >= 0xf0 && lead <= 0xf4:
		need = 3
		if lead == 0xf0 {
			lo = 0x90
		} else if lead == 0xf4 {
			hi = 0x8f
		}
	default:
		return 1
	}
	n := 1
	for n <= need && n < len(b) {
		c := b[n]
		if n == 1 && (c < lo || c > hi) || n > 1 && (c < 0x80 || c > 0xbf) {
			break
		}
		n++
	}
	return n
}

// ErrParse is wrapped by every parse failure of the procfs and dockerparse parsers, as
// Python's ParseError is raised by theirs.
var ErrParse = errors.New("parse error")

type parseError struct{ message string }

func (e *parseError) Error() string        { return e.message }
func (e *parseError) Is(target error) bool { return target == ErrParse }

// Fail is a parse failure with a message that says what was wrong, wrapping ErrParse.
func Fail(format string, args ...any) error {
	return &parseError{fmt.Sprintf(format, args...)}
}
