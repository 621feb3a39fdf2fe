"""Per-container charts in the server detail: CPU and memory of one app, continuous across its
deploys, picked from the host's apps and containers, with the crosshair and range buttons."""

from __future__ import annotations

import dataclasses

from pytestqt.qtbot import QtBot

from tests.coolify_app import FIRST_DEPLOY, IDENTITY, SECOND_DEPLOY, app_container
from tests.gui.conftest import Loop
from tests.gui.factories import add, result, ssh_host
from vpshealth.app import Core
from vpshealth.domain.containers import (
    Container,
    ContainerMetrics,
    ContainerState,
    ContainerView,
    DockerReport,
)
from vpshealth.gui.chart_data import ChartRange
from vpshealth.gui.context import GuiContext
from vpshealth.gui.host_detail import THE_SERVER, HostDetail

NOW = 1_800_000_000


def _redis(memory: int) -> ContainerView:
    container = Container(
        id="id-redis", name="redis", image="redis", created=1, state=ContainerState.RUNNING
    )
    return ContainerView(container, ContainerMetrics(1.0, memory, None))


def _detail(core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot) -> HostDetail:
    host_id = add(core, ssh_host("web1"))
    writer = core.results_writer()
    polls = [  # (time, deploy, its start, CPU %, memory)
        (NOW - 300, FIRST_DEPLOY, NOW - 400, 10.0, 10_000_000),
        (NOW - 240, FIRST_DEPLOY, NOW - 400, 20.0, 20_000_000),
        (NOW - 180, SECOND_DEPLOY, NOW - 200, 150.0, 30_000_000),
        (NOW - 120, SECOND_DEPLOY, NOW - 200, 40.0, 40_000_000),
    ]
    for at, name, started, cpu, memory in polls:
        app = app_container(name, started=started, cpu=cpu, memory=memory)
        report = DockerReport(containers=(app, _redis(1_000)))
        writer.write([(host_id, dataclasses.replace(result("web1", at), docker=report))])
    detail = HostDetail(ctx)
    qtbot.addWidget(detail)
    record = core.read_model.fleet(NOW).record(host_id)
    assert record is not None
    detail.show_host(record)
    loop.run(detail.load())
    return detail


def _pick(detail: HostDetail, label: str, loop: Loop, ctx: GuiContext) -> None:
    combo = detail.chart_subject
    index = combo.findText(label)
    assert index >= 0, [combo.itemText(i) for i in range(combo.count())]
    combo.setCurrentIndex(index)
    loop.run(ctx.tasks.wait_idle())


def test_the_picker_lists_the_server_then_the_apps_and_containers(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    detail = _detail(core, ctx, loop, qtbot)
    combo = detail.chart_subject
    items = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
    assert items == [
        (THE_SERVER, None),
        ("shop / production / web", IDENTITY),
        ("redis", "redis"),
    ]
    assert detail.chart_container is None
    assert detail.chart_pages.currentWidget() is detail.charts


def test_an_apps_memory_chart_goes_on_across_its_deploys(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    detail = _detail(core, ctx, loop, qtbot)
    _pick(detail, "shop / production / web", loop, ctx)
    assert detail.chart_container == IDENTITY
    assert detail.chart_pages.currentWidget() is detail.container_charts
    charts = detail.container_charts.charts
    assert charts is not None
    memory = charts.panel("container.memory_bytes").lines[0]
    assert list(memory.ys) == [10e6, 20e6, 30e6, 40e6]
    assert list(memory.xs) == [NOW - 300, NOW - 240, NOW - 180, NOW - 120]
    cpu_items = detail.container_charts.plots["container.cpu_percent"].listDataItems()
    assert list(cpu_items[0].yData) == [10.0, 20.0, 150.0, 40.0]

    detail.container_charts.show_cursor(NOW - 181)
    text = detail.container_charts.readout.text()
    assert "CPU 150.0%" in text
    assert "Memory 28.6 MiB" in text


def test_range_buttons_apply_to_the_container_charts_and_the_server_comes_back(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    detail = _detail(core, ctx, loop, qtbot)
    _pick(detail, "redis", loop, ctx)
    detail.range_buttons.button(list(ChartRange).index(ChartRange.MONTH)).click()
    loop.run(ctx.tasks.wait_idle())
    charts = detail.container_charts.charts
    assert charts is not None
    assert charts.since == NOW - ChartRange.MONTH.seconds
    assert list(charts.panel("container.memory_bytes").lines[0].ys) == [1000.0] * 4
    _pick(detail, THE_SERVER, loop, ctx)
    assert detail.chart_pages.currentWidget() is detail.charts
    host_charts = detail.charts.charts
    assert host_charts is not None
    assert host_charts.since == NOW - ChartRange.MONTH.seconds
