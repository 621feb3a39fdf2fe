package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"vpshealth/engine/internal/protocol"
	"vpshealth/engine/internal/runner"
	"vpshealth/engine/internal/schedule"
)

const stopWithin = 2 * time.Second

type entry struct {
	key    string // the host object as JSON: equal objects keep running
	runner *runner.Runner
	cancel context.CancelFunc
	done   chan struct{}
}

type engine struct {
	opts    protocol.Options
	in      *protocol.Reader
	out     *protocol.Writer
	sched   *schedule.Scheduler
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	entries map[int]*entry
	ticks   *tickWatch
}

// start says ready and reads the start message.
func start(in io.Reader, out io.Writer) (*engine, error) {
	w := protocol.NewWriter(out)
	_ = w.Send(protocol.Ready{Type: "ready", Version: protocol.Version, PID: os.Getpid()})
	r := protocol.NewReader(in)
	r.Bad = func(reason string) { w.Log("warning", 0, "%s", reason) }
	opts, err := r.Start()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &engine{opts: opts, in: r, out: w, ctx: ctx, cancel: cancel, entries: map[int]*entry{}, ticks: &tickWatch{}}
	e.sched = schedule.New(schedule.RealClock{}, opts.MaxConcurrency, opts.PollTimeout, func(res protocol.Result) {
		_ = w.SendResult(res)
	})
	e.sched.Crashed = func(h schedule.Host, reason any) {
		w.Log("error", h.ID, "Unexpected error while checking %s: %v", h.Name, reason)
	}
	return e, nil
}

// serve handles the service's messages until stop or the end of input, then stops.
func (e *engine) serve() {
	go e.ticks.run(e.ctx)
	go e.reportStats()
	first := true
read:
	for {
		msg, err := e.in.Next()
		if err != nil {
			break
		}
		switch msg.Type {
		case "hosts":
			e.setHosts(msg.Hosts, first && e.opts.StartNow)
			first = false
		case "docker_get":
			go e.dockerGet(msg)
		case "stop":
			break read
		default:
			e.out.Log("warning", 0, "ignored a message of unknown type %q", msg.Type)
		}
	}
	e.stopAll()
	_ = e.out.Send(protocol.Stopped{Type: "stopped"})
}

func keyOf(h protocol.Host) string {
	data, _ := json.Marshal(h)
	return string(data)
}

// setHosts makes exactly hosts run: equal ones keep going, changed ones restart.
func (e *engine) setHosts(hosts []protocol.Host, startNow bool) {
	wanted := map[int]protocol.Host{}
	for _, h := range hosts {
		wanted[h.ID] = h
	}
	e.mu.Lock()
	var gone []*entry
	for id, en := range e.entries {
		if h, ok := wanted[id]; !ok || keyOf(h) != en.key {
			gone = append(gone, en)
			delete(e.entries, id)
		}
	}
	e.mu.Unlock()
	stopEntries(gone)
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, h := range wanted {
		if _, ok := e.entries[id]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(e.ctx)
		en := &entry{key: keyOf(h), runner: runner.New(h, e.opts, e.out), cancel: cancel, done: make(chan struct{})}
		e.entries[id] = en
		go func() {
			defer close(en.done)
			e.sched.Run(ctx, schedule.Host{ID: h.ID, Name: h.Name, Interval: h.IntervalSeconds, StartNow: startNow, Task: en.runner})
		}()
	}
}

// stopEntries stops the hosts' loops and closes their connections, all at once, within
// stopWithin.
func stopEntries(entries []*entry) {
	if len(entries) == 0 {
		return
	}
	deadline := time.After(stopWithin)
	var wg sync.WaitGroup
	for _, en := range entries {
		en.cancel()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-en.done
			en.runner.Close()
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-deadline:
	}
}

func (e *engine) stopAll() {
	e.mu.Lock()
	all := make([]*entry, 0, len(e.entries))
	for id, en := range e.entries {
		all = append(all, en)
		delete(e.entries, id)
	}
	e.mu.Unlock()
	stopEntries(all)
	e.cancel()
}

func (e *engine) dockerGet(msg protocol.Inbound) {
	reply := protocol.DockerGet{Type: "docker_get", Request: msg.Request}
	e.mu.Lock()
	en := e.entries[msg.HostID]
	e.mu.Unlock()
	var err error
	if en == nil {
		err = errNoHost(msg.HostID)
	} else {
		ctx, cancel := context.WithTimeout(e.ctx, time.Duration(e.opts.CommandTimeout*float64(time.Second)))
		reply.Status, reply.Body, err = en.runner.DockerGet(ctx, msg.Path)
		cancel()
	}
	if err != nil {
		text := err.Error()
		reply.Status, reply.Body, reply.Error = 0, nil, &text
	}
	if reply.Body == nil {
		reply.Body = []byte{} // "" rather than null
	}
	_ = e.out.Send(reply)
}

func (e *engine) connections() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, en := range e.entries {
		if en.runner.Connected() {
			n++
		}
	}
	return n
}

func (e *engine) reportStats() {
	ticker := time.NewTicker(10 * time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-ticker.C:
		}
		_ = e.out.Send(protocol.Stats{
			Type:          "stats",
			CPUSeconds:    cpuSeconds(),
			RSSBytes:      rssBytes(),
			Goroutines:    runtime.NumGoroutine(),
			MaxTickLateMS: e.ticks.takeMax(),
			Connections:   e.connections(),
		})
	}
}
