"""What the operations refuse, in terms every face can show: the field at fault, the host key
to confirm, the host that cannot be reached. Exit codes are the CLI's."""

from __future__ import annotations

from vpshealth.domain.health import Problem
from vpshealth.errors import EXIT_NOT_OK, InputError, VpsHealthError

NOTHING_SAVED = "Nothing was saved."
_NO_VALUE = object()


class FieldError(InputError):
    """One input field is not valid. ``field`` is its name as the API spells it (``address``,
    ``rules.disk.warning``); ``problem`` says what is wrong and what is allowed."""

    def __init__(
        self,
        field: str,
        problem: str,
        *,
        value: object = _NO_VALUE,
        note: str = NOTHING_SAVED,
        wording: str | None = None,
    ) -> None:
        self.field = field
        self.problem = problem
        self.value = value
        self.note = note
        self._wording = wording
        super().__init__(self.worded(field))

    @property
    def shown_value(self) -> str | None:
        if self.value is _NO_VALUE:
            return None
        shown = repr(self.value) if isinstance(self.value, str) else str(self.value)
        return shown if len(shown) <= 60 else shown[:57] + "..."

    def worded(self, label: str) -> str:
        """The message with the field called ``label`` (a face's own name for it).
        ``wording``, when given, is the message with ``{label}`` in place of the field."""
        if self._wording is not None:
            return self._wording.replace("{label}", label)
        shown = self.shown_value
        value = "" if shown is None else f" {shown}"
        note = f" {self.note}" if self.note else ""
        return f"invalid {label}{value}: {self.problem}.{note}"


class LocalHostFieldError(FieldError):
    """A field that this computer (the local host, read directly) does not have."""


class NothingToChangeError(InputError):
    pass


class NotFoundError(InputError):
    """An unknown host, incident or maintenance window."""


class ConflictError(InputError):
    """A host of that name already exists."""


class HostKeyUnconfirmed(VpsHealthError):
    """The server's host key must be confirmed before anything is saved. ``pinned`` is the
    key line trusted so far, if any."""

    def __init__(
        self,
        name: str,
        address: str,
        port: int,
        *,
        algorithm: str,
        fingerprint: str,
        line: str,
        pinned: str | None = None,
    ) -> None:
        self.name = name
        self.address = address
        self.port = port
        self.algorithm = algorithm
        self.fingerprint = fingerprint
        self.line = line
        self.pinned = pinned
        super().__init__(
            f"{name}: the host key must be confirmed: the server presents {algorithm} "
            f"{fingerprint}. Compare it with the server's own and confirm it. {NOTHING_SAVED}"
        )


class HostKeyRejected(VpsHealthError):
    """The server presented another key than the fingerprint expected."""

    exit_code = EXIT_NOT_OK


class HostUnreachable(VpsHealthError):
    """The host key could not be read. ``problem`` and ``reason`` are the collector's."""

    exit_code = EXIT_NOT_OK

    def __init__(self, message: str, problem: Problem, reason: str) -> None:
        self.problem = problem
        self.reason = reason
        super().__init__(message)
