"""Why a collection failed, in terms the host state can show."""

from __future__ import annotations

from vpshealth.domain.health import Problem


class CollectionError(Exception):
    """A poll could not collect data. ``message`` is written for the user and never contains
    key material."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
