// Package schedule runs each host's checks on its interval, with jitter, back-off, a global
// concurrency bound and a poll timeout: engine/scheduler.py and engine/timing.py.
package schedule

import "math"

const MaxBackoffSeconds = 300.0

// BackoffDelay is the wait after failures consecutive connection failures: the interval,
// doubling from the second failure, never above five minutes (or the interval, if longer).
func BackoffDelay(interval float64, failures int) float64 {
	if failures <= 1 {
		return interval
	}
	return math.Min(interval*math.Pow(2, float64(failures-1)), math.Max(interval, MaxBackoffSeconds))
}

// NextDue keeps healthy hosts on their grid (previous due + interval), skipping slots a slow
// check overran; failing hosts back off from when the check finished.
func NextDue(previousDue, finishedAt, interval float64, failures int) float64 {
	if failures > 1 {
		return finishedAt + BackoffDelay(interval, failures)
	}
	due := previousDue + interval
	if due < finishedAt {
		missed := math.Ceil((finishedAt - due) / interval)
		due += missed * interval
	}
	return due
}
