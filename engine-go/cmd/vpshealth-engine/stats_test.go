package main

import "testing"

func TestTheProcessMeasuresItself(t *testing.T) {
	for range 100000 {
		_ = make([]byte, 64)
	}
	if cpuSeconds() <= 0 || rssBytes() <= 0 {
		t.Fatalf("cpu %v s, rss %d bytes", cpuSeconds(), rssBytes())
	}
}

func TestTakeMaxResets(t *testing.T) {
	w := &tickWatch{maxLag: 3100000}
	if got := w.takeMax(); got != 3.1 {
		t.Fatalf("%v ms, want 3.1", got)
	}
	if got := w.takeMax(); got != 0 {
		t.Fatalf("%v ms after a take, want 0", got)
	}
}
