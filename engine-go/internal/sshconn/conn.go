// Package sshconn keeps one SSH connection per host, verified against the pinned host key:
// the twin of collectors/ssh.py's SshConnection.
package sshconn

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"vpshealth/engine/internal/problem"
)

// OutputLimit bounds what one command or one poll may send back.
const OutputLimit = 4 << 20

// CipherPreference is ssh.py's: AES-GCM first (hardware-accelerated almost everywhere).
var CipherPreference = []string{
	"aes128-gcm@openssh.com",
	"aes256-gcm@openssh.com",
	"chacha20-poly1305@openssh.com",
	"aes128-ctr",
	"aes256-ctr",
}

// Options are ssh.py's SshOptions. x/crypto/ssh renews keys only after an amount of data
// (Config.RekeyThreshold, bytes), not after a time, and offers no call to start a key
// exchange, so PROTOCOL.md's rekey_seconds is not applied: keys are renewed on x/crypto's
// default byte threshold.
type Options struct {
	ConnectTimeout    time.Duration
	CommandTimeout    time.Duration
	KeepaliveInterval time.Duration
	KeepaliveCountMax int
	MaxChannels       int
}

// Target is where and how to log in.
type Target struct {
	Name       string
	Address    string
	Port       int
	User       string
	HostKey    string // the pinned OpenSSH public key line; "" = not trusted yet
	PrivateKey string
	Passphrase string
	AgentPath  string
}

// Where is the host as messages name it: "web1 (203.0.113.7)", Host.display_address.
func (t Target) Where() string {
	addr := t.Address
	switch {
	case strings.Contains(addr, ":"):
		addr = fmt.Sprintf("[%s]:%d", addr, t.Port)
	case t.Port != 22:
		addr = fmt.Sprintf("%s:%d", addr, t.Port)
	}
	return fmt.Sprintf("%s (%s)", t.Name, addr)
}

// Logf receives the connection's log lines ("info", "warning", ...).
type Logf func(level, format string, args ...any)

// Conn opens lazily, reconnects after a failure, and runs at most MaxChannels commands at once.
type Conn struct {
	target   Target
	opts     Options
	logf     Logf
	channels chan struct{}

	connecting sync.Mutex // held while a connection is opened
	mu         sync.Mutex
	client     *ssh.Client
	generation uint64
	heard      atomic.Int64 // when a step last succeeded (Unix ns): keepalives wait for silence
}

func New(target Target, opts Options, logf Logf) *Conn {
	return &Conn{target: target, opts: opts, logf: logf, channels: make(chan struct{}, max(opts.MaxChannels, 1))}
}

func (c *Conn) Where() string { return c.target.Where() }

func (c *Conn) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client != nil
}

// Connect returns the open connection, opening one if there is none, and its generation
// (which grows with every new connection). Errors are *problem.Error or ctx's.
func (c *Conn) Connect(ctx context.Context) (*ssh.Client, uint64, error) {
	c.connecting.Lock()
	defer c.connecting.Unlock()
	c.mu.Lock()
	client, gen := c.client, c.generation
	c.mu.Unlock()
	if client != nil {
		return client, gen, nil
	}
	client, err := c.open(ctx)
	if err != nil {
		return nil, 0, err
	}
	c.mu.Lock()
	c.client = client
	c.generation++
	gen = c.generation
	c.mu.Unlock()
	go c.watch(client)
	go c.keepAlive(client)
	c.logf("info", "Connected to %s", c.Where())
	return client, gen, nil
}

// watch forgets the client once its connection ends, so the next step reconnects.
func (c *Conn) watch(client *ssh.Client) {
	err := client.Wait()
	c.mu.Lock()
	current := c.client == client
	if current {
		c.client = nil
	}
	c.mu.Unlock()
	if current {
		c.logf("info", "The connection to %s ended: %v", c.Where(), err)
	}
}

// keepAlive sends keepalive@openssh.com once the connection was silent for KeepaliveInterval
// (as asyncssh does: a host checked more often than that is never sent one) and closes the
// connection when one stays unanswered for KeepaliveCountMax intervals.
func (c *Conn) keepAlive(client *ssh.Client) {
	interval := c.opts.KeepaliveInterval
	if interval <= 0 {
		return
	}
	closed := make(chan struct{})
	go func() { _ = client.Wait(); close(closed) }()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-closed:
			return
		case <-ticker.C:
		}
		if time.Since(time.Unix(0, c.heard.Load())) < interval {
			continue
		}
		replied := make(chan error, 1)
		go func() {
			_, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
			replied <- err
		}()
		wait := time.NewTimer(interval * time.Duration(max(c.opts.KeepaliveCountMax, 1)))
		select {
		case err := <-replied:
			wait.Stop()
			if err != nil {
				return
			}
		case <-closed:
			wait.Stop()
			return
		case <-wait.C:
			c.logf("warning", "%s did not answer %d keepalives; closing the connection", c.Where(), max(c.opts.KeepaliveCountMax, 1))
			c.drop(client)
			return
		}
	}
}

// Close closes the connection, if any; the next step opens a new one.
func (c *Conn) Close() {
	c.mu.Lock()
	client := c.client
	c.client = nil
	c.mu.Unlock()
	if client != nil {
		_ = client.Close()
	}
}

// drop closes client if it is still the current connection.
func (c *Conn) drop(client *ssh.Client) {
	c.mu.Lock()
	if c.client == client {
		c.client = nil
	}
	c.mu.Unlock()
	_ = client.Close()
}

var errHostKeyChanged = errors.New("the host key changed")

func (c *Conn) open(ctx context.Context) (*ssh.Client, error) {
	t := c.target
	if strings.TrimSpace(t.HostKey) == "" {
		return nil, problem.New(problem.HostKeyNotTrusted,
			"%s has no trusted host key yet; run `vpshealth host trust %s` to confirm it", t.Where(), t.Name)
	}
	pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(t.HostKey))
	if err != nil {
		return nil, problem.New(problem.HostKeyNotTrusted,
			"the stored host key of %s is damaged; run `vpshealth host trust %s` again", t.Name, t.Name)
	}
	auth, closeAgent, err := c.authMethods()
	if err != nil {
		return nil, err
	}
	defer closeAgent()
	changed := false
	config := &ssh.ClientConfig{
		Config: ssh.Config{Ciphers: CipherPreference},
		User:   t.User,
		Auth:   auth,
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if bytes.Equal(key.Marshal(), pinned.Marshal()) {
				return nil
			}
			changed = true
			return errHostKeyChanged
		},
		HostKeyAlgorithms: hostKeyAlgorithms(pinned.Type()),
		Timeout:           c.opts.ConnectTimeout,
	}
	addr := net.JoinHostPort(t.Address, strconv.Itoa(t.Port))
	dialCtx, cancel := context.WithTimeout(ctx, c.opts.ConnectTimeout)
	defer cancel()
	tcp, err := (&net.Dialer{}).DialContext(dialCtx, "tcp", addr)
	if err != nil {
		return nil, c.connectError(ctx, err, false)
	}
	_ = tcp.SetDeadline(time.Now().Add(c.opts.ConnectTimeout))
	stop := context.AfterFunc(ctx, func() { _ = tcp.Close() })
	sshConn, chans, reqs, err := ssh.NewClientConn(tcp, addr, config)
	stop()
	if err != nil {
		_ = tcp.Close()
		return nil, c.connectError(ctx, err, changed)
	}
	_ = tcp.SetDeadline(time.Time{})
	return ssh.NewClient(sshConn, chans, reqs), nil
}

// hostKeyAlgorithms are the signature algorithms of the pinned key's type, so that the
// server shows the key that was pinned.
func hostKeyAlgorithms(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

func (c *Conn) authMethods() ([]ssh.AuthMethod, func(), error) {
	t := c.target
	if t.PrivateKey != "" {
		signer, err := parsePrivateKey(t.PrivateKey, t.Passphrase)
		if err != nil {
			return nil, nil, problem.New(problem.KeyMissing, "the SSH key of %s cannot be used: %s", t.Name, err)
		}
		return []ssh.AuthMethod{ssh.PublicKeys(signer)}, func() {}, nil
	}
	if t.AgentPath != "" {
		sock, err := net.Dial("unix", t.AgentPath)
		if err != nil {
			// As asyncssh: no agent keys, so the server refuses the login (auth_failed).
			c.logf("warning", "cannot reach the SSH agent at %s for %s: %v", t.AgentPath, t.Name, err)
			return nil, func() {}, nil
		}
		return []ssh.AuthMethod{ssh.PublicKeysCallback(agent.NewClient(sock).Signers)}, func() { _ = sock.Close() }, nil
	}
	return nil, func() {}, nil
}

func parsePrivateKey(text, passphrase string) (ssh.Signer, error) {
	signer, err := ssh.ParsePrivateKey([]byte(text))
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphrase == "" {
			return nil, errors.New("the key is encrypted and needs its passphrase")
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(text), []byte(passphrase))
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, errors.New("the passphrase does not unlock the key")
		}
	}
	if err != nil {
		return nil, errors.New("this is not a private key in OpenSSH or PEM format")
	}
	return signer, nil
}

// connectError maps a failed connect to ssh.py _open's problems and messages.
func (c *Conn) connectError(ctx context.Context, err error, changed bool) error {
	t := c.target
	if ctx.Err() != nil {
		return ctx.Err()
	}
	text := err.Error()
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case changed || errors.Is(err, errHostKeyChanged):
		return problem.New(problem.HostKeyMismatch,
			"the host key of %s has CHANGED since it was trusted; nothing was run. If the server "+
				"was rebuilt, check the new fingerprint and run `vpshealth host trust %s`; otherwise "+
				"someone may be intercepting the connection", t.Where(), t.Name)
	case strings.Contains(text, "no common algorithm for host key"):
		return problem.New(problem.HostKeyMismatch,
			"%s no longer offers the trusted host key type; nothing was run. Check the server and "+
				"run `vpshealth host trust %s`", t.Where(), t.Name)
	case strings.Contains(text, "no common algorithm"):
		return problem.New(problem.Unreachable, "no common SSH algorithms with %s: %s", t.Where(), strings.TrimPrefix(text, "ssh: handshake failed: "))
	case strings.Contains(text, "unable to authenticate"):
		return problem.New(problem.AuthFailed,
			"%s refused the login as '%s': check that the public key is in ~%s/.ssh/authorized_keys on the server",
			t.Where(), t.User, t.User)
	case errors.As(err, &dnsErr) && !dnsErr.IsTimeout:
		return problem.New(problem.Unreachable, "the address of %s (%s) does not resolve", t.Name, t.Address)
	case errors.Is(err, syscall.ECONNREFUSED):
		return problem.New(problem.Unreachable, "%s refused the connection: is sshd running on port %d?", t.Where(), t.Port)
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &netErr) && netErr.Timeout()):
		return problem.New(problem.Timeout, "%s did not complete the SSH handshake within %s s", t.Where(), problem.G(c.opts.ConnectTimeout.Seconds()))
	}
	return problem.New(problem.Unreachable, "cannot connect to %s: %s", t.Where(), reason(err))
}

// reason is the OS's words for err where it has them ("Connection reset by peer"), as
// Python's strerror.
func reason(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	if errors.Is(err, io.EOF) {
		return "the server closed the connection during the handshake"
	}
	return strings.TrimPrefix(err.Error(), "ssh: handshake failed: ")
}
