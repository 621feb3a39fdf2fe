package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"vpshealth/engine/internal/model"
)

func TestStartReadsOptionsOverTheDefaults(t *testing.T) {
	r := NewReader(strings.NewReader(`{"type": "start", "options": {"max_concurrency": 3, "poll_timeout": 2.5, "start_now": true}}` + "\n"))
	opts, err := r.Start()
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.MaxConcurrency, want.PollTimeout, want.StartNow = 3, 2.5, true
	if opts != want {
		t.Fatalf("options %+v, want %+v", opts, want)
	}
}

func TestAFirstLineThatIsNotStartIsRefused(t *testing.T) {
	for _, first := range []string{`{"type": "hosts", "hosts": []}`, `not json`, ``, `{"type": "start", "options": 7}`} {
		if _, err := NewReader(strings.NewReader(first + "\n")).Start(); !errors.Is(err, ErrNotStart) {
			t.Errorf("%q: error %v, want ErrNotStart", first, err)
		}
	}
}

func TestMalformedLinesAreReportedAndSkipped(t *testing.T) {
	input := strings.Join([]string{
		`{"type": "hosts", "hosts": [{"id": 3, "name": "web1", "host_key": null, "credentials": {"private_key": "K", "passphrase": null, "agent_path": null}, "future": 1}]}`,
		`{"broken": `,
		`{"no_type": 1}`,
		``,
		`{"type": "hosts", "hosts": 5}`,
		strings.Repeat("x", MaxLine+10),
		`{"type": "docker_get", "request": 17, "host_id": 3, "path": "/containers/4f1c/json"}`,
		`{"type": "stop"}`,
	}, "\n")
	r := NewReader(strings.NewReader(input))
	var bad []string
	r.Bad = func(reason string) { bad = append(bad, reason) }
	var got []Inbound
	for {
		msg, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msg)
	}
	if len(got) != 3 || got[0].Type != "hosts" || got[1].Type != "docker_get" || got[2].Type != "stop" {
		t.Fatalf("messages %+v", got)
	}
	if h := got[0].Hosts[0]; h.ID != 3 || h.Name != "web1" || h.HostKey != nil || *h.Credentials.PrivateKey != "K" {
		t.Fatalf("host %+v", h)
	}
	if got[1].Request != 17 || got[1].HostID != 3 || got[1].Path != "/containers/4f1c/json" {
		t.Fatalf("docker_get %+v", got[1])
	}
	if len(bad) != 4 {
		t.Fatalf("reported %d bad lines, want 4: %q", len(bad), bad)
	}
}

func TestResultsRoundTripWithNullsAndNumbering(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	prob := "timeout"
	_ = w.SendResult(Result{HostID: 3, DueAt: 1765100000.25, Problem: &prob, Message: "m"})
	_ = w.SendResult(Result{HostID: 4, Snapshot: &model.Snapshot{CPUCount: 2}, Docker: &model.DockerResult{Error: &model.DockerError{Access: "absent", Message: "x"}}})
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines %q", lines)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"snapshot", "system_info", "docker"} {
		if v, ok := first[key]; !ok || v != nil {
			t.Errorf("%s = %v, want null", key, v)
		}
	}
	if first["type"] != "result" || first["seq"] != 1.0 || first["problem"] != "timeout" || first["due_at"] != 1765100000.25 {
		t.Errorf("first %v", first)
	}
	var second Result
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if second.Seq != 2 || second.Problem != nil || second.Snapshot.CPUCount != 2 || second.Docker.Error.Access != "absent" {
		t.Errorf("second %+v", second)
	}
}

func TestConcurrentWritesStayWholeLines(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	var wg sync.WaitGroup
	body := bytes.Repeat([]byte("b"), 100000)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = w.Send(DockerGet{Type: "docker_get", Request: int64(i), Status: 200, Body: body})
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for line := range strings.SplitSeq(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		var msg DockerGet
		if err := json.Unmarshal([]byte(line), &msg); err != nil || !bytes.Equal(msg.Body, body) {
			t.Fatalf("a line was not one whole message: %v", err)
		}
		seen[msg.Request] = true
	}
	if len(seen) != 20 {
		t.Fatalf("%d answers, want 20", len(seen))
	}
}
