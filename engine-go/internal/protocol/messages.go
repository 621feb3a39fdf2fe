// Package protocol reads and writes the JSON lines of engine-go/PROTOCOL.md.
package protocol

import (
	"vpshealth/engine/internal/model"
)

const Version = "0.1.0"

// Options are the start message's options, in seconds; Defaults fills what is missing.
type Options struct {
	MaxConcurrency    int     `json:"max_concurrency"`
	PollTimeout       float64 `json:"poll_timeout"`
	ConnectTimeout    float64 `json:"connect_timeout"`
	CommandTimeout    float64 `json:"command_timeout"`
	KeepaliveInterval float64 `json:"keepalive_interval"`
	KeepaliveCountMax int     `json:"keepalive_count_max"`
	MaxChannels       int     `json:"max_channels"`
	RekeySeconds      float64 `json:"rekey_seconds"`
	StartNow          bool    `json:"start_now"`
}

func Defaults() Options {
	return Options{
		MaxConcurrency: 64, PollTimeout: 30, ConnectTimeout: 10, CommandTimeout: 20,
		KeepaliveInterval: 30, KeepaliveCountMax: 3, MaxChannels: 8, RekeySeconds: 3600,
	}
}

type Credentials struct {
	PrivateKey *string `json:"private_key"`
	Passphrase *string `json:"passphrase"`
	AgentPath  *string `json:"agent_path"`
}

type CredentialsError struct {
	Problem string `json:"problem"`
	Message string `json:"message"`
}

type Host struct {
	ID               int               `json:"id"`
	Name             string            `json:"name"`
	Address          string            `json:"address"`
	Port             int               `json:"port"`
	User             string            `json:"user"`
	HostKey          *string           `json:"host_key"`
	IntervalSeconds  float64           `json:"interval_seconds"`
	Docker           bool              `json:"docker"`
	DockerSocket     string            `json:"docker_socket"`
	Credentials      *Credentials      `json:"credentials"`
	CredentialsError *CredentialsError `json:"credentials_error"`
}

// Inbound is any service -> engine message; which fields are set depends on Type.
type Inbound struct {
	Type    string   `json:"type"`
	Options *Options `json:"options,omitempty"`
	Hosts   []Host   `json:"hosts,omitempty"`
	Request int64    `json:"request,omitempty"`
	HostID  int      `json:"host_id,omitempty"`
	Path    string   `json:"path,omitempty"`
}

type Ready struct {
	Type    string `json:"type"`
	Version string `json:"version"`
	PID     int    `json:"pid"`
}

// Result is one check. The scheduler fills the timing fields; a failed check has Problem set
// and no Snapshot, SystemInfo or Docker.
type Result struct {
	Type       string              `json:"type"`
	HostID     int                 `json:"host_id"`
	Seq        int64               `json:"seq"`
	DueAt      float64             `json:"due_at"`
	StartedAt  float64             `json:"started_at"`
	CheckedAt  float64             `json:"checked_at"`
	DurationMS int64               `json:"duration_ms"`
	Problem    *string             `json:"problem"`
	Message    string              `json:"message"`
	Snapshot   *model.Snapshot     `json:"snapshot"`
	SystemInfo *model.SystemInfo   `json:"system_info"`
	Docker     *model.DockerResult `json:"docker"`
}

type Event struct {
	Type   string      `json:"type"`
	HostID int         `json:"host_id"`
	Event  model.Event `json:"event"`
}

// DockerGet answers a docker_get request; Body is base64 in JSON ([]byte).
type DockerGet struct {
	Type    string  `json:"type"`
	Request int64   `json:"request"`
	Status  int     `json:"status"`
	Body    []byte  `json:"body"`
	Error   *string `json:"error"`
}

type Log struct {
	Type    string `json:"type"`
	Level   string `json:"level"`
	HostID  *int   `json:"host_id"`
	Message string `json:"message"`
}

type Stats struct {
	Type          string  `json:"type"`
	CPUSeconds    float64 `json:"cpu_seconds"`
	RSSBytes      int64   `json:"rss_bytes"`
	Goroutines    int     `json:"goroutines"`
	MaxTickLateMS float64 `json:"max_tick_late_ms"`
	Connections   int     `json:"connections"`
}

type Stopped struct {
	Type string `json:"type"`
}
