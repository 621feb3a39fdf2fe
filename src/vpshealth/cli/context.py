"""What every command gets: the core, opened lazily so `--help` and bad input touch no file."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from vpshealth.app import Core, ReadSide, build_core
from vpshealth.cli.output import stale_copy_line
from vpshealth.config import Paths, Settings


class CliContext:
    def __init__(self, settings: Settings, paths: Paths) -> None:
        self.settings = settings
        self.paths = paths
        self._core: Core | None = None
        self._told_stale = False

    @property
    def core(self) -> Core:
        if self._core is None:
            self._core = build_core(self.settings)
        return self._core

    @property
    def reads(self) -> ReadSide:
        """What the read commands show: the node's copy when this computer is linked to one
        (with one line on stderr the first time, when the copy is old), else the database."""
        reads = self.core.reads
        if reads.node is not None and not self._told_stale:
            self._told_stale = True
            line = stale_copy_line(reads.node.address.text, reads.synced_at, time.time())
            if line is not None:
                print(line, file=sys.stderr)
        return reads

    def __enter__(self) -> CliContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._core is not None:
            self._core.close()
