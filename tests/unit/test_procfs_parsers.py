"""procfs_parsers against recorded and reconstructed outputs (tests/fixtures/procfs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpshealth.collectors import remote_commands
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
    with_inodes,
)
from vpshealth.domain.errors import ParseError
from vpshealth.domain.metric_catalog import INODES
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
from vpshealth.domain.series import flatten, resolve_metric

FIXTURES = Path(__file__).parent.parent / "fixtures" / "procfs"
KIB = 1024


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def snapshot(name: str) -> HostMetrics:
    return parse_snapshot(fixture(name))


def mounts(snap: HostMetrics) -> list[str]:
    return [disk.mount for disk in snap.disks]


def interfaces(snap: HostMetrics) -> list[str]:
    return [counter.interface for counter in snap.network]


def disk(snap: HostMetrics, mount: str) -> DiskUsage:
    return next(d for d in snap.disks if d.mount == mount)


# --- recorded on the development VM -------------------------------------------------------


def test_debian12_first_poll_recorded() -> None:
    snap = snapshot("debian12_first_poll.txt")
    assert snap.cpu_times == CpuTimes(6703, 0, 3917, 66761, 660, 0, 207, 498)
    assert snap.cpu_times_previous == CpuTimes(6703, 0, 3916, 66661, 660, 0, 207, 497)
    assert snap.cpu_count == 2
    assert snap.load == LoadAverage(0.07, 0.16, 0.09)
    assert snap.memory == MemoryUsage(24683656 * KIB, 24336920 * KIB)
    assert snap.swap == SwapUsage(0, 0)
    assert snap.uptime_seconds == 394.52
    assert snap.disks == (DiskUsage("/", "ext4", 264212084 * KIB, 23377952 * KIB, 83012960 * KIB),)
    assert interfaces(snap) == ["eth0", "ifb0", "ifb1"]
    assert snap.network[0] == NetworkCounters("eth0", 188691180, 395002)


def test_debian12_poll_has_no_previous_sample() -> None:
    snap = snapshot("debian12_poll.txt")
    assert snap.cpu_times_previous is None
    assert snap.cpu_times.total == 6703 + 3918 + 66762 + 660 + 207 + 498
    assert mounts(snap) == ["/"]


def test_busybox_df_recorded_drops_duplicate_and_pseudo_mounts() -> None:
    snap = snapshot("debian12_busybox_df.txt")
    assert snap.disks == (DiskUsage("/", "ext4", 264212084 * KIB, 23377956 * KIB, 83012956 * KIB),)


@pytest.mark.parametrize(
    "name", ["debian12_mount_spaces.txt", "debian12_mount_spaces_busybox_df.txt"]
)
def test_mount_points_with_spaces_recorded(name: str) -> None:
    snap = snapshot(name)
    assert mounts(snap) == ["/", "/tmp/vh-rec/my backup disk", "/tmp/vh-rec/two  spaces"]
    assert disk(snap, "/tmp/vh-rec/two  spaces") == DiskUsage(
        "/tmp/vh-rec/two  spaces", "ext4", 14073 * KIB, 3014 * KIB, 9913 * KIB
    )


def test_system_info_debian12_recorded() -> None:
    assert parse_system_info(fixture("sysinfo_debian12.txt")) == SystemInfo(
        hostname="vm", kernel="6.18.44-fc-v782", os_name="Debian GNU/Linux 12 (bookworm)"
    )


# --- reconstructed -----------------------------------------------------------------------


def test_ubuntu2204_drops_snap_loops_and_run_tmpfs() -> None:
    snap = snapshot("ubuntu2204_snaps.txt")
    assert snap.memory.total_bytes == 4009960 * KIB
    assert snap.memory.available_bytes == 2874512 * KIB
    assert snap.cpu_count == 2
    assert mounts(snap) == ["/", "/boot/efi"]
    assert disk(snap, "/").total_bytes == 40470732 * KIB
    assert interfaces(snap) == ["ens3"]
    assert snap.network[0] == NetworkCounters("ens3", 48213765432, 9876543210)


def test_ubuntu2404_first_poll() -> None:
    snap = snapshot("ubuntu2404_first_poll.txt")
    assert snap.cpu_count == 4
    assert snap.cpu_times_previous is not None
    assert snap.cpu_times.total - snap.cpu_times_previous.total == 800
    assert snap.cpu_times.idle - snap.cpu_times_previous.idle == 400
    assert snap.swap == SwapUsage(4194300 * KIB, 4059132 * KIB)
    assert mounts(snap) == ["/", "/boot", "/boot/efi"]  # efivarfs and snaps dropped
    assert disk(snap, "/boot") == DiskUsage(
        "/boot", "ext4", 901520 * KIB, 77084 * KIB, 761308 * KIB
    )
    assert snap.load == LoadAverage(1.08, 0.87, 0.66)


def test_alpine_busybox() -> None:
    snap = snapshot("alpine319_busybox.txt")
    assert snap.cpu_count == 1
    assert snap.memory.total_bytes == 1004328 * KIB
    assert snap.swap.total_bytes == 1048572 * KIB
    assert mounts(snap) == ["/", "/boot"]
    assert disk(snap, "/").total_bytes == 19480400 * KIB
    assert interfaces(snap) == ["eth0"]
    assert snap.load == LoadAverage(0.0, 0.01, 0.05)


def test_centos7() -> None:
    snap = snapshot("centos7_kernel310.txt")
    assert snap.memory == MemoryUsage(1860024 * KIB, 1398120 * KIB)
    assert snap.cpu_times.steal == 0
    assert mounts(snap) == ["/", "/boot"]
    assert disk(snap, "/").fstype == "xfs"
    assert disk(snap, "/").total_bytes == 17811456 * KIB


def test_centos6_estimates_available_memory_and_reads_nine_columns() -> None:
    snap = snapshot("centos6_no_memavailable.txt")
    # MemFree + Buffers + Cached + SReclaimable
    assert snap.memory == MemoryUsage(1922680 * KIB, (312456 + 101232 + 812344 + 98765) * KIB)
    assert snap.cpu_times == CpuTimes(1813579, 2345, 622221, 196358023, 88888, 221, 12221, 4556)
    assert snap.cpu_count == 2
    assert snap.swap == SwapUsage(4128764 * KIB, 4102140 * KIB)
    assert mounts(snap) == ["/", "/boot"]
    assert disk(snap, "/").total_bytes == 18069936 * KIB
    # glued "eth0:4819283746"
    assert snap.network == (NetworkCounters("eth0", 4819283746, 912345678),)


def test_hetzner_docker_host_drops_overlay_shm_and_veth() -> None:
    snap = snapshot("hetzner_docker_coolify.txt")
    assert mounts(snap) == ["/", "/boot/efi", "/mnt/HC_Volume_101234567"]
    assert disk(snap, "/mnt/HC_Volume_101234567").total_bytes == 10218772 * KIB
    assert interfaces(snap) == ["br-7f3a9c2e1b4d", "docker0", "enp7s0", "eth0"]
    assert snap.network[3] == NetworkCounters("eth0", 312345678901, 45678901234)
    assert snap.uptime_seconds == 1296000.12


def test_system_info_reconstructed() -> None:
    assert parse_system_info(fixture("sysinfo_ubuntu2404.txt")) == SystemInfo(
        "web-01.example.net", "6.8.0-45-generic", "Ubuntu 24.04.1 LTS"
    )
    assert parse_system_info(fixture("sysinfo_alpine319.txt")).os_name == "Alpine Linux v3.19"
    assert parse_system_info(fixture("sysinfo_centos6_no_os_release.txt")) == SystemInfo(
        "legacy-db", "2.6.32-431.el6.x86_64", "Linux"
    )


def test_every_fixture_parses() -> None:
    names = sorted(path.name for path in FIXTURES.glob("*.txt"))
    assert len(names) >= 14
    for name in names:
        if name.startswith("sysinfo_"):
            parse_system_info(fixture(name))
        else:
            parse_snapshot(fixture(name))


def test_marker_prefix_matches_the_commands() -> None:
    assert remote_commands.MARKER_PREFIX == "@@vpshealth:"


# --- sections -----------------------------------------------------------------------------


def test_split_sections_ignores_text_before_first_marker() -> None:
    text = "Welcome to Ubuntu!\n@@vpshealth:a\nx\ny\n@@vpshealth:b\n@@vpshealth:end\n"
    assert split_sections(text) == {"a": "x\ny", "b": "", "end": ""}


def test_split_sections_only_whole_lines_are_markers() -> None:
    text = "@@vpshealth:a\nfoo @@vpshealth:b\n@@vpshealth:b \n@@vpshealth:end\r\n"
    assert split_sections(text) == {"a": "foo @@vpshealth:b\n@@vpshealth:b ", "end": ""}


def test_duplicated_section_is_an_error() -> None:
    text = fixture("debian12_poll.txt").replace("@@vpshealth:df\n", "@@vpshealth:uptime\n")
    with pytest.raises(ParseError, match="'uptime' appears twice"):
        parse_snapshot(text)


def test_truncated_output_is_an_error() -> None:
    text = fixture("debian12_poll.txt")
    cut = text[: text.index("@@vpshealth:end")]
    with pytest.raises(ParseError, match="output was cut short"):
        parse_snapshot(cut)
    with pytest.raises(ParseError, match="cut short"):
        parse_system_info("@@vpshealth:hostname\nvm\n@@vpshealth:kernel\n6.1.0\n")


@pytest.mark.parametrize("section", ["stat", "meminfo", "loadavg", "uptime"])
def test_missing_required_section_is_an_error(section: str) -> None:
    text = fixture("debian12_poll.txt").replace(f"@@vpshealth:{section}\n", "")
    with pytest.raises(ParseError, match=section):
        parse_snapshot(text)


@pytest.mark.parametrize("section", ["netdev", "df"])
def test_optional_sections_may_be_empty_or_absent(section: str) -> None:
    text = fixture("debian12_poll.txt")
    start = text.index(f"@@vpshealth:{section}\n")
    end = text.index("@@vpshealth:", start + 1)
    emptied = text[: start + len(f"@@vpshealth:{section}\n")] + text[end:]
    removed = text[:start] + text[end:]
    for variant in (emptied, removed):
        snap = parse_snapshot(variant)
        assert (snap.network if section == "netdev" else snap.disks) == ()


def test_error_messages_do_not_echo_much_input() -> None:
    with pytest.raises(ParseError) as caught:
        parse_loadavg("x" * 5000 + " 1 2")
    assert len(str(caught.value)) < 100


# --- /proc/stat ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("cpu  1 2 3 4", CpuTimes(1, 2, 3, 4)),  # Linux 2.4
        ("cpu  1 2 3 4 5 6 7", CpuTimes(1, 2, 3, 4, 5, 6, 7)),  # 2.6.0
        ("cpu  1 2 3 4 5 6 7 8", CpuTimes(1, 2, 3, 4, 5, 6, 7, 8)),  # 2.6.11
        ("cpu  1 2 3 4 5 6 7 8 9 10", CpuTimes(1, 2, 3, 4, 5, 6, 7, 8)),  # guest ignored
        ("cpu  1 2 3 4 5 6 7 8 9 10 11 12", CpuTimes(1, 2, 3, 4, 5, 6, 7, 8)),  # future
    ],
)
def test_cpu_line_column_counts(line: str, expected: CpuTimes) -> None:
    assert parse_cpu_line(line + "\n") == expected
    assert parse_proc_stat(line) == (expected, 1)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "cpu0 1 2 3 4",
        "cpu  1 2 3",
        "cpu  1 2 3 -4",
        "cpu  1 2 3 4.5",
        "cpu  1 2 3 nan",
        "cpu  1 2 3 99999999999999999999",
        "cpu  1 2 3 9223372036854775808",
        "cpu  1 2 3 4\ncpu  1 2 3 4",
    ],
)
def test_bad_stat(body: str) -> None:
    with pytest.raises(ParseError, match=r"^stat"):
        parse_proc_stat(body)


def test_stat0_must_hold_only_the_aggregate_line() -> None:
    with pytest.raises(ParseError, match="stat0"):
        parse_cpu_line("cpu  1 2 3 4\ncpu0 1 2 3 4")


def test_cpu_count_counts_distinct_cpu_lines() -> None:
    body = "cpu  4 4 4 4\ncpu0 1 1 1 1\ncpu1 1 1 1 1\ncpu3 2 2 2 2\ncpufoo 1\nintr 1 2"
    assert parse_proc_stat(body)[1] == 3


def test_counter_at_the_storage_limit_is_accepted() -> None:
    assert parse_cpu_line(f"cpu  {2**63 - 1} 0 0 0").user == 2**63 - 1


# --- /proc/meminfo ------------------------------------------------------------------------


def test_meminfo_estimate_without_sreclaimable() -> None:
    body = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n"
    memory, swap = parse_meminfo(body)
    assert memory == MemoryUsage(1000 * KIB, 420 * KIB)
    assert swap == SwapUsage(0, 0)


def test_meminfo_clamps_available_and_swap_free() -> None:
    body = "MemTotal: 1000 kB\nMemAvailable: 5000 kB\nSwapTotal: 10 kB\nSwapFree: 20 kB\n"
    assert parse_meminfo(body) == (
        MemoryUsage(1000 * KIB, 1000 * KIB),
        SwapUsage(10 * KIB, 10 * KIB),
    )


@pytest.mark.parametrize(
    "body",
    [
        "",
        "MemFree: 10 kB",
        "MemTotal: 0 kB\nMemAvailable: 0 kB",
        "MemTotal: 100 kB",  # neither MemAvailable nor MemFree
        "MemTotal: 100\nMemFree: 10 kB",
        "MemTotal: 100 MB\nMemFree: 10 kB",
        "MemTotal: -100 kB\nMemFree: 10 kB",
        "MemTotal: 100 kB\nMemTotal: 100 kB\nMemFree: 1 kB",
        f"MemTotal: {2**63 // 1024 + 1} kB\nMemFree: 1 kB",
        "MemTotal 100 kB\nMemFree: 1 kB",
    ],
)
def test_bad_meminfo(body: str) -> None:
    with pytest.raises(ParseError, match=r"^meminfo"):
        parse_meminfo(body)


# --- loadavg, uptime ----------------------------------------------------------------------


def test_loadavg_and_uptime() -> None:
    assert parse_loadavg("12.50 3.00 0.00 3/200 1234\n") == LoadAverage(12.5, 3.0, 0.0)
    assert parse_uptime("123.45 678.90\n") == 123.45
    assert parse_uptime("123") == 123.0


@pytest.mark.parametrize(
    "body",
    ["", "0.1 0.2", "nan 0.1 0.2", "inf 0.1 0.2", "-1 0.1 0.2", "1e3 0.1 0.2", "1_0 1 1",
     "0x1 1 1", "1.0 1.0 9999999.0", "0.1 0.2 0.3\n0.1 0.2 0.3", "\u0661 1 1"],
)  # fmt: skip
def test_bad_loadavg(body: str) -> None:
    with pytest.raises(ParseError, match=r"^loadavg"):
        parse_loadavg(body)


@pytest.mark.parametrize("body", ["", "nan", "-5.0 1", "1e400", "99999999999.0", "+1"])
def test_bad_uptime(body: str) -> None:
    with pytest.raises(ParseError, match=r"^uptime"):
        parse_uptime(body)


# --- /proc/net/dev ------------------------------------------------------------------------

NET_HEADER = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
)
ZEROS = " 0" * 14


def test_net_dev_sorted_without_lo_and_veth() -> None:
    body = NET_HEADER + "".join(
        f"{name}: {rx}{ZEROS[: 2 * 7]} {tx}{ZEROS[: 2 * 7]}\n"
        for name, rx, tx in [("wg0", 5, 6), ("lo", 1, 1), ("vethabc", 2, 2), ("eth0", 3, 4)]
    )
    assert parse_net_dev(body) == (
        NetworkCounters("eth0", 3, 4),
        NetworkCounters("wg0", 5, 6),
    )


@pytest.mark.parametrize(
    "row",
    [
        "eth0: 1 2 3",  # too few columns
        "eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",  # no colon
        ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",  # no name
        "eth 0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",  # whitespace in name
        "eth0: 1 2 3 4 5 6 7 8 x 10 11 12 13 14 15 16",
        "eth0: -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
    ],
)
def test_bad_net_dev_row(row: str) -> None:
    with pytest.raises(ParseError, match=r"^netdev"):
        parse_net_dev(NET_HEADER + row)


def test_net_dev_duplicate_interface_and_missing_header() -> None:
    row = "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
    with pytest.raises(ParseError, match="twice"):
        parse_net_dev(NET_HEADER + row + row)
    with pytest.raises(ParseError, match="header"):
        parse_net_dev(row + row)


# --- df -----------------------------------------------------------------------------------

DF_HEADER = "Filesystem     Type     1024-blocks     Used Available Capacity Mounted on\n"


def df(*rows: str) -> tuple[DiskUsage, ...]:
    return parse_df(DF_HEADER + "".join(row + "\n" for row in rows))


def test_df_pseudo_filesystems_dropped() -> None:
    pseudo = [
        "tmpfs tmpfs 100 1 99 1% /tmp",
        "devtmpfs devtmpfs 100 0 100 0% /dev",
        "proc proc 100 0 100 0% /proc",
        "sysfs sysfs 100 0 100 0% /sys",
        "/dev/loop0 squashfs 100 100 0 100% /snap/core22/1",
        "/dev/loop1 squashfs 100 100 0 100% /media/image",
        "/dev/sr0 iso9660 500 500 0 100% /mnt/config-drive",
        "efivarfs efivarfs 256 57 195 23% /sys/firmware/efi/efivars",
        "portal fuse.portal 100 0 100 0% /home/me/doc",
        "lxcfs fuse.lxcfs 100 0 100 0% /var/lib/lxcfs",
        "overlay overlay 100 10 90 10% /srv/docker/overlay2/x/merged",
        "/dev/zram1 ext4 100 10 90 10% /var/tmp",
        "none none 100 10 90 10% /mnt/none",
        "/dev/sdb1 ext4 0 0 0 - /mnt/empty",
    ]
    assert df(*pseudo, "/dev/vda1 ext4 100 10 90 10% /") == (
        DiskUsage("/", "ext4", 100 * KIB, 10 * KIB, 90 * KIB),
    )


def test_df_docker_and_run_noise_dropped_but_docker_volume_kept() -> None:
    rows = [
        "/dev/sdb ext4 100 10 90 10% /var/lib/docker",
        "/dev/mapper/docker-253:0-1-abc xfs 100 10 90 10% /var/lib/docker/devicemapper/mnt/abc",
        "/dev/sdc1 ext4 100 10 90 10% /run/media/usb",
        "/dev/sda1 ext4 100 10 90 10% /var/lib/kubelet/pods/x/volumes/y",
    ]
    assert [d.mount for d in df(*rows)] == ["/var/lib/docker"]


def test_df_overlay_root_is_kept() -> None:
    assert [d.fstype for d in df("overlay overlay 100 10 90 10% /")] == ["overlay"]


def test_df_old_rootfs_line_does_not_hide_the_real_root() -> None:
    rows = [
        "rootfs rootfs 20000 1200 18000 7% /",
        "/dev/disk/by-uuid/0b1c2d ext4 20000 1200 18000 7% /",
    ]
    assert df(*rows) == (DiskUsage("/", "ext4", 20000 * KIB, 1200 * KIB, 18000 * KIB),)


def test_df_first_line_per_mount_wins_and_output_is_sorted() -> None:
    rows = [
        "/dev/sdc1 ext4 300 30 270 10% /srv",
        "/dev/sdb1 ext4 200 20 180 10% /srv",
        "/dev/sda1 ext4 100 10 90 10% /",
        "/dev/sda2 vfat 50 5 45 10% /boot/efi",
    ]
    assert [(d.mount, d.total_bytes) for d in df(*rows)] == [
        ("/", 100 * KIB),
        ("/boot/efi", 50 * KIB),
        ("/srv", 300 * KIB),
    ]


def test_df_device_and_mount_with_spaces() -> None:
    (disk_,) = df("me@nas:/volume1/My Files  fuse.sshfs  1000 250 750  25% /mnt/nas share ")
    assert disk_ == DiskUsage("/mnt/nas share ", "fuse.sshfs", 1000 * KIB, 250 * KIB, 750 * KIB)


def test_df_mount_that_looks_like_a_row() -> None:
    (disk_,) = df("/dev/sda1 ext4 100 10 90 10% /mnt/a 1 2 3 4% /b")
    assert disk_.mount == "/mnt/a 1 2 3 4% /b"


def test_df_unknown_sizes_skipped() -> None:
    assert df("fs fuse.foo - - - - /mnt/foo") == ()


def test_df_control_characters_replaced() -> None:
    (disk_,) = df("/dev/sdb1 ext4 100 10 90 10% /mnt/a\tb\x1bc\udcff")
    assert disk_.mount == "/mnt/a?b?c?"


@pytest.mark.parametrize(
    "body",
    [
        "/dev/sda1 ext4 100 10 90 10% /",  # no header
        DF_HEADER + "/dev/sda1 ext4 100 10 90 10%",  # no mount
        DF_HEADER + "/dev/sda1 ext4 100 -10 90 10% /",
        DF_HEADER + "/dev/sda1 ext4 1e5 10 90 10% /",
        DF_HEADER + f"/dev/sda1 ext4 {2**63} 10 90 10% /",
        DF_HEADER + f"/dev/sda1 ext4 {2**54} 10 90 10% /",  # overflows once in bytes
        DF_HEADER + "ext4 100 10 90 10% /",  # no device column
    ],
)
def test_bad_df(body: str) -> None:
    with pytest.raises(ParseError, match=r"^df"):
        parse_df(body)


# --- system info --------------------------------------------------------------------------


def sysinfo(os_release: str, hostname: str = "h", kernel: str = "6.1.0") -> SystemInfo:
    return parse_system_info(
        f"@@vpshealth:hostname\n{hostname}\n@@vpshealth:kernel\n{kernel}\n"
        f"@@vpshealth:os-release\n{os_release}\n@@vpshealth:end\n"
    )


@pytest.mark.parametrize(
    ("os_release", "expected"),
    [
        ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"', "Debian GNU/Linux 12 (bookworm)"),
        ("PRETTY_NAME='Single quoted'", "Single quoted"),
        (r'PRETTY_NAME="Say \"hi\" \$HOME \\ ok"', 'Say "hi" $HOME \\ ok'),
        (r"PRETTY_NAME=Unquoted\ value", "Unquoted value"),
        ('NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"', "Rocky Linux 9.4 (Blue Onyx)"),
        ('NAME="Gentoo"', "Gentoo"),
        ('PRETTY_NAME=""\nNAME=Arch', "Arch"),
        ('PRETTY_NAME="broken\nNAME=Void', "Void"),
        ('# comment\nID=foo\n  PRETTY_NAME="Indented"  ', "Indented"),
        ('PRETTY_NAME="First"\nPRETTY_NAME="Last"', "Last"),
        ('PRETTY_NAME="bad\x07bell"', "Linux"),
        ("", "Linux"),
    ],
)
def test_os_name(os_release: str, expected: str) -> None:
    assert sysinfo(os_release).os_name == expected


@pytest.mark.parametrize(
    ("hostname", "kernel"),
    [("", "6.1"), ("a\nb", "6.1"), ("h", ""), ("h", "x" * 300), ("bad\x00name", "6.1")],
)
def test_bad_hostname_or_kernel(hostname: str, kernel: str) -> None:
    with pytest.raises(ParseError, match=r"^(hostname|kernel)"):
        sysinfo("", hostname=hostname, kernel=kernel)


# --- inode usage (df -iPT) ----------------------------------------------------------------

DF_INODES = """\
Filesystem     Type  Inodes  IUsed    IFree IUse% Mounted on
tmpfs          tmpfs 3085471     1  3085470    1% /run
/dev/vda1      ext4 16777216 446727 16330489    3% /
/dev/vdb       btrfs       0     0        0     - /data
/dev/vdc       xfs    1000   990       10   99% /var/lib/mail spool
"""


def test_inode_counts_are_added_to_the_disks_df_lists() -> None:
    disks = (
        DiskUsage("/", "ext4", 10 * KIB, 5 * KIB, 5 * KIB),
        DiskUsage("/data", "btrfs", 10 * KIB, 1 * KIB, 9 * KIB),
        DiskUsage("/srv", "ext4", 10 * KIB, 1 * KIB, 9 * KIB),
        DiskUsage("/var/lib/mail spool", "xfs", 10 * KIB, 1 * KIB, 9 * KIB),
    )
    root, data, srv, spool = with_inodes(disks, DF_INODES)
    assert (root.inodes_total, root.inodes_used) == (16777216, 446727)
    assert root.inodes_percent == pytest.approx(2.66, abs=0.01)
    assert data.inodes_percent is None  # btrfs allocates inodes as it goes
    assert srv == disks[2]  # not in the inode listing: left as it was
    assert spool.inodes_percent == 99.0
    with pytest.raises(ParseError, match="dfi"):
        with_inodes(disks, "Filesystem Type Inodes\n/dev/vda1 ext4 x y z 3% /\n")


def test_inode_usage_becomes_a_series_and_a_chart_through_the_catalogue() -> None:
    text = fixture("debian12_poll.txt")
    assert "@@vpshealth:dfi" not in text  # recorded before the section existed
    assert all(d.inodes_total is None for d in parse_snapshot(text).disks)
    assert "@@vpshealth:dfi" in remote_commands.POLL_COMMAND
    with_dfi = text.replace("@@vpshealth:end", "@@vpshealth:dfi\n" + DF_INODES + "@@vpshealth:end")
    values = dict(flatten(parse_snapshot(with_dfi)))
    assert values["inodes.percent:/"] == round(100 * 446727 / 16777216, 2)
    assert resolve_metric("inodes:/") == "inodes.percent:/"
    assert INODES.chart is not None
    assert (INODES.chart.title, INODES.chart.unit) == ("Inodes", "%")
