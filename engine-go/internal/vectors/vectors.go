// Package vectors reads the shared test vectors of tests/fixtures/vectors/ (written by
// scripts/make-test-vectors from the Python parsers) for the Go parsers' tests.
package vectors

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Root is the repository root as seen from a package directory under engine-go/internal/.
const Root = "../../.."

// Case is one vector: an input, and what the Python parser made of it.
type Case struct {
	Name        string          `json:"name"`
	Kind        string          `json:"kind"`
	Input       *string         `json:"input"`
	InputFile   string          `json:"input_file"`
	InputBase64 *string         `json:"input_base64"`
	Expected    json.RawMessage `json:"expected"`
	Error       bool            `json:"error"`

	Before   json.RawMessage `json:"before"`
	After    json.RawMessage `json:"after"`
	Stats    json.RawMessage `json:"stats"`
	TTY      *bool           `json:"tty"`
	Lines    int             `json:"lines"`
	MaxBytes int             `json:"max_bytes"`
}

// Load reads tests/fixtures/vectors/<name>; a missing or unreadable file is an error, never a
// reason to skip.
func Load(name string) ([]Case, error) {
	path := filepath.Join(Root, "tests", "fixtures", "vectors", name)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the shared vectors (run scripts/make-test-vectors): %w", err)
	}
	var cases []Case
	if err := json.Unmarshal(data, &cases); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("%s holds no vectors", path)
	}
	return cases, nil
}

// MustLoad is Load for a test or fuzz target, which fails at once without the file.
func MustLoad(t testing.TB, name string) []Case {
	t.Helper()
	cases, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// Bytes is the case's input as the parser receives it.
func (c Case) Bytes() ([]byte, error) {
	switch {
	case c.InputFile != "":
		return os.ReadFile(filepath.Join(Root, filepath.FromSlash(c.InputFile)))
	case c.InputBase64 != nil:
		return base64.StdEncoding.DecodeString(*c.InputBase64)
	case c.Input != nil:
		return []byte(*c.Input), nil
	}
	return nil, fmt.Errorf("vector %s has no input", c.Name)
}

// Expect decodes the expected result into v.
func (c Case) Expect(v any) error {
	if err := json.Unmarshal(c.Expected, v); err != nil {
		return fmt.Errorf("vector %s: expected: %w", c.Name, err)
	}
	return nil
}

// Close tells whether two floats are equal within a relative 1e-9.
func Close(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}
