"""Draws the screenshots in docs/screenshots from a demo fleet (see scripts/screenshots).
``--dark``: the dashboard and a server's charts again, as under a dark desktop theme (Fusion
with a dark palette), into overview-dark.png and host-detail-dark.png."""

from __future__ import annotations

import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication, QWidget

from tests.gui.memory_keyring import MemoryKeyring
from tests.gui.palettes import dark_palette
from vpshealth.app import Core, build_core
from vpshealth.config import Settings
from vpshealth.domain.containers import (
    Container,
    ContainerGroup,
    ContainerIncident,
    ContainerMetrics,
    ContainerState,
    ContainerView,
    GroupKind,
    Health,
    IncidentKind,
)
from vpshealth.domain.health import CheckResult, HostState, Problem
from vpshealth.domain.hosts import AuthMethod, Host
from vpshealth.domain.metrics import (
    DiskUsage,
    HostMetrics,
    LoadAverage,
    MemoryUsage,
    NetworkCounters,
    SwapUsage,
)
from vpshealth.gui.chart_data import ChartRange
from vpshealth.gui.context import GuiContext
from vpshealth.gui.engine_owner import EngineMode
from vpshealth.gui.host_editor import HostEditor
from vpshealth.gui.main_window import MainWindow
from vpshealth.gui.tasks import TaskRunner
from vpshealth.secrets import SecretStore
from vpshealth.store.docker_repository import record_incident, replace_containers

GIB = 1024**3
HOURS = 6
STEP = 60

FLEET = [
    # name, address, tags, cpu base, memory base, disk, final state
    ("web-1", "203.0.113.10", ("production", "hetzner"), 18, 46, 41, HostState.OK),
    ("web-2", "203.0.113.11", ("production", "hetzner"), 22, 51, 43, HostState.OK),
    ("db-1", "203.0.113.20", ("production", "database"), 35, 86, 72, HostState.WARNING),
    ("shop-1", "198.51.100.7", ("production", "coolify"), 41, 63, 58, HostState.CRITICAL),
    ("edge-3", "192.0.2.33", ("staging",), 8, 30, 25, HostState.UNREACHABLE),
    ("staging", "192.0.2.40", ("staging", "coolify"), 12, 38, 31, HostState.OK),
]


def _disk(mount: str, total: int, used: int) -> DiskUsage:
    return DiskUsage(mount, "ext4", total, used, total - used)


def _metrics(i: int, cpu: float, memory: float, disk: float, phase: float) -> HostMetrics:
    wave = math.sin(i / 25 + phase)
    cpu_now = max(1.0, cpu + 12 * wave + 6 * math.sin(i / 3.1 + phase))
    total = 16 * GIB
    mem_now = min(99.0, memory + 3 * wave)
    return HostMetrics(
        cpu_percent=round(cpu_now, 1),
        cpu_count=4,
        load=LoadAverage(round(cpu_now / 25, 2), round(cpu_now / 27, 2), round(cpu_now / 30, 2)),
        memory=MemoryUsage(total, int(total * (1 - mem_now / 100))),
        swap=SwapUsage(2 * GIB, 2 * GIB),
        uptime_seconds=40 * 86400 + i * STEP,
        disks=(
            _disk("/", 160 * GIB, int(disk * 1.6 * GIB + i * 2e6)),
            _disk("/var/lib/docker", 320 * GIB, int(disk * 2.4 * GIB)),
        ),
        network=(
            NetworkCounters("eth0", int(i * 4e6 * (1.3 + wave)), int(i * 9e6 * (1.2 + wave))),
        ),
    )


def _container(
    name: str, project: str, resource: str, state: ContainerState, health: Health, restarts: int = 0
) -> ContainerView:
    now = int(time.time())
    group = ContainerGroup(GroupKind.COOLIFY, project, "production", resource)
    container = Container(
        id=f"{name}-id",
        name=name,
        image=f"ghcr.io/acme/{resource}:1.4.2",
        created=now - 9 * 86400,
        state=state,
        health=health,
        restart_count=restarts,
        exit_code=137 if state is ContainerState.EXITED else None,
        started_at=now - 3 * 86400 if state is ContainerState.RUNNING else None,
        group=group,
    )
    running = state is ContainerState.RUNNING
    return ContainerView(
        container,
        ContainerMetrics(2.4 if running else None, 310 * 1024**2 if running else None, 1 * GIB),
    )


def populate(core: Core) -> None:
    writer = core.results_writer()
    now = int(time.time())
    ids = {}
    for n, (name, address, tags, *_rest) in enumerate(FLEET):
        ids[name] = core.hosts.add(
            Host(name=name, address=address, tags=tags, auth=AuthMethod.AGENT, interval_seconds=15)
        )
        del n
    points = HOURS * 3600 // STEP
    for i in range(points):
        at = now - (points - i) * STEP
        batch = []
        for k, (name, _a, _t, cpu, memory, disk, final) in enumerate(FLEET):
            last = i == points - 1
            if final is HostState.UNREACHABLE and i > points - 40:
                batch.append(
                    (
                        ids[name],
                        CheckResult(
                            name,
                            at,
                            HostState.UNREACHABLE,
                            Problem.TIMEOUT,
                            f"{name} ({FLEET[k][1]}) did not answer within 10 s",
                        ),
                    )
                )
                continue
            metrics = _metrics(i, cpu, memory, disk, k)
            state, problem, message = HostState.OK, None, "All good"
            if last and final is HostState.WARNING:
                state, problem = HostState.WARNING, Problem.MEMORY_HIGH
                message = f"memory at {metrics.memory.percent:.0f}% (limit 85%)"
            if last and final is HostState.CRITICAL:
                state, problem = HostState.CRITICAL, Problem.CONTAINER_INCIDENT
                message = "shop / production / worker crashed (exit code 137, out of memory)"
            batch.append((ids[name], CheckResult(name, at, state, problem, message, metrics)))
        writer.write(batch)
    with core.engine.begin() as conn:
        replace_containers(
            conn,
            ids["shop-1"],
            [
                _container("web-x1", "shop", "web", ContainerState.RUNNING, Health.HEALTHY),
                _container("worker-x1", "shop", "worker", ContainerState.EXITED, Health.NONE, 4),
                _container("db-x1", "shop", "postgres", ContainerState.RUNNING, Health.HEALTHY),
                _container("blog-x2", "blog", "ghost", ContainerState.RUNNING, Health.STARTING),
                _container(
                    "coolify-proxy", "coolify", "proxy", ContainerState.RUNNING, Health.NONE
                ),
            ],
            now,
        )
        record_incident(
            conn,
            ids["shop-1"],
            ContainerIncident(
                IncidentKind.OOM_KILLED,
                True,
                now - 1500,
                "worker-x1-id",
                "worker-x1",
                "shop / production / worker",
                "worker-x1 was killed: out of memory (exit code 137)",
            ),
        )


def grab(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    widget.grab().save(str(path))
    print(f"wrote {path}")


def main(out: Path, *, dark: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    suffix = "-dark" if dark else ""
    if dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    with tempfile.TemporaryDirectory() as home:
        core = build_core(Settings(home=Path(home)), secrets=SecretStore(MemoryKeyring()))
        populate(core)
        ctx = GuiContext(core, TaskRunner())
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)

        async def shoot() -> None:
            window = MainWindow(ctx)
            window.resize(1280, 720)
            window.set_mode(EngineMode.OWNER)
            window.set_snapshot(core.read_model.fleet(int(time.time())))
            window.show()
            await asyncio.sleep(0.3)
            grab(window, out / f"overview{suffix}.png")
            snapshot = window.snapshot
            shop = next(r for r in snapshot.records if r.host.name == "shop-1")
            window.open_host(shop.id)
            window.detail.set_range(ChartRange.SIX_HOURS)
            await ctx.tasks.wait_idle()
            await window.detail.load()
            window.detail.charts.show_cursor(time.time() - 5400)
            await asyncio.sleep(0.3)
            grab(window, out / f"host-detail{suffix}.png")
            if dark:
                window.hide()
                await ctx.tasks.cancel_all()
                return
            window.detail.tabs.setCurrentIndex(1)
            await asyncio.sleep(0.2)
            grab(window, out / "containers.png")
            web = next(r for r in snapshot.records if r.host.name == "web-1")
            editor = HostEditor(ctx, web, taken_names={r.host.name for r in snapshot.records})
            editor.interval.setText("2")
            editor.show()
            await asyncio.sleep(0.3)
            grab(editor, out / "host-editor.png")
            editor.close()
            window.hide()
            await ctx.tasks.cancel_all()

        with loop:
            loop.run_until_complete(shoot())
        core.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    dark = "--dark" in args
    folders = [a for a in args if a != "--dark"]
    main(Path(folders[0] if folders else "docs/screenshots"), dark=dark)
