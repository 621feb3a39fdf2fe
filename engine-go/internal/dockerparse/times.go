package dockerparse

import (
	"encoding/json"
	"regexp"
	"strconv"
	"time"
)

var timeRE = regexp.MustCompile(
	`^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})` +
		`(?:\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$`)

// parseTime reads RFC 3339 with up to nanoseconds as Unix seconds (rounded down); Docker's
// zero time (Go's zero time.Time, "never") is nil. Times before 1970 other than the zero
// time are garbage.
func parseTime(raw any, where string) (*int64, error) {
	s, ok := raw.(string)
	if !ok {
		return nil, fail("%s: not a time", where)
	}
	match := timeRE.FindStringSubmatch(s)
	if match == nil {
		return nil, fail("%s: malformed time", where)
	}
	var n [6]int
	for i := range n {
		n[i], _ = strconv.Atoi(match[i+1])
	}
	year, month, day, hour, minute, second := n[0], n[1], n[2], n[3], n[4], n[5]
	if year == 1 && month == 1 && day == 1 && hour == 0 && minute == 0 && second == 0 {
		return nil, nil
	}
	offset := 0
	if zone := match[7]; zone != "Z" && zone != "z" {
		hours, _ := strconv.Atoi(zone[1:3])
		minutes, _ := strconv.Atoi(zone[4:6])
		offset = hours*3600 + minutes*60
		if zone[0] == '-' {
			offset = -offset
		}
	}
	// Python's datetime refuses what time.Date would normalise.
	valid := year >= 1 && month >= 1 && month <= 12 && day >= 1 &&
		day <= daysIn(year, time.Month(month)) && hour <= 23 && minute <= 59 && second <= 59 &&
		offset > -86400 && offset < 86400
	if !valid {
		return nil, fail("%s: impossible time", where)
	}
	seconds := time.Date(year, time.Month(month), day, hour, minute, second, 0, time.UTC).Unix() -
		int64(offset)
	if seconds < 0 {
		return nil, fail("%s: time before 1970", where)
	}
	return &seconds, nil
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func jsonNumber(s string) json.Number { return json.Number(s) }
