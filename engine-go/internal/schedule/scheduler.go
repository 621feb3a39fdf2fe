package schedule

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"vpshealth/engine/internal/problem"
	"vpshealth/engine/internal/protocol"
)

// BackoffProblems are the failures that make a host back off (scheduler.py's).
var BackoffProblems = map[string]bool{
	problem.Unreachable: true, problem.Timeout: true, problem.AuthFailed: true,
	problem.HostKeyMismatch: true, problem.HostKeyNotTrusted: true,
	problem.KeyMissing: true, problem.KeyringUnavailable: true,
}

// Clock is Unix time in seconds and a sleep that ends early when ctx is done.
type Clock interface {
	Now() float64
	Sleep(ctx context.Context, seconds float64) error
}

type RealClock struct{}

func (RealClock) Now() float64 { return float64(time.Now().UnixNano()) / 1e9 }

func (RealClock) Sleep(ctx context.Context, seconds float64) error {
	if seconds <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(time.Duration(seconds * float64(time.Second)))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Task checks one host. Check returns the outcome (Problem, Message and the payload); it must
// return soon after ctx is done. Abort drops what a check that overran left behind (its
// connection); the next check starts afresh.
type Task interface {
	Check(ctx context.Context) protocol.Result
	Abort()
}

type Host struct {
	ID       int
	Name     string
	Interval float64
	StartNow bool
	Task     Task
}

type Scheduler struct {
	clock       Clock
	slots       chan struct{}
	pollTimeout float64
	sink        func(protocol.Result)
	// Jitter is the wait before a host's first check: uniform(0, interval) unless replaced.
	Jitter func(interval float64) float64
	// Crashed hears of a check that panicked.
	Crashed func(host Host, reason any)
}

func New(clock Clock, maxConcurrency int, pollTimeout float64, sink func(protocol.Result)) *Scheduler {
	return &Scheduler{
		clock:       clock,
		slots:       make(chan struct{}, max(maxConcurrency, 1)),
		pollTimeout: pollTimeout,
		sink:        sink,
		Jitter:      func(interval float64) float64 { return rand.Float64() * interval },
		Crashed:     func(Host, any) {},
	}
}

// Run checks h on its schedule until ctx is done.
func (s *Scheduler) Run(ctx context.Context, h Host) {
	interval := max(h.Interval, 1)
	due := s.clock.Now()
	if !h.StartNow {
		due += s.Jitter(interval)
	}
	failures := 0
	for {
		if s.clock.Sleep(ctx, due-s.clock.Now()) != nil {
			return
		}
		res, ok := s.CheckOnce(ctx, h)
		if !ok {
			return
		}
		res.DueAt = due
		if res.Problem != nil && BackoffProblems[*res.Problem] {
			failures++
		} else {
			failures = 0
		}
		s.sink(res)
		due = NextDue(due, s.clock.Now(), interval, failures)
	}
}

// CheckOnce is one guarded check: it waits for a concurrency slot, is bounded by the poll
// timeout and never panics. ok is false when ctx ended first (the host was stopped).
func (s *Scheduler) CheckOnce(ctx context.Context, h Host) (res protocol.Result, ok bool) {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return res, false
	}
	defer func() { <-s.slots }()
	started := s.clock.Now()
	t0 := time.Now()
	pollCtx, cancel := context.WithTimeout(ctx, time.Duration(s.pollTimeout*float64(time.Second)))
	defer cancel()
	res, crashed := s.guarded(pollCtx, h)
	if ctx.Err() != nil {
		return res, false
	}
	switch {
	case errors.Is(pollCtx.Err(), context.DeadlineExceeded):
		h.Task.Abort()
		res = Failed(problem.Timeout, fmt.Sprintf("the check of %s took longer than %s s", h.Name, problem.G(s.pollTimeout)))
	case crashed:
		h.Task.Abort()
		res = Failed(problem.CommandFailed, fmt.Sprintf("an internal error stopped the check of %s; see the log file", h.Name))
	}
	res.HostID = h.ID
	res.StartedAt, res.CheckedAt = started, started
	res.DurationMS = time.Since(t0).Milliseconds()
	return res, true
}

func (s *Scheduler) guarded(ctx context.Context, h Host) (res protocol.Result, crashed bool) {
	defer func() {
		if reason := recover(); reason != nil {
			s.Crashed(h, reason)
			crashed = true
		}
	}()
	return h.Task.Check(ctx), false
}

// Failed is a failed check's outcome.
func Failed(prob, message string) protocol.Result {
	return protocol.Result{Problem: &prob, Message: message}
}
