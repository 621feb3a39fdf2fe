package sshconn_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"vpshealth/engine/internal/problem"
	"vpshealth/engine/internal/sshconn"
	"vpshealth/engine/internal/sshtest"
)

var quiet sshconn.Logf = func(string, string, ...any) {}

func options() sshconn.Options {
	return sshconn.Options{
		ConnectTimeout: 5 * time.Second, CommandTimeout: 5 * time.Second,
		KeepaliveInterval: time.Minute, KeepaliveCountMax: 3, MaxChannels: 4,
	}
}

func targetOf(s *sshtest.Server) sshconn.Target {
	return sshconn.Target{
		Name: "web1", Address: "127.0.0.1", Port: s.Port, User: "vhtest",
		HostKey: s.HostKeyLine, PrivateKey: s.ClientKey,
	}
}

func wantProblem(t *testing.T, err error, prob, message string) {
	t.Helper()
	e, ok := problem.As(err)
	if !ok {
		t.Fatalf("error %v (%T), want problem %s", err, err, prob)
	}
	if e.Problem != prob || e.Message != message {
		t.Fatalf("got %s %q\nwant %s %q", e.Problem, e.Message, prob, message)
	}
}

func TestRunGivesTheCommandItsInputAndReturnsItsOutput(t *testing.T) {
	s := sshtest.Start(t)
	c := sshconn.New(targetOf(s), options(), quiet)
	defer c.Close()
	out, err := c.Run(context.Background(), `IFS= read -r p; echo "got $p"; exit 3`, "/var/run/docker.sock\n")
	if err != nil {
		t.Fatal(err)
	}
	if out != "got /var/run/docker.sock\n" {
		t.Fatalf("output %q", out)
	}
	if _, gen, _ := c.Connect(context.Background()); gen != 1 || s.Connections() != 1 {
		t.Fatalf("generation %d over %d connections, want one", gen, s.Connections())
	}
}

func TestAChangedHostKeyIsRefusedBeforeAnyCommand(t *testing.T) {
	s := sshtest.Start(t)
	_, _, otherKey := sshtest.NewKey(t)
	target := targetOf(s)
	target.HostKey = otherKey
	c := sshconn.New(target, options(), quiet)
	_, err := c.Run(context.Background(), "touch /tmp/should-not-run", "")
	wantProblem(t, err, problem.HostKeyMismatch,
		"the host key of web1 (127.0.0.1:"+itoa(s.Port)+") has CHANGED since it was trusted; nothing was run. "+
			"If the server was rebuilt, check the new fingerprint and run `vpshealth host trust web1`; "+
			"otherwise someone may be intercepting the connection")
	if len(s.Commands()) != 0 {
		t.Fatalf("commands ran: %q", s.Commands())
	}
}

func TestAHostWithoutATrustedKeyIsNotContacted(t *testing.T) {
	s := sshtest.Start(t)
	target := targetOf(s)
	target.HostKey = ""
	_, _, err := sshconn.New(target, options(), quiet).Connect(context.Background())
	wantProblem(t, err, problem.HostKeyNotTrusted,
		"web1 (127.0.0.1:"+itoa(s.Port)+") has no trusted host key yet; run `vpshealth host trust web1` to confirm it")
	if s.Connections() != 0 {
		t.Fatal("the host was contacted")
	}
}

func TestARefusedLoginIsAuthFailed(t *testing.T) {
	s := sshtest.Start(t)
	_, otherClient, _ := sshtest.NewKey(t)
	target := targetOf(s)
	target.PrivateKey = otherClient
	_, _, err := sshconn.New(target, options(), quiet).Connect(context.Background())
	wantProblem(t, err, problem.AuthFailed,
		"web1 (127.0.0.1:"+itoa(s.Port)+") refused the login as 'vhtest': check that the public key is in "+
			"~vhtest/.ssh/authorized_keys on the server")
}

func TestABrokenPrivateKeyIsKeyMissing(t *testing.T) {
	s := sshtest.Start(t)
	target := targetOf(s)
	target.PrivateKey = "this is no private key\n"
	_, _, err := sshconn.New(target, options(), quiet).Connect(context.Background())
	wantProblem(t, err, problem.KeyMissing, "the SSH key of web1 cannot be used: this is not a private key in OpenSSH or PEM format")
}

func TestAClosedPortIsUnreachable(t *testing.T) {
	listener, _ := net.Listen("tcp", "127.0.0.1:0")
	port := listener.Addr().(*net.TCPAddr).Port
	_ = listener.Close()
	s := sshtest.Start(t)
	target := targetOf(s)
	target.Port = port
	_, _, err := sshconn.New(target, options(), quiet).Connect(context.Background())
	wantProblem(t, err, problem.Unreachable, "web1 (127.0.0.1:"+itoa(port)+") refused the connection: is sshd running on port "+itoa(port)+"?")
}

func TestAServerThatNeverAnswersIsAHandshakeTimeout(t *testing.T) {
	listener, _ := net.Listen("tcp", "127.0.0.1:0")
	defer listener.Close()
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	s := sshtest.Start(t)
	target := targetOf(s)
	target.Port = listener.Addr().(*net.TCPAddr).Port
	opts := options()
	opts.ConnectTimeout = 200 * time.Millisecond
	_, _, err := sshconn.New(target, opts, quiet).Connect(context.Background())
	wantProblem(t, err, problem.Timeout, "web1 (127.0.0.1:"+itoa(target.Port)+") did not complete the SSH handshake within 0.2 s")
}

func TestACommandThatOverrunsClosesTheConnectionAndTheNextReconnects(t *testing.T) {
	s := sshtest.Start(t)
	hangOn(s, "hang")
	opts := options()
	opts.CommandTimeout = 100 * time.Millisecond
	c := sshconn.New(targetOf(s), opts, quiet)
	defer c.Close()
	_, err := c.Run(context.Background(), "hang", "")
	wantProblem(t, err, problem.Timeout, "web1 (127.0.0.1:"+itoa(s.Port)+") did not finish the check within 0.1 s")
	if c.Connected() {
		t.Fatal("still connected after the timeout")
	}
	if out, err := c.Run(context.Background(), "echo again", ""); err != nil || out != "again\n" {
		t.Fatalf("after the timeout: %q, %v", out, err)
	}
	if _, gen, _ := c.Connect(context.Background()); gen != 2 {
		t.Fatalf("generation %d, want 2", gen)
	}
}

func TestTooMuchOutputIsAParseError(t *testing.T) {
	s := sshtest.Start(t)
	s.Behave = func(string) sshtest.Behaviour { return sshtest.Flood }
	c := sshconn.New(targetOf(s), options(), quiet)
	defer c.Close()
	_, err := c.Run(context.Background(), "flood", "")
	wantProblem(t, err, problem.ParseError, "web1 (127.0.0.1:"+itoa(s.Port)+") sent too much output")
}

func TestUnansweredKeepalivesCloseTheConnection(t *testing.T) {
	s := sshtest.Start(t)
	s.IgnoreKeepalives = true
	opts := options()
	opts.KeepaliveInterval, opts.KeepaliveCountMax = 20*time.Millisecond, 2
	var logged []string
	logs := make(chan string, 10)
	c := sshconn.New(targetOf(s), opts, func(level, format string, args ...any) {
		if level == "warning" {
			logs <- format
		}
	})
	defer c.Close()
	if _, _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-logs:
		logged = append(logged, msg)
	case <-time.After(10 * time.Second):
		t.Fatal("the connection was kept although no keepalive was answered")
	}
	if c.Connected() || !strings.Contains(logged[0], "keepalives") {
		t.Fatalf("connected=%v, logged %q", c.Connected(), logged)
	}
}

func TestAnsweredKeepalivesKeepTheConnection(t *testing.T) {
	s := sshtest.Start(t)
	opts := options()
	opts.KeepaliveInterval, opts.KeepaliveCountMax = 20*time.Millisecond, 1
	c := sshconn.New(targetOf(s), opts, quiet)
	defer c.Close()
	if _, _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // ten keepalive rounds
	if !c.Connected() {
		t.Fatal("answered keepalives closed the connection")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestACancelledCommandKeepsTheConnection(t *testing.T) {
	s := sshtest.Start(t)
	hangOn(s, "hang")
	c := sshconn.New(targetOf(s), options(), quiet)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Run(ctx, "hang", ""); err != context.DeadlineExceeded {
		t.Fatalf("error %v, want the context's", err)
	}
	if out, err := c.Run(context.Background(), "echo still", ""); err != nil || out != "still\n" || s.Connections() != 1 {
		t.Fatalf("%q, %v over %d connections", out, err, s.Connections())
	}
}

// hangOn makes the server hang on command and run the others.
func hangOn(s *sshtest.Server, command string) {
	s.Behave = func(c string) sshtest.Behaviour {
		if c == command {
			return sshtest.Hang
		}
		return sshtest.Run
	}
}
