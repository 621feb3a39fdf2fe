"""The API's read routes and the one-off check, in-process against a real SQLite file, with
the context app.py builds; the JSON is the CLI's ``--json``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from tests import coolify_app
from tests.unit.fake_clock import FakeClock
from tests.unit.test_store import make_metrics
from vpshealth.api.app import create_app
from vpshealth.api.context import ApiContext
from vpshealth.app import Core, build_core
from vpshealth.config import Settings
from vpshealth.domain.containers import (
    Container,
    ContainerGroup,
    ContainerMetrics,
    ContainerState,
    ContainerView,
    DockerReport,
    GroupKind,
)
from vpshealth.domain.health import CheckResult, HostState
from vpshealth.domain.hosts import Host
from vpshealth.domain.silences import SilenceKind
from vpshealth.engine.status import EngineStatus
from vpshealth.read_model import json_shapes
from vpshealth.store.docker_repository import replace_containers
from vpshealth.store.schema import events, incidents

NOW = 1_800_000_000


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    built = build_core(Settings(home=tmp_path))
    built.clock = FakeClock(float(NOW))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def context(core: Core) -> ApiContext:
    return core.api_context(EngineStatus(running=True, started_at=NOW, poll_timeout=10))


@pytest.fixture
def client(context: ApiContext) -> Iterator[TestClient]:
    token = context.tokens.create("tests").token
    with TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


@pytest.fixture
def web(core: Core) -> int:
    host_id = core.hosts.add(Host(name="web1", address="192.0.2.1", tags=("prod",)))
    core.results_writer().write(
        [(host_id, CheckResult("web1", NOW - 30, HostState.OK, None, "All good", make_metrics()))]
    )
    return host_id


def _view(name: str, state: ContainerState, project: str | None = None) -> ContainerView:
    group = (
        ContainerGroup(GroupKind.COOLIFY, project=project, resource="web")
        if project
        else ContainerGroup(GroupKind.STANDALONE)
    )
    return ContainerView(
        Container(
            id=f"id-{name}", name=name, image="nginx", created=NOW - 60, state=state, group=group
        ),
        ContainerMetrics(1.5, 1000, None),
    )


def _incident(core: Core, host_id: int, subject: str, *, resolved: bool = False) -> None:
    with core.engine.begin() as conn:
        conn.execute(
            insert(incidents).values(
                host_id=host_id, kind="disk", subject=subject, container_id="", container_name="",
                severity="critical", opened_at=NOW - 600, resolved_at=NOW - 1 if resolved else None,
                message=f"disk {subject} at 97%", value=97, threshold=95,
            )
        )  # fmt: skip


def _event(core: Core, host_id: int, at: int, message: str) -> None:
    with core.engine.begin() as conn:
        conn.execute(
            insert(events).values(
                host_id=host_id, at=at, kind="state_change", old_state="ok",
                new_state="warning", message=message,
            )
        )  # fmt: skip


def test_a_host_is_what_host_show_json_prints(client: TestClient, core: Core, web: int) -> None:
    answer = client.get("/api/v1/hosts/web1")
    assert answer.status_code == 200
    assert answer.json() == json_shapes.host_json(core.hosts.get("web1"))
    assert answer.json()["metrics"]["disks"][0]["mount"] == "/"
    listed = client.get("/api/v1/hosts").json()["hosts"]
    assert [h["name"] for h in listed] == ["localhost", "web1"]


def test_an_unknown_host_is_404_saying_how_to_list_them(client: TestClient) -> None:
    for path in ("", "/containers", "/metrics", "/history?metric=cpu", "/rules"):
        answer = client.get(f"/api/v1/hosts/nope{path}")
        assert answer.status_code == 404, path
        assert answer.json() == {
            "detail": "There is no host named 'nope'. GET /api/v1/hosts lists the hosts."
        }


def test_containers_are_grouped_by_app_with_the_stopped_ones_on_request(
    client: TestClient, core: Core, web: int
) -> None:
    with core.engine.begin() as conn:
        views = [
            _view("api", ContainerState.RUNNING, "shop"),
            _view("db", ContainerState.RUNNING, "shop"),
            _view("cron", ContainerState.EXITED),
            _view("tool", ContainerState.RUNNING),
        ]
        replace_containers(conn, web, views, NOW - 30)
    answer = client.get("/api/v1/hosts/web1/containers").json()
    assert answer["host"] == "web1"
    assert answer["seen_at"] == json_shapes.iso_time(NOW - 30)
    assert [c["name"] for c in answer["containers"]] == ["api", "db", "tool"]
    assert answer["containers"][0] == json_shapes.container_json(views[0])
    assert answer["apps"] == [
        {"title": "Coolify: shop / web", "containers": ["id-api", "id-db"]},
        {"title": "Standalone containers", "containers": ["id-tool"]},
    ]
    every = client.get("/api/v1/hosts/web1/containers?all=true").json()
    assert every["apps"][1] == {
        "title": "Standalone containers",
        "containers": ["id-cron", "id-tool"],
    }


def test_history_defaults_to_the_last_hour_of_raw_samples(
    client: TestClient, core: Core, web: int
) -> None:
    writer = core.results_writer()
    for ago in (7200, 1800, 60):
        result = CheckResult("web1", NOW - ago, HostState.OK, None, "ok", make_metrics(cpu=ago))
        writer.write([(web, result)])
    answer = client.get("/api/v1/hosts/web1/history", params={"metric": "cpu"})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["metric"], body["resolution"], body["step_seconds"]) == ("cpu.percent", "raw", 0)
    assert [(p["ts"], p["value"]) for p in body["points"]] == [
        (NOW - 1800, 1800.0),
        (NOW - 60, 60.0),
        (NOW - 30, 10.0),
    ]
    assert set(body["points"][0]) == {"time", "ts", "value"}
    iso = client.get(
        "/api/v1/hosts/web1/history",
        params={"metric": "cpu.percent", "since": json_shapes.iso_time(NOW - 8000), "until": NOW},
    ).json()
    assert len(iso["points"]) == 4


def test_long_ranges_come_as_rollups_with_min_avg_max(
    client: TestClient, core: Core, web: int
) -> None:
    since = NOW - 30 * 86400
    answer = client.get(
        "/api/v1/hosts/web1/history",
        params={"metric": "cpu", "since": since, "max_points": 10},
    ).json()
    assert answer["resolution"] in ("1m", "1h")
    assert answer["step_seconds"] > 0
    assert all({"min", "avg", "max"} <= set(p) for p in answer["points"])


def test_history_names_the_bad_field(client: TestClient, web: int) -> None:
    unknown = client.get("/api/v1/hosts/web1/history", params={"metric": "cpu.nope"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {
            "field": "metric",
            "where": "query",
            "message": "web1 has no stored metric 'cpu.nope'; "
            "GET /api/v1/hosts/web1/metrics lists its series",
        }
    ]
    bad_time = client.get("/api/v1/hosts/web1/history?metric=cpu&since=yesterday")
    assert bad_time.status_code == 422
    assert bad_time.json()["detail"].startswith("since: not a time: use Unix seconds")
    backwards = client.get(f"/api/v1/hosts/web1/history?metric=cpu&since={NOW}&until={NOW - 1}")
    assert backwards.json()["detail"] == "since: must not be after until"
    few = client.get("/api/v1/hosts/web1/history?metric=cpu&max_points=1")
    assert few.json()["detail"] == "max_points: Input should be greater than or equal to 2"
    assert "cpu.percent" in client.get("/api/v1/hosts/web1/metrics").json()["metrics"]


def test_incidents_page_newest_first_by_cursor_without_gap_or_duplicate(
    client: TestClient, core: Core, web: int
) -> None:
    for n in range(5):
        _incident(core, web, f"/d{n}", resolved=n == 1)
    first = client.get("/api/v1/incidents?limit=2").json()
    assert [i["subject"] for i in first["incidents"]] == ["/d4", "/d3"]
    _incident(core, web, "/new")  # recorded between pages: not in the later pages
    second = client.get(f"/api/v1/incidents?limit=2&before={first['next']}").json()
    third = client.get(f"/api/v1/incidents?limit=2&before={second['next']}").json()
    assert [i["subject"] for i in second["incidents"]] == ["/d2", "/d1"]
    assert [i["subject"] for i in third["incidents"]] == ["/d0"]
    assert third["next"] is None
    open_only = client.get("/api/v1/incidents?open=true&host=web1").json()["incidents"]
    assert [i["subject"] for i in open_only] == ["/new", "/d4", "/d3", "/d2", "/d0"]
    assert open_only[0] == json_shapes.incident_json(core.read_model.incidents()[0])
    assert client.get("/api/v1/incidents?host=nope").status_code == 404


def test_an_incident_carries_its_containers_last_log_lines(
    client: TestClient, core: Core, web: int
) -> None:
    lines = "starting web\nfatal: giving up"
    with core.engine.begin() as conn:
        conn.execute(
            insert(incidents).values(
                host_id=web, kind="crashed", subject="api", container_id="c" * 64,
                container_name="api", severity="critical", opened_at=NOW - 60,
                message="api exited with code 3", log_lines=lines,
            )
        )  # fmt: skip
    _incident(core, web, "/")
    listed = client.get("/api/v1/incidents").json()["incidents"]
    assert [(i["rule"], i["log_lines"]) for i in listed] == [("disk", None), ("crashed", lines)]
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["Incident"]
    assert "log_lines" in schema["properties"]


def test_events_after_a_cursor_miss_nothing_while_new_ones_arrive(
    client: TestClient, core: Core, web: int
) -> None:
    for n in range(3):
        _event(core, web, NOW - 100 + n, f"e{n}")
    seen: list[str] = []
    cursor = 0
    page = client.get("/api/v1/events?limit=2").json()
    seen += [e["message"] for e in page["events"]]
    assert page["more"] is True
    _event(core, web, NOW - 500, "late")  # an older time, recorded later: still comes
    while True:
        cursor = page["next"]
        page = client.get(f"/api/v1/events?limit=2&after={cursor}").json()
        seen += [e["message"] for e in page["events"]]
        if not page["more"]:
            break
    assert seen == ["All good", "e0", "e1", "e2", "late"]  # the first check's, then ours
    again = client.get(f"/api/v1/events?after={page['next']}").json()
    assert again == {"events": [], "next": page["next"], "more": False}
    one = client.get("/api/v1/events?host=web1&limit=1").json()["events"][0]
    assert set(one) == {"id", "time", "host", "kind", "old_state", "new_state", "problem"} | {
        "message"
    }
    assert client.get("/api/v1/events?host=localhost").json()["events"] == []


def test_silences_and_rules_are_the_clis(client: TestClient, core: Core, web: int) -> None:
    core.silences.snooze(web, NOW + 3600, NOW - 10, reason="deploy")
    core.silences.add_weekly(None, SilenceKind.MAINTENANCE, 6 * 1440 + 180, 120, now=NOW)
    windows = client.get("/api/v1/silences").json()["windows"]
    assert [(w["host"], w["kind"], w["active"]) for w in windows] == [
        ("web1", "snooze", True),
        (None, "maintenance", False),
    ]
    assert windows[1]["when"] == "every Sun 03:00 for 2h 0m"
    assert windows[0]["when"].endswith(" UTC")
    core.rules.update(web, {"disk.warning": 70}, NOW)
    mine = client.get("/api/v1/hosts/web1/rules").json()
    effective = core.rules.rules_for(web, core.rule_base)
    assert mine == json_shapes.rules_json("web1", effective, {"disk.warning"})
    assert mine["rules"]["disk.warning"]["set_here"] is True
    defaults = client.get("/api/v1/rules").json()
    assert defaults["host"] is None
    assert defaults["rules"]["disk.warning"]["set_here"] is False


def test_a_check_now_answers_as_check_json(
    client: TestClient, context: ApiContext, core: Core
) -> None:
    answer = client.post("/api/v1/hosts/localhost/check")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["name"] == "localhost"
    assert body["state"] in ("ok", "warning", "critical")
    assert body["metrics"]["cpu_count"] >= 1
    assert core.hosts.get("localhost").status is not None  # stored like any check
    assert client.post("/api/v1/hosts/nope/check").status_code == 404
    read_only = context.tokens.create("viewer", read_only=True).token
    denied = client.post(
        "/api/v1/hosts/localhost/check", headers={"Authorization": f"Bearer {read_only}"}
    )
    assert denied.status_code == 403


@pytest.fixture
def deploys(core: Core, web: int) -> None:
    """Two deploys of one Coolify app, five minutes apart."""
    writer = core.results_writer()
    for ago, name, memory in (
        (600, coolify_app.FIRST_DEPLOY, 10),
        (300, coolify_app.SECOND_DEPLOY, 20),
    ):
        check = CheckResult("web1", NOW - ago, HostState.OK, None, "ok", make_metrics())
        view = coolify_app.app_container(name, started=NOW - ago, memory=memory)
        report = DockerReport(containers=(view,))
        writer.write([(web, dataclasses.replace(check, docker=report))])


@pytest.mark.usefixtures("deploys")
def test_history_of_an_app_across_its_deploys(client: TestClient) -> None:
    answer = client.get(
        "/api/v1/hosts/web1/history",
        params={"metric": "memory", "container": "shop/production/web"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["metric"] == f"container.memory_bytes:{coolify_app.IDENTITY}"
    assert [(p["ts"], p["value"]) for p in body["points"]] == [(NOW - 600, 10.0), (NOW - 300, 20.0)]


@pytest.mark.usefixtures("deploys")
def test_an_unknown_container_or_metric_names_the_field(client: TestClient) -> None:
    unknown = client.get(
        "/api/v1/hosts/web1/history", params={"metric": "cpu", "container": "shop/staging/web"}
    )
    assert unknown.status_code == 422
    [error] = unknown.json()["errors"]
    assert error["field"] == "container"
    assert "web1" in error["message"]
    assert "shop/production/web" in error["message"]
    load = client.get(
        "/api/v1/hosts/web1/history", params={"metric": "load", "container": "shop/production/web"}
    )
    assert load.status_code == 422
    assert load.json()["errors"][0]["field"] == "metric"
