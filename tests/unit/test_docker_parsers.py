"""docker_parsers against answers recorded from a real Docker engine (tests/fixtures/docker)
and hand-written shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vpshealth.collectors.docker_parsers import (
    ContainerSummary,
    group_of,
    parse_container_list,
    parse_event,
    parse_inspect,
    parse_stats,
    parse_version,
)
from vpshealth.domain.container_identity import COOLIFY_INFRASTRUCTURE_NAMES
from vpshealth.domain.containers import (
    STANDALONE,
    Container,
    ContainerGroup,
    ContainerState,
    ContainerStats,
    DockerEvent,
    GroupKind,
    Health,
    container_cpu_percent,
    container_memory_bytes,
)
from vpshealth.domain.errors import ParseError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "docker"

LOOP_ID = "ac63d96defaa8701e4cef283d8d0df761788ace337bd7b9b2c8a035365b0ac69"
HEALTHY_ID = "cb147881cf06374a59ae7cd6ed40a7db011b484cb3cea9f1aecf6171bcc27dd2"
WEB_ID = "e095e2526406e10fc1452edf43a99ccb245ed2010ef362d0a68601e449696d06"
OOM_ID = "b33864a6424ba7b0b48a96f2adf42e4a263cd2a5ceeb6e7d00b4a04bc95f9a94"
EXIT3_ID = "6b884fd602cdb7acbb1b6f06c59b47c16bca01de098271610e449c7551ad794b"
UNHEALTHY_ID = "5559be1ef1f8cbde750ace27e0b63fcca3e5cdf0b5147dfe0baf13d513d771ec"
UNHEALTHY2_ID = "382ec06614bae49dfc8703228007e2ff6b282846c313d640ee388c4576db846e"
STOPME_ID = "c9d29506290ef865dd70429e39f820327ef93e03115442573c63979b403c1bfd"
ONFAIL_ID = "3e410276a43af4b31a0607b6d0d57508ee8ecede71bff7b9ae5009ae1f3e4bcf"

SHOP = ContainerGroup(GroupKind.COOLIFY, "shop", "production", "web", uuid="web-abc")
"""``web-abc``'s recorded labels are a subset Coolify never writes alone (no compose project,
no ``coolify.pullRequestId``; real ones are in fixtures/docker/coolify): the uuid falls back to
``coolify.name``."""
BLOG = ContainerGroup(GroupKind.COMPOSE, "blog", service="db", uuid="blog", member="db")
COOLIFY_INFRA = ContainerGroup(GroupKind.COOLIFY, infrastructure=True)


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def inspect(name: str) -> Container:
    return parse_inspect(raw(f"inspect_{name}.json"))


def event_lines(name: str) -> list[bytes]:
    return raw(name).splitlines()


# --- version ------------------------------------------------------------------------------


def test_version_recorded() -> None:
    assert parse_version(raw("version.json")) == "1.41"


@pytest.mark.parametrize(
    "body", [b"{}", b'{"ApiVersion": 1.41}', b'{"ApiVersion": "latest"}', b"[]", b"", b"null"]
)
def test_version_rejects(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_version(body)


# --- listing ------------------------------------------------------------------------------


def by_name(rows: list[ContainerSummary]) -> dict[str, ContainerSummary]:
    return {row.name: row for row in rows}


def test_listing_recorded() -> None:
    rows = parse_container_list(raw("containers_list.json"))
    assert len(rows) == 19
    assert rows[0].name == "vh-ports"  # the engine's order: newest first
    names = by_name(rows)
    assert set(names) == {
        "vh-ports", "vh-graceful", "vh-restartme", "vh-killme", "vh-stopme", "vh-onfail",
        "vh-expose", "vh-hostnet", "blog-db-1", "coolify-sentinel", "coolify-proxy", "web-abc",
        "vh-paused", "vh-created", "oom", "vh-exit3", "vh-unhealthy", "vh-healthy", "loop",
    }  # fmt: skip
    assert names["loop"] == ContainerSummary(
        id=LOOP_ID,
        name="loop",
        image="vhbusy",
        created=1795938462,
        state=ContainerState.RUNNING,
        status="Up Less than a second",
    )
    assert names["vh-unhealthy"].status == "Up 4 minutes (healthy)"
    assert names["oom"].status == "Exited (137) 4 minutes ago"
    assert names["vh-ports"].ports == (
        "127.0.0.1:18081->80/tcp",
        "0.0.0.0:18082->81/udp",
        "[::]:18082->81/udp",
        "9000/tcp",
    )
    assert names["vh-ports"].created == 1795938992
    assert names["vh-paused"].state is ContainerState.PAUSED
    assert names["vh-created"].state is ContainerState.CREATED
    assert names["oom"].state is ContainerState.EXITED
    assert names["vh-hostnet"].ports == ()  # host network: nothing to publish
    web = names["web-abc"]
    assert web.id == WEB_ID
    assert dict(web.labels) == {
        "coolify.applicationId": "7",
        "coolify.environmentName": "production",
        "coolify.managed": "true",
        "coolify.name": "web-abc",
        "coolify.projectName": "shop",
        "coolify.resourceName": "web",
        "coolify.type": "application",
    }
    assert web.labels == tuple(sorted(web.labels))
    assert web.group == SHOP
    assert web.group.app == "shop / production / web"
    assert names["blog-db-1"].group == BLOG
    assert names["blog-db-1"].group.app == "blog / db"
    assert names["coolify-proxy"].group == COOLIFY_INFRA
    assert names["coolify-sentinel"].group == COOLIFY_INFRA
    assert names["vh-exit3"].group is STANDALONE


def test_listing_with_unhealthy_recorded() -> None:
    rows = by_name(parse_container_list(raw("containers_list_unhealthy.json")))
    assert set(rows) == {"loop", "vh-unhealthy"}
    assert rows["loop"].state is ContainerState.RESTARTING
    assert rows["vh-unhealthy"].id == UNHEALTHY2_ID
    assert rows["vh-unhealthy"].state is ContainerState.RUNNING


def test_listing_published_ports_documented_shape() -> None:
    """Hand-written: the API's documented ``Ports`` shape with IPv4 and IPv6 bindings."""
    rows = parse_container_list(raw("handwritten_containers_list_published_ports.json"))
    proxy, db, legacy = rows
    assert proxy.name == "coolify-proxy"
    assert proxy.ports == (
        "0.0.0.0:80->80/tcp",
        "[::]:80->80/tcp",
        "0.0.0.0:443->443/tcp",
        "[::]:443->443/tcp",
        "0.0.0.0:443->443/udp",
        "0.0.0.0:8080->8080/tcp",
    )
    assert proxy.group.infrastructure
    assert proxy.group.kind is GroupKind.COOLIFY
    assert db.name == "db-ks0gk8s4ccw0w8o4sg0c8wk0"  # not the legacy link name /app-x/db
    assert db.ports == ("127.0.0.1:54320->5432/tcp", "5432/tcp")
    assert db.state is ContainerState.EXITED
    assert db.group == ContainerGroup(
        GroupKind.COOLIFY,
        "shop",
        "production",
        resource=None,
        service="db",
        uuid="ks0gk8s4ccw0w8o4sg0c8wk0",  # from the name: no compose project label
    )
    assert db.group.app == "shop / production / db"
    assert (legacy.state, legacy.ports, legacy.labels) == (ContainerState.DEAD, (), ())


def test_listing_empty() -> None:
    assert parse_container_list(b"[]") == []
    assert parse_container_list("[]\n") == []


def listing_row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "Id": LOOP_ID,
        "Names": ["/loop"],
        "Image": "vhbusy",
        "Created": 1795938462,
        "Ports": [],
        "Labels": {},
        "State": "running",
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not _DROP}


_DROP = object()


@pytest.mark.parametrize(
    "changes",
    [
        {"Id": "ac63d96defaa"},  # short id
        {"Id": LOOP_ID.upper()},
        {"Id": _DROP},
        {"Names": []},
        {"Names": ["/a/b"]},  # only a link name
        {"Names": "/loop"},
        {"Names": [""]},
        {"Names": ["/"]},
        {"Names": ["/" + "x" * 300]},
        {"Image": None},
        {"Image": 5},
        {"Created": -1},
        {"Created": 2**63},
        {"Created": "1795938462"},
        {"Created": 1.5},
        {"Created": True},
        {"State": "zombie"},
        {"State": None},
        {"Labels": []},
        {"Labels": {"a": 1}},
        {"Ports": {}},
        {"Ports": [{"PrivatePort": 0, "Type": "tcp"}]},
        {"Ports": [{"PrivatePort": 70000, "Type": "tcp"}]},
        {"Ports": [{"PrivatePort": 80, "Type": "icmp"}]},
        {"Ports": [{"PrivatePort": 80, "PublicPort": -1, "Type": "tcp"}]},
        {"Ports": [{"IP": "0.0.0.0\n", "PrivatePort": 80, "PublicPort": 80, "Type": "tcp"}]},
        {"Ports": ["80/tcp"]},
    ],
)
def test_listing_rejects_bad_rows(changes: dict[str, object]) -> None:
    with pytest.raises(ParseError):
        parse_container_list(json.dumps([listing_row(**changes)]))


def test_listing_rejects_duplicates_and_wrong_shapes() -> None:
    row = listing_row()
    for body in ([row, row], {"Id": LOOP_ID}, [1], [[row]], "[]"):
        with pytest.raises(ParseError):
            parse_container_list(json.dumps(body))


def test_listing_null_fields_are_empty() -> None:
    (row,) = parse_container_list(json.dumps([listing_row(Ports=None, Labels=None)]))
    assert (row.ports, row.labels) == ((), ())


def test_listing_status_is_kept_short_and_storable() -> None:
    (row,) = parse_container_list(json.dumps([listing_row(Status="Up \ud800" + "x" * 500)]))
    assert row.status == "Up ?" + "x" * 196
    (row,) = parse_container_list(json.dumps([listing_row(Status=5)]))
    assert row.status == ""


def test_listing_names_are_cleaned() -> None:
    (row,) = parse_container_list(json.dumps([listing_row(Names=["/bad\x1bname\u2028"])]))
    assert row.name == "bad?name?"
    (row,) = parse_container_list(json.dumps([listing_row(Labels={"k": "\ud800x"})]))
    assert row.labels == (("k", "?x"),)
    row.labels[0][1].encode()  # storable


# --- inspect ------------------------------------------------------------------------------

EXPECTED_INSPECT = {
    # name: (state, health, streak, restarts, exit, oom, started, finished)
    "loop": (ContainerState.RUNNING, Health.NONE, 0, 13, None, False, 1795938760, 1795938699),
    "loop_restarting": (
        ContainerState.RESTARTING, Health.NONE, 0, 7, 3, False, 1795939016, 1795939017,
    ),
    "vh-healthy": (ContainerState.RUNNING, Health.HEALTHY, 0, 0, None, False, 1795938736, None),
    "vh-unhealthy": (ContainerState.RUNNING, Health.HEALTHY, 0, 0, None, False, 1795938736, None),
    "vh-unhealthy_unhealthy": (
        ContainerState.RUNNING, Health.UNHEALTHY, 5, 0, None, False, 1795939036, None,
    ),
    "vh-unhealthy_stopped": (
        ContainerState.EXITED, Health.UNHEALTHY, 6, 0, 137, False, 1795939036, 1795939045,
    ),
    "vh-exit3": (ContainerState.EXITED, Health.NONE, 0, 0, 3, False, 1795938737, 1795938739),
    "oom": (ContainerState.EXITED, Health.NONE, 0, 0, 137, True, 1795938737, 1795938737),
    "vh-created": (ContainerState.CREATED, Health.NONE, 0, 0, None, False, None, None),
    "vh-paused": (ContainerState.PAUSED, Health.NONE, 0, 0, None, False, 1795938737, None),
    "vh-onfail": (ContainerState.EXITED, Health.NONE, 0, 2, 5, False, 1795938999, 1795939000),
    "vh-stopme": (ContainerState.EXITED, Health.NONE, 0, 0, 137, False, 1795938747, 1795938750),
    "vh-killme": (ContainerState.EXITED, Health.NONE, 0, 0, 137, False, 1795938748, 1795938750),
    "vh-graceful": (ContainerState.EXITED, Health.NONE, 0, 0, 0, False, 1795938748, 1795938752),
    "vh-restartme": (
        ContainerState.RUNNING, Health.NONE, 0, 0, None, False, 1795938751, 1795938751,
    ),
    "web-abc": (ContainerState.RUNNING, Health.NONE, 0, 0, None, False, 1795938737, None),
    "coolify-proxy": (ContainerState.RUNNING, Health.NONE, 0, 0, None, False, 1795938738, None),
    "blog-db-1": (ContainerState.RUNNING, Health.NONE, 0, 0, None, False, 1795938738, None),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPECTED_INSPECT))
def test_inspect_recorded_state(name: str) -> None:
    c = inspect(name)
    got = (
        c.state, c.health, c.failing_streak, c.restart_count, c.exit_code, c.oom_killed,
        c.started_at, c.finished_at,
    )  # fmt: skip
    assert got == EXPECTED_INSPECT[name]
    assert c.name == name.split("_", maxsplit=1)[0]
    assert c.image == "vhbusy"


def test_inspect_every_recorded_file_parses() -> None:
    files = sorted(FIXTURES.glob("inspect_*.json"))
    assert len(files) == 22
    for path in files:
        container = parse_inspect(path.read_bytes())
        assert len(container.id) == 64


def test_inspect_loop_in_full() -> None:
    assert inspect("loop") == Container(
        id=LOOP_ID,
        name="loop",
        image="vhbusy",
        created=1795938462,  # 2026-11-29T07:47:42.354883791Z
        state=ContainerState.RUNNING,
        restart_count=13,
        started_at=1795938760,  # 07:52:40.033119091Z
        finished_at=1795938699,  # 07:51:39.905364132Z, the previous run's end
    )


def test_inspect_coolify_compose_and_infrastructure() -> None:
    web = inspect("web-abc")
    assert web.group == SHOP
    assert ("coolify.projectName", "shop") in web.labels
    assert inspect("blog-db-1").group == BLOG
    assert inspect("coolify-proxy").group == COOLIFY_INFRA
    assert inspect("coolify-sentinel").group == COOLIFY_INFRA
    assert inspect("vh-healthy").group is STANDALONE


def test_inspect_ports_recorded() -> None:
    assert inspect("vh-ports").ports == (
        "127.0.0.1:18081->80/tcp",
        "0.0.0.0:18082->81/udp",
        "[::]:18082->81/udp",
        "9000/tcp",
    )
    assert inspect("vh-hostnet").ports == ()
    assert inspect("vh-expose").ports == ()


def test_inspect_created_container_has_no_times() -> None:
    created = inspect("vh-created")
    assert (created.started_at, created.finished_at, created.exit_code) == (None, None, None)
    assert created.created == 1795938737


def test_inspect_oom_and_crash() -> None:
    oom = inspect("oom")
    assert (oom.oom_killed, oom.exit_code, oom.id) == (True, 137, OOM_ID)
    exit3 = inspect("vh-exit3")
    assert (exit3.exit_code, exit3.id) == (3, EXIT3_ID)


def mutate_inspect(name: str, path: tuple[str, ...], value: object) -> bytes:
    data = json.loads(raw(f"inspect_{name}.json"))
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is _DROP:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-29T07:52:40Z", 1795938760),
        ("2026-11-29T07:52:40.5Z", 1795938760),
        ("2026-11-29T07:52:40.999999999Z", 1795938760),
        ("2026-11-29T09:52:40.1+02:00", 1795938760),
        ("2026-11-29T02:22:40-05:30", 1795938760),
        ("1970-01-01T00:00:00Z", 0),
        ("0001-01-01T00:00:00Z", None),
    ],
)
def test_inspect_times(value: str, expected: int | None) -> None:
    body = mutate_inspect("vh-exit3", ("State", "FinishedAt"), value)
    assert parse_inspect(body).finished_at == expected


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-29 07:52:40Z",
        "2026-11-29T07:52:40",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-29T25:00:00Z",
        "2026-11-29T07:52:40.1234567890Z",
        "1969-12-31T23:59:59Z",
        "0001-01-01T00:00:01Z",
        "0000-01-01T00:00:00Z",
        "2026-11-29T07:52:40+24:00",
        "\uff12\uff10\uff12\uff16-11-29T07:52:40Z",  # full-width digits
        "",
        1795938760,
        None,
    ],
)
def test_inspect_rejects_bad_times(value: object) -> None:
    with pytest.raises(ParseError):
        parse_inspect(mutate_inspect("vh-exit3", ("State", "StartedAt"), value))


def test_inspect_created_zero_time_is_rejected() -> None:
    with pytest.raises(ParseError):
        parse_inspect(mutate_inspect("vh-exit3", ("Created",), "0001-01-01T00:00:00Z"))


def test_inspect_health_missing_or_null_is_none() -> None:
    assert parse_inspect(mutate_inspect("vh-healthy", ("State", "Health"), _DROP)).health is (
        Health.NONE
    )
    assert parse_inspect(mutate_inspect("vh-healthy", ("State", "Health"), None)).health is (
        Health.NONE
    )
    starting = mutate_inspect("vh-healthy", ("State", "Health", "Status"), "starting")
    assert parse_inspect(starting).health is Health.STARTING


def test_inspect_null_labels_ports_and_network() -> None:
    assert parse_inspect(mutate_inspect("web-abc", ("Config", "Labels"), None)).labels == ()
    assert parse_inspect(mutate_inspect("web-abc", ("Config", "Labels"), None)).group is (
        STANDALONE
    )
    assert parse_inspect(mutate_inspect("vh-ports", ("NetworkSettings",), None)).ports == ()
    unbound = mutate_inspect("vh-ports", ("NetworkSettings", "Ports"), {"80/tcp": []})
    assert parse_inspect(unbound).ports == ("80/tcp",)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("Id",), "nope"),
        (("Name",), "/"),
        (("Name",), 7),
        (("State",), []),
        (("State",), _DROP),
        (("Config",), None),
        (("State", "Status"), "zombie"),
        (("State", "Health"), "healthy"),
        (("State", "Health", "Status"), "sick"),
        (("State", "Health", "FailingStreak"), -1),
        (("State", "ExitCode"), "3"),
        (("State", "ExitCode"), 2**40),
        (("State", "OOMKilled"), "false"),
        (("State", "OOMKilled"), 0),
        (("RestartCount",), -1),
        (("RestartCount",), 1e3),
        (("RestartCount",), _DROP),
        (("Config", "Image"), None),
        (("Config", "Labels"), {"k": None}),
        (("NetworkSettings", "Ports"), {"80": None}),
        (("NetworkSettings", "Ports"), {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": 80}]}),
        (("NetworkSettings", "Ports"), {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "99999"}]}),
        (("NetworkSettings", "Ports"), {"80/tcp": {"HostPort": "80"}}),
        (("NetworkSettings", "Ports"), []),
    ],
)
def test_inspect_rejects(path: tuple[str, ...], value: object) -> None:
    name = "vh-ports" if path[0] == "NetworkSettings" else "vh-healthy"
    with pytest.raises(ParseError):
        parse_inspect(mutate_inspect(name, path, value))


def test_inspect_exit_code_negative_is_kept() -> None:
    # Docker reports -1 / 126 / 127 when it could not start the process.
    assert parse_inspect(mutate_inspect("vh-exit3", ("State", "ExitCode"), -1)).exit_code == -1


# --- grouping -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "name", "expected"),
    [
        (
            {
                "coolify.managed": "true",
                "coolify.projectName": "shop",
                "coolify.environmentName": "production",
                "coolify.resourceName": "web",
            },
            "web-abc",
            ContainerGroup(GroupKind.COOLIFY, "shop", "production", "web"),
        ),
        (
            {
                "coolify.managed": "true",
                "coolify.type": "service",
                "coolify.projectName": "paperclip",
                "coolify.environmentName": "production",
                "coolify.resourceName": "service-itsczyu65oly9fdbef1blygu",
                "coolify.serviceName": "paperclip",
                "com.docker.compose.project": "honkekh3rpaqbostmn0eplvv",
                "com.docker.compose.service": "paperclip",
            },
            "paperclip-honkekh3rpaqbostmn0eplvv",
            ContainerGroup(
                GroupKind.COOLIFY,
                "paperclip",
                "production",
                "service-itsczyu65oly9fdbef1blygu",
                "paperclip",
                uuid="honkekh3rpaqbostmn0eplvv",
                member="paperclip",  # no coolify.service.subName: the compose service
            ),
        ),
        (
            {"coolify.managed": "true", "coolify.serviceName": "db"},
            "db-x",
            ContainerGroup(GroupKind.COOLIFY, service="db"),
        ),
        ({"coolify.managed": "True ", "coolify.proxy": "true"}, "proxy", COOLIFY_INFRA),
        ({"coolify.managed": "true"}, "coolify-sentinel", COOLIFY_INFRA),
        (
            {"com.docker.compose.project": "blog", "com.docker.compose.service": "db"},
            "blog-db-1",
            BLOG,
        ),
        (
            {"com.docker.compose.project": "source", "com.docker.compose.service": "postgres"},
            "coolify-db",
            ContainerGroup(
                GroupKind.COMPOSE,
                "source",
                service="postgres",
                infrastructure=True,
                uuid="source",
                member="postgres",
            ),
        ),
        (
            {"coolify.managed": "false", "com.docker.compose.project": "blog"},
            "blog-web-1",
            ContainerGroup(GroupKind.COMPOSE, "blog", uuid="blog"),
        ),
        ({"com.docker.compose.project": "  "}, "x", STANDALONE),
        ({"coolify.projectName": "shop"}, "web", STANDALONE),  # not managed
        ({}, "coolify", ContainerGroup(GroupKind.STANDALONE, infrastructure=True)),
        ({}, "coolify-realtime", ContainerGroup(GroupKind.STANDALONE, infrastructure=True)),
        ({}, "coolify-proxy-old", STANDALONE),
        ({}, "nginx", STANDALONE),
    ],
)
def test_group_of(labels: dict[str, str], name: str, expected: ContainerGroup) -> None:
    assert group_of(labels, name) == expected


def test_infrastructure_names_are_explicit() -> None:
    assert frozenset(
        {
            "coolify", "coolify-db", "coolify-redis", "coolify-realtime", "coolify-proxy",
            "coolify-sentinel", "coolify-log-drain", "coolify-cloudflared",
        }
    ) == COOLIFY_INFRASTRUCTURE_NAMES  # fmt: skip


# --- stats --------------------------------------------------------------------------------


def test_stats_cgroup_v1_recorded() -> None:
    assert parse_stats(raw("stats_vh-healthy.json")) == ContainerStats(
        container_id=HEALTHY_ID,
        cpu_total_usage=555081369,
        system_cpu_usage=5227020000000,
        online_cpus=2,
        memory_usage=1171456,
        memory_inactive_file=0,  # total_inactive_file
        memory_limit=67108864,  # -m 64m
    )


def test_stats_without_limit_is_host_memory() -> None:
    stats = parse_stats(raw("stats_web-abc.json"))
    assert (stats.container_id, stats.memory_limit, stats.memory_usage) == (
        WEB_ID,
        25276063744,
        323584,
    )
    assert parse_stats(raw("stats_vh-paused.json")).cpu_total_usage == 41293684


@pytest.mark.parametrize("name", ["vh-exit3", "vh-created", "loop"])
def test_stats_of_a_stopped_container(name: str) -> None:
    stats = parse_stats(raw(f"stats_{name}.json"))
    assert (stats.memory_usage, stats.memory_limit, stats.system_cpu_usage) == (None, None, None)
    assert (stats.cpu_total_usage, stats.online_cpus, stats.memory_inactive_file) == (0, 1, 0)
    assert container_memory_bytes(stats) is None


def test_stats_cpu_percent_between_two_recorded_reads() -> None:
    before = parse_stats(raw("stats_vh-healthy.json"))
    after = parse_stats(raw("stats_vh-healthy_twosample.json"))
    assert after.cpu_total_usage == 6219529242
    assert after.system_cpu_usage == 5735010000000
    # (6219529242 - 555081369) / (5735010000000 - 5227020000000) * 2 CPUs * 100
    assert container_cpu_percent(before, after) == 2.23
    assert container_memory_bytes(after) == 831488


def test_stats_cgroup_v2_handwritten() -> None:
    stats = parse_stats(raw("handwritten_stats_cgroup2.json"))
    assert stats == ContainerStats(
        container_id=WEB_ID,
        cpu_total_usage=98765432100,
        system_cpu_usage=8123456780000000,
        online_cpus=4,
        memory_usage=314572800,
        memory_inactive_file=52428800,
        memory_limit=1073741824,
    )
    assert container_memory_bytes(stats) == 314572800 - 52428800


def v1_stats(**changes: object) -> dict[str, object]:
    data: dict[str, Any] = json.loads(raw("stats_vh-healthy.json"))
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for key in parents:
            node = node[key]
        if value is _DROP:
            del node[last]
        else:
            node[last] = value
    return data


def test_stats_online_cpus_fallbacks() -> None:
    no_online = v1_stats(cpu_stats__online_cpus=_DROP)
    assert parse_stats(json.dumps(no_online)).online_cpus == 2  # len(percpu_usage)
    zero = v1_stats(cpu_stats__online_cpus=0, cpu_stats__cpu_usage__percpu_usage=[1, 2, 3])
    assert parse_stats(json.dumps(zero)).online_cpus == 3
    neither = v1_stats(cpu_stats__online_cpus=_DROP, cpu_stats__cpu_usage__percpu_usage=_DROP)
    assert parse_stats(json.dumps(neither)).online_cpus == 1
    empty = v1_stats(cpu_stats__online_cpus=_DROP, cpu_stats__cpu_usage__percpu_usage=[])
    assert parse_stats(json.dumps(empty)).online_cpus == 1


def test_stats_system_cpu_usage_may_be_missing() -> None:
    stats = parse_stats(json.dumps(v1_stats(cpu_stats__system_cpu_usage=_DROP)))
    assert stats.system_cpu_usage is None
    assert container_cpu_percent(stats, stats) is None


def test_stats_v1_prefers_total_inactive_file() -> None:
    data = v1_stats(
        memory_stats__stats__total_inactive_file=100_000,
        memory_stats__stats__inactive_file=5,
    )
    assert parse_stats(json.dumps(data)).memory_inactive_file == 100_000


def test_stats_inactive_file_above_usage_counts_as_zero() -> None:
    """The docker CLI then shows the raw usage; so do we."""
    data = v1_stats(memory_stats__stats__total_inactive_file=5_000_000)
    stats = parse_stats(json.dumps(data))
    assert stats.memory_inactive_file == 0
    assert container_memory_bytes(stats) == 1171456


@pytest.mark.parametrize(
    ("limit", "expected"), [(0, None), (9223372036854771712, None), (2**62 - 1, 2**62 - 1)]
)
def test_stats_limit_sentinels(limit: int, expected: int | None) -> None:
    data = v1_stats(memory_stats__limit=limit)
    assert parse_stats(json.dumps(data)).memory_limit == expected


def test_stats_memory_without_stats_block() -> None:
    data = v1_stats(memory_stats__stats=_DROP)
    stats = parse_stats(json.dumps(data))
    assert (stats.memory_usage, stats.memory_inactive_file) == (1171456, 0)
    data = v1_stats(memory_stats=None)
    assert parse_stats(json.dumps(data)).memory_usage is None


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "x"},
        {"id": _DROP},
        {"cpu_stats": []},
        {"cpu_stats__cpu_usage": _DROP},
        {"cpu_stats__cpu_usage__total_usage": -1},
        {"cpu_stats__cpu_usage__total_usage": "5"},
        {"cpu_stats__cpu_usage__total_usage": 2**64},
        {"cpu_stats__cpu_usage__total_usage": 1.0},
        {"cpu_stats__cpu_usage__total_usage": None},
        {"cpu_stats__cpu_usage__percpu_usage": [1, -2]},
        {"cpu_stats__cpu_usage__percpu_usage": {}},
        {"cpu_stats__online_cpus": -2},
        {"cpu_stats__online_cpus": 10**9},
        {"cpu_stats__system_cpu_usage": "lots"},
        {"memory_stats": "none"},
        {"memory_stats__usage": -5},
        {"memory_stats__limit": 2**63},
        {"memory_stats__stats": []},
        {"memory_stats__stats__total_inactive_file": None},
        {"memory_stats__stats__total_inactive_file": -1},
    ],
)
def test_stats_rejects(changes: dict[str, object]) -> None:
    with pytest.raises(ParseError):
        parse_stats(json.dumps(v1_stats(**changes)))


# --- events -------------------------------------------------------------------------------


def recorded_events(name: str) -> list[DockerEvent]:
    return [e for e in (parse_event(line) for line in event_lines(name)) if e is not None]


def test_events_recorded_lifecycle() -> None:
    lines = event_lines("events_lifecycle.jsonl")
    assert len(lines) == 144
    events = recorded_events("events_lifecycle.jsonl")
    assert len(events) == 135  # minus 3 exec_* and 6 network events
    assert events[0] == DockerEvent(1795938736, "create", HEALTHY_ID, "vh-healthy")
    actions = {e.action for e in events}
    assert actions == {
        "create", "start", "die", "oom", "kill", "stop", "destroy", "pause", "restart",
        "health_status",
    }  # fmt: skip
    oom = [e for e in events if e.name == "oom"]
    assert [(e.action, e.exit_code) for e in oom] == [
        ("create", None), ("start", None), ("oom", None), ("die", 137), ("destroy", None),
    ]  # fmt: skip
    assert oom[3] == DockerEvent(1795938737, "die", OOM_ID, "oom", exit_code=137)
    stop = [(e.action, e.signal, e.exit_code) for e in events if e.container_id == STOPME_ID]
    assert stop == [
        ("create", None, None), ("start", None, None), ("kill", 15, None), ("kill", 9, None),
        ("die", None, 137), ("stop", None, None), ("destroy", None, None),
    ]  # fmt: skip
    onfail = [(e.time, e.action, e.exit_code) for e in events if e.container_id == ONFAIL_ID]
    assert onfail[:6] == [
        (1795938747, "create", None), (1795938747, "start", None), (1795938748, "die", 5),
        (1795938748, "start", None), (1795938749, "die", 5), (1795938750, "start", None),
    ]  # fmt: skip
    health = [(e.name, e.health) for e in events if e.action == "health_status"]
    assert health == [
        ("vh-healthy", Health.HEALTHY),
        ("vh-unhealthy", Health.HEALTHY),
        ("vh-unhealthy", Health.UNHEALTHY),
        ("vh-unhealthy", Health.HEALTHY),
    ]
    restart = [e for e in events if e.action == "restart"]
    assert {e.name for e in restart} == {"vh-restartme", "loop"}
    assert all(e.exit_code is None for e in events if e.action != "die")
    assert all(e.signal is None for e in events if e.action != "kill")


def test_events_recorded_unhealthy_stop() -> None:
    events = recorded_events("events_unhealthy_stop.jsonl")
    mine = [(e.action, e.health, e.signal, e.exit_code) for e in events if e.name != "loop"]
    assert mine == [
        ("create", None, None, None),
        ("start", None, None, None),
        ("health_status", Health.HEALTHY, None, None),
        ("health_status", Health.UNHEALTHY, None, None),
        ("kill", None, 15, None),
        ("kill", None, 9, None),
        ("die", None, None, 137),
        ("stop", None, None, None),
        ("destroy", None, None, None),
    ]
    assert {e.container_id for e in events if e.name != "loop"} == {UNHEALTHY2_ID}


def test_events_carry_the_containers_labels_and_app() -> None:
    (line,) = [x for x in event_lines("events_lifecycle.jsonl") if b'"die","id":"e095' in x]
    event = parse_event(line)
    assert event is not None
    assert (event.time, event.action, event.container_id, event.name, event.exit_code) == (
        1795939025,
        "die",
        WEB_ID,
        "web-abc",
        137,
    )
    assert event.labels == (
        ("coolify.applicationId", "7"),
        ("coolify.environmentName", "production"),
        ("coolify.managed", "true"),
        ("coolify.name", "web-abc"),
        ("coolify.projectName", "shop"),
        ("coolify.resourceName", "web"),
        ("coolify.type", "application"),
    )
    assert event.group.kind is GroupKind.COOLIFY
    assert event.group.app == "shop / production / web"


def test_event_attributes_the_engine_adds_are_not_labels() -> None:
    attributes = {
        "exitCode": "3",
        "execDuration": "1",
        "image": "vhbusy",
        "name": "loop",
        "com.docker.compose.project": "blog",
        "com.docker.compose.service": "db",
    }
    event = parse_event(event_json(Actor={"ID": LOOP_ID, "Attributes": attributes}))
    assert event is not None
    assert event.labels == (
        ("com.docker.compose.project", "blog"),
        ("com.docker.compose.service", "db"),
    )
    assert event.group.app == "blog / db"


def test_event_without_labels_is_standalone() -> None:
    event = parse_event(event_json())
    assert event is not None
    assert event.labels == ()
    assert event.group is STANDALONE


def test_event_labels_are_bounded() -> None:
    attributes: dict[str, object] = {f"l{i}": "x" for i in range(10_001)}
    attributes["name"] = "loop"
    with pytest.raises(ParseError, match="too many labels"):
        parse_event(event_json(Actor={"ID": LOOP_ID, "Attributes": attributes}))
    attributes = {"name": "loop", "coolify.managed": 1}
    with pytest.raises(ParseError, match="Attributes"):
        parse_event(event_json(Actor={"ID": LOOP_ID, "Attributes": attributes}))


def event_json(**changes: object) -> str:
    data: dict[str, object] = {
        "status": "die",
        "id": LOOP_ID,
        "from": "vhbusy",
        "Type": "container",
        "Action": "die",
        "Actor": {
            "ID": LOOP_ID,
            "Attributes": {"exitCode": "3", "image": "vhbusy", "name": "loop"},
        },
        "scope": "local",
        "time": 1795938761,
        "timeNano": 1795938761905364132,
    }
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not _DROP})


def test_event_time_from_time_nano_only() -> None:
    event = parse_event(event_json(time=_DROP))
    assert event is not None
    assert event.time == 1795938761


def test_event_str_bytes_and_line_endings() -> None:
    expected = DockerEvent(1795938761, "die", LOOP_ID, "loop", exit_code=3)
    assert parse_event(event_json()) == expected
    assert parse_event(event_json().encode() + b"\r\n") == expected
    assert parse_event(b"   \n") is None
    assert parse_event("") is None


@pytest.mark.parametrize(
    "changes",
    [
        {"Type": "network"},
        {"Type": "image"},
        {"Type": _DROP},  # pre-1.22 format
        {"Action": "exec_die"},
        {"Action": "exec_create: /bin/sh -c test -f /tmp/ok"},
        {"Action": "attach"},
        {"Action": "rename"},
        {"Action": "health_status: none"},
        {"Action": "health_status: running"},
        {"Action": "health_status"},
    ],
)
def test_event_not_followed(changes: dict[str, object]) -> None:
    assert parse_event(event_json(**changes)) is None


def test_event_health_and_kill() -> None:
    event = parse_event(event_json(Action="health_status: unhealthy"))
    assert event is not None
    assert (event.action, event.health, event.exit_code) == (
        "health_status",
        Health.UNHEALTHY,
        None,
    )
    kill = parse_event(
        event_json(
            Action="kill", Actor={"ID": LOOP_ID, "Attributes": {"name": "loop", "signal": "1"}}
        )
    )
    assert kill == DockerEvent(1795938761, "kill", LOOP_ID, "loop", signal=1)


def test_event_uses_status_when_action_is_missing() -> None:
    event = parse_event(event_json(Action=_DROP, status="start"))
    assert event is not None
    assert event.action == "start"


@pytest.mark.parametrize(
    "changes",
    [
        {"Type": 5},
        {"Action": None},
        {"Action": 3},
        {"Actor": None},
        {"Actor": {"ID": "short", "Attributes": {"name": "loop"}}},
        {"Actor": {"ID": LOOP_ID, "Attributes": {}}},
        {"Actor": {"ID": LOOP_ID, "Attributes": []}},
        {"Actor": {"ID": LOOP_ID, "Attributes": {"name": "loop", "exitCode": "three"}}},
        {"Actor": {"ID": LOOP_ID, "Attributes": {"name": "loop", "exitCode": 3}}},
        {"Actor": {"ID": LOOP_ID, "Attributes": {"name": "loop", "exitCode": "99999999999"}}},
        {"time": -1},
        {"time": "1795938761"},
        {"time": _DROP, "timeNano": _DROP},
        {"time": 2**70},
    ],
)
def test_event_rejects(changes: dict[str, object]) -> None:
    with pytest.raises(ParseError):
        parse_event(event_json(**changes))


@pytest.mark.parametrize("signal", ["SIGTERM", "0", "-9", "999", ""])
def test_event_rejects_bad_signal(signal: str) -> None:
    actor = {"ID": LOOP_ID, "Attributes": {"name": "loop", "signal": signal}}
    with pytest.raises(ParseError):
        parse_event(event_json(Action="kill", Actor=actor))


# --- JSON-level garbage, for every parser ----------------------------------------------------

PARSERS = [parse_container_list, parse_inspect, parse_stats, parse_event, parse_version]

GARBAGE = [
    b"\xff\xfe\x00garbage",
    b"{",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": -Infinity}',
    b"[" * 100_000,
    b'{"a": 1' + b"0" * 5000 + b"}",
    b"\xef\xbb\xbf{}",  # BOM
    b"<html>502 Bad Gateway</html>",
    b'"just a string"',
    b"42",
    b"true",
]


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("body", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_is_a_parse_error(parser: object, body: bytes) -> None:
    assert callable(parser)
    with pytest.raises(ParseError) as info:
        parser(body)
    assert len(str(info.value)) < 160


def test_error_messages_do_not_echo_the_input() -> None:
    secret = "x" * 5000
    for parser in PARSERS:
        with pytest.raises(ParseError) as info:
            parser(json.dumps({"Id": secret, "ApiVersion": secret, "Type": "container",
                               "Action": "die", "Actor": {"ID": secret}}))  # fmt: skip
        assert len(str(info.value)) < 160
    with pytest.raises(ParseError) as info:
        parse_container_list(json.dumps([listing_row(State=secret)]))
    assert len(str(info.value)) < 160


def test_not_utf8_inside_a_string_is_replaced() -> None:
    body = json.dumps([listing_row(Image="IMAGE")]).encode().replace(b"IMAGE", b"img\xff\xfe")
    (row,) = parse_container_list(body)
    assert row.image == "img\ufffd\ufffd"


def test_oversized_answers_are_rejected() -> None:
    with pytest.raises(ParseError):
        parse_container_list(b"[" + b" " * (64 * 1024 * 1024) + b"]")
    with pytest.raises(ParseError):
        parse_event(b" " * (2 * 1024 * 1024))


def test_wrong_argument_types_are_parse_errors() -> None:
    for parser in PARSERS:
        with pytest.raises(ParseError):
            parser(None)  # type: ignore[arg-type]
