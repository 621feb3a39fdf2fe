"""`vpshealth incidents | ack | snooze | maintenance | rules`, in-process against a private
VPSHEALTH_HOME."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from vpshealth.cli.main import main
from vpshealth.store.database import open_database
from vpshealth.store.schema import incidents

Run = tuple[int, str, str]


@pytest.fixture
def run(cli_home: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    def _run(*argv: str) -> Run:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def _open_incident(home: Path, *, rule: str = "disk", subject: str = "/", **columns: Any) -> int:
    engine = open_database(home / "data" / "vpshealth.sqlite3")
    try:
        with engine.begin() as conn:
            result = conn.execute(
                insert(incidents).values(
                    **{
                        "host_id": 1, "kind": rule, "subject": subject, "container_id": "",
                        "container_name": "", "severity": "critical", "opened_at": 1_800_000_000,
                        "message": f"disk {subject} at 97% (critical from 95%)", "value": 97,
                        "threshold": 95, **columns,
                    }
                )
            )  # fmt: skip
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])
    finally:
        engine.dispose()


def test_rules_defaults_and_a_host_override(run: Any) -> None:
    code, out, _ = run("rules", "--set", "cpu.warning=90", "--set", "cpu.minutes=10")
    assert code == 0
    assert "Saved 2 rule settings." in out
    code, out, _ = run("rules", "localhost", "--set", "disk.warning=80%", "--json")
    assert code == 0
    rules = json.loads(out)["rules"]
    assert rules["disk.warning"] == {"value": 80, "set_here": True, "default": 85, "unit": "%"}
    assert rules["cpu.warning"]["value"] == 90, "the changed default applies to the host"
    assert rules["cpu.warning"]["set_here"] is False
    code, out, _ = run("rules", "localhost", "--reset", "disk.warning", "--json")
    assert json.loads(out)["rules"]["disk.warning"]["value"] == 85


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "cpu.warning"], "use RULE=VALUE"),
        (["--set", "bogus=1"], "unknown rule 'bogus'"),
        (["--set", "cpu.warning=150"], "between 1% and 100%"),
        (["--set", "unreachable.polls=2.5"], "whole number"),
        (["--set", "containers=maybe"], "on or off"),
        (["--set", "disk.warning=99"], "disk.warning (99%) is above disk.critical (95%)"),
        (["--reset", "nope"], "unknown rule 'nope'"),
    ],
)
def test_bad_rule_settings_save_nothing(run: Any, args: list[str], message: str) -> None:
    code, _, err = run("rules", "localhost", "--set", "cpu.critical=99", *args)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1, "one line"
    _, out, _ = run("rules", "localhost", "--json")
    assert json.loads(out)["rules"]["cpu.critical"]["value"] == 95, "nothing was saved"


def test_incidents_list_and_acknowledge(run: Any, cli_home: Path) -> None:
    code, out, _ = run("incidents")
    assert (code, out.strip()) == (0, "No incidents recorded.")
    incident_id = _open_incident(cli_home)
    code, out, _ = run("incidents", "--open", "--json")
    assert code == 1, "an open incident is a problem found"
    listed = json.loads(out)["incidents"]
    assert [(i["id"], i["host"], i["state"], i["value"]) for i in listed] == [
        (incident_id, "localhost", "open", 97)
    ]
    code, out, _ = run("ack", str(incident_id))
    assert code == 0
    assert f"Acknowledged {incident_id}" in out
    _, out, _ = run("incidents", "--json")
    assert json.loads(out)["incidents"][0]["state"] == "acknowledged"
    code, _, err = run("ack", "999")
    assert code == 2
    assert "no incident 999" in err


def test_incidents_show_one_incident_in_full_with_its_log_lines(run: Any, cli_home: Path) -> None:
    run("incidents")
    lines = "starting web\nerror: database unreachable\nfatal: giving up"
    incident_id = _open_incident(
        cli_home, rule="crashed", subject="api", message="api exited with code 3",
        app="shop / production / api", log_lines=lines, value=None, threshold=None,
    )  # fmt: skip
    code, out, _ = run("incidents", "--show", str(incident_id))
    assert code == 1, "open"
    assert out.startswith(f"Incident {incident_id}\n  Host:          localhost (")
    assert "  Rule:          crashed\n  Subject:       api\n" in out
    assert "  App:           shop / production / api\n" in out
    assert "  What:          api exited with code 3\n" in out
    assert out.endswith(
        "  Last log lines:\n    starting web\n    error: database unreachable\n"
        "    fatal: giving up\n"
    )
    code, out, _ = run("incidents", "--show", str(incident_id), "--json")
    assert (code, json.loads(out)["log_lines"]) == (1, lines)
    _, out, _ = run("incidents", "--json")
    assert json.loads(out)["incidents"][0]["log_lines"] == lines


def test_incidents_show_without_log_lines_and_an_unknown_id(run: Any, cli_home: Path) -> None:
    run("incidents")
    incident_id = _open_incident(cli_home)
    code, out, _ = run("incidents", "--show", str(incident_id))
    assert code == 1
    assert "  Value:         97 (threshold 95)\n" in out
    assert "Last log lines" not in out
    code, out, err = run("incidents", "--show", "999")
    assert (code, out) == (2, "")
    assert err == "vpshealth: There is no incident 999; `vpshealth incidents` lists their IDs.\n"


def test_snooze_and_end_it(run: Any) -> None:
    code, out, _ = run("snooze", "localhost", "2h")
    assert code == 0
    assert "No notifications about localhost until" in out
    _, out, _ = run("maintenance", "--json")
    windows = json.loads(out)["windows"]
    assert [(w["host"], w["kind"], w["active"]) for w in windows] == [("localhost", "snooze", True)]
    code, out, _ = run("snooze", "localhost", "off")
    assert (code, out.strip()) == (0, "Snooze of localhost ended.")
    _, out, _ = run("maintenance", "--json")
    assert json.loads(out)["windows"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["snooze", "localhost"], "vpshealth snooze NAME DURATION"),
        (["snooze", "localhost", "soon"], "invalid DURATION 'soon'"),
        (["snooze", "nosuch", "1h"], "no host named 'nosuch'"),
        (["maintenance", "localhost", "--start", "now"], "--duration is needed"),
        (["maintenance", "--start", "now", "--duration", "1h"], "Name the host, or use --all"),
        (["maintenance", "localhost", "--weekly", "xyz 03:00", "--duration", "1h"], "'DAY HH:MM'"),
        (["maintenance", "localhost", "--start", "soon", "--duration", "1h"], "'YYYY-MM-DD HH:MM'"),
        (["maintenance", "--remove", "42"], "no window 42"),
    ],
)  # fmt: skip
def test_bad_silences_are_refused(run: Any, argv: list[str], message: str) -> None:
    code, _, err = run(*argv)
    assert code == 2
    assert message in err
    _, out, _ = run("maintenance", "--json")
    assert json.loads(out)["windows"] == []


def test_weekly_and_one_off_windows(run: Any) -> None:
    code, out, _ = run(
        "maintenance", "localhost", "--weekly", "sun 03:00", "--duration", "90m",
        "--reason", "backups",
    )  # fmt: skip
    assert code == 0
    assert "every Sun 03:00 for 1h 30m" in out
    code, out, _ = run("maintenance", "--all", "--start", "2030-01-01 02:00", "--duration", "2h")
    assert code == 0
    _, out, _ = run("maintenance", "--json")
    windows = json.loads(out)["windows"]
    assert [(w["host"], w["reason"]) for w in windows] == [("localhost", "backups"), (None, "")]
    assert windows[1]["active"] is False
    code, _, _ = run("maintenance", "--remove", str(windows[0]["id"]))
    assert code == 0
    _, out, _ = run("maintenance", "--json")
    assert len(json.loads(out)["windows"]) == 1
