"""Make this Linux Python behave as on Windows for what VPS Health's own code touches.

Put this folder on PYTHONPATH (``scripts/test-windows-shape`` does) and every Python process
of the run, the test runner and the ``python -m vpshealth`` subprocesses it starts, loads it
at start-up. Then a POSIX-only import or call in ``vpshealth`` fails here, before it fails on
a user's computer.

What it models:
- ``import fcntl``, ``import termios``, ``import pwd`` (and ``grp``, ``resource``) raise
  ModuleNotFoundError, in modules of the ``vpshealth`` package only. Libraries keep them: they
  choose their branch by ``sys.platform``, and that still says ``linux`` here.
- ``os.getuid``, ``os.geteuid``, ``os.getgid``, ``os.getegid`` (and ``fchmod``, ``chown``,
  ``fork``, ``setsid``, ``killpg`` and the like, absent from Python 3.11 on Windows) are missing
  (AttributeError; ``hasattr`` is False) for the ``vpshealth`` package; pytest and libraries
  still see them.
- ``loop.add_signal_handler`` and ``loop.remove_signal_handler`` raise NotImplementedError, as
  on the Windows event loops, for every caller.
- ``asyncio.open_unix_connection`` and ``asyncio.start_unix_server`` are missing, and
  ``loop.create_unix_connection`` / ``create_unix_server`` raise NotImplementedError.
- ``msvcrt`` exists with ``locking`` and its ``LK_*`` modes: an exclusive lock per open file,
  refused (OSError EACCES) while another descriptor holds it, dropped when its holder dies.
  It is built on ``flock``, so it locks the whole file, not a byte range; on Windows a locked
  range cannot even be read, which this does not model.

What it does not model: ``os.name`` stays ``posix``, ``sys.platform`` stays ``linux``, path
separators, drive letters and case-insensitive names stay POSIX, ``os.kill`` and the POSIX
signals stay, files can be renamed and deleted while open, there is no console code page and
no proactor event loop (named pipes), and ``platformdirs`` gives the Linux folders.
"""

from __future__ import annotations

import asyncio
import asyncio.streams
import asyncio.unix_events
import builtins
import errno
import fcntl as _fcntl
import os
import sys
import types
from typing import Any

_HIDDEN_MODULES = frozenset({"fcntl", "termios", "pwd", "grp", "resource"})
_HIDDEN_OS = frozenset(
    {"getuid", "geteuid", "getgid", "getegid", "getgroups", "fchmod", "fchown", "chown",
     "fork", "setsid", "killpg", "getpgid", "sync"}
)  # fmt: skip
_PACKAGE = "vpshealth"


def _ours(module_name: object) -> bool:
    return isinstance(module_name, str) and (
        module_name == _PACKAGE or module_name.startswith(_PACKAGE + ".")
    )


_real_import = builtins.__import__


def _import(
    name: str,
    globals: dict[str, Any] | None = None,
    locals: dict[str, Any] | None = None,
    fromlist: tuple[str, ...] | list[str] = (),
    level: int = 0,
) -> types.ModuleType:
    hidden = level == 0 and name.partition(".")[0] in _HIDDEN_MODULES
    if hidden and _ours((globals or {}).get("__name__")):
        raise ModuleNotFoundError(f"No module named {name!r} (Windows-shaped run)", name=name)
    return _real_import(name, globals, locals, fromlist, level)


builtins.__import__ = _import


class _WindowsShapedOs(types.ModuleType):
    def __getattribute__(self, name: str) -> Any:
        if name in _HIDDEN_OS and _ours(sys._getframe(1).f_globals.get("__name__")):
            raise AttributeError(f"module 'os' has no attribute {name!r} (Windows-shaped run)")
        return super().__getattribute__(name)


os.__class__ = _WindowsShapedOs


def _no_signal_handlers(self: object, *args: object) -> None:
    raise NotImplementedError


asyncio.unix_events._UnixSelectorEventLoop.add_signal_handler = _no_signal_handlers  # type: ignore[method-assign,assignment]
asyncio.unix_events._UnixSelectorEventLoop.remove_signal_handler = _no_signal_handlers  # type: ignore[method-assign,assignment]


async def _no_unix_sockets(self: object, *args: object, **kwargs: object) -> None:
    raise NotImplementedError


asyncio.unix_events._UnixSelectorEventLoop.create_unix_connection = _no_unix_sockets  # type: ignore[method-assign,assignment]
asyncio.unix_events._UnixSelectorEventLoop.create_unix_server = _no_unix_sockets  # type: ignore[method-assign,assignment]
for _module in (asyncio, asyncio.streams):
    for _name in ("open_unix_connection", "start_unix_server"):
        if hasattr(_module, _name):
            delattr(_module, _name)
asyncio.__all__ = [
    n for n in asyncio.__all__ if n not in ("open_unix_connection", "start_unix_server")
]

_msvcrt = types.ModuleType("msvcrt", "Windows' msvcrt.locking, modelled with flock.")
_msvcrt.LK_UNLCK = 0  # type: ignore[attr-defined]
_msvcrt.LK_LOCK = 1  # type: ignore[attr-defined]
_msvcrt.LK_NBLCK = 2  # type: ignore[attr-defined]
_msvcrt.LK_RLCK = 3  # type: ignore[attr-defined]
_msvcrt.LK_NBRLCK = 4  # type: ignore[attr-defined]


def _locking(fd: int, mode: int, nbytes: int) -> None:
    if mode == 0:
        _fcntl.flock(fd, _fcntl.LOCK_UN)
        return
    try:
        _fcntl.flock(fd, _fcntl.LOCK_EX | (_fcntl.LOCK_NB if mode in (2, 4) else 0))
    except BlockingIOError:
        raise OSError(errno.EACCES, "Permission denied") from None


_msvcrt.locking = _locking  # type: ignore[attr-defined]
sys.modules["msvcrt"] = _msvcrt
