"""`--json` of the commands that report what they did, `check --nagios` at the command line,
and `db backup`: the keys are pinned here and documented in docs/cli.md."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_cli_alerts import _open_incident
from vpshealth.cli.main import main

Run = tuple[int, str, str]


@pytest.fixture
def run(cli_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Any:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))

    def _run(*argv: str) -> Run:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def _json(run: Any, *argv: str, code: int = 0) -> Any:
    got, out, err = run(*argv, "--json")
    assert got == code, err
    return json.loads(out)


def test_service_status(run: Any) -> None:
    data = _json(run, "service", "status", code=1)
    assert set(data) == {
        "installed", "definition", "service_running", "detail", "checks_running", "pid",
        "last_check_at",
    }  # fmt: skip
    assert (data["checks_running"], data["pid"], data["last_check_at"]) == (False, None, None)
    assert isinstance(data["installed"], bool)


@pytest.mark.skipif(sys.platform != "linux", reason="XDG autostart")
def test_autostart(run: Any, tmp_path: Path) -> None:
    entry = _json(run, "autostart", "status")["where"]
    assert Path(entry).parent == tmp_path / "xdg" / "autostart"
    assert _json(run, "autostart", "status") == {"enabled": False, "where": entry}
    assert _json(run, "autostart", "on") == {"enabled": True, "where": entry}
    assert Path(entry).is_file()
    assert _json(run, "autostart", "off") == {"enabled": False, "where": entry}


def test_ack(run: Any, cli_home: Path) -> None:
    run("incidents")
    first = _open_incident(cli_home)
    assert _json(run, "ack", str(first)) == {
        "incidents": [
            {
                "id": first,
                "outcome": "acknowledged",
                "host": "localhost",
                "message": "disk / at 97% (critical from 95%)",
            }
        ]
    }
    code, out, err = run("ack", str(first), "999", "--json")
    assert code == 2, "an unknown id is an error, after what was done is printed"
    assert [(i["id"], i["outcome"]) for i in json.loads(out)["incidents"]] == [
        (first, "already_acknowledged"),
        (999, "unknown"),
    ]
    assert err.startswith("vpshealth: There is no incident 999.")


def test_snooze(run: Any) -> None:
    data = _json(run, "snooze", "localhost", "2h")
    assert data["host"] == "localhost"
    assert data["snoozed_until"].endswith("Z")
    assert data["ended"] == 0
    assert _json(run, "snooze", "localhost", "off") == {
        "host": "localhost",
        "snoozed_until": None,
        "ended": 1,
    }
    assert _json(run, "snooze", "--all", "1h")["host"] is None


def test_maintenance_add_and_remove(run: Any) -> None:
    added = _json(run, "maintenance", "localhost", "--weekly", "sun 03:00", "--duration", "1h")
    assert set(added) == {"id", "host", "kind", "active", "when", "starts_at", "ends_at", "reason"}
    assert (added["host"], added["kind"]) == ("localhost", "maintenance")
    assert _json(run, "maintenance", "--remove", str(added["id"])) == {"removed": added["id"]}


def test_host_edit_and_remove(run: Any) -> None:
    edited = _json(run, "host", "edit", "localhost", "--interval", "60")
    assert set(edited) == {"host", "public_key"}
    assert (edited["host"]["name"], edited["host"]["interval_seconds"]) == ("localhost", 60)
    assert edited["public_key"] is None
    assert _json(run, "host", "remove", "localhost") == {
        "removed": "localhost",
        "key_deleted": False,
    }


def test_db_vacuum(run: Any, cli_home: Path) -> None:
    data = _json(run, "db", "vacuum")
    assert data["path"] == str(cli_home / "data" / "vpshealth.sqlite3")
    assert data["bytes_after"] > 0
    assert set(data) == {"path", "bytes_before", "bytes_after"}


def test_db_backup_writes_a_new_file_and_never_an_existing_one(run: Any, tmp_path: Path) -> None:
    target = tmp_path / "copy.sqlite3"
    data = _json(run, "db", "backup", str(target))
    assert data == {"path": str(target), "bytes": target.stat().st_size}
    with contextlib.closing(sqlite3.connect(target)) as conn:
        assert conn.execute("SELECT name FROM hosts").fetchall() == [("localhost",)]

    target.write_bytes(b"keep me")
    code, out, err = run("db", "backup", str(target))
    assert (code, out) == (2, "")
    assert err == (
        f"vpshealth: {target} already exists; give a new file name. Nothing was written.\n"
    )
    assert target.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir() if "copy" in p.name) == ["copy.sqlite3"]


def test_db_backup_into_a_missing_folder(run: Any, tmp_path: Path) -> None:
    code, _, err = run("db", "backup", str(tmp_path / "nope" / "copy.sqlite3"))
    assert code == 2
    assert "does not exist. Nothing was written." in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_db_backup_shows_its_progress_on_a_terminal(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, out, _ = run("db", "backup", str(tmp_path / "copy.sqlite3"))
    assert code == 0
    assert out.startswith("Wrote a consistent copy of the database to ")
    shown = terminal.getvalue()
    assert shown.startswith("\rCopying the database: ")
    assert shown.endswith("\rCopying the database: 100%\n")


def test_db_backup_without_a_terminal_prints_no_progress(run: Any, tmp_path: Path) -> None:
    code, _, err = run("db", "backup", str(tmp_path / "copy.sqlite3"))
    assert (code, err) == (0, "")


def test_service_once_as_json(run: Any) -> None:
    code, out, _ = run("service", "--once", "--json")
    hosts = json.loads(out)["hosts"]
    assert [h["name"] for h in hosts] == ["localhost"]
    assert code == (0 if hosts[0]["state"] == "ok" else 1)
    code, out, err = run("service", "--json")
    assert (code, out) == (2, "")
    assert err == "vpshealth: --json prints the results of one round: give --once too.\n"


def test_check_nagios_of_this_computer(run: Any) -> None:
    code, out, _ = run("check", "localhost", "--nagios")
    line = out.rstrip("\n")
    assert "\n" not in line
    word = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}[code]
    assert line.startswith(f"VPSHEALTH {word} - localhost: ")
    assert "'cpu'=" in line.split(" | ")[1]
    assert "'disk_/'=" in line


def test_check_nagios_of_an_unknown_host_is_unknown(run: Any) -> None:
    code, out, err = run("check", "nosuch", "--nagios")
    assert code == 3
    assert out == (
        "VPSHEALTH UNKNOWN - There is no host named 'nosuch'. `vpshealth host list` shows the "
        "hosts.\n"
    )
    assert err == ""


def test_check_json_and_nagios_exclude_each_other(run: Any) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check", "--json", "--nagios"])
    assert info.value.code == 2
