package docker

// The server in these tests is a stand-in for dockerd: an HTTP server on a unix socket in a
// temporary folder that answers with the bodies recorded from a real dockerd in
// tests/fixtures/docker/ (see its README), so that tests can count requests, delay stats,
// make a container vanish between the listing and its inspect and drop the events stream on
// demand. The real dockerd is covered by TestRealDockerd and the service's integration test.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vpshealth/engine/internal/dockerparse"
	"vpshealth/engine/internal/model"
)

const fixtures = "../../../tests/fixtures/docker"

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type recorded struct {
	ID    string
	Names []string
	State string
}

type fakeDocker struct {
	t      *testing.T
	socket string
	names  map[string]string // id -> name

	mu            sync.Mutex
	listing       []byte
	requests      map[string]int // "list", "inspect", "stats", "events", "other"
	inspectStatus map[string]int // name -> status to answer
	statsServed   map[string]int
	statsAnswer   map[string]int // name -> status to answer; 299: a body that does not parse
	statsInFlight int
	statsMax      int
	statsDelay    time.Duration
	listGate      chan struct{}
	events        func(w http.ResponseWriter, r *http.Request, call int)
	conns         atomic.Int64
}

func startFakeDocker(t *testing.T) *fakeDocker {
	t.Helper()
	f := &fakeDocker{
		t:             t,
		socket:        filepath.Join(t.TempDir(), "docker.sock"),
		names:         map[string]string{},
		listing:       fixture(t, "containers_list.json"),
		requests:      map[string]int{},
		inspectStatus: map[string]int{},
		statsServed:   map[string]int{},
		statsAnswer:   map[string]int{},
	}
	var listed []recorded
	if err := json.Unmarshal(f.listing, &listed); err != nil {
		t.Fatal(err)
	}
	for _, c := range listed {
		f.names[c.ID] = strings.TrimPrefix(c.Names[0], "/")
	}
	listener, err := net.Listen("unix", f.socket)
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{
		Handler: http.HandlerFunc(f.serve),
		ConnState: func(_ net.Conn, state http.ConnState) {
			if state == http.StateNew {
				f.conns.Add(1)
			}
		},
	}
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(func() { _ = server.Close() })
	return f
}

func (f *fakeDocker) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", f.socket)
}

// set changes what the server answers.
func (f *fakeDocker) set(change func(f *fakeDocker)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeDocker) maxStatsAtOnce() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statsMax
}

func (f *fakeDocker) count(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[kind]
}

func (f *fakeDocker) serve(w http.ResponseWriter, r *http.Request) {
	if r.Host != "docker" {
		http.Error(w, "bad host "+r.Host, http.StatusBadRequest)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/containers/json":
		f.serveListing(w, r)
	case len(parts) == 3 && parts[0] == "containers" && parts[2] == "json":
		f.serveInspect(w, parts[1])
	case len(parts) == 3 && parts[0] == "containers" && parts[2] == "stats":
		f.serveStats(w, r, parts[1])
	case r.URL.Path == "/events":
		f.mu.Lock()
		f.requests["events"]++
		call, events := f.requests["events"], f.events
		f.mu.Unlock()
		events(w, r, call)
	default:
		f.mu.Lock()
		f.requests["other"]++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixture(f.t, "version.json"))
	}
}

func (f *fakeDocker) serveListing(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests["list"]++
	gate, body := f.listGate, f.listing
	f.mu.Unlock()
	if r.URL.RawQuery != "all=1" {
		http.Error(w, "want all=1", http.StatusBadRequest)
		return
	}
	if gate != nil {
		<-gate
	}
	_, _ = w.Write(body)
}

func (f *fakeDocker) serveInspect(w http.ResponseWriter, id string) {
	f.mu.Lock()
	f.requests["inspect"]++
	name := f.names[id]
	status := f.inspectStatus[name]
	f.mu.Unlock()
	if name == "" || status == http.StatusNotFound {
		http.Error(w, `{"message":"No such container: `+id+`"}`, http.StatusNotFound)
		return
	}
	if status != 0 {
		http.Error(w, `{"message":"boom"}`, status)
		return
	}
	_, _ = w.Write(fixture(f.t, "inspect_"+name+".json"))
}

func (f *fakeDocker) serveStats(w http.ResponseWriter, r *http.Request, id string) {
	f.mu.Lock()
	f.requests["stats"]++
	f.statsInFlight++
	f.statsMax = max(f.statsMax, f.statsInFlight)
	name := f.names[id]
	f.statsServed[name]++
	served, delay, answer := f.statsServed[name], f.statsDelay, f.statsAnswer[name]
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.statsInFlight--
		f.mu.Unlock()
	}()
	if r.URL.RawQuery != "stream=false&one-shot=true" {
		http.Error(w, "want one-shot", http.StatusBadRequest)
		return
	}
	time.Sleep(delay)
	switch answer {
	case 0:
	case 299:
		_, _ = w.Write([]byte(`{"read":`))
		return
	default:
		http.Error(w, `{"message":"not running"}`, answer)
		return
	}
	file := "stats_" + name + ".json"
	if name == "vh-healthy" && served > 1 {
		file = "stats_vh-healthy_twosample.json"
	} else if _, err := os.Stat(filepath.Join(fixtures, file)); err != nil {
		file = "stats_web-abc.json"
	}
	_, _ = w.Write(fixture(f.t, file))
}

// measured are the names of the recorded containers that are running or paused.
func measured(t *testing.T, f *fakeDocker) []string {
	var names []string
	for _, name := range f.names {
		var inspect struct{ State struct{ Status string } }
		if err := json.Unmarshal(fixture(t, "inspect_"+name+".json"), &inspect); err != nil {
			t.Fatal(err)
		}
		if inspect.State.Status == "running" || inspect.State.Status == "paused" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func noRunner(context.Context, string, string) (string, error) {
	return "", errors.New("no command expected")
}

func newTestCollector(t *testing.T, f *fakeDocker, opts Options) *Collector {
	c := NewCollector(f.dial, noRunner, opts)
	t.Cleanup(c.Close)
	return c
}

func collectOK(t *testing.T, c *Collector) *model.DockerResult {
	t.Helper()
	result := c.Collect(context.Background())
	if result == nil || result.Error != nil {
		t.Fatalf("collect failed: %+v", result)
	}
	return result
}

func failedWith(t *testing.T, result *model.DockerResult, want model.DockerError) {
	t.Helper()
	if result == nil || result.Error == nil || *result.Error != want {
		t.Fatalf("result %+v, want the error %+v", result, want)
	}
}

func names(result *model.DockerResult) []string {
	var out []string
	for _, c := range result.Containers {
		out = append(out, c.Name)
	}
	return out
}

func stats(t *testing.T, name string) model.ContainerStats {
	sample, err := dockerparse.ParseStats(fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return sample
}

func TestListingIsSortedWithMetricsOfTheRunningOnes(t *testing.T) {
	f := startFakeDocker(t)
	c := newTestCollector(t, f, Options{})
	first := collectOK(t, c)

	want := make([]string, 0, len(f.names))
	for _, name := range f.names {
		want = append(want, name)
	}
	slices.Sort(want)
	if got := names(first); !slices.Equal(got, want) {
		t.Fatalf("containers %v, want %v", got, want)
	}
	var withMetrics []string
	for _, container := range first.Containers {
		if m, ok := first.Metrics[container.ID]; ok {
			withMetrics = append(withMetrics, container.Name)
			if m.CPUPercent != nil {
				t.Errorf("%s: a CPU %% from a single sample", container.Name)
			}
			if container.Name == "vh-healthy" && (m.MemoryLimitBytes == nil || *m.MemoryLimitBytes != 64<<20) {
				t.Errorf("vh-healthy (-m 64m): memory limit %v", m.MemoryLimitBytes)
			}
		}
	}
	if want := measured(t, f); !slices.Equal(withMetrics, want) {
		t.Fatalf("metrics for %v, want the running and paused %v", withMetrics, want)
	}

	second := collectOK(t, c)
	before, after := stats(t, "stats_vh-healthy.json"), stats(t, "stats_vh-healthy_twosample.json")
	for _, container := range second.Containers {
		if container.Name != "vh-healthy" {
			continue
		}
		got := second.Metrics[container.ID]
		want := dockerparse.CPUPercent(before, after)
		if got.CPUPercent == nil || want == nil || *got.CPUPercent != *want {
			t.Fatalf("vh-healthy CPU %v, want %v", got.CPUPercent, want)
		}
		if *got.MemoryBytes != *dockerparse.MemoryBytes(after) {
			t.Fatalf("vh-healthy memory %d, want %d", *got.MemoryBytes, *dockerparse.MemoryBytes(after))
		}
	}
}

func TestInspectIsCachedWhileTheListingLineIsUnchanged(t *testing.T) {
	f := startFakeDocker(t)
	c := newTestCollector(t, f, Options{InspectEvery: 4})
	all := len(f.names)

	collectOK(t, c)
	if got := f.count("inspect"); got != all {
		t.Fatalf("first collect inspected %d, want %d", got, all)
	}
	collectOK(t, c)
	if got := f.count("inspect"); got != all {
		t.Fatalf("an unchanged listing inspected %d more", got-all)
	}
	f.mu.Lock()
	f.listing = []byte(strings.Replace(string(f.listing), `"Up 4 minutes (Paused)"`, `"Up 5 minutes (Paused)"`, 1))
	f.mu.Unlock()
	collectOK(t, c)
	if got := f.count("inspect"); got != all+1 {
		t.Fatalf("one changed line inspected %d, want 1", got-all)
	}
	collectOK(t, c) // the 4th: everything again
	if got := f.count("inspect"); got != 2*all+1 {
		t.Fatalf("the refresh inspected %d, want %d", got-all-1, all)
	}
}

func TestStatsAreAskedConcurrentlyOnKeptStreams(t *testing.T) {
	f := startFakeDocker(t)
	f.set(func(f *fakeDocker) { f.statsDelay = 300 * time.Millisecond })
	running := len(measured(t, f))

	c := newTestCollector(t, f, Options{})
	collectOK(t, c)
	if f.maxStatsAtOnce() != running {
		t.Fatalf("at most %d stats requests at once, want all %d", f.maxStatsAtOnce(), running)
	}
	opened := f.conns.Load()
	if opened > int64(2+running) {
		t.Fatalf("%d connections for 2 listing streams and %d stats", opened, running)
	}
	collectOK(t, c)
	if again := f.conns.Load(); again != opened {
		t.Fatalf("the second collect opened %d more connections; streams are kept alive", again-opened)
	}
}

func TestStatsConcurrencyIsBounded(t *testing.T) {
	f := startFakeDocker(t)
	f.set(func(f *fakeDocker) { f.statsDelay = 300 * time.Millisecond })
	c := newTestCollector(t, f, Options{StatsStreams: 3})
	result := collectOK(t, c)
	if f.maxStatsAtOnce() != 3 {
		t.Fatalf("at most %d stats requests at once, want 3", f.maxStatsAtOnce())
	}
	if len(result.Metrics) != len(measured(t, f)) {
		t.Fatalf("metrics for %d containers", len(result.Metrics))
	}
}

func TestAContainerRemovedBeforeItsInspectIsLeftOut(t *testing.T) {
	f := startFakeDocker(t)
	f.set(func(f *fakeDocker) { f.inspectStatus["web-abc"] = http.StatusNotFound })
	c := newTestCollector(t, f, Options{})
	result := collectOK(t, c)
	if slices.Contains(names(result), "web-abc") || len(result.Containers) != len(f.names)-1 {
		t.Fatalf("containers %v", names(result))
	}
}

func TestStatsThatCannotBeHadAreLeftOut(t *testing.T) {
	f := startFakeDocker(t)
	f.set(func(f *fakeDocker) {
		f.statsAnswer["web-abc"] = http.StatusConflict
		f.statsAnswer["vh-ports"] = http.StatusNotFound
		f.statsAnswer["vh-healthy"] = 299
	})
	c := newTestCollector(t, f, Options{})
	result := collectOK(t, c)
	for _, container := range result.Containers {
		_, has := result.Metrics[container.ID]
		left := container.Name == "web-abc" || container.Name == "vh-ports" || container.Name == "vh-healthy"
		if has == left && (container.State == "running" || container.State == "paused") {
			t.Errorf("%s: metrics %v", container.Name, has)
		}
	}
	if len(result.Metrics) != len(measured(t, f))-3 {
		t.Fatalf("metrics for %d containers", len(result.Metrics))
	}
	f.set(func(f *fakeDocker) { f.statsAnswer["web-abc"] = http.StatusInternalServerError })
	failed := c.Collect(context.Background())
	want := model.DockerError{Access: "unavailable", Message: "the Docker API failed: stats answered 500"}
	failedWith(t, failed, want)
}

func TestAFailedInspectFailsTheCollect(t *testing.T) {
	f := startFakeDocker(t)
	f.set(func(f *fakeDocker) { f.inspectStatus["web-abc"] = http.StatusInternalServerError })
	c := newTestCollector(t, f, Options{})
	result := c.Collect(context.Background())
	want := model.DockerError{Access: "unavailable", Message: "the Docker API failed: inspect answered 500"}
	failedWith(t, result, want)
}

func TestAFailedListingNamesDockersMessage(t *testing.T) {
	c := NewCollector(func(ctx context.Context) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			buffer := make([]byte, 4096)
			_, _ = server.Read(buffer)
			body := `{"message":"server is shutting down"}`
			_, _ = fmt.Fprintf(server, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"+
				"Content-Length: %d\r\n\r\n%s", len(body), body)
		}()
		return client, nil
	}, noRunner, Options{})
	defer c.Close()
	result := c.Collect(context.Background())
	want := "the Docker API failed: Docker answered 503: server is shutting down"
	if result == nil || result.Error == nil || result.Error.Message != want || result.Error.Access != "unavailable" {
		t.Fatalf("result %+v, want %q", result, want)
	}
}

type diagnosis struct {
	mu       sync.Mutex
	verdict  string
	commands []string
	stdins   []string
}

func (d *diagnosis) run(_ context.Context, command, stdin string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.commands = append(d.commands, command)
	d.stdins = append(d.stdins, stdin)
	return d.verdict + "\n", nil
}

func refused(context.Context) (net.Conn, error) {
	return nil, errors.New("ssh: rejected: connect failed (open failed)")
}

func TestErrorKindsFromTheDiagnosis(t *testing.T) {
	socket := "/var/run/docker.sock"
	cases := []struct{ verdict, access, message string }{
		{"missing", "absent", "no Docker socket at /var/run/docker.sock"},
		{"denied", "denied", "the Docker socket /var/run/docker.sock is not open to 'deploy': add deploy to " +
			"the docker group on the server (`usermod -aG docker deploy`) or connect as root"},
		{"not-a-socket", "unavailable", "/var/run/docker.sock exists but is not a socket"},
		{"accessible", "unavailable", "the Docker daemon does not answer on /var/run/docker.sock " +
			"(ssh: rejected: connect failed (open failed)); is it running?"},
	}
	for _, tc := range cases {
		t.Run(tc.verdict, func(t *testing.T) {
			d := &diagnosis{verdict: tc.verdict}
			c := NewCollector(refused, d.run, Options{User: "deploy"})
			defer c.Close()
			result := c.Collect(context.Background())
			want := model.DockerError{Access: tc.access, Message: tc.message}
			failedWith(t, result, want)
			if len(d.commands) != 1 || d.commands[0] != DockerSocketDiagnosis || d.stdins[0] != socket+"\n" {
				t.Fatalf("ran %q with %q", d.commands, d.stdins)
			}
		})
	}
}

func TestADiagnosisThatCannotRunLeavesTheDialersReason(t *testing.T) {
	c := NewCollector(refused, noRunner, Options{})
	defer c.Close()
	result := c.Collect(context.Background())
	want := model.DockerError{Access: "unavailable",
		Message: "the Docker API failed: ssh: rejected: connect failed (open failed)"}
	failedWith(t, result, want)
}

func TestAHostWithoutDockerIsAskedEveryTwentiethCheck(t *testing.T) {
	var dials atomic.Int64
	d := &diagnosis{verdict: "missing"}
	c := NewCollector(func(ctx context.Context) (net.Conn, error) {
		dials.Add(1)
		return refused(ctx)
	}, d.run, Options{})
	defer c.Close()
	if result := c.Collect(context.Background()); result == nil || result.Error == nil || result.Error.Access != "absent" {
		t.Fatalf("first check %+v", result)
	}
	for i := range AbsentRecheckPolls {
		if result := c.Collect(context.Background()); result != nil {
			t.Fatalf("check %d after absent: %+v, want skipped", i+1, result)
		}
	}
	if dials.Load() != 1 {
		t.Fatalf("%d dials during the back-off", dials.Load())
	}
	if result := c.Collect(context.Background()); result == nil || result.Error == nil {
		t.Fatalf("the 21st check after absent was skipped: %+v", result)
	}
	if dials.Load() != 2 {
		t.Fatalf("the recheck did not dial")
	}
}

func TestAbsentAfterAListingIsReportedEveryCheck(t *testing.T) {
	f := startFakeDocker(t)
	var gone atomic.Bool
	d := &diagnosis{verdict: "missing"}
	c := NewCollector(func(ctx context.Context) (net.Conn, error) {
		if gone.Load() {
			return refused(ctx)
		}
		return f.dial(ctx)
	}, d.run, Options{})
	defer c.Close()
	collectOK(t, c)
	gone.Store(true)
	c.listing.close()
	c.stats.close()
	for range 3 {
		if result := c.Collect(context.Background()); result == nil || result.Error == nil || result.Error.Access != "absent" {
			t.Fatalf("check after Docker went away: %+v", result)
		}
	}
}

func TestAnErrorDropsThePreviousStats(t *testing.T) {
	f := startFakeDocker(t)
	c := newTestCollector(t, f, Options{})
	collectOK(t, c)
	f.mu.Lock()
	f.listing = []byte("not json")
	f.mu.Unlock()
	if result := c.Collect(context.Background()); result == nil || result.Error == nil {
		t.Fatalf("a bad listing was accepted: %+v", result)
	}
	f.mu.Lock()
	f.listing = fixture(t, "containers_list.json")
	f.mu.Unlock()
	for _, m := range collectOK(t, c).Metrics {
		if m.CPUPercent != nil {
			t.Fatal("a CPU % across a failed check")
		}
	}
}

func TestTheCollectIsBoundedByTheTimeout(t *testing.T) {
	f := startFakeDocker(t)
	gate := make(chan struct{})
	f.set(func(f *fakeDocker) { f.listGate = gate })
	defer close(gate)
	c := newTestCollector(t, f, Options{Timeout: 200 * time.Millisecond})
	result := c.Collect(context.Background())
	want := model.DockerError{Access: "unavailable", Message: "the Docker API failed: no answer within 200ms"}
	failedWith(t, result, want)
}

func TestGetDoesNotWaitBehindAListing(t *testing.T) {
	f := startFakeDocker(t)
	gate := make(chan struct{})
	f.set(func(f *fakeDocker) { f.listGate = gate })
	c := newTestCollector(t, f, Options{Streams: 1})
	done := make(chan *model.DockerResult)
	go func() { done <- c.Collect(context.Background()) }()
	for f.count("list") == 0 {
		time.Sleep(time.Millisecond)
	}
	status, body, err := c.Get(context.Background(), "/version")
	if err != nil || status != 200 || string(body) != string(fixture(t, "version.json")) {
		t.Fatalf("Get: %d %q %v", status, body, err)
	}
	status, _, err = c.Get(context.Background(), "/containers/0123456789ab/json")
	if err != nil || status != http.StatusNotFound {
		t.Fatalf("Get of a missing container: %d %v", status, err)
	}
	close(gate)
	if result := <-done; result == nil || result.Error != nil {
		t.Fatalf("the listing failed: %+v", result)
	}
}

func TestGetSaysWhyNoAnswerCame(t *testing.T) {
	c := NewCollector(refused, noRunner, Options{})
	defer c.Close()
	status, body, err := c.Get(context.Background(), "/version")
	if err == nil || status != 0 || body != nil || err.Error() != "ssh: rejected: connect failed (open failed)" {
		t.Fatalf("Get: %d %q %v", status, body, err)
	}
	if _, _, err := c.Get(context.Background(), "/bad path"); err == nil {
		t.Fatal("a path with a space was sent")
	}
}

func eventLines(t *testing.T) []string {
	var lines []string
	for _, line := range strings.Split(string(fixture(t, "events_lifecycle.jsonl")), "\n") {
		if strings.TrimSpace(line) != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

func TestFollowReconnectsAndReplaysFromTheLastEvent(t *testing.T) {
	f := startFakeDocker(t)
	lines := eventLines(t)
	var sinces []string
	events := func(w http.ResponseWriter, r *http.Request, call int) {
		f.mu.Lock()
		sinces = append(sinces, r.URL.Query().Get("since"))
		f.mu.Unlock()
		if want := strings.SplitN(EventsPath(mustAtoi(t, r.URL.Query().Get("since"))), "?", 2)[1]; r.URL.RawQuery != want {
			http.Error(w, "bad query "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		switch call {
		case 1: // two events, then the stream drops
			w.Header().Set("Content-Type", "application/json")
			for _, line := range lines[:2] {
				_, _ = fmt.Fprintln(w, line)
				w.(http.Flusher).Flush()
			}
		case 2: // the daemon is restarting
			http.Error(w, `{"message":"not now"}`, http.StatusServiceUnavailable)
		default:
			for _, line := range lines[2:4] {
				_, _ = fmt.Fprintln(w, line)
				w.(http.Flusher).Flush()
			}
			<-r.Context().Done()
		}
	}
	f.set(func(f *fakeDocker) { f.events = events })
	c := newTestCollector(t, f, Options{EventsRetry: []time.Duration{time.Millisecond}})
	var mu sync.Mutex
	var got []model.Event
	four := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		c.Follow(ctx, 1000, func(event model.Event) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, event)
			if len(got) == 4 {
				close(four)
			}
		})
	}()
	<-four
	cancel()
	<-followed

	var want []model.Event
	for _, line := range lines[:4] {
		event, ok, err := dockerparse.ParseEvent([]byte(line))
		if err != nil || !ok {
			t.Fatalf("fixture line %q: %v", line, err)
		}
		want = append(want, event)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	last := fmt.Sprint(max(want[0].Time, want[1].Time))
	if !slices.Equal(sinces, []string{"1000", last, last}) {
		t.Fatalf("followed since %v, want 1000 then %s twice", sinces, last)
	}
}

func mustAtoi(t *testing.T, text string) int64 {
	var n int64
	if _, err := fmt.Sscan(text, &n); err != nil {
		t.Fatalf("since %q: %v", text, err)
	}
	return n
}

func TestEventsPathQuotesTheFiltersAsPython(t *testing.T) {
	want := "/events?since=1765100000&filters=%7B%22type%22%3A%5B%22container%22%5D%2C%22event%22%3A%5B" +
		"%22create%22%2C%22start%22%2C%22restart%22%2C%22die%22%2C%22oom%22%2C%22kill%22%2C%22stop%22%2C" +
		"%22destroy%22%2C%22pause%22%2C%22unpause%22%2C%22health%5Fstatus%22%5D%7D"
	if got := EventsPath(1765100000); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestCloseEndsFollow(t *testing.T) {
	f := startFakeDocker(t)
	started := make(chan struct{}, 1)
	f.set(func(f *fakeDocker) {
		f.events = func(w http.ResponseWriter, r *http.Request, _ int) {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			started <- struct{}{}
			<-r.Context().Done()
		}
	})
	c := NewCollector(f.dial, noRunner, Options{})
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		c.Follow(context.Background(), 0, func(model.Event) {})
	}()
	<-started
	c.Close()
	<-followed
}

func TestTheCommandsAreThePythonOnes(t *testing.T) {
	data, err := os.ReadFile("../../../tests/fixtures/vectors/commands.json")
	if err != nil {
		t.Fatalf("the shared vectors (scripts/make-test-vectors writes them): %v", err)
	}
	var commands struct {
		Diagnosis      *string  `json:"DOCKER_SOCKET_DIAGNOSIS"`
		FollowedEvents []string `json:"FOLLOWED_EVENTS"`
	}
	if err := json.Unmarshal(data, &commands); err != nil {
		t.Fatal(err)
	}
	if commands.Diagnosis == nil || *commands.Diagnosis != DockerSocketDiagnosis {
		t.Fatalf("DOCKER_SOCKET_DIAGNOSIS %v, want %q", commands.Diagnosis, DockerSocketDiagnosis)
	}
	if !slices.Equal(commands.FollowedEvents, FollowedEvents()) {
		t.Fatalf("FOLLOWED_EVENTS %v, want %v", commands.FollowedEvents, FollowedEvents())
	}
}
