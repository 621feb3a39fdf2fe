"""Every operation a face can call, built once in app.py."""

from __future__ import annotations

from dataclasses import dataclass

from vpshealth.operations.hosts import HostOperations


@dataclass(frozen=True, slots=True)
class Operations:
    hosts: HostOperations
