"""What every window needs, passed in (no globals)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from vpshealth.app import Core
from vpshealth.gui.tasks import TaskRunner

T = TypeVar("T")


@dataclass
class GuiContext:
    core: Core
    tasks: TaskRunner
    now: Callable[[], float] = field(default=time.time)

    async def read(self, fn: Callable[[], T]) -> T:
        """Run a blocking read (SQLite, keyring) off the GUI thread."""
        return await asyncio.to_thread(fn)
