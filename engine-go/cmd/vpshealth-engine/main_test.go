package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"vpshealth/engine/internal/protocol"
	"vpshealth/engine/internal/sshtest"
)

func TestAFirstLineThatIsNotStartExitsWithTwo(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(strings.NewReader(`{"type": "hosts", "hosts": []}`+"\n"), &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "not a start message") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

// engineUnderTest runs the engine on pipes; lines gives what it writes, one message each.
type engineUnderTest struct {
	t     *testing.T
	in    *io.PipeWriter
	lines chan map[string]any
	code  chan int
}

func startEngine(t *testing.T) *engineUnderTest {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	e := &engineUnderTest{t: t, in: inW, lines: make(chan map[string]any, 100), code: make(chan int, 1)}
	go func() { e.code <- run(inR, outW, io.Discard); _ = outW.Close() }()
	go func() {
		scanner := bufio.NewScanner(outR)
		scanner.Buffer(nil, protocol.MaxLine)
		for scanner.Scan() {
			var msg map[string]any
			if err := json.Unmarshal(scanner.Bytes(), &msg); err != nil {
				t.Errorf("not JSON: %q", scanner.Text())
			}
			e.lines <- msg
		}
		close(e.lines)
	}()
	t.Cleanup(func() { _ = inW.Close() })
	return e
}

func (e *engineUnderTest) send(msg any) {
	data, _ := json.Marshal(msg)
	if _, err := e.in.Write(append(data, '\n')); err != nil {
		e.t.Fatal(err)
	}
}

// next is the next message of type kind; others are skipped.
func (e *engineUnderTest) next(kind string) map[string]any {
	e.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case msg, ok := <-e.lines:
			if !ok {
				e.t.Fatalf("the output ended before a %s message", kind)
			}
			if msg["type"] == kind {
				return msg
			}
		case <-timeout:
			e.t.Fatalf("no %s message came", kind)
		}
	}
}

func (e *engineUnderTest) exitCode() int {
	e.t.Helper()
	select {
	case code := <-e.code:
		return code
	case <-time.After(5 * time.Second):
		e.t.Fatal("the engine did not exit")
		return -1
	}
}

func hostOf(s *sshtest.Server) protocol.Host {
	key, line := s.ClientKey, s.HostKeyLine
	return protocol.Host{
		ID: 3, Name: "web1", Address: "127.0.0.1", Port: s.Port, User: "vhtest", HostKey: &line,
		IntervalSeconds: 1, Credentials: &protocol.Credentials{PrivateKey: &key},
	}
}

func TestCredentialsErrorsAreReportedAndStopEndsWithStopped(t *testing.T) {
	e := startEngine(t)
	if ready := e.next("ready"); ready["version"] != protocol.Version || ready["pid"] == nil {
		t.Fatalf("ready %v", ready)
	}
	e.send(map[string]any{"type": "start", "options": map[string]any{"start_now": true}})
	e.send(map[string]any{"type": "bogus"})
	e.send(map[string]any{"type": "hosts", "hosts": []protocol.Host{{
		ID: 7, Name: "db1", Address: "192.0.2.1", Port: 22, User: "root", IntervalSeconds: 60,
		CredentialsError: &protocol.CredentialsError{Problem: "key_missing", Message: "the SSH key of db1 is missing"},
	}}})
	res := e.next("result")
	if res["host_id"] != 7.0 || res["seq"] != 1.0 || res["problem"] != "key_missing" || res["message"] != "the SSH key of db1 is missing" || res["snapshot"] != nil {
		t.Fatalf("result %v", res)
	}
	e.send(map[string]any{"type": "docker_get", "request": 5, "host_id": 99, "path": "/containers/x/json"})
	if got := e.next("docker_get"); got["request"] != 5.0 || got["status"] != 0.0 || got["body"] != "" || got["error"] == nil {
		t.Fatalf("docker_get %v", got)
	}
	e.send(map[string]any{"type": "stop"})
	e.next("stopped")
	if code := e.exitCode(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

func TestAnEqualHostKeepsItsConnectionAndARemovedOneIsClosed(t *testing.T) {
	s := sshtest.Start(t)
	e := startEngine(t)
	e.send(map[string]any{"type": "start", "options": map[string]any{"start_now": true}})
	host := hostOf(s)
	e.send(map[string]any{"type": "hosts", "hosts": []protocol.Host{host}})
	if res := e.next("result"); res["host_id"] != 3.0 {
		t.Fatalf("result %v", res)
	}
	e.send(map[string]any{"type": "hosts", "hosts": []protocol.Host{host}})
	e.next("result")
	if n := s.Connections(); n != 1 {
		t.Fatalf("%d connections after an unchanged hosts message, want 1", n)
	}
	changed := host
	changed.User = "other"
	e.send(map[string]any{"type": "hosts", "hosts": []protocol.Host{changed}})
	e.next("result")
	if n := s.Connections(); n != 2 {
		t.Fatalf("%d connections after a change, want 2", n)
	}
	_ = e.in.Close() // end of input stops it too
	e.next("stopped")
	if code := e.exitCode(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
