from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from tests.gui.factories import add, metrics, result, ssh_host
from vpshealth.app import Core
from vpshealth.domain.health import HostState, Problem
from vpshealth.gui.chart_data import ChartRange
from vpshealth.gui.charts import nearest, readout
from vpshealth.gui.context import GuiContext
from vpshealth.gui.host_detail import HostDetail

NOW = 1_800_000_000


def _detail(core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot) -> tuple[HostDetail, int]:
    host_id = add(core, ssh_host("web1"))
    writer = core.results_writer()
    writer.write([(host_id, result("web1", NOW - 120, host_metrics=metrics(cpu=20, disk=50)))])
    writer.write(
        [
            (
                host_id,
                result(
                    "web1",
                    NOW - 60,
                    HostState.CRITICAL,
                    "disk / at 97% (limit 95%)",
                    Problem.DISK_HIGH,
                    metrics(cpu=40, disk=97),
                ),
            )
        ]
    )
    detail = HostDetail(ctx)
    qtbot.addWidget(detail)
    record = core.read_model.fleet(NOW).record(host_id)
    assert record is not None
    detail.show_host(record)
    loop.run(detail.load())
    return detail, host_id


def test_detail_shows_state_charts_and_events(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    detail, _ = _detail(core, ctx, loop, qtbot)
    assert detail.title.text() == "web1"
    assert "Critical" in detail.state.text()
    assert "disk / at 97% (limit 95%)" in detail.details.text()
    charts = detail.charts.charts
    assert charts is not None
    assert list(charts.panel("cpu").lines[0].ys) == [20.0, 40.0]
    cpu_items = detail.charts.plots["cpu"].listDataItems()
    assert len(cpu_items) == 1
    assert list(cpu_items[0].yData) == [20.0, 40.0]
    whats = [
        detail.events.topLevelItem(i).text(1) for i in range(detail.events.topLevelItemCount())
    ]  # type: ignore[union-attr]
    assert whats[0] == "Ok → Critical"


def test_crosshair_reads_every_line(core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot) -> None:
    detail, _ = _detail(core, ctx, loop, qtbot)
    detail.charts.show_cursor(NOW - 61)
    text = detail.charts.readout.text()
    assert "CPU 40.0%" in text
    assert "Memory 40.0%" in text
    assert "/ 97.0%" in text or "Disks 97.0%" in text
    charts = detail.charts.charts
    assert charts is not None
    assert "no data here" in readout(charts, NOW - 7200)
    assert nearest(charts.panel("cpu").lines[0], NOW - 100) == 20.0


def test_range_buttons_reload_the_window(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    detail, _ = _detail(core, ctx, loop, qtbot)
    detail.range_buttons.button(list(ChartRange).index(ChartRange.WEEK)).click()
    loop.run(ctx.tasks.wait_idle())
    assert detail.chart_range is ChartRange.WEEK
    charts = detail.charts.charts
    assert charts is not None
    assert charts.since == NOW - ChartRange.WEEK.seconds
