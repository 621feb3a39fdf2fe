package dockerparse

import (
	"math/big"
	"strconv"

	"vpshealth/engine/internal/model"
)

// CPUPercent is domain/containers.container_cpu_percent: the docker CLI's formula over two
// polls, the container's share of the host's CPU time between them times the number of
// online CPUs (one busy core = 100 %), rounded to 2 decimals; nil when it cannot be told.
func CPUPercent(before, after model.ContainerStats) *float64 {
	if before.SystemCPUUsage == nil || after.SystemCPUUsage == nil {
		return nil
	}
	cpuDelta := after.CPUTotalUsage - before.CPUTotalUsage
	systemDelta := *after.SystemCPUUsage - *before.SystemCPUUsage
	if cpuDelta < 0 || systemDelta <= 0 {
		return nil
	}
	// Python divides the integers exactly and rounds once; so does big.Rat.
	share, _ := new(big.Rat).SetFrac(big.NewInt(cpuDelta), big.NewInt(systemDelta)).Float64()
	cpus := max(after.OnlineCPUs, 1)
	percent := roundTo2(min(share, 1.0) * float64(cpus) * 100.0)
	return &percent
}

// roundTo2 is Python's round(x, 2): the decimal nearest to x's exact binary value, ties to
// even, read back as a float.
func roundTo2(x float64) float64 {
	rounded, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 64)
	return rounded
}

// MemoryBytes is domain/containers.container_memory_bytes: usage minus the inactive page
// cache, as docker stats shows it.
func MemoryBytes(stats model.ContainerStats) *int64 {
	if stats.MemoryUsage == nil {
		return nil
	}
	used := max(*stats.MemoryUsage-stats.MemoryInactiveFile, 0)
	return &used
}
