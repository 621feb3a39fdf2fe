"""What every command gets: the core, opened lazily so `--help` and bad input touch no file."""

from __future__ import annotations

from types import TracebackType

from vpshealth.app import Core, build_core
from vpshealth.config import Paths, Settings


class CliContext:
    def __init__(self, settings: Settings, paths: Paths) -> None:
        self.settings = settings
        self.paths = paths
        self._core: Core | None = None

    @property
    def core(self) -> Core:
        if self._core is None:
            self._core = build_core(self.settings)
        return self._core

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
