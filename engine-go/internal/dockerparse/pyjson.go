package dockerparse

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"vpshealth/engine/internal/pytext"
)

// ErrParse wraps every parse failure; the message says what was wrong, as Python's ParseError.
var ErrParse = pytext.ErrParse

var fail = pytext.Fail

const (
	maxBodyBytes      = 64 * 1024 * 1024
	maxEventLineBytes = 1024 * 1024
	maxIntDigits      = 40
	maxDepth          = 500
)

// object is a decoded JSON object; values are map[string]any, []any, json.Number, string,
// bool or nil.
type object = map[string]any

// load decodes an answer as Python's json.loads after bytes.decode("utf-8", "replace").
func load(body []byte, where string) (any, error) {
	if len(body) > maxBodyBytes {
		return nil, fail("%s: answer too large (%d bytes)", where, len(body))
	}
	return loads(pytext.DecodeReplace(body), where)
}

func loads(text string, where string) (any, error) {
	decoder := json.NewDecoder(strings.NewReader(loneSurrogatesAsQuestionMarks(text)))
	decoder.UseNumber()
	var value any
	if err := decoder.Decode(&value); err != nil {
		return nil, fail("%s: not JSON (%s)", where, shortError(err))
	}
	if _, err := decoder.Token(); err != io.EOF {
		return nil, fail("%s: not JSON (extra data)", where)
	}
	if err := checkIntegers(value, 1); err != nil {
		return nil, fail("%s: %v", where, err)
	}
	return value, nil
}

func shortError(err error) string {
	message := err.Error()
	if len(message) > 60 {
		message = message[:60]
	}
	return message
}

// checkIntegers refuses integer literals of more than 40 digits anywhere in the document, as
// the Python parsers' parse_int hook does, and documents nested deeper than Python's recursion
// limit lets its decoder go (about 1000 levels less its own stack; here 500).
func checkIntegers(value any, depth int) error {
	if depth > maxDepth {
		return errors.New("JSON nested too deeply")
	}
	switch v := value.(type) {
	case json.Number:
		if isIntegerLiteral(string(v)) && len(strings.TrimPrefix(string(v), "-")) > maxIntDigits {
			return errors.New("number too large")
		}
	case []any:
		for _, item := range v {
			if err := checkIntegers(item, depth+1); err != nil {
				return err
			}
		}
	case object:
		for _, key := range sortedKeys(v) {
			if err := checkIntegers(v[key], depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func isIntegerLiteral(number string) bool { return !strings.ContainsAny(number, ".eE") }

// loneSurrogatesAsQuestionMarks turns \uD800-\uDFFF escapes that are not part of a pair into
// "?": Python decodes them to lone surrogates and then stores "?" for each (its _clean), where
// Go would decode them to U+FFFD.
func loneSurrogatesAsQuestionMarks(text string) string {
	if !strings.Contains(text, `\u`) && !strings.Contains(text, `\U`) {
		return text
	}
	var out strings.Builder
	inString := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !inString {
			inString = c == '"'
			out.WriteByte(c)
			continue
		}
		switch {
		case c == '"':
			inString = false
			out.WriteByte(c)
		case c == '\\' && i+1 < len(text):
			high, ok := escapedUnit(text, i)
			if !ok || high < 0xd800 || high > 0xdfff {
				out.WriteString(text[i : i+2])
				i++
				continue
			}
			if low, ok := escapedUnit(text, i+6); ok && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff {
				out.WriteString(text[i : i+12])
				i += 11
				continue
			}
			out.WriteByte('?')
			i += 5
		default:
			out.WriteByte(c)
		}
	}
	return out.String()
}

// escapedUnit reads the \uXXXX escape at text[i:], if there is one.
func escapedUnit(text string, i int) (uint64, bool) {
	if i+6 > len(text) || text[i] != '\\' || text[i+1] != 'u' {
		return 0, false
	}
	unit, err := strconv.ParseUint(text[i+2:i+6], 16, 32)
	return unit, err == nil
}

// --- type checks --------------------------------------------------------------------------

func asObject(raw any, where string) (object, error) {
	if v, ok := raw.(object); ok {
		return v, nil
	}
	return nil, fail("%s: expected an object, got %s", where, kind(raw))
}

func asArray(raw any, where string) ([]any, error) {
	if v, ok := raw.([]any); ok {
		return v, nil
	}
	return nil, fail("%s: expected an array, got %s", where, kind(raw))
}

// integer is a JSON integer literal (Python's int, never a float or a boolean).
func integer(raw any) (int64, bool, bool) {
	number, ok := raw.(json.Number)
	if !ok || !isIntegerLiteral(string(number)) {
		return 0, false, false
	}
	value, err := strconv.ParseInt(string(number), 10, 64)
	return value, err == nil, true
}

// count is a non-negative integer that fits SQLite.
func count(raw any, where string) (int64, error) {
	value, fits, isInt := integer(raw)
	if !isInt {
		return 0, fail("%s: not an integer: %s", where, kind(raw))
	}
	if !fits || value < 0 {
		return 0, fail("%s: out of range", where)
	}
	return value, nil
}

func asBool(raw any, where string) (bool, error) {
	if v, ok := raw.(bool); ok {
		return v, nil
	}
	return false, fail("%s: not true/false: %s", where, kind(raw))
}

// text is a string of at most limit characters, cleaned.
func text(raw any, where string, limit int) (string, error) {
	s, ok := raw.(string)
	if !ok {
		return "", fail("%s: expected text, got %s", where, kind(raw))
	}
	if n := pytext.Len(s); n > limit {
		return "", fail("%s: text too long (%d characters)", where, n)
	}
	return s, nil
}

// truthy is Python's bool() of a decoded JSON value.
func truthy(raw any) bool {
	switch v := raw.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case json.Number:
		f, err := v.Float64()
		return err != nil || f != 0
	case []any:
		return len(v) > 0
	case object:
		return len(v) > 0
	}
	return true
}

// sortedKeys gives an object's keys in one order, so that a parse does the same work on the
// same input every time (the fuzzer's coverage relies on it).
func sortedKeys(data object) []string { return slices.Sorted(maps.Keys(data)) }

func kind(raw any) string {
	switch raw.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "text"
	case []any:
		return "an array"
	case object:
		return "an object"
	}
	return fmt.Sprintf("%T", raw)
}
