// Package procfs parses the poll output of collectors/remote_commands.py, as
// collectors/procfs_parsers.py does; tests/fixtures/vectors/procfs.json keeps them equal.
package procfs

import (
	"errors"

	"vpshealth/engine/internal/model"
)

// ErrParse wraps every parse failure; the message says what was wrong, as Python's ParseError.
var ErrParse = errors.New("parse error")

// ParseSnapshot parses POLL_COMMAND / FIRST_POLL_COMMAND output.
func ParseSnapshot(text string) (model.Snapshot, error) {
	return model.Snapshot{}, errors.New("not implemented")
}

// ParseSystemInfo parses SYSTEM_INFO_COMMAND output.
func ParseSystemInfo(text string) (model.SystemInfo, error) {
	return model.SystemInfo{}, errors.New("not implemented")
}
