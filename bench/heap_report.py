"""What the engine's memory is made of at one moment, for ``poll_throughput.py --heap-report``:
the kernel's view (resident, anonymous and file-backed), Python's small-object allocator
(arenas in use and how full they are) and glibc's malloc (what it holds and what is free), and
optionally the live objects by type. Meant to tell growth of live data from fragmentation."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import re
import sqlite3
import sys
import tempfile
from collections import Counter
from pathlib import Path

from vpshealth.engine import heap

_PYMALLOC_LINES = re.compile(
    r"^# (arenas allocated total|arenas reclaimed|arenas highwater mark|arenas allocated current"
    r"|bytes in allocated blocks|bytes in available blocks|\d+ unused pools \* \d+ bytes"
    r"|bytes lost to pool headers|bytes lost to quantization|bytes lost to arena alignment"
    r"|Total)\s*=\s*([\d,]+)",
)


def proc_status_kib() -> dict[str, int]:
    """The memory lines of ``/proc/self/status`` (``VmRSS``, ``RssAnon`` ...), in KiB."""
    keep = ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmData")
    found: dict[str, int] = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in keep:
                found[name] = int(value.split()[0])
    return found


def _pymalloc() -> list[str]:
    """The summary of ``sys._debugmallocstats()``, which writes to file descriptor 2."""
    with tempfile.TemporaryFile("w+") as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        return [f"pymalloc {m[1]} = {m[2]}" for m in map(_PYMALLOC_LINES.match, out) if m]


def _glibc() -> list[str]:
    """The totals at the end of glibc's ``malloc_info`` (all arenas)."""
    libc = heap.glibc()
    if libc is None or not hasattr(libc, "malloc_info"):
        return []
    fopen, fclose, malloc_info = libc.fopen, libc.fclose, libc.malloc_info
    fopen.restype = ctypes.c_void_p
    fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    fclose.argtypes = [ctypes.c_void_p]
    malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "malloc_info.xml"
        stream = fopen(str(path).encode(), b"w")
        if not stream:
            return []
        malloc_info(0, stream)
        fclose(stream)
        text = path.read_text()
    tail = text[text.rfind("</heap>") + len("</heap>") :]
    return [f"glibc {line.strip()}" for line in tail.splitlines() if line.strip().startswith("<")]


def _sqlite() -> list[str]:
    """SQLite's own count of the memory it holds (page caches, schemas, prepared statements), all
    connections together, when Python's sqlite3 uses a shared libsqlite3 that ctypes can reach."""
    name = ctypes.util.find_library("sqlite3")
    if name is None:
        return []
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return []
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    lib.sqlite3_memory_highwater.restype = ctypes.c_int64
    lib.sqlite3_memory_highwater.argtypes = [ctypes.c_int]
    used, highest = lib.sqlite3_memory_used(), lib.sqlite3_memory_highwater(0)
    return [f"sqlite memory used = {used:,}", f"sqlite memory highwater = {highest:,}"]


def _objects_by_type(limit: int) -> list[str]:
    """Live objects the collector tracks, frozen ones included, by type."""
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    try:
        objects = gc.get_objects()
        counts = Counter(type(obj).__qualname__ for obj in objects)
        databases = sum(isinstance(obj, sqlite3.Connection) for obj in objects)
    finally:
        if frozen:
            gc.freeze()
    total = sum(counts.values())
    lines = [f"objects tracked by the collector: {total}", f"sqlite3 connections: {databases}"]
    lines += [f"  {count:8d} {name}" for name, count in counts.most_common(limit)]
    return lines


def heap_report(label: str, *, objects: bool = False) -> str:
    status = [f"{name}: {kib} kB" for name, kib in proc_status_kib().items()]
    lines = [f"== {label}", *status, *_pymalloc(), *_glibc(), *_sqlite()]
    if objects:
        lines += _objects_by_type(40)
    return "\n".join(lines) + "\n"


def append_heap_report(path: Path, label: str, *, objects: bool = False) -> None:
    with path.open("a") as out:
        out.write(heap_report(label, objects=objects))
