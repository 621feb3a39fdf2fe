// Package runner checks one host over its SSH connection: engine/poller.py's SshPoller.
package runner

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"vpshealth/engine/internal/docker"
	"vpshealth/engine/internal/model"
	"vpshealth/engine/internal/pollshell"
	"vpshealth/engine/internal/problem"
	"vpshealth/engine/internal/procfs"
	"vpshealth/engine/internal/protocol"
	"vpshealth/engine/internal/schedule"
	"vpshealth/engine/internal/sshconn"
)

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// SSHOptions are the start message's SSH options.
func SSHOptions(o protocol.Options) sshconn.Options {
	return sshconn.Options{
		ConnectTimeout:    seconds(o.ConnectTimeout),
		CommandTimeout:    seconds(o.CommandTimeout),
		KeepaliveInterval: seconds(o.KeepaliveInterval),
		KeepaliveCountMax: o.KeepaliveCountMax,
		MaxChannels:       o.MaxChannels,
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TargetOf is where and how the host is logged in to.
func TargetOf(h protocol.Host) sshconn.Target {
	t := sshconn.Target{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User, HostKey: deref(h.HostKey)}
	if t.Port == 0 {
		t.Port = 22
	}
	if c := h.Credentials; c != nil {
		t.PrivateKey, t.Passphrase, t.AgentPath = deref(c.PrivateKey), deref(c.Passphrase), deref(c.AgentPath)
	}
	return t
}

// Runner is one host's checks; Check and Abort are called from the host's loop only.
type Runner struct {
	host   protocol.Host
	out    *protocol.Writer
	conn   *sshconn.Conn
	shell  *pollshell.Shell
	docker *docker.Collector

	infoGeneration uint64
	havePrevious   bool // the last check of this connection sampled the CPU

	followMu     sync.Mutex
	stopFollow   context.CancelFunc
	followDone   chan struct{}
	lastEventSet bool
	lastEvent    int64
}

func New(host protocol.Host, opts protocol.Options, out *protocol.Writer) *Runner {
	r := &Runner{host: host, out: out}
	logf := func(level, format string, args ...any) { out.Log(level, host.ID, format, args...) }
	r.conn = sshconn.New(TargetOf(host), SSHOptions(opts), logf)
	r.shell = pollshell.New(r.conn, logf)
	if host.Docker && host.CredentialsError == nil {
		socket := host.DockerSocket
		if socket == "" {
			socket = "/var/run/docker.sock"
		}
		dial := func(ctx context.Context) (net.Conn, error) { return r.conn.DialUnix(ctx, socket) }
		r.docker = docker.NewCollector(dial, r.conn.Run, docker.Options{
			Socket: socket, User: host.User, Timeout: seconds(opts.CommandTimeout),
		})
	}
	return r
}

func (r *Runner) Connected() bool { return r.conn.Connected() }

// Check is one check of the host: system information on a new connection, the sample, then
// Docker on the same connection.
func (r *Runner) Check(ctx context.Context) protocol.Result {
	if ce := r.host.CredentialsError; ce != nil {
		return schedule.Failed(ce.Problem, ce.Message)
	}
	_, generation, err := r.conn.Connect(ctx)
	if err != nil {
		return r.failed(err)
	}
	var info *model.SystemInfo
	if generation != r.infoGeneration {
		r.havePrevious = false
		output, err := r.conn.Run(ctx, pollshell.SystemInfoCommand, "")
		if err != nil {
			return r.failed(err)
		}
		parsed, err := procfs.ParseSystemInfo(output)
		if err != nil {
			return r.unreadable(err)
		}
		info, r.infoGeneration = &parsed, generation
	}
	output, err := r.shell.Sample(ctx, !r.havePrevious)
	if err != nil {
		return r.failed(err)
	}
	snapshot, err := procfs.ParseSnapshot(output)
	if err != nil {
		return r.unreadable(err)
	}
	r.havePrevious = true
	res := protocol.Result{Snapshot: &snapshot, SystemInfo: info}
	if r.docker != nil {
		listedAt := time.Now().Unix()
		res.Docker = r.docker.Collect(ctx)
		if res.Docker != nil && res.Docker.Error == nil {
			r.follow(listedAt)
		}
	}
	return res
}

func (r *Runner) failed(err error) protocol.Result {
	r.havePrevious = false
	r.endFollow()
	if e, ok := problem.As(err); ok {
		return schedule.Failed(e.Problem, e.Message)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return schedule.Failed(problem.Timeout, "the check of "+r.host.Name+" was stopped")
	}
	return schedule.Failed(problem.CommandFailed, "the check of "+r.host.Name+" failed: "+err.Error())
}

func (r *Runner) unreadable(err error) protocol.Result {
	r.havePrevious = false
	r.endFollow()
	return schedule.Failed(problem.ParseError, "could not read what "+r.host.Name+" returned: "+err.Error())
}

// follow starts following the host's Docker events, from the last event seen (at first: the
// listing's time), unless it already does.
func (r *Runner) follow(listedAt int64) {
	r.followMu.Lock()
	defer r.followMu.Unlock()
	if r.stopFollow != nil {
		return
	}
	since := listedAt
	if r.lastEventSet {
		since = r.lastEvent
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r.stopFollow, r.followDone = cancel, done
	go func() {
		defer close(done)
		r.docker.Follow(ctx, since, func(event model.Event) {
			r.followMu.Lock()
			r.lastEvent, r.lastEventSet = event.Time, true
			r.followMu.Unlock()
			_ = r.out.Send(protocol.Event{Type: "event", HostID: r.host.ID, Event: event})
		})
	}()
}

// endFollow stops following events and returns a channel closed once it stopped.
func (r *Runner) endFollow() <-chan struct{} {
	r.followMu.Lock()
	defer r.followMu.Unlock()
	done := r.followDone
	if r.stopFollow != nil {
		r.stopFollow()
	}
	r.stopFollow, r.followDone = nil, nil
	if done == nil {
		done = make(chan struct{})
		close(done)
	}
	return done
}

// Abort drops the connection after a check overran; the next check reconnects.
func (r *Runner) Abort() {
	r.havePrevious = false
	r.endFollow()
	r.shell.Close()
	r.conn.Close()
}

// Close stops everything of the host within about a second.
func (r *Runner) Close() {
	stopped := r.endFollow()
	r.shell.Close()
	r.conn.Close()
	select {
	case <-stopped:
	case <-time.After(time.Second):
	}
	if r.docker != nil {
		r.docker.Close()
	}
}

// DockerGet is one request to the host's Docker API over its connection.
func (r *Runner) DockerGet(ctx context.Context, path string) (int, []byte, error) {
	if r.docker == nil {
		return 0, nil, errors.New("the Docker part of " + r.host.Name + " is off")
	}
	return r.docker.Get(ctx, path)
}
