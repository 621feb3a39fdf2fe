// Package pollshell samples a host through one shell kept open per connection
// (collectors/poll_shell.py), or one command per check where the host cannot keep one.
package pollshell

// The fixed commands of collectors/remote_commands.py; no host field is ever put into them.
// commands_test.go compares them with tests/fixtures/vectors/commands.json.
const (
	MarkerPrefix = "@@vpshealth:"

	sample = "echo @@vpshealth:stat; cat /proc/stat; " +
		"echo @@vpshealth:meminfo; cat /proc/meminfo; " +
		"echo @@vpshealth:loadavg; cat /proc/loadavg; " +
		"echo @@vpshealth:uptime; cat /proc/uptime; " +
		"echo @@vpshealth:netdev; cat /proc/net/dev; " +
		"echo @@vpshealth:df; timeout 10 df -kPT 2>/dev/null; " +
		"echo @@vpshealth:dfi; timeout 10 df -iPT 2>/dev/null; " +
		"echo @@vpshealth:end"

	// The output is gathered and printed in one write: one SSH packet instead of a dozen.
	oneWritePrefix = "export LC_ALL=C; o=$("
	oneWriteSuffix = ");  printf \"%s\n\" \"$o\"" // a real newline, as in Python

	PollCommand = oneWritePrefix + sample + oneWriteSuffix

	firstSample = "echo @@vpshealth:stat0; head -n 1 /proc/stat; sleep 0.5; " + sample

	// FirstPollCommand: two CPU samples half a second apart, for a connection's first check.
	FirstPollCommand = oneWritePrefix + firstSample + oneWriteSuffix

	DoneMarker = "@@vpshealth:done "

	// PollShellCommand stays running: each line `p TOKEN` (or `f TOKEN`) it reads makes it
	// print one poll's output and then `@@vpshealth:done TOKEN`. The token is data, never run.
	PollShellCommand = "export LC_ALL=C; exec 2>/dev/null; " +
		"while IFS=' ' read -r c t; do case $c in " +
		"p) o=$( { " + sample + "; } </dev/null);; " +
		"f) o=$( { " + firstSample + "; } </dev/null);; " +
		"*) exit 0;; " +
		"esac; " +
		`printf '%s\n` + DoneMarker + `%s\n' "$o" "$t"; ` +
		"done"

	SampleRequest      = "p"
	FirstSampleRequest = "f"

	// SystemInfoCommand runs once per connection.
	SystemInfoCommand = "export LC_ALL=C; " +
		"echo @@vpshealth:hostname; uname -n; " +
		"echo @@vpshealth:kernel; uname -r; " +
		"echo @@vpshealth:os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release; " +
		"echo @@vpshealth:end"
)
