package runner

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"vpshealth/engine/internal/pollshell"
	"vpshealth/engine/internal/problem"
	"vpshealth/engine/internal/procfs"
	"vpshealth/engine/internal/protocol"
	"vpshealth/engine/internal/sshtest"
)

func hostOf(s *sshtest.Server) protocol.Host {
	key, line := s.ClientKey, s.HostKeyLine
	return protocol.Host{
		ID: 3, Name: "web1", Address: "127.0.0.1", Port: s.Port, User: "vhtest", HostKey: &line,
		IntervalSeconds: 30, Credentials: &protocol.Credentials{PrivateKey: &key},
	}
}

func newRunner(t *testing.T, h protocol.Host) (*Runner, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	r := New(h, protocol.Defaults(), protocol.NewWriter(&out))
	t.Cleanup(r.Close)
	return r, &out
}

func problemOf(res protocol.Result) string {
	if res.Problem == nil {
		return ""
	}
	return *res.Problem
}

func TestACredentialsErrorIsReportedWithoutConnecting(t *testing.T) {
	s := sshtest.Start(t)
	h := hostOf(s)
	h.Credentials = nil
	h.CredentialsError = &protocol.CredentialsError{Problem: problem.KeyringUnavailable, Message: "the keyring of web1 is locked"}
	r, _ := newRunner(t, h)
	res := r.Check(context.Background())
	if problemOf(res) != problem.KeyringUnavailable || res.Message != "the keyring of web1 is locked" || res.Snapshot != nil {
		t.Fatalf("result %+v", res)
	}
	if s.Connections() != 0 {
		t.Fatal("connected although the credentials were missing")
	}
}

func TestAChangedHostKeyRunsNothing(t *testing.T) {
	s := sshtest.Start(t)
	h := hostOf(s)
	_, _, other := sshtest.NewKey(t)
	h.HostKey = &other
	r, _ := newRunner(t, h)
	res := r.Check(context.Background())
	if problemOf(res) != problem.HostKeyMismatch || !strings.Contains(res.Message, "has CHANGED") {
		t.Fatalf("result %+v", res)
	}
	if len(s.Commands()) != 0 {
		t.Fatalf("commands ran: %q", s.Commands())
	}
}

// parsersReady: vectors22's procfs parsers are in (on main they answer "not implemented").
func parsersReady() bool {
	_, err := procfs.ParseSystemInfo("")
	return err == nil || err.Error() != "not implemented"
}

func TestANewConnectionSendsSystemInfoAndSamplesTwice(t *testing.T) {
	s := sshtest.Start(t)
	r, _ := newRunner(t, hostOf(s))
	res := r.Check(context.Background())
	if got := s.Commands(); len(got) < 1 || got[0] != pollshell.SystemInfoCommand {
		t.Fatalf("commands %q, want the system information first", got)
	}
	if !parsersReady() {
		if problemOf(res) != problem.ParseError || res.Message != "could not read what web1 returned: not implemented" {
			t.Fatalf("result %+v", res)
		}
		return
	}
	if res.Problem != nil || res.SystemInfo == nil || res.Snapshot == nil || res.Snapshot.CPUTimesPrevious == nil {
		t.Fatalf("first result %+v", res)
	}
	res = r.Check(context.Background())
	if res.Problem != nil || res.SystemInfo != nil || res.Snapshot.CPUTimesPrevious != nil {
		t.Fatalf("second result %+v", res)
	}
	requests := s.Input(pollshell.PollShellCommand)
	if !strings.HasPrefix(requests, "f ") || !strings.Contains(requests, "\np ") {
		t.Fatalf("shell requests %q", requests)
	}
}

func TestAbortDropsTheConnectionAndTheNextCheckReconnects(t *testing.T) {
	s := sshtest.Start(t)
	r, _ := newRunner(t, hostOf(s))
	r.Check(context.Background())
	r.Abort()
	if r.Connected() {
		t.Fatal("still connected after Abort")
	}
	r.Check(context.Background())
	if s.Connections() != 2 || strings.Count(strings.Join(s.Commands(), "\n"), pollshell.SystemInfoCommand) != 2 {
		t.Fatalf("%d connections, commands %q", s.Connections(), s.Commands())
	}
}
