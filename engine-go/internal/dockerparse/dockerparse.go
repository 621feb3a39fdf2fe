// Package dockerparse parses Docker Engine API answers as collectors/docker_parsers.py and
// collectors/docker_logs.py do, and applies domain/containers.py's CPU and memory formulas;
// tests/fixtures/vectors/docker.json keeps them equal.
package dockerparse

import (
	"regexp"
	"slices"
	"strings"

	"vpshealth/engine/internal/model"
	"vpshealth/engine/internal/pytext"
)

const (
	maxNameChars       = 255
	maxImageChars      = 1024
	maxLabels          = 10_000
	maxLabelKeyChars   = 1024
	maxLabelValueChars = 65_536
	maxPorts           = 65_536
	maxCPUs            = 65_536
	maxStatusChars     = 200
	unlimitedMemory    = int64(1) << 62 // at or above: a kernel "no limit" sentinel
	minExitCode        = -(int64(1) << 31)
	maxExitCode        = int64(1)<<32 - 1
)

var (
	idRE       = regexp.MustCompile(`^[0-9a-f]{64}$`)
	signalRE   = regexp.MustCompile(`^[0-9]{1,3}$`)
	exitCodeRE = regexp.MustCompile(`^-?[0-9]{1,10}$`)
)

var states = map[string]bool{
	"created": true, "running": true, "paused": true, "restarting": true,
	"exited": true, "dead": true, "removing": true,
}

// noExitStates are the states in which State.ExitCode says nothing: never ran, or running.
var noExitStates = map[string]bool{"created": true, "running": true, "paused": true}

var healths = map[string]bool{"none": true, "starting": true, "healthy": true, "unhealthy": true}

// FollowedActions are the container event actions ParseEvent turns into an Event.
var FollowedActions = map[string]bool{
	"create": true, "start": true, "restart": true, "die": true, "oom": true, "kill": true,
	"stop": true, "destroy": true, "pause": true, "unpause": true, "health_status": true,
}

// eventAttributes are the Actor.Attributes keys the engine adds itself; every other key is
// one of the container's labels.
var eventAttributes = map[string]bool{
	"name": true, "image": true, "exitCode": true, "execDuration": true, "signal": true,
	"oldName": true, "execID": true,
}

// ParseContainerList parses GET /containers/json?all=1: every container, in the engine's
// order.
func ParseContainerList(body []byte) ([]model.ContainerSummary, error) {
	data, err := load(body, "listing")
	if err != nil {
		return nil, err
	}
	rows, err := asArray(data, "listing")
	if err != nil {
		return nil, err
	}
	summaries := []model.ContainerSummary{}
	seen := map[string]bool{}
	for _, raw := range rows {
		row, err := asObject(raw, "listing: container")
		if err != nil {
			return nil, err
		}
		summary, err := parseSummary(row)
		if err != nil {
			return nil, err
		}
		if seen[summary.ID] {
			return nil, fail("listing: container %s appears twice", summary.ID[:12])
		}
		seen[summary.ID] = true
		summaries = append(summaries, summary)
	}
	return summaries, nil
}

func parseSummary(row object) (model.ContainerSummary, error) {
	const where = "listing"
	var s model.ContainerSummary
	var err error
	if s.ID, err = containerID(row["Id"], where); err != nil {
		return s, err
	}
	names, err := asArray(row["Names"], where+": Names")
	if err != nil {
		return s, err
	}
	if s.Name, err = primaryName(names, where); err != nil {
		return s, err
	}
	if s.Image, err = text(row["Image"], where+": Image", maxImageChars); err != nil {
		return s, err
	}
	if s.Created, err = count(row["Created"], where+": Created"); err != nil {
		return s, err
	}
	if s.State, err = state(row["State"], where+": State"); err != nil {
		return s, err
	}
	if s.Labels, err = labels(row["Labels"], where+": Labels"); err != nil {
		return s, err
	}
	if s.Ports, err = listingPorts(row["Ports"], where); err != nil {
		return s, err
	}
	if status, ok := row["Status"].(string); ok {
		s.Status = firstChars(status, maxStatusChars)
	}
	return s, nil
}

// ParseInspect parses GET /containers/{id}/json.
func ParseInspect(body []byte) (model.Container, error) {
	const where = "inspect"
	var c model.Container
	raw, err := load(body, where)
	if err != nil {
		return c, err
	}
	data, err := asObject(raw, where)
	if err != nil {
		return c, err
	}
	if c.ID, err = containerID(data["Id"], where); err != nil {
		return c, err
	}
	if c.Name, err = name(data["Name"], where, true); err != nil {
		return c, err
	}
	stateData, err := asObject(data["State"], where+": State")
	if err != nil {
		return c, err
	}
	config, err := asObject(data["Config"], where+": Config")
	if err != nil {
		return c, err
	}
	if c.State, err = state(stateData["Status"], where+": State.Status"); err != nil {
		return c, err
	}
	if c.Health, c.FailingStreak, err = health(stateData["Health"], where); err != nil {
		return c, err
	}
	if c.Labels, err = labels(config["Labels"], where+": Config.Labels"); err != nil {
		return c, err
	}
	if c.Image, err = text(config["Image"], where+": Config.Image", maxImageChars); err != nil {
		return c, err
	}
	created, err := parseTime(data["Created"], where+": Created")
	if err != nil {
		return c, err
	}
	if created == nil {
		return c, fail("%s: Created is the zero time", where)
	}
	c.Created = *created
	exitCode, err := exitCodeOf(stateData["ExitCode"], where+": State.ExitCode")
	if err != nil {
		return c, err
	}
	c.Ports = []string{}
	if network, ok := data["NetworkSettings"]; ok && network != nil {
		settings, err := asObject(network, where+": NetworkSettings")
		if err != nil {
			return c, err
		}
		if c.Ports, err = inspectPorts(settings["Ports"], where); err != nil {
			return c, err
		}
	}
	restarts, err := count(data["RestartCount"], where+": RestartCount")
	if err != nil {
		return c, err
	}
	c.RestartCount = int(restarts)
	if !noExitStates[c.State] {
		code := int(exitCode)
		c.ExitCode = &code
	}
	if oom, ok := stateData["OOMKilled"]; ok {
		if c.OOMKilled, err = asBool(oom, where+": State.OOMKilled"); err != nil {
			return c, err
		}
	}
	if c.StartedAt, err = parseTime(stateData["StartedAt"], where+": State.StartedAt"); err != nil {
		return c, err
	}
	if c.FinishedAt, err = parseTime(stateData["FinishedAt"], where+": State.FinishedAt"); err != nil {
		return c, err
	}
	return c, nil
}

// ParseStats parses GET /containers/{id}/stats?stream=false&one-shot=true on cgroup v1 or
// v2. A container that is not running answers with empty memory_stats and zero CPU
// counters: memory usage and limit are then nil, as is SystemCPUUsage (missing there).
func ParseStats(body []byte) (model.ContainerStats, error) {
	const where = "stats"
	var s model.ContainerStats
	raw, err := load(body, where)
	if err != nil {
		return s, err
	}
	data, err := asObject(raw, where)
	if err != nil {
		return s, err
	}
	if s.ContainerID, err = containerID(data["id"], where); err != nil {
		return s, err
	}
	cpu, err := asObject(data["cpu_stats"], where+": cpu_stats")
	if err != nil {
		return s, err
	}
	usage, err := asObject(cpu["cpu_usage"], where+": cpu_usage")
	if err != nil {
		return s, err
	}
	if s.CPUTotalUsage, err = count(usage["total_usage"], where+": total_usage"); err != nil {
		return s, err
	}
	percpuCount := 0
	if percpu := usage["percpu_usage"]; percpu != nil {
		list, err := asArray(percpu, where+": percpu_usage")
		if err != nil {
			return s, err
		}
		if len(list) > maxCPUs {
			return s, fail("%s: percpu_usage has too many entries", where)
		}
		for _, value := range list {
			if _, err := count(value, where+": percpu_usage"); err != nil {
				return s, err
			}
		}
		percpuCount = len(list)
	}
	var online int64
	if raw := cpu["online_cpus"]; raw != nil {
		if online, err = count(raw, where+": online_cpus"); err != nil {
			return s, err
		}
	}
	if online > maxCPUs {
		return s, fail("%s: online_cpus out of range", where)
	}
	if online == 0 {
		online = int64(max(percpuCount, 1))
	}
	s.OnlineCPUs = int(online)
	if raw := cpu["system_cpu_usage"]; raw != nil {
		system, err := count(raw, where+": system_cpu_usage")
		if err != nil {
			return s, err
		}
		s.SystemCPUUsage = &system
	}
	s.MemoryUsage, s.MemoryInactiveFile, s.MemoryLimit, err = memory(data["memory_stats"], where)
	return s, err
}

// memory gives (usage, inactive_file, limit) as the docker CLI computes docker stats: cgroup
// v1 reports total_inactive_file, cgroup v2 inactive_file; the inactive page cache only
// counts when it is below the usage.
func memory(raw any, where string) (*int64, int64, *int64, error) {
	if raw == nil {
		return nil, 0, nil, nil
	}
	stats, err := asObject(raw, where+": memory_stats")
	if err != nil {
		return nil, 0, nil, err
	}
	var usage *int64
	if raw := stats["usage"]; raw != nil {
		value, err := count(raw, where+": memory usage")
		if err != nil {
			return nil, 0, nil, err
		}
		usage = &value
	}
	var inactive int64
	if raw := stats["stats"]; raw != nil {
		detail, err := asObject(raw, where+": memory_stats.stats")
		if err != nil {
			return nil, 0, nil, err
		}
		key := "inactive_file"
		if _, ok := detail["total_inactive_file"]; ok {
			key = "total_inactive_file"
		}
		if value, ok := detail[key]; ok {
			if inactive, err = count(value, where+": "+key); err != nil {
				return nil, 0, nil, err
			}
		}
	}
	if usage == nil || inactive >= *usage {
		inactive = 0
	}
	var limit *int64
	if raw := stats["limit"]; raw != nil {
		value, err := count(raw, where+": memory limit")
		if err != nil {
			return nil, 0, nil, err
		}
		if value != 0 && value < unlimitedMemory {
			limit = &value
		}
	}
	return usage, inactive, limit, nil
}

// ParseEvent parses one line of GET /events; ok is false for a blank line, an event that is
// not about a container, or an action not in FollowedActions.
func ParseEvent(line []byte) (event model.Event, ok bool, err error) {
	const where = "event"
	if len(line) > maxEventLineBytes {
		return event, false, fail("%s: line too long", where)
	}
	decoded := pytext.DecodeReplace(line)
	if pytext.Strip(decoded) == "" {
		return event, false, nil
	}
	raw, err := loads(decoded, where)
	if err != nil {
		return event, false, err
	}
	data, err := asObject(raw, where)
	if err != nil {
		return event, false, err
	}
	if kind, isText := data["Type"].(string); !isText || kind != "container" {
		if data["Type"] == nil || isText {
			return event, false, nil
		}
		return event, false, fail("%s: Type is not text", where)
	}
	rawAction, present := data["Action"]
	if !present {
		rawAction = data["status"]
	}
	actionText, err := text(rawAction, where+": Action", 4096)
	if err != nil {
		return event, false, err
	}
	action, detail, _ := strings.Cut(actionText, ":")
	if !FollowedActions[action] {
		return event, false, nil
	}
	if action == "health_status" {
		status := pytext.Strip(detail)
		if !healths[status] || status == "none" {
			return event, false, nil
		}
		event.Health = &status
	}
	actor, err := asObject(data["Actor"], where+": Actor")
	if err != nil {
		return event, false, err
	}
	rawID, present := actor["ID"]
	if !present {
		rawID = data["id"]
	}
	if event.ContainerID, err = containerID(rawID, where+": Actor.ID"); err != nil {
		return event, false, err
	}
	rawAttributes, present := actor["Attributes"]
	if !present {
		rawAttributes = object{}
	}
	attributes, err := asObject(rawAttributes, where+": Actor.Attributes")
	if err != nil {
		return event, false, err
	}
	if event.Name, err = name(attributes["name"], where+": name", false); err != nil {
		return event, false, err
	}
	if raw, present := attributes["exitCode"]; action == "die" && present {
		code, err := exitCodeText(raw, where+": exitCode")
		if err != nil {
			return event, false, err
		}
		event.ExitCode = &code
	}
	if raw, present := attributes["signal"]; action == "kill" && present {
		signal, err := signalOf(raw, where+": signal")
		if err != nil {
			return event, false, err
		}
		event.Signal = &signal
	}
	containerLabels := object{}
	for _, key := range sortedKeys(attributes) {
		value := attributes[key]
		if !eventAttributes[key] {
			containerLabels[key] = value
		}
	}
	if event.Labels, err = labels(containerLabels, where+": Actor.Attributes"); err != nil {
		return event, false, err
	}
	if rawImage := attributes["image"]; truthy(rawImage) {
		if event.Image, err = text(rawImage, where+": image", maxImageChars); err != nil {
			return event, false, err
		}
	}
	event.Action = action
	if event.Time, err = eventTime(data, where); err != nil {
		return event, false, err
	}
	return event, true, nil
}

// eventTime is Unix seconds: time, or timeNano when only that is present.
func eventTime(data object, where string) (int64, error) {
	if raw := data["time"]; raw != nil {
		return count(raw, where+": time")
	}
	if raw := data["timeNano"]; raw != nil {
		nanoseconds, err := count(raw, where+": timeNano")
		return nanoseconds / 1_000_000_000, err
	}
	return 0, fail("%s: no time", where)
}

// --- pieces -------------------------------------------------------------------------------

// primaryName is the container's own name: legacy links add names like /web/db (the
// container db as seen from web); the own name is the one with a single leading slash.
func primaryName(names []any, where string) (string, error) {
	for _, raw := range names {
		if s, ok := raw.(string); ok && strings.HasPrefix(s, "/") && !strings.Contains(s[1:], "/") {
			return name(s, where+": Names", true)
		}
	}
	return "", fail("%s: no container name in Names", where)
}

func name(raw any, where string, leadingSlash bool) (string, error) {
	s, err := text(raw, where, maxNameChars+1)
	if err != nil {
		return "", err
	}
	if leadingSlash {
		s = strings.TrimPrefix(s, "/")
	}
	if s == "" || pytext.Len(s) > maxNameChars {
		return "", fail("%s: empty or overlong name", where)
	}
	return pytext.ReplaceUnprintable(s), nil
}

func state(raw any, where string) (string, error) {
	if s, ok := raw.(string); ok && states[s] {
		return s, nil
	}
	return "", fail("%s: unknown state", where)
}

// health reads State.Health: missing or null for a container without a healthcheck.
func health(raw any, where string) (string, int, error) {
	if raw == nil {
		return "none", 0, nil
	}
	data, err := asObject(raw, where+": State.Health")
	if err != nil {
		return "", 0, err
	}
	status := "none"
	switch s := data["Status"].(type) {
	case string:
		if healths[s] {
			status = s
		} else if s != "" {
			return "", 0, fail("%s: unknown health", where)
		}
	case nil:
	default:
		return "", 0, fail("%s: unknown health", where)
	}
	failing := int64(0)
	if streak := data["FailingStreak"]; streak != nil {
		if failing, err = count(streak, where+": FailingStreak"); err != nil {
			return "", 0, err
		}
	}
	return status, int(failing), nil
}

// labels are sorted (key, value) pairs.
func labels(raw any, where string) ([][2]string, error) {
	pairs := [][2]string{}
	if raw == nil {
		return pairs, nil
	}
	data, err := asObject(raw, where)
	if err != nil {
		return nil, err
	}
	if len(data) > maxLabels {
		return nil, fail("%s: too many labels", where)
	}
	for _, key := range sortedKeys(data) {
		value := data[key]
		k, err := text(key, where, maxLabelKeyChars)
		if err != nil {
			return nil, err
		}
		v, err := text(value, where+": "+pytext.Excerpt(key, 40), maxLabelValueChars)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, [2]string{k, v})
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	return pairs, nil
}

func containerID(raw any, where string) (string, error) {
	if s, ok := raw.(string); ok && idRE.MatchString(s) {
		return s, nil
	}
	return "", fail("%s: not a container id", where)
}

func exitCodeOf(raw any, where string) (int64, error) {
	if raw == nil {
		return 0, nil
	}
	value, fits, isInt := integer(raw)
	if !isInt {
		return 0, fail("%s: not an integer: %s", where, kind(raw))
	}
	if !fits || value < minExitCode || value > maxExitCode {
		return 0, fail("%s: out of range", where)
	}
	return value, nil
}

func exitCodeText(raw any, where string) (int, error) {
	s, ok := raw.(string)
	if !ok || !exitCodeRE.MatchString(s) {
		return 0, fail("%s: not an exit code", where)
	}
	value, err := exitCodeOf(jsonNumber(s), where)
	return int(value), err
}

func signalOf(raw any, where string) (int, error) {
	s, ok := raw.(string)
	if !ok || !signalRE.MatchString(s) {
		return 0, fail("%s: not a signal number", where)
	}
	value, _, _ := integer(jsonNumber(s))
	if value <= 0 || value > 128 {
		return 0, fail("%s: signal out of range", where)
	}
	return int(value), nil
}

func firstChars(s string, limit int) string {
	if pytext.Len(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit {
			return s[:i]
		}
		n++
	}
	return s
}
