"""Property tests for procfs_parsers: whatever a host prints, the parsers either return values
that are sane to store or raise ParseError, and well-formed output parses back exactly."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpshealth.collectors.procfs_parsers import (
    parse_cpu_line,
    parse_df,
    parse_loadavg,
    parse_meminfo,
    parse_net_dev,
    parse_proc_stat,
    parse_snapshot,
    parse_system_info,
    parse_uptime,
    split_sections,
)
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

FIXTURES = Path(__file__).parent.parent / "fixtures" / "procfs"
SNAPSHOT_TEXTS = [
    path.read_text() for path in sorted(FIXTURES.glob("*.txt")) if "sysinfo" not in path.name
]
SYSINFO_TEXTS = [path.read_text() for path in sorted(FIXTURES.glob("sysinfo_*.txt"))]
FIXTURE_LINES = sorted(
    {line for text in SNAPSHOT_TEXTS + SYSINFO_TEXTS for line in text.split("\n")}
)
SECTIONS = ["stat0", "stat", "meminfo", "loadavg", "uptime", "netdev", "df", "end"]
MARKER_LINES = [f"@@vpshealth:{name}" for name in [*SECTIONS, "hostname", "kernel", "os-release"]]
END_LINE = re.compile(r"^@@vpshealth:end\r?$", re.MULTILINE)
MAX_INT = 2**63 - 1
KIB = 1024

PARSERS: list[Callable[[str], object]] = [
    split_sections,
    parse_proc_stat,
    parse_cpu_line,
    parse_meminfo,
    parse_loadavg,
    parse_uptime,
    parse_net_dev,
    parse_df,
    parse_snapshot,
    parse_system_info,
]

FUZZ = settings(max_examples=200, deadline=None)

weird_chars = st.one_of(
    st.characters(),
    st.characters(categories=["Cs", "Cc", "Zs", "Zl", "Zp", "Nd"]),
    st.sampled_from(" \t\r\n:%/-.@"),
)
lines = st.one_of(
    st.text(weird_chars, max_size=60),
    st.sampled_from(MARKER_LINES),
    st.sampled_from(FIXTURE_LINES),
)
texts = st.one_of(
    st.text(weird_chars, max_size=400),
    st.lists(lines, max_size=40).map("\n".join),
)


def parse_or_none(parser: Callable[[str], object], text: str) -> object:
    try:
        return parser(text)
    except ParseError:
        return None


def assert_storable(value: object) -> None:
    """Every number finite, non-negative and within SQLite's integers; strings printable."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            assert_storable(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            assert_storable(item)
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        assert 0 <= value <= MAX_INT
    elif isinstance(value, float):
        assert math.isfinite(value)
        assert value >= 0
    elif isinstance(value, str):
        value.encode("utf-8")  # no lone surrogates


def assert_sane_snapshot(snap: HostMetrics) -> None:
    assert_storable(snap)
    assert snap.cpu_count >= 1
    assert snap.memory.total_bytes > 0
    assert snap.memory.available_bytes <= snap.memory.total_bytes
    assert snap.swap.free_bytes <= snap.swap.total_bytes
    disk_mounts = [disk.mount for disk in snap.disks]
    assert disk_mounts == sorted(set(disk_mounts))
    for disk in snap.disks:
        assert disk.mount.startswith("/")
        assert disk.mount.isprintable()
        assert disk.total_bytes > 0
        assert (disk.inodes_total is None) is (disk.inodes_used is None)
        if disk.inodes_total is not None and disk.inodes_used is not None:
            assert disk.inodes_used <= disk.inodes_total
        percent = disk.inodes_percent
        assert percent is None or 0 <= percent <= 100
    names = [counter.interface for counter in snap.network]
    assert names == sorted(set(names))
    assert not any(name == "lo" or name.startswith("veth") for name in names)


# --- (a) arbitrary text -------------------------------------------------------------------


@FUZZ
@given(parser=st.sampled_from(PARSERS), text=texts)
def test_any_text_returns_or_raises_parse_error(parser: Callable[[str], object], text: str) -> None:
    result = parse_or_none(parser, text)
    if isinstance(result, HostMetrics):
        assert_sane_snapshot(result)
    elif isinstance(result, dict):  # split_sections: raw bodies, never stored
        assert all(isinstance(body, str) for body in result.values())
    elif result is not None:
        assert_storable(result)


@FUZZ
@given(text=texts)
def test_arbitrary_text_inside_sections(text: str) -> None:
    for template in SNAPSHOT_TEXTS[:2]:
        for section in ("stat", "meminfo", "netdev", "df"):
            marker = f"@@vpshealth:{section}\n"
            result = parse_or_none(parse_snapshot, template.replace(marker, marker + text + "\n"))
            if isinstance(result, HostMetrics):
                assert_sane_snapshot(result)


# --- (b) mutated fixtures -----------------------------------------------------------------

BAD_NUMBERS = [
    "-1",
    "-0",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e400",
    "1e5",
    "0x1f",
    "1_000",
    "",
    " ",
    "x",
    "\u0661\u0662",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "9" * 40,
    "9" * 5000,
    "0.5",
    "1.2.3",
]
NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def delete_line(draw: st.DrawFn, text: str) -> str:
    rows = text.split("\n")
    del rows[draw(st.integers(0, len(rows) - 1))]
    return "\n".join(rows)


def duplicate_line(draw: st.DrawFn, text: str) -> str:
    rows = text.split("\n")
    index = draw(st.integers(0, len(rows) - 1))
    rows.insert(index, rows[index])
    return "\n".join(rows)


def insert_chars(draw: st.DrawFn, text: str) -> str:
    position = draw(st.integers(0, len(text)))
    return text[:position] + draw(st.text(weird_chars, min_size=1, max_size=5)) + text[position:]


def truncate(draw: st.DrawFn, text: str) -> str:
    return text[: draw(st.integers(0, len(text)))]


def replace_number(draw: st.DrawFn, text: str) -> str:
    numbers = list(NUMBER.finditer(text))
    if not numbers:
        return text
    match = draw(st.sampled_from(numbers))
    replacement = draw(st.one_of(st.sampled_from(BAD_NUMBERS), st.integers(0, 2**80).map(str)))
    return text[: match.start()] + replacement + text[match.end() :]


MUTATIONS = [delete_line, duplicate_line, insert_chars, truncate, replace_number]


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SNAPSHOT_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        mutation = draw(st.sampled_from(MUTATIONS))
        text = mutation(draw, text)
    return text


@FUZZ
@given(text=mutated_fixtures())
def test_mutated_fixture_is_rejected_or_sane(text: str) -> None:
    result = parse_or_none(parse_snapshot, text)
    if result is not None:
        assert isinstance(result, HostMetrics)
        assert_sane_snapshot(result)


@FUZZ
@given(text=st.sampled_from(SNAPSHOT_TEXTS), data=st.data())
def test_truncated_output_is_always_rejected(text: str, data: st.DataObject) -> None:
    cut = text[: data.draw(st.integers(0, len(text)))]
    if END_LINE.search(cut) is None:
        with pytest.raises(ParseError):
            parse_snapshot(cut)
    else:
        assert_sane_snapshot(parse_snapshot(cut))


@FUZZ
@given(
    text=st.sampled_from(SNAPSHOT_TEXTS),
    bad=st.sampled_from(
        [b for b in BAD_NUMBERS if b.strip() and not NUMBER.fullmatch(b)]
        + ["9" * 25, "9223372036854775808", "18446744073709551615"]
    ),
    field=st.sampled_from(["MemTotal:", "\ncpu ", "@@vpshealth:loadavg\n", "@@vpshealth:uptime\n"]),
)
def test_garbage_in_a_stored_number_is_rejected(text: str, bad: str, field: str) -> None:
    start = text.index(field) + len(field)
    number = NUMBER.search(text, start)
    assert number is not None
    with pytest.raises(ParseError):
        parse_snapshot(text[: number.start()] + bad + text[number.end() :])


# --- (c) round trip -----------------------------------------------------------------------

counters = st.integers(0, 2**62)
kib_values = st.integers(0, 2**40)
hundredths = st.integers(0, 10**7)


def from_hundredths(value: int) -> float:
    return value / 100


def render_hundredths(value: float) -> str:
    whole = round(value * 100)
    return f"{whole // 100}.{whole % 100:02d}"


cpu_times = st.builds(CpuTimes, *([counters] * 8))
mount_segments = st.text(st.sampled_from("abcxyzABC019_.- "), min_size=1, max_size=12).filter(
    lambda segment: segment.strip(". ") != ""
)
mount_points = st.builds(
    lambda base, segments: base + "/".join(segments),
    st.sampled_from(["/", "/srv/", "/mnt/", "/data/", "/home/"]),
    st.lists(mount_segments, max_size=3),
)


@st.composite
def disks(draw: st.DrawFn) -> tuple[str, DiskUsage]:
    device = draw(st.sampled_from(["/dev/sda1", "/dev/mapper/vg-root", "nas:/export", "tank"]))
    disk = DiskUsage(
        mount=draw(mount_points),
        fstype=draw(st.sampled_from(["ext4", "xfs", "btrfs", "vfat", "zfs", "nfs4", "fuse.sshfs"])),
        total_bytes=draw(st.integers(1, 2**40)) * KIB,
        used_bytes=draw(kib_values) * KIB,
        available_bytes=draw(kib_values) * KIB,
    )
    inodes = draw(st.none() | st.integers(0, 2**40))
    if inodes is not None:
        disk = replace(disk, inodes_total=inodes, inodes_used=draw(st.integers(0, inodes)))
    return device, disk


interfaces = st.builds(
    NetworkCounters,
    st.from_regex(r"[a-z][a-z0-9_.-]{0,14}", fullmatch=True).filter(
        lambda name: name != "lo" and not name.startswith("veth")
    ),
    counters,
    counters,
)


@st.composite
def snapshots(draw: st.DrawFn) -> tuple[HostMetrics, list[str]]:
    """A snapshot plus the device name of each of its disks."""
    total = draw(st.integers(1, 2**40))
    swap_total = draw(kib_values)
    disk_rows = draw(st.lists(disks(), max_size=6, unique_by=lambda row: row[1].mount))
    snap = HostMetrics(
        cpu_percent=None,
        cpu_times=draw(cpu_times),
        cpu_count=draw(st.integers(1, 128)),
        load=LoadAverage(*(from_hundredths(draw(hundredths)) for _ in range(3))),
        memory=MemoryUsage(total * KIB, draw(st.integers(0, total)) * KIB),
        swap=SwapUsage(swap_total * KIB, draw(st.integers(0, swap_total)) * KIB),
        uptime_seconds=from_hundredths(draw(st.integers(0, 10**11))),
        disks=tuple(disk for _, disk in disk_rows),
        network=tuple(
            draw(st.lists(interfaces, max_size=6, unique_by=lambda counter: counter.interface))
        ),
        cpu_times_previous=draw(st.none() | cpu_times),
    )
    return snap, [device for device, _ in disk_rows]


def render_cpu_line(label: str, times: CpuTimes) -> str:
    values = [getattr(times, field.name) for field in dataclasses.fields(times)]
    return f"{label} " + " ".join(map(str, [*values, 0, 0]))


def render_snapshot(snap: HostMetrics, devices: list[str]) -> str:
    out: list[str] = ["Last login: yesterday"]
    if snap.cpu_times_previous is not None:
        out += ["@@vpshealth:stat0", render_cpu_line("cpu ", snap.cpu_times_previous)]
    out += ["@@vpshealth:stat", render_cpu_line("cpu ", snap.cpu_times)]
    out += [render_cpu_line(f"cpu{n}", CpuTimes(0, 0, 0, 0)) for n in range(snap.cpu_count)]
    out += ["intr 12345 0 0", "ctxt 999", "btime 1700000000", "processes 12"]
    out += [
        "@@vpshealth:meminfo",
        f"MemTotal:       {snap.memory.total_bytes // KIB} kB",
        "MemFree:              1 kB",
        f"MemAvailable:   {snap.memory.available_bytes // KIB} kB",
        "Buffers:              0 kB",
        "Cached:               0 kB",
        f"SwapTotal:      {snap.swap.total_bytes // KIB} kB",
        f"SwapFree:       {snap.swap.free_bytes // KIB} kB",
        "HugePages_Total:       0",
    ]
    load = " ".join(
        render_hundredths(v) for v in (snap.load.one, snap.load.five, snap.load.fifteen)
    )
    out += ["@@vpshealth:loadavg", f"{load} 1/100 4242"]
    uptime = render_hundredths(snap.uptime_seconds)
    out += ["@@vpshealth:uptime", f"{uptime} {uptime}"]
    out += [
        "@@vpshealth:netdev",
        "Inter-|   Receive                                                |  Transmit",
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets",
        "    lo:    100       1    0    0    0     0          0         0      100       1"
        "    0    0    0     0       0          0",
    ]
    for counter in reversed(snap.network):
        zeros = " 0" * 7
        out.append(f"{counter.interface:>6}: {counter.rx_bytes}{zeros} {counter.tx_bytes}{zeros}")
    out += ["@@vpshealth:df", "Filesystem Type 1024-blocks Used Available Capacity Mounted on"]
    out.append("tmpfs tmpfs 1000 0 1000 0% /run")
    for device, disk in zip(devices, snap.disks, strict=True):
        used, available = disk.used_bytes // KIB, disk.available_bytes // KIB
        capacity = f"{math.ceil(100 * used / (used + available))}%" if used + available else "-"
        out.append(
            f"{device}  {disk.fstype} {disk.total_bytes // KIB} {used} {available} "
            f"{capacity} {disk.mount}"
        )
    counted = [(device, disk) for device, disk in zip(devices, snap.disks, strict=True)]
    counted = [(device, disk) for device, disk in counted if disk.inodes_total is not None]
    if counted:  # without inode counts the section is left out, as by an older df
        out += ["@@vpshealth:dfi", "Filesystem Type Inodes IUsed IFree IUse% Mounted on"]
        out.append("tmpfs tmpfs 1000 1 999 1% /run")
        for device, disk in counted:
            total, used = disk.inodes_total or 0, disk.inodes_used or 0
            share = f"{math.ceil(100 * used / total)}%" if total else "-"
            out.append(f"{device} {disk.fstype} {total} {used} {total - used} {share} {disk.mount}")
    out.append("@@vpshealth:end")
    return "\n".join(out) + "\n"


def normalised(snap: HostMetrics) -> HostMetrics:
    return dataclasses.replace(
        snap,
        disks=tuple(sorted(snap.disks, key=lambda disk: disk.mount)),
        network=tuple(sorted(snap.network, key=lambda counter: counter.interface)),
    )


@FUZZ
@given(generated=snapshots())
def test_round_trip(generated: tuple[HostMetrics, list[str]]) -> None:
    snap, devices = generated
    assert parse_snapshot(render_snapshot(snap, devices)) == normalised(snap)


os_names = st.text(
    st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"], exclude_characters="\n"),
    min_size=1,
    max_size=60,
).filter(lambda name: name.strip() == name and name.isprintable())


def shell_double_quote(value: str) -> str:
    return '"' + re.sub(r'([$"\\`])', r"\\\1", value) + '"'


@FUZZ
@given(
    hostname=st.from_regex(r"[a-z0-9][a-z0-9.-]{0,62}", fullmatch=True),
    kernel=st.from_regex(r"[0-9]\.[0-9]{1,2}\.[0-9]{1,3}-[a-z0-9.+_-]{1,20}", fullmatch=True),
    os_name=os_names,
)
def test_system_info_round_trip(hostname: str, kernel: str, os_name: str) -> None:
    text = "\n".join(
        [
            "@@vpshealth:hostname",
            hostname,
            "@@vpshealth:kernel",
            kernel,
            "@@vpshealth:os-release",
            'NAME="Something"',
            f"PRETTY_NAME={shell_double_quote(os_name)}",
            "ID=x",
            "@@vpshealth:end",
            "",
        ]
    )
    assert parse_system_info(text) == SystemInfo(hostname, kernel, os_name)


def test_fuzz_targets_are_present() -> None:
    assert len(SNAPSHOT_TEXTS) >= 10
    assert len(SYSINFO_TEXTS) >= 2
    assert all(END_LINE.search(text) for text in SNAPSHOT_TEXTS)


# --- (d) the fast paths agree with the plain reading ----------------------------------------


def split_sections_line_by_line(text: str) -> dict[str, list[str]]:
    """The straightforward reading of the section format, line by line, as the reference."""
    sections: dict[str, list[str]] = {}
    body: list[str] | None = None
    for line in (line.removesuffix("\r") for line in text.split("\n")):
        marker = re.fullmatch(r"@@vpshealth:([a-z0-9][a-z0-9-]{0,31})", line)
        if marker is None:
            if body is not None:
                body.append(line)
            continue
        if marker.group(1) in sections:
            raise ParseError("twice")
        body = sections[marker.group(1)] = []
    return sections


near_markers = st.sampled_from(
    ["@@vpshealth:", "@@vpshealth:Stat", "@@vpshealth:a b", "@@vpshealth:end\r\r", "x@@vpshealth:a"]
)
section_texts = st.one_of(
    texts, st.lists(st.one_of(lines, near_markers), max_size=40).map("\n".join)
)


@FUZZ
@given(text=section_texts)
def test_split_sections_agrees_with_reading_line_by_line(text: str) -> None:
    try:
        expected = split_sections_line_by_line(text)
    except ParseError:
        with pytest.raises(ParseError):
            split_sections(text)
        return
    got = split_sections(text)
    assert {
        name: [line.removesuffix("\r") for line in body.split("\n")] for name, body in got.items()
    } == {name: body or [""] for name, body in expected.items()}


df_spaces = st.sampled_from([" ", "  ", "\t", " \u2028"])


@FUZZ
@given(generated=disks(), trailing=df_spaces)
def test_df_line_with_trailing_blanks_reads_the_same(
    generated: tuple[str, DiskUsage], trailing: str
) -> None:
    device, disk = generated
    header = "Filesystem     Type     1024-blocks     Used Available Capacity Mounted on"
    line = (
        f"{device} {disk.fstype} {disk.total_bytes // KIB} {disk.used_bytes // KIB} "
        f"{disk.available_bytes // KIB} 50% {disk.mount}"
    )
    plain = parse_or_none(parse_df, f"{header}\n{line}")
    padded = parse_or_none(parse_df, f"{header}\n{line}{trailing}")
    if plain is None or padded is None:
        assert plain == padded
        return
    assert isinstance(plain, tuple)
    assert isinstance(padded, tuple)
    shown = "".join(char if char.isprintable() else "?" for char in trailing)  # as df does
    assert [replace(disk, mount=disk.mount + shown) for disk in plain] == list(padded)
