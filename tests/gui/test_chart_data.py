from __future__ import annotations

import pytest

from tests.gui.factories import add, metrics, result, ssh_host
from vpshealth.app import Core
from vpshealth.domain.metric_catalog import CPU, MEMORY, METRICS, NETWORK, SWAP
from vpshealth.gui.chart_data import (
    LAYOUT,
    ChartRange,
    downsample,
    grid,
    load_host_charts,
    rates,
)
from vpshealth.store.history import Point

NOW = 1_800_000_000


def _record_series(core: Core, host_id: int, times: list[int]) -> None:
    writer = core.results_writer()
    for i, ts in enumerate(times):
        writer.write(
            [(host_id, result("web1", ts, host_metrics=metrics(cpu=float(i), rx=1000 * i)))]
        )


@pytest.mark.parametrize(
    ("chart_range", "expected_cpu"),
    [
        (ChartRange.HOUR, [3.0, 4.0]),
        (ChartRange.SIX_HOURS, [2.0, 3.0, 4.0]),
        (ChartRange.DAY, [1.0, 2.0, 3.0, 4.0]),
        (ChartRange.MONTH, [0.0, 1.0, 2.0, 3.0, 4.0]),
    ],
)
def test_each_range_reads_its_own_window(
    core: Core, chart_range: ChartRange, expected_cpu: list[float]
) -> None:
    host_id = add(core, ssh_host("web1"))
    times = [NOW - 20 * 86400, NOW - 20 * 3600, NOW - 3 * 3600, NOW - 1800, NOW - 60]
    _record_series(core, host_id, times)
    charts = load_host_charts(core.history, host_id, chart_range, NOW)
    assert charts.since == NOW - chart_range.seconds
    assert list(charts.panel("cpu").lines[0].ys) == expected_cpu
    assert [line.label for line in charts.panel("disk").lines] == ["/"]
    assert [line.label for line in charts.panel("load").lines] == ["1 min", "5 min", "15 min"]


def test_network_is_a_rate_per_interface(core: Core) -> None:
    host_id = add(core, ssh_host("web1"))
    _record_series(core, host_id, [NOW - 300, NOW - 290, NOW - 280])
    network = load_host_charts(core.history, host_id, ChartRange.HOUR, NOW).panel("network")
    assert [line.label for line in network.lines] == ["eth0 in", "eth0 out"]
    assert list(network.lines[0].ys) == [100.0, 100.0]  # 1000 bytes per 10 s
    assert list(network.lines[1].ys) == [50.0, 50.0]


def test_a_host_without_history_has_empty_panels(core: Core) -> None:
    host_id = add(core, ssh_host("web1"))
    charts = load_host_charts(core.history, host_id, ChartRange.DAY, NOW)
    assert all(panel.empty for panel in charts.panels)


def test_counter_reset_leaves_a_gap() -> None:
    points = [Point(0, 100), Point(10, 200), Point(20, 50), Point(30, 150)]
    assert rates(points) == [Point(10, 10.0), Point(30, 10.0)]


def test_downsample_averages_into_buckets() -> None:
    points = [Point(t, float(t % 2)) for t in range(1000)]
    thinned = downsample(points, 0, 1000, 100)
    assert len(thinned) == 100
    assert all(p.value == pytest.approx(0.5) for p in thinned)
    assert downsample(points[:50], 0, 1000, 100) == points[:50]


def test_panels_are_laid_out_two_a_row_in_catalogue_order() -> None:
    assert list(LAYOUT) == [m.name for m in METRICS if m.chart is not None]
    assert [LAYOUT[key] for key in ("cpu", "memory", "disk", "load")] == [
        (0, 0, 1),
        (0, 1, 1),
        (1, 0, 1),
        (1, 1, 1),
    ]
    cells = [(row, col + i) for row, col, span in LAYOUT.values() for i in range(span)]
    assert len(set(cells)) == len(cells)
    assert all(col < 2 for _, col in cells)
    odd = grid([CPU, NETWORK, MEMORY, SWAP])  # swap has no chart
    assert odd == {"cpu": (0, 0, 1), "network": (1, 0, 2), "memory": (2, 0, 1)}


def test_every_charted_metric_has_a_panel_with_the_catalogues_title_and_unit(core: Core) -> None:
    host_id = add(core, ssh_host("web1"))
    charts = load_host_charts(core.history, host_id, ChartRange.HOUR, NOW)
    assert [(p.key, p.title, p.unit) for p in charts.panels] == [
        (m.name, m.chart.title, m.chart.unit) for m in METRICS if m.chart is not None
    ]
    assert charts.panel("cpu").title == "CPU"
    assert charts.panel("network").unit == "B/s"
