"""Parsers for the output of the fixed remote commands (see ``remote_commands``).

Pure functions: text in, domain objects out. Whatever the text holds, they either return
values that are sane to store (finite, non-negative, within SQLite's 64-bit integers) or
raise ``ParseError``; never any other exception.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Final

from vpshealth.domain.errors import ParseError
from vpshealth.domain.metrics import (
    CpuTimes,
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    NetworkCounters,
    SwapUsage,
    SystemInfo,
)

MAX_INT: Final = 2**63 - 1
"""Largest value that can be stored (SQLite INTEGER); anything above is garbage."""

_MAX_LOAD: Final = 1_000_000.0
_MAX_UPTIME_SECONDS: Final = 1e10  # about 317 years
_MAX_NAME_CHARS: Final = 255
_MAX_MOUNT_CHARS: Final = 4096  # PATH_MAX

_MARKER_PREFIX: Final = "@@vpshealth:"
_MARKER_LINE_START: Final = "\n" + _MARKER_PREFIX
"""Lines are separated by ``\\n`` only (see ``_lines``)."""
_MARKER_NAME_RE: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_FLOAT_RE: Final = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")
_CPU_N_RE: Final = re.compile(r"cpu[0-9]+")
_TOKEN_RE: Final = re.compile(r"\S+")
_OS_RELEASE_RE: Final = re.compile(r"([A-Z][A-Z0-9_]*)=(.*)")

_MEMINFO_KEYS: Final = frozenset(
    {"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SReclaimable"}
    | {"SwapTotal", "SwapFree"}
)

_PSEUDO_FSTYPES: Final = frozenset(
    {
        # memory-backed
        "tmpfs", "devtmpfs", "ramfs", "rootfs", "shm", "hugetlbfs",
        # kernel interfaces
        "proc", "sysfs", "devpts", "devfs", "cgroup", "cgroup2", "cpuset", "securityfs",
        "selinuxfs", "apparmorfs", "pstore", "bpf", "debugfs", "tracefs", "configfs",
        "mqueue", "fusectl", "binfmt_misc", "rpc_pipefs", "nfsd", "nsfs", "autofs",
        "efivarfs", "xenfs", "sockfs", "pipefs", "anon_inodefs", "none",
        # read-only images: always 100 % full, so alerting on them is noise
        "squashfs", "iso9660", "udf", "cramfs", "romfs", "erofs",
        # FUSE helpers that mirror other filesystems or hold no data
        "fuse.portal", "fuse.xdg-document-portal", "fuse.gvfsd-fuse",
        "fuse.gvfs-fuse-daemon", "fuse.lxcfs", "fuse.snapfuse", "fuse.squashfuse",
        "fuse.squashfuse_ll",
    }
)  # fmt: skip

_UNION_FSTYPES: Final = frozenset({"overlay", "aufs"})
"""Container layers; kept only as the root filesystem (a host that is itself a container)."""

_NOISE_MOUNT_PREFIXES: Final = (
    "/proc/",
    "/sys/",
    "/dev/",
    "/run/",
    "/snap/",
    "/var/lib/docker/",
    "/var/lib/containers/",
    "/var/lib/kubelet/",
)
_RAM_DISK_DEVICE_PREFIXES: Final = ("/dev/zram", "/dev/ram")


def split_sections(text: str) -> dict[str, str]:
    """Section name -> body. Text before the first marker (e.g. a login banner) is ignored."""
    sections: dict[str, str] = {}
    name: str | None = None
    has_lines = False  # whether the current section's body has a line yet, even an empty one
    for part in ("\n" + text).split(_MARKER_LINE_START)[1:]:
        first_line, newline, rest = part.partition("\n")
        marker = first_line.removesuffix("\r")
        if _MARKER_NAME_RE.fullmatch(marker) is None:
            if name is not None:  # a line that only starts like a marker
                separator = "\n" if has_lines else ""
                sections[name] += separator + _MARKER_PREFIX + part
                has_lines = True
            continue
        name = marker
        if name in sections:
            raise ParseError(f"section {name!r} appears twice")
        sections[name] = rest
        has_lines = bool(newline)
    return sections


def parse_snapshot(text: str) -> HostMetrics:
    """One poll's whole output."""
    sections = split_sections(text)
    if "end" not in sections:
        raise ParseError("output was cut short (no end marker)")
    _require(sections, "stat", "meminfo", "loadavg", "uptime")
    cpu_times, cpu_count = parse_proc_stat(sections["stat"])
    memory, swap = parse_meminfo(sections["meminfo"])
    previous = sections.get("stat0")
    return HostMetrics(
        cpu_percent=None,
        cpu_times=cpu_times,
        cpu_count=cpu_count,
        load=parse_loadavg(sections["loadavg"]),
        memory=memory,
        swap=swap,
        uptime_seconds=parse_uptime(sections["uptime"]),
        disks=with_inodes(parse_df(sections.get("df", "")), sections.get("dfi", "")),
        network=parse_net_dev(sections.get("netdev", "")),
        cpu_times_previous=None if previous is None else parse_cpu_line(previous),
    )


def parse_system_info(text: str) -> SystemInfo:
    sections = split_sections(text)
    if "end" not in sections:
        raise ParseError("system info output was cut short (no end marker)")
    _require(sections, "hostname", "kernel")
    return SystemInfo(
        hostname=_single_line(sections, "hostname"),
        kernel=_single_line(sections, "kernel"),
        os_name=_os_name(_os_release(sections.get("os-release", ""))),
    )


# --- /proc/stat ---------------------------------------------------------------------------


def parse_proc_stat(body: str) -> tuple[CpuTimes, int]:
    """The aggregate ``cpu`` line and the number of ``cpuN`` lines (at least 1)."""
    aggregate: CpuTimes | None = None
    cpus: set[str] = set()
    for line in _lines(body):
        if not line.lstrip().startswith("cpu"):
            continue  # intr, ctxt, softirq...: not used, and the intr line is long
        fields = line.split()
        label = fields[0]
        if label == "cpu":
            if aggregate is not None:
                raise ParseError("stat: two aggregate cpu lines")
            aggregate = _cpu_times(fields[1:], "stat")
        elif _CPU_N_RE.fullmatch(label):
            cpus.add(label)
    if aggregate is None:
        raise ParseError("stat: no aggregate cpu line")
    return aggregate, max(len(cpus), 1)


def parse_cpu_line(body: str) -> CpuTimes:
    """The ``stat0`` section: just the first line of /proc/stat."""
    rows = list(_rows(body))
    if len(rows) != 1 or rows[0][0] != "cpu":
        raise ParseError("stat0: expected only the aggregate cpu line")
    return _cpu_times(rows[0][1:], "stat0")


def _cpu_times(values: list[str], section: str) -> CpuTimes:
    # Columns: user nice system idle [iowait irq softirq [steal [guest [guest_nice]]]];
    # kernels before 2.6 print only the first four. guest and guest_nice are already
    # counted in user and nice, so they are validated but not kept.
    if len(values) < 4:
        raise ParseError(f"{section}: cpu line has {len(values)} fields, expected at least 4")
    numbers = _ints(values, section)
    return CpuTimes(*numbers[:8])


# --- /proc/meminfo ------------------------------------------------------------------------


def parse_meminfo(body: str) -> tuple[MemoryUsage, SwapUsage]:
    values = _meminfo_values(body)
    total = values.get("MemTotal", 0)
    if total == 0:
        raise ParseError("meminfo: MemTotal missing or zero")
    available = values.get("MemAvailable")
    if available is None:
        available = _estimate_available(values)
    swap_total = values.get("SwapTotal", 0)
    swap_free = min(values.get("SwapFree", 0), swap_total)
    return MemoryUsage(total, min(available, total)), SwapUsage(swap_total, swap_free)


def _meminfo_values(body: str) -> dict[str, int]:
    """The keys we use, in bytes. Other lines only need the ``Key: ...`` shape."""
    values: dict[str, int] = {}
    for line in _lines(body):
        if not line.strip():
            continue
        key, colon, rest = line.partition(":")
        if not colon:
            raise ParseError(f"meminfo: malformed line {_excerpt(line)}")
        if key not in _MEMINFO_KEYS:
            continue
        if key in values:
            raise ParseError(f"meminfo: {key} appears twice")
        fields = rest.split()
        if len(fields) != 2 or fields[1] != "kB":
            raise ParseError(f"meminfo: {key} is not a kB value: {_excerpt(rest)}")
        values[key] = _kib(fields[0], "meminfo")
    return values


def _estimate_available(values: dict[str, int]) -> int:
    """MemAvailable appeared in Linux 3.14; before that, estimate it as ``free`` did."""
    if "MemFree" not in values:
        raise ParseError("meminfo: neither MemAvailable nor MemFree present")
    reclaimable = ("MemFree", "Buffers", "Cached", "SReclaimable")
    return sum(values.get(key, 0) for key in reclaimable)


# --- /proc/loadavg, /proc/uptime ----------------------------------------------------------


def parse_loadavg(body: str) -> LoadAverage:
    fields = _single_row(body, "loadavg")
    if len(fields) < 3:
        raise ParseError("loadavg: expected three load figures")
    one, five, fifteen = (_float(field, "loadavg", _MAX_LOAD) for field in fields[:3])
    return LoadAverage(one, five, fifteen)


def parse_uptime(body: str) -> float:
    """Seconds since boot: the first figure of /proc/uptime."""
    return _float(_single_row(body, "uptime")[0], "uptime", _MAX_UPTIME_SECONDS)


# --- /proc/net/dev ------------------------------------------------------------------------


def parse_net_dev(body: str) -> tuple[NetworkCounters, ...]:
    """Byte counters per interface, without loopback and container ``veth`` pairs."""
    lines = [line for line in _lines(body) if line.strip()]
    if not lines:
        return ()
    if len(lines) < 2 or "|" not in lines[0] or "|" not in lines[1]:
        raise ParseError("netdev: the two header lines are missing")
    counters: dict[str, NetworkCounters] = {}
    for line in lines[2:]:
        counter = _net_dev_row(line)
        if counter.interface in counters:
            raise ParseError(f"netdev: interface {_excerpt(counter.interface)} appears twice")
        counters[counter.interface] = counter
    return tuple(
        counters[name] for name in sorted(counters) if name != "lo" and not name.startswith("veth")
    )


def _net_dev_row(line: str) -> NetworkCounters:
    # "  eth0: 1234 ..." or, with wide counters, "eth0:1234 ..."; names cannot hold ':'.
    name, colon, rest = line.partition(":")
    name = name.strip()
    fields = rest.split()
    if not colon or not name or len(name.split()) != 1 or len(fields) < 16:
        raise ParseError(f"netdev: malformed line {_excerpt(line)}")
    numbers = _ints(fields, "netdev")
    return NetworkCounters(_printable(name, "netdev"), rx_bytes=numbers[0], tx_bytes=numbers[8])


# --- df -kPT ------------------------------------------------------------------------------


def parse_df(body: str) -> tuple[DiskUsage, ...]:
    """Real filesystems from ``df -kPT`` (GNU or busybox), one per mount point, by mount."""
    disks: dict[str, DiskUsage] = {}
    for row in _df_rows(body, "df"):
        device, fstype, mount, sizes = row
        total, used, available = (_kib(size, "df") for size in sizes)
        disk = DiskUsage(mount, fstype, total, used, available)
        if _is_real_disk(device, disk) and disk.mount not in disks:
            disks[disk.mount] = disk
    return tuple(disks[mount] for mount in sorted(disks))


def with_inodes(disks: tuple[DiskUsage, ...], body: str) -> tuple[DiskUsage, ...]:
    """The disks with their inode counts from ``df -iPT`` (the ``dfi`` section), where it
    lists their mount point. Without that section (older recordings, a ``df`` without
    ``-i``) the disks stay as they are."""
    inodes: dict[str, tuple[int, int]] = {}
    for _, _, mount, sizes in _df_rows(body, "dfi"):
        total, used, _ = (_int(size, "dfi") for size in sizes)
        inodes.setdefault(mount, (total, min(used, total)))
    return tuple(
        replace(disk, inodes_total=inodes[disk.mount][0], inodes_used=inodes[disk.mount][1])
        if disk.mount in inodes
        else disk
        for disk in disks
    )


_DfRow = tuple[str, str, str, list[str]]
"""(device, type, mount point, the three size columns)."""


def _df_rows(body: str, section: str) -> Iterator[_DfRow]:
    """The rows of ``df -PT`` output with all three sizes known."""
    lines = [line for line in _lines(body) if line.strip()]
    if not lines:
        return
    if not lines[0].startswith("Filesystem"):
        raise ParseError(f"{section}: header line missing, got {_excerpt(lines[0])}")
    for line in lines[1:]:
        row = _df_row(line, section)
        if row is not None:
            yield row


def _df_row(line: str, section: str) -> _DfRow | None:
    """One df line; None when df printed ``-`` for an unknown size.

    Device and mount point may both contain spaces, so the row is anchored on the run
    ``<type> <size> <used> <avail> <capacity%> /...`` rather than on column positions.
    """
    fields = line.split()
    if len(fields) == 7 and not line[-1].isspace():
        # The usual line: no spaces inside the device or the mount point.
        i = _df_capacity_column(line, fields, section)
        device, mount = fields[0], fields[6]
    else:
        tokens = list(_TOKEN_RE.finditer(line))
        fields = [token.group() for token in tokens]
        i = _df_capacity_column(line, fields, section)
        device = line[tokens[0].start() : tokens[i - 5].end()]
        mount = line[tokens[i + 1].start() :]
    sizes = fields[i - 3 : i]
    if "-" in sizes:
        return None
    return device, _printable(fields[i - 4], section), _printable(mount, section), sizes


def _df_capacity_column(line: str, fields: list[str], section: str) -> int:
    for i in range(5, len(fields) - 1):
        if (
            _is_df_capacity(fields[i])
            and fields[i + 1].startswith("/")
            and all(_is_df_size(size) for size in fields[i - 3 : i])
        ):
            return i
    raise ParseError(f"{section}: malformed line {_excerpt(line)}")


def _is_df_size(field: str) -> bool:
    """``[0-9]{1,19}`` or ``-``."""
    return field == "-" or (len(field) <= 19 and field.isascii() and field.isdigit())


def _is_df_capacity(field: str) -> bool:
    """``[0-9]{1,3}%`` or ``-``."""
    if field == "-":
        return True
    digits = field[:-1]
    return field.endswith("%") and 1 <= len(digits) <= 3 and digits.isascii() and digits.isdigit()


def _is_real_disk(device: str, disk: DiskUsage) -> bool:
    if disk.total_bytes == 0 or disk.fstype in _PSEUDO_FSTYPES:
        return False
    if disk.fstype in _UNION_FSTYPES and disk.mount != "/":
        return False
    if device.startswith(_RAM_DISK_DEVICE_PREFIXES):
        return False
    return not disk.mount.startswith(_NOISE_MOUNT_PREFIXES)


# --- system info --------------------------------------------------------------------------


def _single_line(sections: dict[str, str], name: str) -> str:
    rows = [line.strip() for line in _lines(sections[name]) if line.strip()]
    if len(rows) != 1:
        raise ParseError(f"{name}: expected one line, got {len(rows)}")
    value = rows[0]
    if len(value) > _MAX_NAME_CHARS or not value.isprintable():
        raise ParseError(f"{name}: implausible value {_excerpt(value)}")
    return value


def _os_release(body: str) -> dict[str, str]:
    """KEY=value pairs of os-release; lines that are not valid assignments are skipped."""
    values: dict[str, str] = {}
    for line in _lines(body):
        assignment = _OS_RELEASE_RE.fullmatch(line.strip())
        if assignment is None:
            continue
        value = _unquote(assignment.group(2))
        if value is not None:
            values[assignment.group(1)] = value
    return values


def _unquote(raw: str) -> str | None:
    """Shell-style value as os-release(5) allows it; None when the quoting is broken."""
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return re.sub(r'\\([$"\\`])', r"\1", raw[1:-1])
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    if raw.startswith(("'", '"')):
        return None
    return re.sub(r"\\(.)", r"\1", raw)


def _os_name(release: dict[str, str]) -> str:
    name = release.get("NAME", "").strip()
    version = release.get("VERSION", "").strip()
    candidates = (release.get("PRETTY_NAME", "").strip(), f"{name} {version}".strip())
    for candidate in candidates:
        if candidate and len(candidate) <= _MAX_NAME_CHARS and candidate.isprintable():
            return candidate
    return "Linux"


# --- helpers ------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    # Only "\n" separates lines: str.splitlines() would also split on characters such as
    # \x1c or \u2028 that may legitimately occur inside a mount point.
    return [line.removesuffix("\r") for line in text.split("\n")]


def _rows(body: str) -> Iterator[list[str]]:
    """Whitespace-split fields of each non-blank line."""
    for line in _lines(body):
        fields = line.split()
        if fields:
            yield fields


def _single_row(body: str, section: str) -> list[str]:
    rows = list(_rows(body))
    if len(rows) != 1:
        raise ParseError(f"{section}: expected one line, got {len(rows)}")
    return rows[0]


def _require(sections: dict[str, str], *names: str) -> None:
    missing = [name for name in names if name not in sections]
    if missing:
        raise ParseError(f"section(s) missing: {', '.join(missing)}")


def _int(token: str, section: str) -> int:
    if len(token) > 19 or not (token.isascii() and token.isdigit()):  # [0-9]{1,19}
        raise ParseError(f"{section}: not a counter: {_excerpt(token)}")
    value = int(token)
    if value > MAX_INT:
        raise ParseError(f"{section}: value out of range: {_excerpt(token)}")
    return value


def _ints(tokens: list[str], section: str) -> list[int]:
    """``_int`` of each token, checked in one pass when they are all plain counters."""
    joined = "".join(tokens)
    if tokens and joined.isascii() and joined.isdigit() and max(map(len, tokens)) < 19:
        return list(map(int, tokens))  # at most 18 digits: below MAX_INT
    return [_int(token, section) for token in tokens]


def _kib(token: str, section: str) -> int:
    value = _int(token, section) * 1024
    if value > MAX_INT:
        raise ParseError(f"{section}: value out of range: {_excerpt(token)}")
    return value


def _float(token: str, section: str, limit: float) -> float:
    if _FLOAT_RE.fullmatch(token) is None:
        raise ParseError(f"{section}: not a number: {_excerpt(token)}")
    value = float(token)
    if not math.isfinite(value) or value > limit:
        raise ParseError(f"{section}: value out of range: {_excerpt(token)}")
    return value


def _printable(text: str, section: str) -> str:
    """Control and unencodable characters (e.g. lone surrogates from a non-UTF-8 mount
    name) replaced by ``?``, as GNU df does, so the value can always be stored."""
    if len(text) > _MAX_MOUNT_CHARS:
        raise ParseError(f"{section}: name too long")
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else "?" for char in text)


def _excerpt(text: str, limit: int = 40) -> str:
    return repr(text[:limit]) + ("..." if len(text) > limit else "")
