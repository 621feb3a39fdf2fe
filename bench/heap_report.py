"""What the engine's memory is made of at one moment, for ``poll_throughput.py --heap-report``:
the kernel's view (resident, anonymous and file-backed), Python's small-object allocator
(arenas in use and how full they are) and glibc's malloc (what it holds and what is free), and
optionally the live objects by type. Meant to tell growth of live data from fragmentation."""

from __future__ import annotations

import ctypes
import gc
import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

_PYMALLOC_LINES = re.compile(
    r"^# (arenas allocated total|arenas reclaimed|arenas highwater mark|arenas allocated current"
    r"|bytes in allocated blocks|bytes in available blocks|\d+ unused pools \* \d+ bytes"
    r"|bytes lost to pool headers|bytes lost to quantization|bytes lost to arena alignment"
    r"|Total)\s*=\s*([\d,]+)",
)


def _status() -> list[str]:
    keep = ("VmRSS:", "RssAnon:", "RssFile:", "RssShmem:", "VmData:")
    with open("/proc/self/status") as status:
        return [" ".join(line.split()) for line in status if line.startswith(keep)]


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
    if not sys.platform.startswith("linux"):
        return []
    try:
        libc = ctypes.CDLL(None)
        fopen, fclose, malloc_info = libc.fopen, libc.fclose, libc.malloc_info
    except (OSError, AttributeError):
        return []
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


def _objects_by_type(limit: int) -> list[str]:
    """Live objects the collector tracks, frozen ones included, by type."""
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    try:
        counts = Counter(type(obj).__qualname__ for obj in gc.get_objects())
    finally:
        if frozen:
            gc.freeze()
    total = sum(counts.values())
    lines = [f"objects tracked by the collector: {total}"]
    lines += [f"  {count:8d} {name}" for name, count in counts.most_common(limit)]
    return lines


def heap_report(label: str, *, objects: bool = False) -> str:
    lines = [f"== {label}", *_status(), *_pymalloc(), *_glibc()]
    if objects:
        lines += _objects_by_type(40)
    return "\n".join(lines) + "\n"
