package dockerparse

import (
	"encoding/binary"
	"regexp"
	"strings"

	"vpshealth/engine/internal/pytext"
)

// LogLines and LogBytes are collectors/docker_logs.py's bounds: lines asked for and kept, and
// the most UTF-8 text kept, newest lines first.
const (
	LogLines = 30
	LogBytes = 8 * 1024
)

const frameHeader = 8

var (
	controlRE = regexp.MustCompile(`[\x00-\x08\x0b-\x1f\x7f-\x{9f}]`)
	ansiRE    = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)`)
)

// Demultiplex gives the payloads of a multiplexed logs body (8-byte frame headers: stream
// 0/1/2, three zero bytes, a big-endian length), in order; ok is false when the body is not
// one (a TTY's raw output), so that it is never half read as frames and half as text.
func Demultiplex(body []byte) (payload []byte, ok bool) {
	payload = []byte{}
	for at := 0; at < len(body); {
		if len(body)-at < frameHeader || body[at] > 2 || body[at+1] != 0 || body[at+2] != 0 || body[at+3] != 0 {
			return nil, false
		}
		size := int(binary.BigEndian.Uint32(body[at+4 : at+8]))
		end := at + frameHeader + size
		if size > len(body) || end > len(body) {
			return nil, false
		}
		payload = append(payload, body[at+frameHeader:end]...)
		at = end
	}
	return payload, true
}

// ParseLogs is docker_logs.parse_logs: the last lines lines, at most maxBytes of UTF-8, as
// text: invalid UTF-8 replaced, terminal colour codes and control characters other than tab
// removed, lines joined by newlines. tty nil: told apart by the body itself.
func ParseLogs(body []byte, tty *bool, lines, maxBytes int) string {
	raw := body
	if tty == nil || !*tty {
		if payload, ok := Demultiplex(body); ok {
			raw = payload
		}
	}
	text := ansiRE.ReplaceAllString(strings.ReplaceAll(pytext.DecodeReplace(raw), "\r\n", "\n"), "")
	var found []string
	for _, line := range strings.Split(text, "\n") {
		found = append(found, pytext.RStrip(controlRE.ReplaceAllString(line, "")))
	}
	for len(found) > 0 && found[len(found)-1] == "" {
		found = found[:len(found)-1]
	}
	if lines <= 0 {
		found = nil
	} else if len(found) > lines {
		found = found[len(found)-lines:]
	}
	var kept []string
	used := 0
	for i := len(found) - 1; i >= 0; i-- {
		line := found[i]
		separator := 0
		if len(kept) > 0 {
			separator = 1
		}
		size := len(line) + separator
		if used+size > maxBytes {
			room := maxBytes - used - separator
			if len(kept) == 0 && room > 0 {
				kept = append(kept, pytext.DecodeIgnore([]byte(line[len(line)-min(room, len(line)):])))
			}
			break
		}
		kept = append(kept, line)
		used += size
	}
	for i, j := 0, len(kept)-1; i < j; i, j = i+1, j-1 {
		kept[i], kept[j] = kept[j], kept[i]
	}
	return strings.Join(kept, "\n")
}
