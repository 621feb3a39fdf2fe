from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.factories import add, metrics, result, ssh_host
from vpshealth.app import Core
from vpshealth.domain.containers import ContainerIncident, IncidentKind
from vpshealth.domain.health import HostState, Problem
from vpshealth.gui.overview import ALL_TAGS, OverviewView
from vpshealth.gui.overview_model import PERCENT_ROLE, Column
from vpshealth.store.docker_repository import record_incident


def _fleet(core: Core) -> None:
    web = add(core, ssh_host("web1", tags=("production",)))
    db = add(core, ssh_host("db1", "198.51.100.7", tags=("production", "database")))
    dev = add(core, ssh_host("dev", "192.0.2.1", tags=("staging",)))
    core.results_writer().write(
        [
            (web, result("web1", 1000, host_metrics=metrics(cpu=12, memory=40, disk=50))),
            (
                db,
                result(
                    "db1",
                    1000,
                    HostState.CRITICAL,
                    "disk / at 97% (limit 95%)",
                    Problem.DISK_HIGH,
                    metrics(cpu=80, memory=60, disk=97),
                ),
            ),
            (
                dev,
                result("dev", 1000, HostState.UNREACHABLE, "cannot connect", Problem.UNREACHABLE),
            ),
        ]
    )
    with core.engine.begin() as conn:
        record_incident(
            conn,
            db,
            ContainerIncident(
                IncidentKind.CRASHED, True, 990, "c1", "shop-db", "shop", "shop-db crashed"
            ),
        )


def _column(view: OverviewView, column: Column) -> list[str]:
    return [str(view.proxy.index(row, column).data()) for row in range(view.proxy.rowCount())]


def test_overview_shows_every_host_worst_first(core: Core, qtbot: QtBot) -> None:
    _fleet(core)
    view = OverviewView()
    qtbot.addWidget(view)
    view.set_snapshot(core.read_model.fleet(1001))
    assert _column(view, Column.NAME) == ["db1", "dev", "localhost", "web1"]
    assert _column(view, Column.STATE) == ["Critical", "Unreachable", "Not checked yet", "OK"]
    assert _column(view, Column.INCIDENTS)[0] == "1"
    db_row = 0
    assert view.proxy.index(db_row, Column.DISK).data() == "97%"
    assert view.proxy.index(db_row, Column.DISK).data(PERCENT_ROLE) == 97.0
    assert "97%" in view.proxy.index(db_row, Column.MESSAGE).data()
    assert view.summary.text() == "4 servers"


def test_sort_by_cpu_and_name(core: Core, qtbot: QtBot) -> None:
    _fleet(core)
    view = OverviewView()
    qtbot.addWidget(view)
    view.set_snapshot(core.read_model.fleet(1001))
    view.table.sortByColumn(Column.CPU, Qt.SortOrder.DescendingOrder)
    assert _column(view, Column.NAME)[:2] == ["db1", "web1"]
    view.table.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
    assert _column(view, Column.NAME) == ["db1", "dev", "localhost", "web1"]


def test_filter_by_tag_and_text(core: Core, qtbot: QtBot) -> None:
    _fleet(core)
    view = OverviewView()
    qtbot.addWidget(view)
    view.set_snapshot(core.read_model.fleet(1001))
    assert [view.tags.itemText(i) for i in range(view.tags.count())] == [
        ALL_TAGS,
        "database",
        "production",
        "staging",
    ]
    view.tags.setCurrentText("production")
    assert sorted(_column(view, Column.NAME)) == ["db1", "web1"]
    assert view.summary.text() == "Showing 2 of 4 servers"
    qtbot.keyClicks(view.search, "198.51")
    assert _column(view, Column.NAME) == ["db1"]
    view.tags.setCurrentText(ALL_TAGS)
    view.search.clear()
    qtbot.keyClicks(view.search, "cannot connect")
    assert _column(view, Column.NAME) == ["dev"]


def test_activating_a_row_opens_that_host(core: Core, qtbot: QtBot) -> None:
    _fleet(core)
    view = OverviewView()
    qtbot.addWidget(view)
    snapshot = core.read_model.fleet(1001)
    view.set_snapshot(snapshot)
    with qtbot.waitSignal(view.host_activated) as blocker:
        view.table.doubleClicked.emit(view.proxy.index(0, Column.NAME))
    assert snapshot.record(blocker.args[0]).host.name == "db1"  # type: ignore[union-attr]


def test_live_update_keeps_rows_and_changes_values(core: Core, qtbot: QtBot) -> None:
    _fleet(core)
    view = OverviewView()
    qtbot.addWidget(view)
    view.set_snapshot(core.read_model.fleet(1001))
    web = core.hosts.get("web1").id
    core.results_writer().write([(web, result("web1", 1015, host_metrics=metrics(cpu=33)))])
    view.set_snapshot(core.read_model.fleet(1016))
    row = _column(view, Column.NAME).index("web1")
    assert view.proxy.index(row, Column.CPU).data() == "33%"
