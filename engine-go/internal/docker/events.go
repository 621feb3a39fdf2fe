package docker

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"vpshealth/engine/internal/dockerparse"
	"vpshealth/engine/internal/model"
)

// EventsPath is docker_collector.events' request: the followed container events from since
// on, the filters quoted as Python's _quote does.
func EventsPath(since int64) string {
	followed := FollowedEvents()
	quoted := make([]string, len(followed))
	for i, event := range followed {
		quoted[i] = `"` + event + `"`
	}
	filters := `{"type":["container"],"event":[` + strings.Join(quoted, ",") + `]}`
	return "/events?since=" + strconv.FormatInt(since, 10) + "&filters=" + quote(filters)
}

// quote escapes every character but ASCII letters and digits (Python's str.isalnum is wider,
// but the filters are ASCII).
func quote(text string) string {
	var out strings.Builder
	for _, b := range []byte(text) {
		if ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || ('0' <= b && b <= '9') {
			out.WriteByte(b)
		} else {
			fmt.Fprintf(&out, "%%%02X", b)
		}
	}
	return out.String()
}

// Follow emits the host's container events from since on, until ctx is done or the
// collector is closed. When the stream drops it follows again after EventsRetry's waits,
// replaying from the latest event time it saw.
func (c *Collector) Follow(ctx context.Context, since int64, emit func(model.Event)) {
	ctx, cancel := c.bound(ctx, 0)
	defer cancel()
	attempt := 0
	for {
		_ = c.followOnce(ctx, since, func(event model.Event) {
			attempt = 0
			since = max(since, event.Time)
			emit(event)
		})
		delay := c.opts.EventsRetry[min(attempt, len(c.opts.EventsRetry)-1)]
		attempt++
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

func (c *Collector) followOnce(ctx context.Context, since int64, emit func(model.Event)) error {
	response, err := c.events.open(ctx, EventsPath(since))
	if err != nil {
		return err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		body, _ := readBody(response.Body)
		return &statusError{answered(response.StatusCode, body)}
	}
	lines := bufio.NewScanner(response.Body)
	lines.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	for lines.Scan() {
		line := bytes.TrimSpace(lines.Bytes())
		if len(line) == 0 {
			continue
		}
		event, ok, err := dockerparse.ParseEvent(line)
		if err != nil {
			return err
		}
		if ok {
			emit(event)
		}
	}
	if err := lines.Err(); err != nil {
		return err
	}
	return errors.New("the events stream ended")
}

// Get sends one request on its own stream, bounded by Options.Timeout, and returns the
// answer whatever its status. The error is a one-line reason.
func (c *Collector) Get(ctx context.Context, path string) (int, []byte, error) {
	ctx, cancel := c.bound(ctx, c.opts.Timeout)
	defer cancel()
	status, body, err := c.single.get(ctx, path)
	if err != nil {
		return 0, nil, errors.New(reason(ctx, err, c.opts.Timeout))
	}
	return status, body, nil
}
