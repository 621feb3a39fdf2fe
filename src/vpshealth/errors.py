"""Errors the user sees. Each carries the exit code the CLI returns for it."""

from __future__ import annotations

EXIT_OK = 0
EXIT_NOT_OK = 1
EXIT_USAGE = 2


class VpsHealthError(Exception):
    """A failure with a message written for the person running the tool."""

    exit_code = EXIT_USAGE


class InputError(VpsHealthError):
    """Bad input: a field, a host name, an option."""


class ConfigurationError(VpsHealthError):
    """Something about this machine's set-up stops the command: keyring, database, lock."""


class KeyringUnavailableError(ConfigurationError):
    pass


class EngineLockedError(ConfigurationError):
    pass
