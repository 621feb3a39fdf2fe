"""A host's fields, validated into a Host, with errors that name the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from vpshealth.domain.hosts import (
    DEFAULT_INTERVAL_SECONDS,
    MAX_INTERVAL_SECONDS,
    MIN_INTERVAL_SECONDS,
    Host,
)
from vpshealth.operations.errors import FieldError

_RANGE_HINT = {
    "port": "a port between 1 and 65535",
    "interval_seconds": (
        f"seconds between {MIN_INTERVAL_SECONDS} and {MAX_INTERVAL_SECONDS} "
        f"(default {DEFAULT_INTERVAL_SECONDS})"
    ),
}


def build_host(fields: Mapping[str, Any]) -> Host:
    """Raises FieldError for the first field that is not valid."""
    try:
        return Host(**fields)
    except ValidationError as exc:
        raise field_error(exc, fields) from None


def field_error(exc: ValidationError, fields: Mapping[str, Any]) -> FieldError:
    error = exc.errors()[0]
    location = error["loc"]
    field = str(location[0]) if location else "value"
    value: Any = fields.get(field)
    if field == "tags" and len(location) > 1 and isinstance(location[1], int):
        value = fields["tags"][location[1]]
    reason = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    if field in _RANGE_HINT:
        reason = f"expected {_RANGE_HINT[field]}"
    return FieldError(field, reason, value=value)
