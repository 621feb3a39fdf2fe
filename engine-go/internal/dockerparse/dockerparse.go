// Package dockerparse parses Docker Engine API answers as collectors/docker_parsers.py and
// collectors/docker_logs.py do, and applies domain/containers.py's CPU and memory formulas;
// tests/fixtures/vectors/docker.json keeps them equal.
package dockerparse

import (
	"errors"

	"vpshealth/engine/internal/model"
)

// ParseContainerList parses GET /containers/json?all=1.
func ParseContainerList(body []byte) ([]model.ContainerSummary, error) {
	return nil, errors.New("not implemented")
}

// ParseInspect parses GET /containers/{id}/json.
func ParseInspect(body []byte) (model.Container, error) {
	return model.Container{}, errors.New("not implemented")
}

// ParseStats parses GET /containers/{id}/stats?stream=false&one-shot=true.
func ParseStats(body []byte) (model.ContainerStats, error) {
	return model.ContainerStats{}, errors.New("not implemented")
}

// ParseEvent parses one line of GET /events; ok is false for a line to ignore.
func ParseEvent(line []byte) (event model.Event, ok bool, err error) {
	return model.Event{}, false, errors.New("not implemented")
}

// CPUPercent is domain/containers.container_cpu_percent.
func CPUPercent(before, after model.ContainerStats) *float64 { return nil }

// MemoryBytes is domain/containers.container_memory_bytes.
func MemoryBytes(stats model.ContainerStats) *int64 { return nil }
