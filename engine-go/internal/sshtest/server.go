// Package sshtest is an in-process SSH server for tests of sshconn, pollshell and runner. It
// runs each command with the local /bin/sh, as sshd would, and can be told to misbehave in
// the ways a real sshd cannot be made to on demand: refuse one command, end a shell at once,
// flood, hang, ignore keepalives.
package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// Behaviour is what the server does with one command.
type Behaviour int

const (
	Run       Behaviour = iota // run it with sh -c
	Refuse                     // refuse the exec request
	EndAtOnce                  // accept it and close the channel at once
	Flood                      // print 5 MiB, never end
	Hang                       // print nothing, never end
)

// NewKey is a new ed25519 key: its signer, its OpenSSH private key text and public key line.
func NewKey(t testing.TB) (ssh.Signer, string, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	return signer, string(pem.EncodeToMemory(block)), line
}

type Server struct {
	Port        int
	HostKeyLine string // the server's host key, to pin
	ClientKey   string // a private key the server accepts

	// Behave decides what happens to each command (nil: run them all).
	Behave           func(command string) Behaviour
	IgnoreKeepalives bool

	listener net.Listener
	mu       sync.Mutex
	commands []string
	input    map[string]*strings.Builder
	conns    int
	shells   []ssh.Channel
	clients  []*ssh.ServerConn
}

// Start serves on 127.0.0.1 until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	hostSigner, _, hostLine := NewKey(t)
	clientSigner, clientText, _ := NewKey(t)
	authorized := clientSigner.PublicKey().Marshal()
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(authorized) {
				return nil, nil
			}
			return nil, errors.New("not authorized")
		},
	}
	config.AddHostKey(hostSigner)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Port: listener.Addr().(*net.TCPAddr).Port, HostKeyLine: hostLine, ClientKey: clientText,
		listener: listener, input: map[string]*strings.Builder{},
	}
	t.Cleanup(s.close)
	go func() {
		for {
			tcp, err := listener.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
			go s.serve(tcp, config)
		}
	}()
	return s
}

func (s *Server) close() {
	_ = s.listener.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clients {
		_ = c.Close()
	}
}

// Commands are the commands run so far, in order.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

// Input is what the client wrote to the commands so far, by command.
func (s *Server) Input(command string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.input[command]; b != nil {
		return b.String()
	}
	return ""
}

// Connections counts the TCP connections accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// EndCommands closes the channels of the commands still running (someone killed them).
func (s *Server) EndCommands() {
	s.mu.Lock()
	shells := s.shells
	s.shells = nil
	s.mu.Unlock()
	for _, ch := range shells {
		_ = ch.Close()
	}
}

func (s *Server) serve(tcp net.Conn, config *ssh.ServerConfig) {
	conn, chans, reqs, err := ssh.NewServerConn(tcp, config)
	if err != nil {
		_ = tcp.Close()
		return
	}
	s.mu.Lock()
	s.clients = append(s.clients, conn)
	s.mu.Unlock()
	go func() {
		for req := range reqs {
			if req.Type == "keepalive@openssh.com" && s.IgnoreKeepalives {
				continue
			}
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}()
	for newChannel := range chans {
		if newChannel.ChannelType() != "session" {
			_ = newChannel.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		channel, requests, err := newChannel.Accept()
		if err != nil {
			continue
		}
		go s.session(channel, requests)
	}
}

type recorder struct {
	s       *Server
	command string
	r       io.Reader
}

func (r recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.s.mu.Lock()
	r.s.input[r.command].Write(p[:n])
	r.s.mu.Unlock()
	return n, err
}

func (s *Server) session(channel ssh.Channel, requests <-chan *ssh.Request) {
	for req := range requests {
		if req.Type != "exec" {
			_ = req.Reply(false, nil)
			continue
		}
		var payload struct{ Command string }
		if ssh.Unmarshal(req.Payload, &payload) != nil {
			_ = req.Reply(false, nil)
			continue
		}
		behaviour := Run
		if s.Behave != nil {
			behaviour = s.Behave(payload.Command)
		}
		s.mu.Lock()
		s.commands = append(s.commands, payload.Command)
		if s.input[payload.Command] == nil {
			s.input[payload.Command] = &strings.Builder{}
		}
		s.shells = append(s.shells, channel)
		s.mu.Unlock()
		if behaviour == Refuse {
			_ = req.Reply(false, nil)
			continue
		}
		_ = req.Reply(true, nil)
		go func() {
			for req := range requests {
				_ = req.Reply(false, nil)
			}
		}()
		s.exec(channel, payload.Command, behaviour)
		return
	}
}

func exitStatus(channel ssh.Channel, code int) {
	_, _ = channel.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
	_ = channel.Close()
}

func (s *Server) exec(channel ssh.Channel, command string, behaviour Behaviour) {
	stdin := recorder{s: s, command: command, r: channel}
	switch behaviour {
	case EndAtOnce:
		exitStatus(channel, 0)
	case Flood:
		line := []byte(strings.Repeat("x", 1023) + "\n")
		for range 5 << 10 {
			if _, err := channel.Write(line); err != nil {
				return
			}
		}
		_, _ = io.Copy(io.Discard, stdin)
	case Hang:
		_, _ = io.Copy(io.Discard, stdin)
	default:
		cmd := exec.Command("/bin/sh", "-c", command)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, channel, channel.Stderr()
		code := 0
		if err := cmd.Run(); err != nil {
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else {
				code = 127
			}
		}
		exitStatus(channel, code)
	}
}

// Addr is the server's address as "127.0.0.1:port".
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }
