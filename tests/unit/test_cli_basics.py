"""The `vpshealth` command line, run in-process against a private VPSHEALTH_HOME."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from vpshealth import __version__
from vpshealth.cli.main import main
from vpshealth.cli.output import parse_duration
from vpshealth.engine.lock import EngineLock
from vpshealth.errors import InputError
from vpshealth.store.database import open_database
from vpshealth.store.schema import checks, host_status


@pytest.fixture
def home(cli_home: Path) -> Path:
    return cli_home


Run = tuple[int, str, str]


@pytest.fixture
def run(home: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    def _run(*argv: str) -> Run:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def _host_names(run: Any) -> list[str]:
    code, out, err = run("host", "list", "--json")
    assert code == 0, err
    return [h["name"] for h in json.loads(out)["hosts"]]


def _show(run: Any, name: str) -> dict[str, Any]:
    code, out, err = run("host", "show", name, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    return lines[0]


def _count_checks(home: Path) -> int:
    engine = open_database(home / "data" / "vpshealth.sqlite3")
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(checks)).scalar_one())
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- basics


def test_version(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"vpshealth {__version__}"
    # --version touches no file.
    assert list(home.iterdir()) == []


def test_no_command_prints_help(run: Any, home: Path) -> None:
    code, out, _ = run()
    assert code == 0
    assert out.startswith("usage: vpshealth")
    assert list(home.iterdir()) == []


def test_bad_setting_is_a_configuration_error(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPSHEALTH_CONNECT_TIMEOUT", "soon")
    code, out, err = run("host", "list")
    assert code == 2
    assert out == ""
    line = _one_line(err)
    assert line.startswith("vpshealth: invalid VPSHEALTH_CONNECT_TIMEOUT:")
    assert "Fix or unset the variable" in line


def test_files_are_private(run: Any, home: Path) -> None:
    assert _host_names(run) == ["localhost"]
    for folder in ("config", "data", "logs", "data/backups"):
        assert stat.S_IMODE((home / folder).stat().st_mode) == 0o700, folder
    assert stat.S_IMODE((home / "data" / "vpshealth.sqlite3").stat().st_mode) == 0o600


# --------------------------------------------------------------------------- host add


@pytest.mark.parametrize(
    ("name", "address", "extra", "option"),
    [
        ("web1", "203.0.113.10", ["--port", "0"], "--port"),
        ("web1", "203.0.113.10", ["--port", "65536"], "--port"),
        ("web1", "203.0.113.10", ["--interval", "4"], "--interval"),
        ("web1", "203.0.113.10", ["--interval", "3601"], "--interval"),
        ("bad;name", "203.0.113.10", [], "NAME"),
        ("web\n1", "203.0.113.10", [], "NAME"),
        ("web1", "$(reboot)", [], "--address"),
        ("web1", "256.0.0.1", [], "--address"),
        ("web1", "203.0.113.10", ["--user=r;t"], "--user"),
        ("web1", "203.0.113.10", ["--tag", "ok", "--tag", "b d"], "--tag"),
    ],
)
def test_host_add_invalid_field_saves_nothing(
    run: Any, name: str, address: str, extra: list[str], option: str
) -> None:
    code, out, err = run("host", "add", name, "--address", address, *extra, "--agent")
    assert code == 2
    assert out == ""
    line = _one_line(err)
    assert line.startswith(f"vpshealth: invalid {option} ")
    assert line.endswith("Nothing was saved.")
    assert _host_names(run) == ["localhost"]


def test_host_add_non_numeric_port_is_a_usage_error(
    run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["host", "add", "web1", "--address", "203.0.113.10", "--port", "ssh", "--agent"])
    assert info.value.code == 2
    assert "--port takes a whole number, not 'ssh'" in capsys.readouterr().err
    assert _host_names(run) == ["localhost"]


def test_host_add_missing_key_file(run: Any, tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    code, out, err = run("host", "add", "x", "--address", "127.0.0.1", "--key-file", str(missing))
    assert code == 2
    assert out == ""
    line = _one_line(err)
    assert line.startswith(f"vpshealth: --key-file {missing}: no such file")
    assert "Nothing was saved" in line
    assert _host_names(run) == ["localhost"]


def test_host_add_existing_name(run: Any) -> None:
    code, _, err = run("host", "add", "localhost", "--address", "203.0.113.10", "--agent")
    assert code == 2
    line = _one_line(err)
    assert "already exists" in line
    assert "Nothing was saved" in line
    assert _host_names(run) == ["localhost"]


# --------------------------------------------------------------------------- host show / edit


def test_host_show_missing(run: Any) -> None:
    code, out, err = run("host", "show", "nope")
    assert code == 2
    assert out == ""
    line = _one_line(err)
    assert "'nope'" in line
    assert "host list" in line


def test_host_show_localhost_json(run: Any) -> None:
    data = _show(run, "localhost")
    assert data["name"] == "localhost"
    assert data["kind"] == "local"
    assert data["address"] == "127.0.0.1"
    assert data["interval_seconds"] == 15
    assert data["enabled"] is True
    assert data["tags"] == []
    assert data["state"] == "unknown"
    assert data["message"] == "Not checked yet"
    assert data["metrics"] is None


@pytest.mark.parametrize(
    "options",
    [["--address", "1.2.3.4"], ["--port", "2222"], ["--user", "admin"], ["--trust-host-key"]],
)
def test_host_edit_localhost_connection_fields_refused(run: Any, options: list[str]) -> None:
    code, out, err = run("host", "edit", "localhost", *options)
    assert code == 2
    assert out == ""
    line = _one_line(err)
    assert "this computer" in line
    assert "Nothing was saved" in line
    data = _show(run, "localhost")
    assert (data["address"], data["port"], data["user"]) == ("127.0.0.1", 22, "root")


def test_host_edit_interval_and_tags(run: Any) -> None:
    code, out, err = run("host", "edit", "localhost", "--interval", "30", "--tag", "desk")
    assert (code, err) == (0, "")
    assert out.strip() == "Updated localhost."
    data = _show(run, "localhost")
    assert data["interval_seconds"] == 30
    assert data["tags"] == ["desk"]
    assert data["kind"] == "local"
    assert data["address"] == "127.0.0.1"


def test_host_edit_invalid_interval(run: Any) -> None:
    code, _, err = run("host", "edit", "localhost", "--interval", "3601")
    assert code == 2
    line = _one_line(err)
    assert line.startswith("vpshealth: invalid --interval 3601")
    assert _show(run, "localhost")["interval_seconds"] == 15


def test_host_edit_without_options(run: Any) -> None:
    code, _, err = run("host", "edit", "localhost")
    assert code == 2
    assert "Nothing to change" in _one_line(err)


def test_host_edit_missing_host(run: Any) -> None:
    code, _, err = run("host", "edit", "ghost", "--interval", "30")
    assert code == 2
    assert "host list" in _one_line(err)


def test_disabled_hosts_are_not_checked(run: Any, home: Path) -> None:
    assert run("host", "edit", "localhost", "--disable")[0] == 0
    assert _show(run, "localhost")["enabled"] is False
    code, out, err = run("check")
    assert code == 2
    assert out == ""
    assert "No enabled hosts" in _one_line(err)
    assert _count_checks(home) == 0

    assert run("host", "edit", "localhost", "--enable")[0] == 0
    assert _show(run, "localhost")["enabled"] is True


# --------------------------------------------------------------------------- check / history

HOST_KEYS = {
    "name", "address", "state", "problem", "message", "checked_at", "metrics", "containers",
    "incidents",
}  # fmt: skip
METRIC_KEYS = {
    "cpu_percent",
    "cpu_count",
    "load",
    "memory",
    "swap",
    "uptime_seconds",
    "disks",
    "network",
}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def test_check_localhost_json(run: Any, home: Path) -> None:
    code, out, err = run("check", "localhost", "--json")
    data = json.loads(out)
    assert set(data) == {"hosts"}
    assert len(data["hosts"]) == 1
    host = data["hosts"][0]
    assert set(host) == HOST_KEYS
    assert host["name"] == "localhost"
    assert host["address"] == "This computer"
    assert host["state"] in {"ok", "warning", "critical"}
    assert code == (0 if host["state"] == "ok" else 1), err
    if host["state"] == "ok":
        assert (host["problem"], host["message"]) == (None, "All good")
    else:
        # a loaded machine (such as CI running the suite) may be past any of the levels
        assert host["problem"] in {"cpu_high", "memory_high", "disk_high", "load_high"}
    assert isinstance(host["checked_at"], str)
    assert host["checked_at"].endswith("Z")

    m = host["metrics"]
    assert set(m) == METRIC_KEYS
    assert m["cpu_percent"] is None or 0 <= m["cpu_percent"] <= 100
    assert m["cpu_count"] == os.cpu_count()
    assert len(m["load"]) == 3
    assert all(_is_number(x) and x >= 0 for x in m["load"])
    assert set(m["memory"]) == {"total_bytes", "available_bytes", "used_bytes"}
    assert m["memory"]["used_bytes"] == max(
        m["memory"]["total_bytes"] - m["memory"]["available_bytes"], 0
    )
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert abs(m["memory"]["total_bytes"] - physical) <= 0.01 * physical
    assert set(m["swap"]) == {"total_bytes", "used_bytes"}
    assert 0 <= m["swap"]["used_bytes"] <= m["swap"]["total_bytes"]
    assert _is_number(m["uptime_seconds"])
    assert m["uptime_seconds"] > 0
    assert isinstance(m["disks"], list)
    for disk in m["disks"]:
        assert set(disk) == {"mount", "fstype", "total_bytes", "used_bytes", "available_bytes"}
        assert disk["mount"].startswith("/")
        assert disk["total_bytes"] > 0
    assert [d["mount"] for d in m["disks"]] == sorted(d["mount"] for d in m["disks"])
    assert isinstance(m["network"], list)
    for nic in m["network"]:
        assert set(nic) == {"interface", "rx_bytes", "tx_bytes"}
        assert nic["interface"] != "lo"
        assert nic["rx_bytes"] >= 0
        assert nic["tx_bytes"] >= 0

    # The check was stored like a scheduled one.
    assert _count_checks(home) == 1
    shown = _show(run, "localhost")
    assert shown["state"] == host["state"]
    assert shown["message"] == host["message"]
    assert shown["metrics"]["memory"]["total_bytes"] == m["memory"]["total_bytes"]
    assert shown["system"] is not None


def test_check_table_output(run: Any) -> None:
    code, out, _ = run("check")
    assert code in (0, 1)
    header, row = out.strip().splitlines()
    assert header.split() == [
        "NAME",
        "STATE",
        "CPU",
        "MEM",
        "DISK",
        "LOAD",
        "CONTAINERS",
        "MESSAGE",
    ]
    assert row.split()[0] == "localhost"


def test_check_unknown_host(run: Any, home: Path) -> None:
    code, _, err = run("check", "localhost", "ghost")
    assert code == 2
    assert "'ghost'" in _one_line(err)
    assert _count_checks(home) == 0


def test_history_bad_since(run: Any) -> None:
    code, out, err = run("history", "localhost", "cpu", "--since", "bogus")
    assert code == 2
    assert out == ""
    line = _one_line(err)
    assert "--since" in line
    assert "'bogus'" in line


def test_history_before_any_check(run: Any) -> None:
    code, _, err = run("history", "localhost", "cpu")
    assert code == 2
    assert "has no metric 'cpu'" in _one_line(err)


def test_history_after_check(run: Any) -> None:
    assert run("check", "localhost")[0] in (0, 1)
    code, out, err = run("history", "localhost", "memory", "--since", "1h", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["host"] == "localhost"
    assert data["metric"] == "memory.percent"
    assert len(data["points"]) == 1
    point = data["points"][0]
    assert set(point) == {"time", "ts", "value"}
    assert 0 <= point["value"] <= 100


# --------------------------------------------------------------------------- service


def test_service_once_writes_a_check(run: Any, home: Path) -> None:
    code, out, _ = run("service", "--once")
    assert code in (0, 1)
    lines = out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("localhost: ")
    state = lines[0].split()[1]
    assert code == (0 if state == "ok" else 1)
    assert _count_checks(home) == 1
    engine = open_database(home / "data" / "vpshealth.sqlite3")
    try:
        with engine.connect() as conn:
            assert conn.execute(select(host_status.c.state)).scalars().all() == [state]
    finally:
        engine.dispose()
    # The lock was released when the command finished.
    with EngineLock(home / "data" / "engine.lock"):
        pass


def test_service_refuses_to_run_twice(run: Any, home: Path) -> None:
    (home / "data").mkdir(mode=0o700)
    with EngineLock(home / "data" / "engine.lock"):
        code, out, err = run("service", "--once")
    assert code == 2
    assert out == ""
    assert f"already running (PID {os.getpid()})" in err
    assert _count_checks(home) == 0


# --------------------------------------------------------------------------- parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("24h", 86400),
        ("7d", 7 * 86400),
        ("2w", 14 * 86400),
        (" 6H ", 6 * 3600),
        ("0s", 0),
    ],
)
def test_parse_duration_valid(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", " ", "abc", "5x", "-3h", "h", "1.5h", "3h-", "10", "1h30", "3 hours"]
)
def test_parse_duration_invalid(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_duration(text)
    assert f"invalid --since {text!r}" in str(info.value)


def test_thresholds_come_from_the_environment(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # the machine's own load (a busy CI runner) must not make it critical
    assert run("rules", "--set", "load.warning=999", "--set", "load.critical=1000")[0] == 0
    monkeypatch.setenv("VPSHEALTH_WARNING_PERCENT", "0.001")
    monkeypatch.setenv("VPSHEALTH_CRITICAL_PERCENT", "1000")
    code, out, _ = run("check", "localhost", "--json")
    host = json.loads(out)["hosts"][0]
    assert code == 1
    assert host["state"] == "warning"
    assert "limit 0%" in host["message"]
    monkeypatch.setenv("VPSHEALTH_WARNING_PERCENT", "99")
    monkeypatch.setenv("VPSHEALTH_CRITICAL_PERCENT", "90")
    code, _, err = run("check", "localhost")
    assert code == 2
    assert "warning_percent must not be above critical_percent" in err


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {}, False),
        ("linux", {"DISPLAY": ":0"}, True),
        ("linux", {"WAYLAND_DISPLAY": "wayland-0"}, True),
        ("linux", {"QT_QPA_PLATFORM": "offscreen"}, True),
        ("darwin", {}, True),
        ("win32", {}, True),
    ],
)
def test_where_the_desktop_app_can_start(
    monkeypatch: pytest.MonkeyPatch, platform: str, environ: dict[str, str], expected: bool
) -> None:
    from vpshealth.cli import main as cli_main  # noqa: PLC0415

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(cli_main.sys, "platform", platform)
    assert cli_main.has_display() is expected
