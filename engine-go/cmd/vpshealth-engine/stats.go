package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type errNoHost int

func (id errNoHost) Error() string {
	return fmt.Sprintf("no host with id %d is being checked", int(id))
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(fields[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// tickWatch measures how late a 100 ms ticker fires: the engine's longest stall.
type tickWatch struct {
	mu     sync.Mutex
	maxLag time.Duration
}

func (t *tickWatch) run(ctx context.Context) {
	const period = 100 * time.Millisecond
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			now := time.Now()
			lag := now.Sub(last) - period
			last = now
			t.mu.Lock()
			t.maxLag = max(t.maxLag, lag)
			t.mu.Unlock()
		}
	}
}

// takeMax returns the latest lateness since the last call, in milliseconds, and resets it.
func (t *tickWatch) takeMax() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	lag := t.maxLag
	t.maxLag = 0
	return float64(lag) / float64(time.Millisecond)
}
