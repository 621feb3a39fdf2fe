// Package model holds what the engine measures and sends to the service, with the JSON
// field names of engine-go/PROTOCOL.md. No I/O.
package model

// CPUTimes are the cumulative counters (jiffies) of the aggregate "cpu" line of /proc/stat.
type CPUTimes struct {
	User    int64 `json:"user"`
	Nice    int64 `json:"nice"`
	System  int64 `json:"system"`
	Idle    int64 `json:"idle"`
	IOWait  int64 `json:"iowait"`
	IRQ     int64 `json:"irq"`
	SoftIRQ int64 `json:"softirq"`
	Steal   int64 `json:"steal"`
}

type Memory struct {
	TotalBytes     int64 `json:"total_bytes"`
	AvailableBytes int64 `json:"available_bytes"`
}

type Swap struct {
	TotalBytes int64 `json:"total_bytes"`
	FreeBytes  int64 `json:"free_bytes"`
}

type Disk struct {
	Mount          string `json:"mount"`
	FSType         string `json:"fstype"`
	TotalBytes     int64  `json:"total_bytes"`
	UsedBytes      int64  `json:"used_bytes"`
	AvailableBytes int64  `json:"available_bytes"`
	InodesTotal    *int64 `json:"inodes_total"`
	InodesUsed     *int64 `json:"inodes_used"`
}

type Network struct {
	Interface string `json:"interface"`
	RxBytes   int64  `json:"rx_bytes"`
	TxBytes   int64  `json:"tx_bytes"`
}

// Snapshot is one poll's parsed output: Python's parse_snapshot result (HostMetrics with
// cpu_percent None), in the shape of PROTOCOL.md's "snapshot".
type Snapshot struct {
	CPUCount         int        `json:"cpu_count"`
	Load             [3]float64 `json:"load"`
	Memory           Memory     `json:"memory"`
	Swap             Swap       `json:"swap"`
	UptimeSeconds    float64    `json:"uptime_seconds"`
	Disks            []Disk     `json:"disks"`
	Network          []Network  `json:"network"`
	CPUTimes         *CPUTimes  `json:"cpu_times"`
	CPUTimesPrevious *CPUTimes  `json:"cpu_times_previous"`
}

type SystemInfo struct {
	Hostname string `json:"hostname"`
	Kernel   string `json:"kernel"`
	OSName   string `json:"os_name"`
}

// ContainerSummary is one row of GET /containers/json?all=1.
type ContainerSummary struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	Image   string      `json:"image"`
	Created int64       `json:"created"`
	State   string      `json:"state"`
	Labels  [][2]string `json:"labels"`
	Ports   []string    `json:"ports"`
	Status  string      `json:"status"`
}

// Container is GET /containers/{id}/json parsed; Python derives the Coolify group from
// labels, name and image.
type Container struct {
	ID            string      `json:"id"`
	Name          string      `json:"name"`
	Image         string      `json:"image"`
	Created       int64       `json:"created"`
	State         string      `json:"state"`
	Health        string      `json:"health"`
	FailingStreak int         `json:"failing_streak"`
	RestartCount  int         `json:"restart_count"`
	ExitCode      *int        `json:"exit_code"`
	OOMKilled     bool        `json:"oom_killed"`
	StartedAt     *int64      `json:"started_at"`
	FinishedAt    *int64      `json:"finished_at"`
	Ports         []string    `json:"ports"`
	Labels        [][2]string `json:"labels"`
}

// ContainerStats is one-shot GET /containers/{id}/stats parsed.
type ContainerStats struct {
	ContainerID        string `json:"container_id"`
	CPUTotalUsage      int64  `json:"cpu_total_usage"`
	SystemCPUUsage     *int64 `json:"system_cpu_usage"`
	OnlineCPUs         int    `json:"online_cpus"`
	MemoryUsage        *int64 `json:"memory_usage"`
	MemoryInactiveFile int64  `json:"memory_inactive_file"`
	MemoryLimit        *int64 `json:"memory_limit"`
}

// ContainerMetrics are the docker CLI's formulas applied to two polls' stats.
type ContainerMetrics struct {
	CPUPercent       *float64 `json:"cpu_percent"`
	MemoryBytes      *int64   `json:"memory_bytes"`
	MemoryLimitBytes *int64   `json:"memory_limit_bytes"`
}

// Event is one line of GET /events, parsed.
type Event struct {
	Time        int64       `json:"time"`
	Action      string      `json:"action"`
	ContainerID string      `json:"container_id"`
	Name        string      `json:"name"`
	Image       string      `json:"image"`
	ExitCode    *int        `json:"exit_code"`
	Health      *string     `json:"health"`
	Signal      *int        `json:"signal"`
	Labels      [][2]string `json:"labels"`
}

// DockerError says why a host's Docker API could not be used: Access is "absent", "denied"
// or "unavailable" (collectors/docker_access.py's DockerAccess).
type DockerError struct {
	Access  string `json:"access"`
	Message string `json:"message"`
}

// DockerResult is one check's Docker part: the listing with each running container's
// metrics, or the error. PROTOCOL.md's result.docker.
type DockerResult struct {
	Containers []Container                 `json:"containers,omitempty"`
	Metrics    map[string]ContainerMetrics `json:"metrics,omitempty"`
	Error      *DockerError                `json:"error,omitempty"`
}
