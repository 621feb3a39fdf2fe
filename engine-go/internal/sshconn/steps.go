package sshconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"vpshealth/engine/internal/problem"
)

// LinkError marks a step's error as the connection failing (it becomes unreachable).
type LinkError struct{ Err error }

func (e *LinkError) Error() string { return e.Err.Error() }
func (e *LinkError) Unwrap() error { return e.Err }

// Lost wraps err as a failure of the connection.
func Lost(err error) error { return &LinkError{Err: err} }

// SessionRefused: the server refused to start a command while the connection stays up.
type SessionRefused struct{ Message string }

func (e *SessionRefused) Error() string { return e.Message }

// Guard runs step bounded by the command timeout. A timeout or a LinkError closes the
// connection (the next step reconnects) and becomes a *problem.Error naming the host; when ctx
// ends first, ctx's error is returned and the connection kept (the caller's ctx may be a
// Docker request's). Other errors pass as they are. step may go on running after Guard
// returned: it must end when ctx does or when the connection closes.
func (c *Conn) Guard(ctx context.Context, what string, step func() error) error {
	done := make(chan error, 1)
	go func() { done <- step() }()
	timer := time.NewTimer(c.opts.CommandTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err == nil {
			c.heard.Store(time.Now().UnixNano())
		}
		var link *LinkError
		if errors.As(err, &link) {
			c.Close()
			return problem.New(problem.Unreachable, "lost the connection to %s: %v", c.Where(), link.Err)
		}
		return err
	case <-timer.C:
		c.Close()
		return problem.New(problem.Timeout, "%s did not %s within %s s", c.Where(), what, problem.G(c.opts.CommandTimeout.Seconds()))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// limitedOutput keeps up to OutputLimit bytes; past that it calls over once and drops the rest.
type limitedOutput struct {
	mu     sync.Mutex
	buf    []byte
	passed bool
	over   func()
}

func (o *limitedOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.passed {
		return len(p), nil
	}
	if len(o.buf)+len(p) > OutputLimit {
		o.passed, o.buf = true, nil
		go o.over()
		return len(p), nil
	}
	o.buf = append(o.buf, p...)
	return len(p), nil
}

func (o *limitedOutput) result() ([]byte, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf, o.passed
}

// Run runs a fixed command with stdin as its standard input and returns its standard
// output: the way to hand it data without putting the data in the command.
func (c *Conn) Run(ctx context.Context, command, stdin string) (string, error) {
	client, _, err := c.Connect(ctx)
	if err != nil {
		return "", err
	}
	select {
	case c.channels <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.channels }()
	var output string
	err = c.Guard(ctx, "finish the check", func() error {
		session, err := client.NewSession()
		if err != nil {
			return Lost(err)
		}
		defer session.Close()
		defer context.AfterFunc(ctx, func() { _ = session.Close() })()
		out := &limitedOutput{over: func() { _ = session.Close() }}
		session.Stdout = out
		in, err := session.StdinPipe()
		if err != nil {
			return Lost(err)
		}
		if err := session.Start(command); err != nil {
			return Lost(err)
		}
		_, _ = io.WriteString(in, stdin)
		_ = in.Close()
		err = session.Wait()
		data, passed := out.result()
		if passed {
			return problem.New(problem.ParseError, "%s sent too much output", c.Where())
		}
		var exit *ssh.ExitError
		var missing *ssh.ExitMissingError
		if err != nil && !errors.As(err, &exit) && !errors.As(err, &missing) {
			return Lost(err)
		}
		output = string(data)
		return nil
	})
	if err != nil {
		return "", err
	}
	return output, nil
}

// Session is a command that keeps running, its input and output.
type Session struct {
	*ssh.Session
	Stdin  io.WriteCloser
	Stdout io.Reader
}

// Start starts a fixed command that keeps running. *SessionRefused when the server refuses
// the channel or the command.
func (c *Conn) Start(ctx context.Context, command string) (*Session, error) {
	client, _, err := c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	var started *Session
	err = c.Guard(ctx, "start the check", func() error {
		session, err := client.NewSession()
		var refused *ssh.OpenChannelError
		if errors.As(err, &refused) {
			return &SessionRefused{Message: fmt.Sprintf("%s refused the session: %v", c.Where(), err)}
		}
		if err != nil {
			return Lost(err)
		}
		in, err := session.StdinPipe()
		if err != nil {
			_ = session.Close()
			return Lost(err)
		}
		out, err := session.StdoutPipe()
		if err != nil {
			_ = session.Close()
			return Lost(err)
		}
		if err := session.Start(command); err != nil {
			_ = session.Close()
			if errors.Is(err, io.EOF) {
				return Lost(err)
			}
			return &SessionRefused{Message: fmt.Sprintf("%s refused the session: it would not run the command", c.Where())}
		}
		started = &Session{Session: session, Stdin: in, Stdout: out}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return started, nil
}

// DialUnix opens a stream to a unix socket on the host (direct-streamlocal), for the Docker
// API. The error is x/crypto's when the server cannot connect to the socket.
func (c *Conn) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	client, _, err := c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.CommandTimeout)
	defer cancel()
	return client.DialContext(ctx, "unix", path)
}
