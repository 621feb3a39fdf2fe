"""The fixed shell commands run on monitored hosts.

They are constants: no host field (name, address, user, tag) is ever interpolated into them.
Each section of output starts with a marker line ``@@vpshealth:<section>`` so that one round
trip returns everything and the parser can tell the parts apart.
"""

from typing import Final

MARKER_PREFIX: Final = "@@vpshealth:"

_SAMPLE: Final = (
    "echo @@vpshealth:stat; cat /proc/stat; "
    "echo @@vpshealth:meminfo; cat /proc/meminfo; "
    "echo @@vpshealth:loadavg; cat /proc/loadavg; "
    "echo @@vpshealth:uptime; cat /proc/uptime; "
    "echo @@vpshealth:netdev; cat /proc/net/dev; "
    "echo @@vpshealth:df; timeout 10 df -kPT 2>/dev/null; "
    "echo @@vpshealth:dfi; timeout 10 df -iPT 2>/dev/null; "
    "echo @@vpshealth:end"
)

_ONE_WRITE_PREFIX: Final = "export LC_ALL=C; o=$("
_ONE_WRITE_SUFFIX: Final = ');  printf "%s\n" "$o"'
"""The output is gathered and printed in one write: sent as one SSH packet instead of a dozen,
which halves the client's CPU per check."""

POLL_COMMAND: Final = _ONE_WRITE_PREFIX + _SAMPLE + _ONE_WRITE_SUFFIX
"""One poll: a single CPU sample; CPU % comes from the previous poll's sample."""

_FIRST_SAMPLE: Final = "echo @@vpshealth:stat0; head -n 1 /proc/stat; sleep 0.5; " + _SAMPLE

FIRST_POLL_COMMAND: Final = _ONE_WRITE_PREFIX + _FIRST_SAMPLE + _ONE_WRITE_SUFFIX
"""The first poll of a connection: two CPU samples half a second apart inside one command."""

DONE_MARKER: Final = "@@vpshealth:done "

POLL_SHELL_COMMAND: Final = (
    "export LC_ALL=C; exec 2>/dev/null; "
    "while IFS=' ' read -r c t; do case $c in "
    "p) o=$( { " + _SAMPLE + "; } </dev/null);; "
    "f) o=$( { " + _FIRST_SAMPLE + "; } </dev/null);; "
    "*) exit 0;; "
    "esac; "
    "printf '%s\\n" + DONE_MARKER + '%s\\n\' "$o" "$t"; '
    "done"
)
"""A shell that stays running on the host for as long as the connection: each line it reads
(``p TOKEN``, or ``f TOKEN`` for two CPU samples) makes it print one poll's output and then
``@@vpshealth:done TOKEN``. A poll then costs one SSH packet each way instead of a channel
opened, a command started and the channel closed (about 20 packets). The token is data, read
into a variable and printed back, never run."""

SAMPLE_REQUEST: Final = "p"
FIRST_SAMPLE_REQUEST: Final = "f"

SYSTEM_INFO_COMMAND: Final = (
    "export LC_ALL=C; "
    "echo @@vpshealth:hostname; uname -n; "
    "echo @@vpshealth:kernel; uname -r; "
    "echo @@vpshealth:os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release; "
    "echo @@vpshealth:end"
)
"""Run once per connection."""

DOCKER_SOCKET_DIAGNOSIS: Final = (
    'IFS= read -r p; if [ ! -e "$p" ]; then echo missing; '
    'elif [ ! -S "$p" ]; then echo not-a-socket; '
    'elif [ -r "$p" ] && [ -w "$p" ]; then echo accessible; '
    "else echo denied; fi"
)
"""Why the Docker socket could not be opened. The socket path (a host setting) is read from
standard input, so it is data, never part of the command."""
