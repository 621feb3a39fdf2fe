package schedule

import "testing"

// The cases of tests/unit/test_timing.py.
func TestNextDue(t *testing.T) {
	cases := []struct {
		name                         string
		previous, finished, interval float64
		failures                     int
		want                         float64
	}{
		{"healthy host stays on its grid", 100, 101.3, 10, 0, 110},
		{"slow poll skips missed slots", 100, 125, 10, 0, 130},
		{"a finish on a slot keeps it", 100, 130, 10, 0, 130},
		{"first failure keeps the interval", 100, 101, 10, 1, 110},
		{"repeated failures back off from the finish", 100, 105, 10, 3, 145},
	}
	for _, c := range cases {
		if got := NextDue(c.previous, c.finished, c.interval, c.failures); got != c.want {
			t.Errorf("%s: NextDue(%v, %v, %v, %d) = %v, want %v", c.name, c.previous, c.finished, c.interval, c.failures, got, c.want)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	cases := []struct {
		interval float64
		failures int
		want     float64
	}{
		{10, 0, 10}, {10, 1, 10}, {10, 2, 20}, {10, 3, 40},
		{10, 30, MaxBackoffSeconds}, {10, 5000, MaxBackoffSeconds}, {900, 5, 900},
	}
	for _, c := range cases {
		if got := BackoffDelay(c.interval, c.failures); got != c.want {
			t.Errorf("BackoffDelay(%v, %d) = %v, want %v", c.interval, c.failures, got, c.want)
		}
	}
}
