from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from tests.gui.factories import add, ssh_host
from vpshealth.app import Core
from vpshealth.domain.containers import ContainerIncident, IncidentKind
from vpshealth.gui.context import GuiContext
from vpshealth.gui.incidents_view import IncidentsView
from vpshealth.store.docker_repository import record_incident
from vpshealth.store.incident_repository import IncidentRepository
from vpshealth.store.schema import silences

NOW = 1_800_000_000


def _incidents(core: Core) -> int:
    host_id = add(core, ssh_host("web1"))
    crash = ContainerIncident(
        IncidentKind.CRASHED, True, NOW - 600, "c1", "shop-web-1", "shop", "shop-web-1 crashed"
    )
    old = ContainerIncident(
        IncidentKind.UNHEALTHY, True, NOW - 7200, "c2", "blog-1", "blog", "blog-1 unhealthy"
    )
    with core.engine.begin() as conn:
        record_incident(conn, host_id, crash)
        record_incident(conn, host_id, old)
        record_incident(
            conn,
            host_id,
            ContainerIncident(
                IncidentKind.UNHEALTHY, False, NOW - 3600, "c2", "blog-1", "blog", "healthy again"
            ),
        )
    return host_id


def _rows(view: IncidentsView) -> list[list[str]]:
    return [
        [view.tree.topLevelItem(i).text(c) for c in (0, 1, 2, 4)]  # type: ignore[union-attr]
        for i in range(view.tree.topLevelItemCount())
    ]


def test_open_incidents_first_then_recent(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    _incidents(core)
    view = IncidentsView(ctx)
    qtbot.addWidget(view)
    loop.run(view.load())
    rows = _rows(view)
    assert rows[0][:3] == ["Critical", "web1", "shop: shop-web-1 crashed"]
    assert rows[0][3] == "Open for 10 min"
    assert rows[1][3].startswith("Resolved")


def test_acknowledge(core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot) -> None:
    _incidents(core)
    view = IncidentsView(ctx)
    qtbot.addWidget(view)
    loop.run(view.load())
    assert not view.acknowledge_button.isEnabled()
    open_id = view.incidents[0].id
    view.select_incident(open_id)
    assert view.acknowledge_button.isEnabled()
    loop.run(view.acknowledge(open_id))
    record = IncidentRepository(core.engine).get(open_id)
    assert record is not None
    assert record.acknowledged_at == NOW
    assert _rows(view)[0][3] == "Open for 10 min, acknowledged"
    view.select_incident(open_id)
    assert not view.acknowledge_button.isEnabled()


def test_snooze_a_host(core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot) -> None:
    host_id = _incidents(core)
    view = IncidentsView(ctx, host_id=host_id)
    qtbot.addWidget(view)
    loop.run(view.load())
    view.select_incident(view.incidents[0].id)
    loop.run(view.snooze_host("web1"))
    with core.engine.connect() as conn:
        rows = list(conn.execute(silences.select()))
    assert [(r.host_id, r.kind, r.starts_at, r.ends_at) for r in rows] == [
        (host_id, "snooze", NOW, NOW + 3600)
    ]
    assert view.message.text().startswith("No notifications about web1 until")
    assert core.read_model.fleet(NOW).snoozed_until is None  # a host's snooze is not global


def test_no_incidents(ctx: GuiContext, loop: Loop, qtbot: QtBot) -> None:
    view = IncidentsView(ctx)
    qtbot.addWidget(view)
    loop.run(view.load())
    assert _rows(view) == [["", "", "No incidents. All quiet.", ""]]


def test_the_selected_crash_shows_its_last_log_lines_in_monospace(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    host_id = add(core, ssh_host("web1"))
    lines = "starting web\nerror: database unreachable\nfatal: giving up"
    crash = ContainerIncident(
        IncidentKind.CRASHED, True, NOW - 600, "c1", "shop-web-1", "shop", "shop-web-1 crashed",
        log_lines=lines,
    )  # fmt: skip
    quiet = ContainerIncident(
        IncidentKind.UNHEALTHY, True, NOW - 7200, "c2", "blog-1", "blog", "blog-1 unhealthy"
    )
    with core.engine.begin() as conn:
        record_incident(conn, host_id, crash)
        record_incident(conn, host_id, quiet)
    view = IncidentsView(ctx)
    qtbot.addWidget(view)
    view.show()
    loop.run(view.load())
    assert view.log_view.isHidden()
    crash_id, quiet_id = (i.id for i in view.incidents)
    view.select_incident(crash_id)
    assert view.log_view.isVisible()
    assert view.log_view.toPlainText() == lines
    assert view.log_view.isReadOnly()
    assert view.log_view.font().fixedPitch() or "mono" in view.log_view.font().family().lower()
    assert view.log_title.text() == "Last log lines of shop-web-1 before it failed:"
    view.select_incident(quiet_id)
    assert view.log_view.isHidden()
