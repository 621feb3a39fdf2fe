package pollshell

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"

	"vpshealth/engine/internal/problem"
	"vpshealth/engine/internal/sshconn"
)

// errEnded: the shell on the host stopped (or its channel closed) before it answered.
var errEnded = errors.New("the shell ended")

var errTooMuch = errors.New("too much output")

// running is one started PollShellCommand and what it printed, as chunks.
type running struct {
	session *sshconn.Session
	chunks  chan []byte // closed when the shell's output ends
}

func start(session *sshconn.Session) *running {
	r := &running{session: session, chunks: make(chan []byte, 64)}
	go func() {
		defer close(r.chunks)
		buf := make([]byte, 16<<10) // one per shell, held while it waits: a thousand hosts have one each
		for {
			n, err := session.Stdout.Read(buf)
			if n > 0 {
				r.chunks <- append([]byte(nil), buf[:n]...)
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

// dropStale discards output that came while no request was pending; false when the shell ended.
func (r *running) dropStale() bool {
	for {
		select {
		case _, ok := <-r.chunks:
			if !ok {
				return false
			}
		default:
			return true
		}
	}
}

// Shell runs the poll through a shell kept open on the host, started on first use and after
// every reconnect. If the host cannot keep one (a forced command, a restricted shell), every
// check of that connection runs the poll command on its own instead.
type Shell struct {
	conn *sshconn.Conn
	logf sshconn.Logf

	mu            sync.Mutex
	shell         *running
	startedOn     uint64
	workedOn      uint64
	unsupportedOn uint64
}

func New(conn *sshconn.Conn, logf sshconn.Logf) *Shell {
	return &Shell{conn: conn, logf: logf}
}

// Sample is one check's output in the format of PollCommand (FirstPollCommand when first).
// Errors are *problem.Error or ctx's.
func (s *Shell) Sample(ctx context.Context, first bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, gen, err := s.conn.Connect(ctx)
	if err != nil {
		return "", err
	}
	if gen != s.unsupportedOn {
		output, kept, err := s.askShell(ctx, gen, first)
		if err != nil || kept {
			return output, err
		}
		s.unsupportedOn = gen
	}
	command := PollCommand
	if first {
		command = FirstPollCommand
	}
	return s.conn.Run(ctx, command, "")
}

// askShell returns the shell's answer; kept is false when this connection cannot keep a
// shell. A shell that worked on this connection and then ended is started once more.
func (s *Shell) askShell(ctx context.Context, gen uint64, first bool) (output string, kept bool, err error) {
	retried := false
	for {
		output, err := s.ask(ctx, gen, first)
		var refused *sshconn.SessionRefused
		switch {
		case err == nil:
			return output, true, nil
		case errors.Is(err, errTooMuch):
			s.drop()
			return "", false, problem.New(problem.ParseError, "%s sent too much output", s.conn.Where())
		case errors.As(err, &refused):
			s.logf("info", "%s; running one command per check", refused.Message)
			return "", false, nil
		case errors.Is(err, errEnded):
			s.drop()
			if gen == s.workedOn && !retried {
				retried = true
				continue
			}
			s.logf("info", "%s did not keep a shell open (it ended at once); running one command per check", s.conn.Where())
			return "", false, nil
		default:
			s.drop() // a step stopped half-way may still read this shell's output
			return "", false, err
		}
	}
}

func (s *Shell) ask(ctx context.Context, gen uint64, first bool) (string, error) {
	if s.shell == nil || s.startedOn != gen {
		s.drop()
		session, err := s.conn.Start(ctx, PollShellCommand)
		if err != nil {
			return "", err
		}
		s.shell, s.startedOn = start(session), gen
	}
	shell := s.shell
	if !shell.dropStale() {
		return "", errEnded
	}
	token := make([]byte, 8)
	_, _ = rand.Read(token)
	tokenHex := hex.EncodeToString(token)
	end := []byte(DoneMarker + tokenHex + "\n")
	request := SampleRequest
	if first {
		request = FirstSampleRequest
	}
	if _, err := shell.session.Stdin.Write([]byte(request + " " + tokenHex + "\n")); err != nil {
		return "", errEnded
	}
	var answer []byte
	err := s.conn.Guard(ctx, "finish the check", func() error {
		var buf []byte
		for chunk := range shell.chunks {
			buf = append(buf, chunk...)
			if len(buf) > sshconn.OutputLimit {
				return errTooMuch
			}
			if bytes.HasSuffix(buf, end) {
				answer = buf[:len(buf)-len(end)]
				return nil
			}
		}
		return errEnded
	})
	if err != nil {
		return "", err
	}
	s.workedOn = gen
	return string(answer), nil
}

func (s *Shell) drop() {
	if s.shell != nil {
		_ = s.shell.session.Close()
		s.shell = nil
	}
}

// Close stops the shell on the host, if one runs.
func (s *Shell) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop()
}
