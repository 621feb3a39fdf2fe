package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

const (
	maxBodyBytes = 32 << 20
	maxLineBytes = 1 << 20
)

// dialError is a Dialer's failure: the stream to the socket could not be opened, which the
// diagnosis command explains.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// statusError is an answer other than the one wanted, in collectors/docker_http.py's words.
type statusError struct{ message string }

func (e *statusError) Error() string { return e.message }

// api sends GET requests over at most conns streams from the Dialer (0: no bound), kept
// alive between requests unless keepAlive is false. Paths are unversioned: the engine
// answers in its own current API version.
type api struct {
	transport *http.Transport
	client    *http.Client
}

func newAPI(dial Dialer, conns int, keepAlive bool) *api {
	transport := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			conn, err := dial(ctx)
			if err != nil {
				return nil, &dialError{err}
			}
			return conn, nil
		},
		MaxConnsPerHost:        conns,
		MaxIdleConns:           conns,
		MaxIdleConnsPerHost:    conns,
		DisableKeepAlives:      !keepAlive,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &api{
		transport: transport,
		client: &http.Client{
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// open sends the request and returns the answer with its body unread.
func (a *api) open(ctx context.Context, path string) (*http.Response, error) {
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n") {
		return nil, fmt.Errorf("bad request path %q", path)
	}
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+path, nil)
	if err != nil {
		return nil, err
	}
	request.Header.Set("User-Agent", "vpshealth")
	return a.client.Do(request)
}

func (a *api) get(ctx context.Context, path string) (int, []byte, error) {
	response, err := a.open(ctx, path)
	if err != nil {
		return 0, nil, err
	}
	defer response.Body.Close()
	body, err := readBody(response.Body)
	return response.StatusCode, body, err
}

func (a *api) getOK(ctx context.Context, path string) ([]byte, error) {
	status, body, err := a.get(ctx, path)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, &statusError{answered(status, body)}
	}
	return body, nil
}

func (a *api) close() { a.transport.CloseIdleConnections() }

func readBody(body io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxBodyBytes {
		return nil, errors.New("the answer was too large")
	}
	return data, nil
}

// answered is docker_http._error_message: the status and the engine's own message.
func answered(status int, body []byte) string {
	text := string(body[:min(len(body), 4096)])
	if strings.HasPrefix(text, "{") {
		var parsed struct {
			Message *string `json:"message"`
		}
		if json.Unmarshal([]byte(text), &parsed) == nil && parsed.Message != nil {
			text = *parsed.Message
		}
	}
	text = strings.TrimSpace(text)
	if runes := []rune(text); len(runes) > 200 {
		text = string(runes[:200])
	}
	return fmt.Sprintf("Docker answered %d: %s", status, text)
}
