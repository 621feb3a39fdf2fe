// Package docker: a placeholder of docker22's API so that runtime22's branch compiles; the
// coordinator drops this file when docker22's package is merged.
package docker

import (
	"context"
	"errors"
	"net"
	"time"

	"vpshealth/engine/internal/model"
)

type Dialer func(ctx context.Context) (net.Conn, error)

type Runner func(ctx context.Context, command, stdin string) (string, error)

type Options struct {
	Socket, User string
	Timeout      time.Duration
}

type Collector struct{}

func NewCollector(dial Dialer, run Runner, opts Options) *Collector { return &Collector{} }

func (c *Collector) Collect(ctx context.Context) *model.DockerResult { return nil }

func (c *Collector) Follow(ctx context.Context, since int64, emit func(model.Event)) { <-ctx.Done() }

func (c *Collector) Get(ctx context.Context, path string) (status int, body []byte, err error) {
	return 0, nil, errors.New("the Docker collector is not built yet")
}

func (c *Collector) Close() {}
