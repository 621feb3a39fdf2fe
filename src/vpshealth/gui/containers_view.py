"""A host's containers, grouped by Coolify project or compose project."""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QEvent
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from vpshealth.domain.containers import ContainerState, GroupKind, Health
from vpshealth.gui import formatting
from vpshealth.gui.colours import Tone
from vpshealth.gui.theme import text_colour
from vpshealth.read_model import container_groups
from vpshealth.store.docker_repository import StoredContainer

COLUMNS = ("Container", "State", "Health", "Restarts", "CPU", "Memory", "Up for", "Image")

_BAD_STATES = {ContainerState.EXITED, ContainerState.DEAD, ContainerState.RESTARTING}


def grouped(stored: Sequence[StoredContainer]) -> list[tuple[str, list[StoredContainer]]]:
    """One group per app identity, as the CLI and the API group them."""
    by_id = {item.view.container.id: item for item in stored}
    return [
        (title, [by_id[v.container.id] for v in views])
        for title, views in container_groups.by_app([item.view for item in stored])
    ]


def row_texts(item: StoredContainer, now: float) -> list[str]:
    c, m = item.view.container, item.view.metrics
    memory = formatting.human_bytes(m.memory_bytes)
    if m.memory_bytes is not None and m.memory_limit_bytes:
        memory += f" of {formatting.human_bytes(m.memory_limit_bytes)}"
    state = c.state.value
    if c.state is ContainerState.EXITED and c.exit_code is not None:
        state += f" (code {c.exit_code}{', out of memory' if c.oom_killed else ''})"
    up = (
        formatting.duration(now - c.started_at)
        if c.state is ContainerState.RUNNING and c.started_at
        else "—"
    )
    return [
        c.group.member or c.group.resource or c.group.service or c.name
        if c.group.kind is not GroupKind.STANDALONE
        else c.name,
        state,
        "—" if c.health is Health.NONE else c.health.value,
        str(c.restart_count),
        formatting.percent(m.cpu_percent) if m.cpu_percent is None else f"{m.cpu_percent:.1f}%",
        memory,
        up,
        c.image,
    ]


class ContainersView(QTreeWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.header().setStretchLastSection(True)
        self._shown: tuple[Sequence[StoredContainer], bool] = ((), True)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.set_containers(*self._shown)

    def set_containers(self, stored: Sequence[StoredContainer], has_docker: bool = True) -> None:
        self._shown = (stored, has_docker)
        self.clear()
        if not stored:
            placeholder = QTreeWidgetItem(
                ["No containers seen on this server" if has_docker else "Docker not found"]
            )
            self.addTopLevelItem(placeholder)
            return
        now = time.time()
        palette = self.palette()
        for title, items in grouped(stored):
            running = sum(i.view.container.state is ContainerState.RUNNING for i in items)
            group = QTreeWidgetItem([f"{title}  ({running} of {len(items)} running)"])
            group.setFirstColumnSpanned(True)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            for item in items:
                row = QTreeWidgetItem(row_texts(item, now))
                row.setToolTip(0, item.view.container.name)
                c = item.view.container
                if c.state in _BAD_STATES or c.health is Health.UNHEALTHY:
                    for col in (1, 2):
                        row.setForeground(col, QBrush(text_colour(Tone.CRITICAL, palette)))
                group.addChild(row)
            self.addTopLevelItem(group)
            group.setExpanded(True)
            group.setFirstColumnSpanned(True)
