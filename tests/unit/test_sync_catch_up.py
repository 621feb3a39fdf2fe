"""The desktop's copy of a node, caught up in-process through the real API (an ASGI
transport instead of a socket): equal row by row, idempotent, resumable, and started anew for
another node."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, delete, insert, select, update

from tests.sync_compare import differences, rows_of, samples_of
from tests.unit.fake_clock import FakeClock
from tests.unit.test_store import make_metrics
from vpshealth.api.app import create_app
from vpshealth.app import Core, build_core
from vpshealth.config import Paths, Settings
from vpshealth.domain.containers import Severity
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.hosts import Host
from vpshealth.domain.notifications import Notification, NotificationKind
from vpshealth.engine.status import EngineStatus
from vpshealth.store import sync_blocks
from vpshealth.store.compaction import Compactor
from vpshealth.store.database import open_database
from vpshealth.store.maintenance import Retention
from vpshealth.store.rollups import Rollups
from vpshealth.store.schema import hosts, incidents, notifications, sample_chunks, samples
from vpshealth.sync.catch_up import NodeTokenRefused, NodeUnreachable, catch_up
from vpshealth.sync.copy_pruning import CopyPruning
from vpshealth.sync.replica import Replica, StatePage, open_copy

HOUR = 3600
START = 1_800_000_000 - 1_800_000_000 % HOUR
NOW = START + 7 * HOUR + 1234


def make_node(home: Path) -> Core:
    core = build_core(Settings(home=home))
    core.clock = FakeClock(float(NOW))
    return core


def fill(core: Core, names: list[str], start: int, end: int, step: int = 60) -> None:
    writer = core.results_writer()
    ids = {}
    for name in names:
        try:
            ids[name] = core.hosts.add(Host(name=name, address="192.0.2.1"))
        except Exception:
            ids[name] = core.hosts.get(name).id
    for ts in range(start, end, step):
        batch = []
        for i, name in enumerate(names):
            down = name == "db1" and start + HOUR <= ts < start + HOUR + 600
            state = HostState.UNREACHABLE if down else HostState.OK
            problem = Problem.UNREACHABLE if down else None
            metrics = None if down else make_metrics(cpu=float((ts // step + i) % 97))
            batch.append((ids[name], CheckResult(name, ts, state, problem, "m", metrics)))
        writer.write(batch)


def incident(core: Core, name: str, opened: int, resolved: int | None) -> None:
    with core.engine.begin() as conn:
        conn.execute(
            insert(incidents).values(
                host_id=core.hosts.get(name).id, kind="disk", subject="/", container_id="",
                container_name="", severity="critical", opened_at=opened, resolved_at=resolved,
                message="disk / at 97%", value=97, threshold=95,
            )
        )  # fmt: skip


def fold(core: Core, now: int) -> None:
    Compactor(core.engine).compact(now)
    Rollups(core.engine).run(now)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Core]:
    core = make_node(tmp_path / "node")
    fill(core, ["web1", "db1"], START, NOW)
    fold(core, NOW)
    fill(core, ["web1", "db1"], NOW, NOW + 300)  # the current hour's raw rows
    incident(core, "web1", START + 100, START + 900)
    incident(core, "db1", NOW - 2 * HOUR, None)
    yield core
    core.close()


@pytest.fixture
def copy(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "copy.sqlite3")
    yield engine
    engine.dispose()


@pytest.fixture
async def client(node: Core) -> AsyncIterator[httpx.AsyncClient]:
    context = node.api_context(EngineStatus(running=True, started_at=NOW, poll_timeout=10))
    token = context.tokens.create("desktop", read_only=True).token
    transport = httpx.ASGITransport(app=create_app(context))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://node", headers={"Authorization": f"Bearer {token}"}
    ) as c:
        yield c


async def test_an_empty_copy_catches_up_to_equal_the_node(
    node: Core, copy: Engine, client: httpx.AsyncClient
) -> None:
    report = await catch_up(client, copy, FakeClock(NOW), series_per_page=3)

    assert differences(node.engine, copy) == []
    assert report.history_pages > 2
    assert report.bytes_received > 0
    with node.engine.connect() as conn:
        assert conn.execute(select(sample_chunks)).first() is not None  # chunks were sent
        assert conn.execute(select(samples)).first() is not None  # and raw rows
    assert len(samples_of(copy)) > 2 * 10 * 60


async def test_changes_on_the_node_reach_the_copy_on_the_next_catch_up(
    node: Core, copy: Engine, client: httpx.AsyncClient
) -> None:
    await catch_up(client, copy, FakeClock(NOW))
    later = NOW + 2 * HOUR
    fill(node, ["web1", "db1", "app1"], NOW + 300, later)
    fold(node, later)
    with node.engine.begin() as conn:
        conn.execute(update(incidents).where(incidents.c.resolved_at.is_(None)).values(
            resolved_at=later - 10, resolution="disk / back at 80%"))  # fmt: skip
        conn.execute(delete(hosts).where(hosts.c.name == "web1"))
    assert isinstance(node.clock, FakeClock)
    node.clock.t = float(later)  # the API's clock too

    report = await catch_up(client, copy, FakeClock(later))

    assert differences(node.engine, copy) == []
    assert not report.started_over
    assert "web1" not in {row[1] for row in rows_of(copy, hosts)}


async def test_applying_a_page_twice_changes_nothing(
    node: Core, copy: Engine, client: httpx.AsyncClient
) -> None:
    await catch_up(client, copy, FakeClock(NOW))
    state = StatePage.from_json((await client.get("/api/v1/sync/state")).json())
    history = sync_blocks.decode((await client.get("/api/v1/sync/history")).content)
    before = {t: rows_of(copy, t) for t in (hosts, incidents, samples, sample_chunks)}
    replica = Replica(copy)
    cursor = replica.cursor()
    for _ in range(2):
        replica.apply_state(state, NOW, 300)
        replica.apply_history(history, NOW, NOW)

    assert {t: rows_of(copy, t) for t in before} == before
    assert differences(node.engine, copy) == []
    assert replica.cursor().live_seq == cursor.live_seq


async def test_a_catch_up_cut_off_after_a_history_page_resumes_and_ends_equal(
    node: Core, copy: Engine, client: httpx.AsyncClient
) -> None:
    pages = 0
    real_get = client.get

    async def get(url: str, **kwargs: object) -> httpx.Response:
        nonlocal pages
        if "history" in url:
            pages += 1
            if pages == 2:
                raise asyncio.CancelledError
        return await real_get(url, **kwargs)  # type: ignore[arg-type]

    client.get = get  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await catch_up(client, copy, FakeClock(NOW), series_per_page=3)
    cursor = Replica(copy).cursor()
    assert cursor.history_after_series is not None
    assert differences(node.engine, copy) != []

    client.get = real_get  # type: ignore[method-assign]
    await catch_up(client, copy, FakeClock(NOW), series_per_page=3)

    assert differences(node.engine, copy) == []
    assert Replica(copy).cursor().history_after_series is None


async def test_another_node_id_clears_the_copy_first(
    node: Core, copy: Engine, client: httpx.AsyncClient, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    await catch_up(client, copy, FakeClock(NOW))
    other = make_node(tmp_path / "other")
    try:
        fill(other, ["cache1"], NOW - 600, NOW)
        context = other.api_context(EngineStatus(running=True, started_at=NOW, poll_timeout=10))
        token = context.tokens.create("desktop").token
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(context)),
            base_url="http://other",
            headers={"Authorization": f"Bearer {token}"},
        ) as to_other:
            with caplog.at_level(logging.WARNING, "vpshealth.sync"):
                report = await catch_up(to_other, copy, FakeClock(NOW))
        assert report.started_over
        assert differences(other.engine, copy) == []
        assert "cleared the copy" in caplog.text
    finally:
        other.close()


async def test_a_refused_token_says_what_to_do(copy: Engine, client: httpx.AsyncClient) -> None:
    client.headers["Authorization"] = "Bearer wrong"
    with pytest.raises(NodeTokenRefused, match="vpshealth node connect again with a new token"):
        await catch_up(client, copy, FakeClock(NOW))


async def test_a_node_that_is_not_there_is_unreachable(copy: Engine) -> None:
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9", timeout=2) as client:
        with pytest.raises(NodeUnreachable, match=r"127\.0\.0\.1:9 cannot be reached"):
            await catch_up(client, copy, FakeClock(NOW))


async def test_a_late_row_in_an_hour_already_folded_reaches_the_copy_and_stays(
    node: Core, copy: Engine, client: httpx.AsyncClient
) -> None:
    series_id, hour = 1, START + 6 * HOUR  # the last hour folded, before NOW's hour
    late = hour + 7  # between two samples a minute apart, not folded yet
    with node.engine.begin() as conn:
        conn.execute(insert(samples).values(series_id=series_id, ts=late, value=42.0))
    await catch_up(client, copy, FakeClock(NOW))
    assert (series_id, late, 42.0) in samples_of(copy)

    # Asked again from within that hour: its chunk comes again and takes the place of the
    # copy's raw rows inside it; the late row comes with it, as it is still a row on the node.
    await catch_up(client, copy, FakeClock(NOW), margin=NOW - hour - 600)
    assert (series_id, late, 42.0) in samples_of(copy)

    assert isinstance(node.clock, FakeClock)
    node.clock.t = float(NOW + 400)
    Compactor(node.engine).compact(NOW + 400)  # folds the late row into its hour's chunk
    await catch_up(client, copy, FakeClock(NOW + 400), margin=NOW + 400 - hour - 600)

    assert (series_id, late, 42.0) in samples_of(copy)
    assert differences(node.engine, copy) == []


async def test_the_copy_is_its_own_file_in_the_data_folder(
    node: Core, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    paths = Paths.from_settings(Settings(home=tmp_path / "desktop"))
    paths.ensure()
    copy = open_copy(paths)
    try:
        await catch_up(client, copy, FakeClock(NOW))
        assert differences(node.engine, copy) == []
    finally:
        copy.dispose()
    assert paths.node_copy_file == paths.data_dir / "node-copy.sqlite3"
    assert paths.node_copy_file.exists()
    assert not paths.database.exists()  # the desktop's own database is another file


def notification(core: Core, name: str, kind: str, at: int) -> int:
    """A notification as the alerting stores it; returns its id."""
    note = Notification(
        kind=NotificationKind(kind), severity=Severity.CRITICAL, host_name=name,
        host_address="192.0.2.1", rule="disk", subject="/", title="disk / at 97%",
        message="disk / at 97%", since=at, at=at, host_id=core.hosts.get(name).id,
    )  # fmt: skip
    with core.engine.begin() as conn:
        return int(
            conn.execute(
                insert(notifications).values(
                    host_id=note.host_id, kind=kind, severity="critical", created_at=at,
                    payload=json.dumps(note.to_json()),
                )
            ).inserted_primary_key[0]
        )  # fmt: skip


async def test_the_nodes_notifications_reach_the_copy_page_by_page_with_their_cursor(
    node: Core, copy: Engine, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        notification(node, "web1", "opened", NOW - 100 + i)
    monkeypatch.setattr("vpshealth.sync.catch_up.EVENTS_PER_PAGE", 2)

    report = await catch_up(client, copy, FakeClock(NOW))
    last = notification(node, "db1", "resolved", NOW)
    await catch_up(client, copy, FakeClock(NOW))

    assert report.state_pages >= 3
    assert differences(node.engine, copy) == []
    assert [row[0] for row in rows_of(copy, notifications)] == list(range(1, last + 1))
    assert Replica(copy).cursor().notifications_after == last


async def test_a_desktop_that_does_not_ask_for_notifications_gets_them_from_the_start(
    node: Core, client: httpx.AsyncClient
) -> None:
    first = notification(node, "web1", "opened", NOW - 10)

    body = (await client.get("/api/v1/sync/state", params={"events_after": 0})).json()

    assert body["notifications_after"] == 0
    assert body["next_notifications_after"] == first
    assert [row[0] for row in body["tables"]["notifications"]["rows"]] == [first]
    assert body["tables"]["events"]["columns"][0] == "id"


async def test_a_notification_of_a_host_the_copy_no_longer_has_keeps_its_text(
    node: Core, copy: Engine, client: httpx.AsyncClient
) -> None:
    await catch_up(client, copy, FakeClock(NOW))
    note = notification(node, "web1", "opened", NOW)
    state = StatePage.from_json((await client.get("/api/v1/sync/state")).json())
    with copy.begin() as conn:
        conn.execute(delete(hosts).where(hosts.c.name == "web1"))
    without_web1 = StatePage(
        node_id=state.node_id, now=state.now, live_seq=state.live_seq,
        next_events_after=state.next_events_after, more=False,
        tables={"notifications": state.tables["notifications"]},
        next_notifications_after=note,
    )  # fmt: skip

    Replica(copy).apply_state(without_web1, NOW, 300)

    (row,) = [r for r in rows_of(copy, notifications) if r[0] == note]
    assert row[2] is None  # host_id
    assert "disk / at 97%" in row[6]


async def test_the_copy_is_pruned_to_the_desktops_retention_at_most_once_an_hour(
    copy: Engine, client: httpx.AsyncClient
) -> None:
    report = await catch_up(client, copy, FakeClock(NOW))
    before = len(samples_of(copy))
    clock = FakeClock(NOW)
    pruning = CopyPruning(copy, Retention(raw=2 * HOUR), clock)

    deleted = await pruning.after_sync(report)
    clock.t += HOUR / 2
    again = await pruning.after_sync(report)  # within the hour: not run

    assert deleted > 0
    assert again == 0
    kept = samples_of(copy)
    assert 0 < len(kept) < before
    assert min(ts for _, ts, _ in kept) >= NOW - 2 * HOUR - HOUR  # whole chunks, by the hour


async def test_two_hosts_that_swapped_names_on_the_node_swap_in_the_copy(
    node: Core, copy: Engine, client: httpx.AsyncClient
) -> None:
    await catch_up(client, copy, FakeClock(NOW))
    web1, db1 = node.hosts.get("web1").id, node.hosts.get("db1").id
    with node.engine.begin() as conn:
        conn.execute(update(hosts).where(hosts.c.id == web1).values(name="swap"))
        conn.execute(update(hosts).where(hosts.c.id == db1).values(name="web1"))
        conn.execute(update(hosts).where(hosts.c.id == web1).values(name="db1"))

    await catch_up(client, copy, FakeClock(NOW))

    assert differences(node.engine, copy) == []
    names = {row[0]: row[1] for row in rows_of(copy, hosts)}
    assert (names[web1], names[db1]) == ("db1", "web1")
