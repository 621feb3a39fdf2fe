"""What a rule is: its name, its type and the values it allows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RuleType(StrEnum):
    NUMBER = "number"
    COUNT = "count"
    SWITCH = "switch"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    name: str
    type: RuleType
    default: float
    minimum: float
    maximum: float
    unit: str
    help: str
