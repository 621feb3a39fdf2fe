// Package problem names why a check failed, with the problem strings of PROTOCOL.md and
// domain/health.py's Problem.
package problem

import (
	"errors"
	"fmt"
)

const (
	Unreachable        = "unreachable"
	Timeout            = "timeout"
	AuthFailed         = "auth_failed"
	HostKeyMismatch    = "host_key_mismatch"
	HostKeyNotTrusted  = "host_key_not_trusted"
	KeyMissing         = "key_missing"
	KeyringUnavailable = "keyring_unavailable"
	ParseError         = "parse_error"
	CommandFailed      = "command_failed"
)

// Error is a failed check: the problem and a message that names the host and says what to do
// (Python's CollectionError).
type Error struct {
	Problem string
	Message string
}

func (e *Error) Error() string { return e.Message }

func New(prob, format string, args ...any) *Error {
	return &Error{Problem: prob, Message: fmt.Sprintf(format, args...)}
}

// As returns err's *Error, if it has one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// G formats seconds as Python's "%g" does (6 significant digits, no trailing zeros).
func G(seconds float64) string {
	return fmt.Sprintf("%.6g", seconds)
}
