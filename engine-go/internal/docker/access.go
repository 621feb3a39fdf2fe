package docker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"vpshealth/engine/internal/model"
)

// DockerSocketDiagnosis is collectors/remote_commands.DOCKER_SOCKET_DIAGNOSIS: why the
// Docker socket could not be opened. The socket path is read from standard input, so it is
// data, never part of the command.
const DockerSocketDiagnosis = `IFS= read -r p; if [ ! -e "$p" ]; then echo missing; ` +
	`elif [ ! -S "$p" ]; then echo not-a-socket; ` +
	`elif [ -r "$p" ] && [ -w "$p" ]; then echo accessible; ` +
	`else echo denied; fi`

const (
	accessAbsent      = "absent"
	accessDenied      = "denied"
	accessUnavailable = "unavailable"
)

var errClosed = errors.New("the Docker connection was closed")

// deniedMessage is docker_access.denied_message.
func deniedMessage(user, socket string) string {
	return fmt.Sprintf("the Docker socket %s is not open to '%s': add %s to the docker group "+
		"on the server (`usermod -aG docker %s`) or connect as root", socket, user, user, user)
}

// explain turns a failed collect into docker_access.ssh_opener's and
// docker_collector.unavailable's DockerError: a stream that would not open is diagnosed on
// the host.
func (c *Collector) explain(ctx context.Context, err error) *model.DockerError {
	var dial *dialError
	if ctx.Err() == nil && errors.As(err, &dial) {
		if diagnosed := c.diagnose(ctx, dial); diagnosed != nil {
			return diagnosed
		}
	}
	return &model.DockerError{
		Access:  accessUnavailable,
		Message: "the Docker API failed: " + reason(ctx, err, c.opts.Timeout),
	}
}

func (c *Collector) diagnose(ctx context.Context, dial *dialError) *model.DockerError {
	socket := c.opts.Socket
	output, err := c.run(ctx, DockerSocketDiagnosis, socket+"\n")
	if err != nil {
		return nil
	}
	switch strings.TrimSpace(output) {
	case "missing":
		return &model.DockerError{Access: accessAbsent, Message: "no Docker socket at " + socket}
	case "denied":
		return &model.DockerError{Access: accessDenied, Message: deniedMessage(c.opts.User, socket)}
	case "not-a-socket":
		return &model.DockerError{
			Access: accessUnavailable, Message: socket + " exists but is not a socket",
		}
	}
	why := dial.Error()
	if why == "" {
		why = "connection failed"
	}
	return &model.DockerError{
		Access: accessUnavailable,
		Message: fmt.Sprintf("the Docker daemon does not answer on %s (%s); is it running?",
			socket, why),
	}
}

// reason is a one-line account of a failed request, without Go's request wrapping.
func reason(ctx context.Context, err error, timeout time.Duration) string {
	if ctx.Err() != nil {
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, context.DeadlineExceeded):
			return fmt.Sprintf("no answer within %s", timeout)
		case errors.Is(cause, errClosed):
			return errClosed.Error()
		default:
			return "the check was cancelled"
		}
	}
	var request *url.Error
	if errors.As(err, &request) {
		err = request.Err
	}
	return err.Error()
}
