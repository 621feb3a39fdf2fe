// Package procfs parses the poll output of collectors/remote_commands.py, as
// collectors/procfs_parsers.py does; tests/fixtures/vectors/procfs.json keeps them equal.
package procfs

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"vpshealth/engine/internal/model"
	"vpshealth/engine/internal/pytext"
)

// ErrParse wraps every parse failure; the message says what was wrong, as Python's ParseError.
var ErrParse = pytext.ErrParse

var fail = pytext.Fail

const (
	maxLoad          = 1_000_000.0
	maxUptimeSeconds = 1e10
	maxNameChars     = 255
	maxMountChars    = 4096
	markerPrefix     = "@@vpshealth:"
	markerLineStart  = "\n" + markerPrefix
)

var (
	markerNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	floatRE      = regexp.MustCompile(`^[0-9]{1,12}(?:\.[0-9]{1,9})?$`)
	cpuNRE       = regexp.MustCompile(`^cpu[0-9]+$`)
)

// ParseSnapshot parses POLL_COMMAND / FIRST_POLL_COMMAND output. Bytes that are not UTF-8
// become U+FFFD first, as the Python collectors decode the output.
func ParseSnapshot(text string) (model.Snapshot, error) {
	sections, err := splitSections(pytext.ValidText(text))
	if err != nil {
		return model.Snapshot{}, err
	}
	if _, ok := sections["end"]; !ok {
		return model.Snapshot{}, fail("output was cut short (no end marker)")
	}
	if err := require(sections, "stat", "meminfo", "loadavg", "uptime"); err != nil {
		return model.Snapshot{}, err
	}
	var snap model.Snapshot
	times, cpuCount, err := parseProcStat(sections["stat"])
	if err != nil {
		return model.Snapshot{}, err
	}
	snap.CPUTimes, snap.CPUCount = &times, cpuCount
	if snap.Memory, snap.Swap, err = parseMeminfo(sections["meminfo"]); err != nil {
		return model.Snapshot{}, err
	}
	if snap.Load, err = parseLoadavg(sections["loadavg"]); err != nil {
		return model.Snapshot{}, err
	}
	if snap.UptimeSeconds, err = parseUptime(sections["uptime"]); err != nil {
		return model.Snapshot{}, err
	}
	disks, err := parseDf(sections["df"])
	if err != nil {
		return model.Snapshot{}, err
	}
	if snap.Disks, err = withInodes(disks, sections["dfi"]); err != nil {
		return model.Snapshot{}, err
	}
	if snap.Network, err = parseNetDev(sections["netdev"]); err != nil {
		return model.Snapshot{}, err
	}
	if previous, ok := sections["stat0"]; ok {
		times, err := parseCPULine(previous)
		if err != nil {
			return model.Snapshot{}, err
		}
		snap.CPUTimesPrevious = &times
	}
	return snap, nil
}

// ParseSystemInfo parses SYSTEM_INFO_COMMAND output, decoded as ParseSnapshot's.
func ParseSystemInfo(text string) (model.SystemInfo, error) {
	sections, err := splitSections(pytext.ValidText(text))
	if err != nil {
		return model.SystemInfo{}, err
	}
	if _, ok := sections["end"]; !ok {
		return model.SystemInfo{}, fail("system info output was cut short (no end marker)")
	}
	if err := require(sections, "hostname", "kernel"); err != nil {
		return model.SystemInfo{}, err
	}
	hostname, err := singleLine(sections, "hostname")
	if err != nil {
		return model.SystemInfo{}, err
	}
	kernel, err := singleLine(sections, "kernel")
	if err != nil {
		return model.SystemInfo{}, err
	}
	return model.SystemInfo{
		Hostname: hostname,
		Kernel:   kernel,
		OSName:   osName(osRelease(sections["os-release"])),
	}, nil
}

// splitSections maps section name to body. Text before the first marker (e.g. a login
// banner) is ignored.
func splitSections(text string) (map[string]string, error) {
	sections := map[string]string{}
	name := ""
	hasLines := false // whether the current section's body has a line yet, even an empty one
	parts := strings.Split("\n"+text, markerLineStart)[1:]
	for _, part := range parts {
		firstLine, rest, newline := strings.Cut(part, "\n")
		marker := strings.TrimSuffix(firstLine, "\r")
		if !markerNameRE.MatchString(marker) {
			if name != "" { // a line that only starts like a marker
				separator := ""
				if hasLines {
					separator = "\n"
				}
				sections[name] += separator + markerPrefix + part
				hasLines = true
			}
			continue
		}
		name = marker
		if _, ok := sections[name]; ok {
			return nil, fail("section %q appears twice", name)
		}
		sections[name] = rest
		hasLines = newline
	}
	return sections, nil
}

func require(sections map[string]string, names ...string) error {
	var missing []string
	for _, name := range names {
		if _, ok := sections[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fail("section(s) missing: %s", strings.Join(missing, ", "))
	}
	return nil
}

// --- /proc/stat ---------------------------------------------------------------------------

func parseProcStat(body string) (model.CPUTimes, int, error) {
	var aggregate *model.CPUTimes
	cpus := map[string]bool{}
	for _, line := range lines(body) {
		if !strings.HasPrefix(pytext.LStrip(line), "cpu") {
			continue // intr, ctxt, softirq...: not used, and the intr line is long
		}
		fields := pytext.Fields(line)
		label := fields[0]
		if label == "cpu" {
			if aggregate != nil {
				return model.CPUTimes{}, 0, fail("stat: two aggregate cpu lines")
			}
			times, err := cpuTimes(fields[1:], "stat")
			if err != nil {
				return model.CPUTimes{}, 0, err
			}
			aggregate = &times
		} else if cpuNRE.MatchString(label) {
			cpus[label] = true
		}
	}
	if aggregate == nil {
		return model.CPUTimes{}, 0, fail("stat: no aggregate cpu line")
	}
	return *aggregate, max(len(cpus), 1), nil
}

// parseCPULine parses the stat0 section: just the first line of /proc/stat.
func parseCPULine(body string) (model.CPUTimes, error) {
	rows := rows(body)
	if len(rows) != 1 || rows[0][0] != "cpu" {
		return model.CPUTimes{}, fail("stat0: expected only the aggregate cpu line")
	}
	return cpuTimes(rows[0][1:], "stat0")
}

// cpuTimes reads user nice system idle [iowait irq softirq [steal [guest [guest_nice]]]];
// guest and guest_nice are already counted in user and nice, so they are checked, not kept.
func cpuTimes(values []string, section string) (model.CPUTimes, error) {
	if len(values) < 4 {
		return model.CPUTimes{}, fail("%s: cpu line has %d fields, expected at least 4", section, len(values))
	}
	numbers, err := ints(values, section)
	if err != nil {
		return model.CPUTimes{}, err
	}
	var n [8]int64
	copy(n[:], numbers)
	return model.CPUTimes{
		User: n[0], Nice: n[1], System: n[2], Idle: n[3],
		IOWait: n[4], IRQ: n[5], SoftIRQ: n[6], Steal: n[7],
	}, nil
}

// --- /proc/meminfo ------------------------------------------------------------------------

var meminfoKeys = map[string]bool{
	"MemTotal": true, "MemFree": true, "MemAvailable": true, "Buffers": true, "Cached": true,
	"SReclaimable": true, "SwapTotal": true, "SwapFree": true,
}

func parseMeminfo(body string) (model.Memory, model.Swap, error) {
	values, err := meminfoValues(body)
	if err != nil {
		return model.Memory{}, model.Swap{}, err
	}
	total := values["MemTotal"]
	if total == 0 {
		return model.Memory{}, model.Swap{}, fail("meminfo: MemTotal missing or zero")
	}
	available, ok := values["MemAvailable"]
	if !ok {
		// MemAvailable appeared in Linux 3.14; before that, estimate it as free did.
		if _, ok := values["MemFree"]; !ok {
			return model.Memory{}, model.Swap{}, fail("meminfo: neither MemAvailable nor MemFree present")
		}
		var sum uint64 // each term is at most MaxInt64: two never overflow before the clamp
		for _, key := range []string{"MemFree", "Buffers", "Cached", "SReclaimable"} {
			sum = min(sum+uint64(values[key]), uint64(total))
		}
		available = int64(sum)
	}
	swapTotal := values["SwapTotal"]
	swapFree := min(values["SwapFree"], swapTotal)
	return model.Memory{TotalBytes: total, AvailableBytes: min(available, total)},
		model.Swap{TotalBytes: swapTotal, FreeBytes: swapFree}, nil
}

func meminfoValues(body string) (map[string]int64, error) {
	values := map[string]int64{}
	for _, line := range lines(body) {
		if pytext.Strip(line) == "" {
			continue
		}
		key, rest, colon := strings.Cut(line, ":")
		if !colon {
			return nil, fail("meminfo: malformed line %s", pytext.Excerpt(line, 40))
		}
		if !meminfoKeys[key] {
			continue
		}
		if _, ok := values[key]; ok {
			return nil, fail("meminfo: %s appears twice", key)
		}
		fields := pytext.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return nil, fail("meminfo: %s is not a kB value: %s", key, pytext.Excerpt(rest, 40))
		}
		value, err := kib(fields[0], "meminfo")
		if err != nil {
			return nil, err
		}
		values[key] = value
	}
	return values, nil
}

// --- /proc/loadavg, /proc/uptime ----------------------------------------------------------

func parseLoadavg(body string) ([3]float64, error) {
	fields, err := singleRow(body, "loadavg")
	if err != nil {
		return [3]float64{}, err
	}
	if len(fields) < 3 {
		return [3]float64{}, fail("loadavg: expected three load figures")
	}
	var load [3]float64
	for i := range load {
		if load[i], err = parseFloat(fields[i], "loadavg", maxLoad); err != nil {
			return [3]float64{}, err
		}
	}
	return load, nil
}

func parseUptime(body string) (float64, error) {
	fields, err := singleRow(body, "uptime")
	if err != nil {
		return 0, err
	}
	return parseFloat(fields[0], "uptime", maxUptimeSeconds)
}

// --- /proc/net/dev ------------------------------------------------------------------------

// parseNetDev gives byte counters per interface, without loopback and container veth pairs.
func parseNetDev(body string) ([]model.Network, error) {
	nonBlank := nonBlankLines(body)
	counters := []model.Network{}
	if len(nonBlank) == 0 {
		return counters, nil
	}
	if len(nonBlank) < 2 || !strings.Contains(nonBlank[0], "|") || !strings.Contains(nonBlank[1], "|") {
		return nil, fail("netdev: the two header lines are missing")
	}
	seen := map[string]bool{}
	for _, line := range nonBlank[2:] {
		counter, err := netDevRow(line)
		if err != nil {
			return nil, err
		}
		if seen[counter.Interface] {
			return nil, fail("netdev: interface %s appears twice", pytext.Excerpt(counter.Interface, 40))
		}
		seen[counter.Interface] = true
		if counter.Interface != "lo" && !strings.HasPrefix(counter.Interface, "veth") {
			counters = append(counters, counter)
		}
	}
	sortBy(counters, func(n model.Network) string { return n.Interface })
	return counters, nil
}

// netDevRow reads "  eth0: 1234 ..." or, with wide counters, "eth0:1234 ..."; names cannot
// hold ':'.
func netDevRow(line string) (model.Network, error) {
	name, rest, colon := strings.Cut(line, ":")
	name = pytext.Strip(name)
	fields := pytext.Fields(rest)
	if !colon || name == "" || len(pytext.Fields(name)) != 1 || len(fields) < 16 {
		return model.Network{}, fail("netdev: malformed line %s", pytext.Excerpt(line, 40))
	}
	numbers, err := ints(fields, "netdev")
	if err != nil {
		return model.Network{}, err
	}
	name, err = printable(name, "netdev")
	if err != nil {
		return model.Network{}, err
	}
	return model.Network{Interface: name, RxBytes: numbers[0], TxBytes: numbers[8]}, nil
}

// --- system info --------------------------------------------------------------------------

func singleLine(sections map[string]string, name string) (string, error) {
	var rows []string
	for _, line := range lines(sections[name]) {
		if stripped := pytext.Strip(line); stripped != "" {
			rows = append(rows, stripped)
		}
	}
	if len(rows) != 1 {
		return "", fail("%s: expected one line, got %d", name, len(rows))
	}
	value := rows[0]
	if pytext.Len(value) > maxNameChars || !pytext.Printable(value) {
		return "", fail("%s: implausible value %s", name, pytext.Excerpt(value, 40))
	}
	return value, nil
}

var (
	osReleaseRE    = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=(.*)$`)
	doubleQuotedRE = regexp.MustCompile("\\\\([$\"\\\\`])")
	backslashRE    = regexp.MustCompile(`\\(.)`)
)

// osRelease reads the KEY=value pairs of os-release; lines that are not valid assignments
// are skipped.
func osRelease(body string) map[string]string {
	values := map[string]string{}
	for _, line := range lines(body) {
		assignment := osReleaseRE.FindStringSubmatch(pytext.Strip(line))
		if assignment == nil {
			continue
		}
		if value, ok := unquote(assignment[2]); ok {
			values[assignment[1]] = value
		}
	}
	return values
}

// unquote reads a shell-style value as os-release(5) allows it; false when the quoting is
// broken.
func unquote(raw string) (string, bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		return doubleQuotedRE.ReplaceAllString(raw[1:len(raw)-1], "${1}"), true
	}
	if len(raw) >= 2 && raw[0] == '\'' && raw[len(raw)-1] == '\'' {
		return raw[1 : len(raw)-1], true
	}
	if strings.HasPrefix(raw, "'") || strings.HasPrefix(raw, `"`) {
		return "", false
	}
	return backslashRE.ReplaceAllString(raw, "${1}"), true
}

func osName(release map[string]string) string {
	name := pytext.Strip(release["NAME"])
	version := pytext.Strip(release["VERSION"])
	candidates := []string{pytext.Strip(release["PRETTY_NAME"]), pytext.Strip(name + " " + version)}
	for _, candidate := range candidates {
		if candidate != "" && pytext.Len(candidate) <= maxNameChars && pytext.Printable(candidate) {
			return candidate
		}
	}
	return "Linux"
}

// --- helpers ------------------------------------------------------------------------------

// lines splits on "\n" only: other line breaks (\x1c, \u2028) may occur inside a mount point.
func lines(text string) []string {
	split := strings.Split(text, "\n")
	for i, line := range split {
		split[i] = strings.TrimSuffix(line, "\r")
	}
	return split
}

func nonBlankLines(body string) []string {
	var kept []string
	for _, line := range lines(body) {
		if pytext.Strip(line) != "" {
			kept = append(kept, line)
		}
	}
	return kept
}

// rows gives the whitespace-split fields of each non-blank line.
func rows(body string) [][]string {
	var result [][]string
	for _, line := range lines(body) {
		if fields := pytext.Fields(line); len(fields) > 0 {
			result = append(result, fields)
		}
	}
	return result
}

func singleRow(body, section string) ([]string, error) {
	rows := rows(body)
	if len(rows) != 1 {
		return nil, fail("%s: expected one line, got %d", section, len(rows))
	}
	return rows[0], nil
}

// parseInt reads a counter: [0-9]{1,19}, at most MaxInt64 (what SQLite stores).
func parseInt(token, section string) (int64, error) {
	if len(token) > 19 || !pytext.IsDigits(token) {
		return 0, fail("%s: not a counter: %s", section, pytext.Excerpt(token, 40))
	}
	value, err := strconv.ParseInt(token, 10, 64)
	if err != nil {
		return 0, fail("%s: value out of range: %s", section, pytext.Excerpt(token, 40))
	}
	return value, nil
}

func ints(tokens []string, section string) ([]int64, error) {
	numbers := make([]int64, len(tokens))
	for i, token := range tokens {
		value, err := parseInt(token, section)
		if err != nil {
			return nil, err
		}
		numbers[i] = value
	}
	return numbers, nil
}

func kib(token, section string) (int64, error) {
	value, err := parseInt(token, section)
	if err != nil {
		return 0, err
	}
	if value > math.MaxInt64/1024 {
		return 0, fail("%s: value out of range: %s", section, pytext.Excerpt(token, 40))
	}
	return value * 1024, nil
}

func parseFloat(token, section string, limit float64) (float64, error) {
	if !floatRE.MatchString(token) {
		return 0, fail("%s: not a number: %s", section, pytext.Excerpt(token, 40))
	}
	value, err := strconv.ParseFloat(token, 64)
	if err != nil || math.IsInf(value, 0) || math.IsNaN(value) || value > limit {
		return 0, fail("%s: value out of range: %s", section, pytext.Excerpt(token, 40))
	}
	return value, nil
}

// printable replaces control and undecodable characters with "?", as GNU df does, so the
// value can always be stored.
func printable(text, section string) (string, error) {
	if pytext.Len(text) > maxMountChars {
		return "", fail("%s: name too long", section)
	}
	return pytext.ReplaceUnprintable(text), nil
}
