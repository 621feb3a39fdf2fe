// Package docker reads a host's Docker Engine API over streams to its socket (opened through
// the host's SSH connection): the listing with each running container's metrics
// (collectors/docker_collector.py and engine/docker_monitor.py's views), the events stream,
// and single requests.
package docker

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"vpshealth/engine/internal/dockerparse"
	"vpshealth/engine/internal/model"
)

// Dialer opens a stream to the Docker socket.
type Dialer func(ctx context.Context) (net.Conn, error)

// Runner runs a fixed command on the host with stdin and returns its standard output.
type Runner func(ctx context.Context, command, stdin string) (string, error)

// Options are zero-value friendly: each zero field takes the default named beside it.
type Options struct {
	Socket  string        // "/var/run/docker.sock"
	User    string        // the SSH user, for the "denied" message
	Timeout time.Duration // 20 s: a whole collect, and one Get
	// Streams list and inspect (2); up to StatsStreams more ask for stats all at once (32),
	// because the engine answers a stats request only at its next one-second tick: asked one
	// after another, 50 containers took 17 s.
	Streams      int
	StatsStreams int
	// InspectEvery: inspect results are reused while a container's listing line (state and
	// status) is unchanged, and refreshed every InspectEvery collects regardless (10).
	InspectEvery int
	// EventsRetry: the waits before following the events again after the stream dropped
	// (1, 2, 5, 10, 30 s), back to the first after an event.
	EventsRetry []time.Duration
}

const (
	// AbsentRecheckPolls: a host without Docker is asked again only every this many collects.
	AbsentRecheckPolls = 20
	defaultSocket      = "/var/run/docker.sock"
)

// FollowedEvents are docker_collector.FOLLOWED_EVENTS.
func FollowedEvents() []string {
	return []string{
		"create", "start", "restart", "die", "oom", "kill", "stop", "destroy", "pause", "unpause",
		"health_status",
	}
}

var containerID = regexp.MustCompile(`^[0-9a-f]{12,64}$`)

type inspected struct {
	line      [2]string // state, status
	container model.Container
}

// Collector is one host's Docker. Collect is meant to be called by one goroutine at a time
// (it serializes itself); Follow, Get and Close may be called from any goroutine.
type Collector struct {
	run     Runner
	opts    Options
	listing *api // list and inspect
	stats   *api
	single  *api // Get: never waits behind a listing
	events  *api

	closing context.Context
	close   context.CancelFunc

	mu        sync.Mutex
	inspected map[string]inspected
	previous  map[string]model.ContainerStats
	polls     int
	hadDocker bool
	skip      int
}

func NewCollector(dial Dialer, run Runner, opts Options) *Collector {
	if opts.Socket == "" {
		opts.Socket = defaultSocket
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 20 * time.Second
	}
	if opts.Streams <= 0 {
		opts.Streams = 2
	}
	if opts.StatsStreams <= 0 {
		opts.StatsStreams = 32
	}
	if opts.InspectEvery <= 0 {
		opts.InspectEvery = 10
	}
	if len(opts.EventsRetry) == 0 {
		opts.EventsRetry = []time.Duration{
			time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
		}
	}
	closing, cancel := context.WithCancelCause(context.Background())
	return &Collector{
		run:       run,
		opts:      opts,
		listing:   newAPI(dial, opts.Streams, true),
		stats:     newAPI(dial, opts.StatsStreams, true),
		single:    newAPI(dial, 1, true),
		events:    newAPI(dial, 0, false), // a stream per Follow, closed when it ends
		closing:   closing,
		close:     func() { cancel(errClosed) },
		inspected: map[string]inspected{},
	}
}

// Close closes every stream; Follow returns, and requests under way fail.
func (c *Collector) Close() {
	c.close()
	for _, a := range []*api{c.listing, c.stats, c.single, c.events} {
		a.close()
	}
}

// bound is ctx, also cancelled by Close, and after timeout when it is not zero.
func (c *Collector) bound(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(c.closing, func() { cancel(errClosed) })
	cancelTimeout := context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancelTimeout = context.WithTimeout(ctx, timeout)
	}
	return ctx, func() {
		cancelTimeout()
		stop()
		cancel(nil)
	}
}

// Collect lists the containers with their metrics, or says why Docker could not be used; nil
// when this check skips Docker (a host without it is asked every AbsentRecheckPolls checks).
func (c *Collector) Collect(ctx context.Context) *model.DockerResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.skip > 0 {
		c.skip--
		return nil
	}
	ctx, cancel := c.bound(ctx, c.opts.Timeout)
	defer cancel()
	result, err := c.collect(ctx)
	if err == nil {
		c.hadDocker = true
		return result
	}
	c.previous = nil
	c.listing.close()
	c.stats.close()
	failure := c.explain(ctx, err)
	if failure.Access == accessAbsent && !c.hadDocker {
		c.skip = AbsentRecheckPolls
	}
	return &model.DockerResult{Error: failure}
}

func (c *Collector) collect(ctx context.Context) (*model.DockerResult, error) {
	body, err := c.listing.getOK(ctx, "/containers/json?all=1")
	if err != nil {
		return nil, err
	}
	summaries, err := dockerparse.ParseContainerList(body)
	if err != nil {
		return nil, err
	}
	c.polls++
	refreshAll := c.polls%c.opts.InspectEvery == 0
	listed := map[string][2]string{}
	var stale []string
	var fresh sync.Map // id -> model.Container
	for _, s := range summaries {
		if !containerID.MatchString(s.ID) {
			continue
		}
		if _, seen := listed[s.ID]; seen {
			continue
		}
		line := [2]string{s.State, s.Status}
		listed[s.ID] = line
		if cached, ok := c.inspected[s.ID]; ok && cached.line == line && !refreshAll {
			fresh.Store(s.ID, cached.container)
		} else {
			stale = append(stale, s.ID)
		}
	}
	var cacheMu sync.Mutex
	err = forEach(ctx, c.opts.Streams, len(stale), func(ctx context.Context, i int) error {
		id := stale[i]
		container, found, err := c.inspect(ctx, id)
		if err != nil || !found {
			return err
		}
		fresh.Store(id, container)
		cacheMu.Lock()
		c.inspected[id] = inspected{listed[id], container}
		cacheMu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	for id := range c.inspected {
		if _, ok := listed[id]; !ok {
			delete(c.inspected, id)
		}
	}
	containers := []model.Container{}
	fresh.Range(func(_, value any) bool {
		containers = append(containers, value.(model.Container))
		return true
	})
	slices.SortStableFunc(containers, func(a, b model.Container) int {
		return compareStrings(a.Name, b.Name)
	})
	var measured []string
	for _, container := range containers {
		if container.State == "running" || container.State == "paused" {
			measured = append(measured, container.ID)
		}
	}
	samples, err := c.allStats(ctx, measured)
	if err != nil {
		return nil, err
	}
	return &model.DockerResult{Containers: containers, Metrics: c.metrics(samples)}, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// metrics are engine/docker_monitor's views: the docker CLI's formulas over this sample and
// the previous collect's.
func (c *Collector) metrics(samples map[string]model.ContainerStats) map[string]model.ContainerMetrics {
	metrics := make(map[string]model.ContainerMetrics, len(samples))
	for id, sample := range samples {
		var cpu *float64
		if before, ok := c.previous[id]; ok {
			cpu = dockerparse.CPUPercent(before, sample)
		}
		metrics[id] = model.ContainerMetrics{
			CPUPercent:       cpu,
			MemoryBytes:      dockerparse.MemoryBytes(sample),
			MemoryLimitBytes: sample.MemoryLimit,
		}
	}
	c.previous = samples
	return metrics
}

func (c *Collector) inspect(ctx context.Context, id string) (model.Container, bool, error) {
	status, body, err := c.listing.get(ctx, "/containers/"+id+"/json")
	switch {
	case err != nil:
		return model.Container{}, false, err
	case status == http.StatusNotFound: // removed between the listing and now
		return model.Container{}, false, nil
	case status != http.StatusOK:
		return model.Container{}, false, &statusError{fmt.Sprintf("inspect answered %d", status)}
	}
	container, err := dockerparse.ParseInspect(body)
	return container, err == nil, err
}

func (c *Collector) allStats(ctx context.Context, ids []string) (map[string]model.ContainerStats, error) {
	var mu sync.Mutex
	samples := map[string]model.ContainerStats{}
	err := forEach(ctx, c.opts.StatsStreams, len(ids), func(ctx context.Context, i int) error {
		path := "/containers/" + ids[i] + "/stats?stream=false&one-shot=true"
		status, body, err := c.stats.get(ctx, path)
		switch {
		case err != nil:
			return err
		case status == http.StatusNotFound || status == http.StatusConflict:
			return nil
		case status != http.StatusOK:
			return &statusError{fmt.Sprintf("stats answered %d", status)}
		}
		sample, err := dockerparse.ParseStats(body)
		if err != nil {
			return nil
		}
		mu.Lock()
		samples[ids[i]] = sample
		mu.Unlock()
		return nil
	})
	return samples, err
}

// forEach calls do for 0..n-1 from up to workers goroutines; the first error stops the rest.
func forEach(ctx context.Context, workers, n int, do func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := do(ctx, i); err != nil {
					once.Do(func() { first = err })
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
