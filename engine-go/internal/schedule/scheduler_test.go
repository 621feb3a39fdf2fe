package schedule

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vpshealth/engine/internal/problem"
	"vpshealth/engine/internal/protocol"
)

// fakeClock: sleeping moves time forward at once.
type fakeClock struct {
	mu  sync.Mutex
	now float64
}

func (c *fakeClock) Now() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(seconds float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now += seconds
}

func (c *fakeClock) Sleep(ctx context.Context, seconds float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.advance(max(seconds, 0))
	return nil
}

// scripted answers each check with the next problem ("" = healthy), taking `takes` seconds.
type scripted struct {
	clock    *fakeClock
	problems []string
	takes    float64
	calls    int
	aborted  atomic.Int32
}

func (s *scripted) Check(ctx context.Context) protocol.Result {
	p := s.problems[s.calls%len(s.problems)]
	s.calls++
	s.clock.advance(s.takes)
	if p == "" {
		return protocol.Result{}
	}
	return Failed(p, "failed")
}

func (s *scripted) Abort() { s.aborted.Add(1) }

func runFor(t *testing.T, clock *fakeClock, task Task, h Host, n int) []protocol.Result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var results []protocol.Result
	s := New(clock, 4, 30, func(r protocol.Result) {
		results = append(results, r)
		if len(results) == n {
			cancel()
		}
	})
	s.Jitter = func(interval float64) float64 { return interval / 4 }
	h.Task = task
	done := make(chan struct{})
	go func() { s.Run(ctx, h); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the host loop did not stop")
	}
	return results
}

func dues(results []protocol.Result) []float64 {
	out := make([]float64, len(results))
	for i, r := range results {
		out[i] = r.DueAt
	}
	return out
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAHealthyHostStartsAfterItsJitterAndStaysOnItsGrid(t *testing.T) {
	clock := &fakeClock{now: 1000}
	task := &scripted{clock: clock, problems: []string{""}, takes: 1.5}
	got := runFor(t, clock, task, Host{ID: 3, Name: "web1", Interval: 10}, 4)
	if want := []float64{1002.5, 1012.5, 1022.5, 1032.5}; !equal(dues(got), want) {
		t.Fatalf("due times %v, want %v", dues(got), want)
	}
	if got[0].HostID != 3 || got[0].StartedAt != 1002.5 || got[0].CheckedAt != 1002.5 || got[0].Problem != nil {
		t.Fatalf("first result %+v", got[0])
	}
}

func TestStartNowSkipsTheJitter(t *testing.T) {
	clock := &fakeClock{now: 1000}
	task := &scripted{clock: clock, problems: []string{""}}
	got := runFor(t, clock, task, Host{Name: "web1", Interval: 10, StartNow: true}, 1)
	if got[0].DueAt != 1000 {
		t.Fatalf("due %v, want 1000", got[0].DueAt)
	}
}

func TestConnectionFailuresBackOffAndOtherProblemsDoNot(t *testing.T) {
	clock := &fakeClock{now: 1000}
	task := &scripted{clock: clock, takes: 1, problems: []string{
		problem.Unreachable, problem.Unreachable, problem.AuthFailed, problem.ParseError, "", problem.Timeout,
	}}
	got := runFor(t, clock, task, Host{Name: "web1", Interval: 10}, 7)
	// 1002.5 fails (1 failure: grid), 1012.5 fails (2: finish 1013.5 + 20), 1033.5 fails
	// (3: finish 1034.5 + 40), then parse_error resets: back on the grid from 1074.5.
	want := []float64{1002.5, 1012.5, 1033.5, 1074.5, 1084.5, 1094.5, 1104.5}
	if !equal(dues(got), want) {
		t.Fatalf("due times %v, want %v", dues(got), want)
	}
}

type blocking struct{ aborted atomic.Int32 }

func (b *blocking) Check(ctx context.Context) protocol.Result {
	<-ctx.Done()
	return Failed(problem.Unreachable, "cancelled")
}

func (b *blocking) Abort() { b.aborted.Add(1) }

func TestACheckThatOverrunsThePollTimeoutIsATimeout(t *testing.T) {
	task := &blocking{}
	s := New(RealClock{}, 1, 0.05, func(protocol.Result) {})
	res, ok := s.CheckOnce(context.Background(), Host{ID: 3, Name: "web1", Interval: 10, Task: task})
	if !ok || res.Problem == nil || *res.Problem != problem.Timeout {
		t.Fatalf("result %+v ok=%v", res, ok)
	}
	if res.Message != "the check of web1 took longer than 0.05 s" {
		t.Fatalf("message %q", res.Message)
	}
	if task.aborted.Load() != 1 {
		t.Fatal("the overrun check was not aborted")
	}
}

func TestAStoppedHostReportsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := New(RealClock{}, 1, 30, func(protocol.Result) {})
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if _, ok := s.CheckOnce(ctx, Host{Name: "web1", Task: &blocking{}}); ok {
		t.Fatal("a cancelled check was reported")
	}
}

type panicking struct{ aborted atomic.Int32 }

func (p *panicking) Check(context.Context) protocol.Result { panic("boom") }
func (p *panicking) Abort()                                { p.aborted.Add(1) }

func TestAPanicIsAnInternalError(t *testing.T) {
	s := New(RealClock{}, 1, 30, func(protocol.Result) {})
	var reason any
	s.Crashed = func(_ Host, r any) { reason = r }
	res, ok := s.CheckOnce(context.Background(), Host{Name: "web1", Task: &panicking{}})
	if !ok || *res.Problem != problem.CommandFailed || res.Message != "an internal error stopped the check of web1; see the log file" || reason != "boom" {
		t.Fatalf("result %+v, reason %v", res, reason)
	}
}

type counting struct {
	inFlight *atomic.Int32
	release  chan struct{}
}

func (c counting) Check(context.Context) protocol.Result {
	c.inFlight.Add(1)
	<-c.release
	return protocol.Result{}
}

func (counting) Abort() {}

func TestAThirdCheckWaitsWhileTwoSlotsAreTaken(t *testing.T) {
	s := New(RealClock{}, 2, 30, func(protocol.Result) {})
	var inFlight atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.CheckOnce(context.Background(), Host{ID: i, Name: "h", Task: counting{&inFlight, release}})
		}()
	}
	for inFlight.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var third atomic.Int32
	if _, ok := s.CheckOnce(ctx, Host{ID: 9, Name: "h", Task: counting{&third, release}}); ok || third.Load() != 0 {
		t.Fatal("a third check ran while both slots were taken")
	}
	close(release)
	wg.Wait()
}
