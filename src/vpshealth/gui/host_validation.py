"""Per-field validation of the host editor, with the domain's own rules. Pure."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from vpshealth.domain.hosts import (
    DEFAULT_DOCKER_SOCKET,
    MAX_INTERVAL_SECONDS,
    MIN_INTERVAL_SECONDS,
    check_address,
    check_name,
    check_socket_path,
    check_tag,
    check_user,
)


@dataclass(frozen=True, slots=True)
class HostForm:
    """What the editor's fields hold, as typed."""

    name: str
    address: str
    port: str = "22"
    user: str = "root"
    interval: str = "15"
    tags: str = ""
    docker_socket: str = DEFAULT_DOCKER_SOCKET


def split_tags(text: str) -> list[str]:
    return [t for t in text.replace(",", " ").split() if t]


def _check(fn: Callable[[str], str], value: str) -> str | None:
    try:
        fn(value)
    except ValueError as exc:
        message = str(exc)
        return message[:1].upper() + message[1:] + "."
    return None


def _number(text: str, low: int, high: int, what: str) -> str | None:
    try:
        value = int(text.strip())
    except ValueError:
        return f"Enter {what} as a whole number between {low} and {high}."
    if not low <= value <= high:
        return f"Enter {what} between {low} and {high}."
    return None


def validate(
    form: HostForm, *, taken_names: Collection[str] = (), local: bool = False
) -> dict[str, str]:
    """Field name → message, for each field that is not valid. ``local`` hosts (this
    computer) have only a name, interval and tags."""
    errors: dict[str, str | None] = {}
    name = form.name.strip()
    if not name:
        errors["name"] = "Give the server a short name, e.g. web1."
    elif name in taken_names:
        errors["name"] = f"There is already a server named {name}."
    else:
        errors["name"] = _check(check_name, name)
    if not local:
        address = form.address.strip()
        errors["address"] = (
            "Enter the server's DNS name or IP address."
            if not address
            else _check(check_address, address)
        )
        errors["port"] = _number(form.port, 1, 65535, "the SSH port")
        errors["user"] = (
            "Enter the user to log in as, e.g. root."
            if not form.user.strip()
            else _check(check_user, form.user.strip())
        )
        errors["docker_socket"] = _check(check_socket_path, form.docker_socket.strip())
    errors["interval"] = _number(
        form.interval, MIN_INTERVAL_SECONDS, MAX_INTERVAL_SECONDS, "the interval in seconds"
    )
    for tag in split_tags(form.tags):
        message = _check(check_tag, tag)
        if message:
            errors["tags"] = f"{tag!r}: {message}"
            break
    return {k: v for k, v in errors.items() if v}
