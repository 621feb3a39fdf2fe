"""The body of ``GET /api/v1/sync/history``: history as compressed blocks, framed. Pure, no I/O.

Layout (version 1)::

    magic b"VHSB" | version u8 | header length uvarint | header (UTF-8 JSON object)
    | blocks | END u8 (0) | block count uvarint

A block starts with its kind byte and its series id (uvarint); the times are zigzag varints:

* ``CHUNK`` (1): start_ts, end_ts, count, codec, data length, data — a ``sample_chunks`` row
  as stored.
* ``RAW`` (2): codec, data length, data — raw rows (``samples``/``staged_samples``) encoded
  with ``chunk_codec.encode``; their times are inside the data.
* ``ROLLUP`` (3): resolution, start_ts, end_ts, count, data length, data — a ``rollups`` row.

The header says which page this is (see ``HistoryPage``). ``decode`` raises
``SyncFormatError`` (a ValueError) for anything else: never another exception, whatever the
bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from vpshealth.store.varints import ByteReader, svarint, uvarint

MAGIC = b"VHSB"
VERSION = 1
MEDIA_TYPE = "application/vnd.vpshealth.sync-blocks"
"""Sent as ``application/octet-stream``; the media type names the format in the docs."""

END, CHUNK, RAW, ROLLUP = 0, 1, 2, 3
MAX_HEADER = 64 * 1024
MAX_BLOB = 16 * 1024 * 1024


class SyncFormatError(ValueError):
    """The bytes are not a history page of this format."""


@dataclass(frozen=True, slots=True)
class ChunkBlock:
    series_id: int
    start_ts: int
    end_ts: int
    count: int
    codec: int
    data: bytes


@dataclass(frozen=True, slots=True)
class RawBlock:
    series_id: int
    codec: int
    data: bytes


@dataclass(frozen=True, slots=True)
class RollupBlock:
    series_id: int
    resolution: int
    start_ts: int
    end_ts: int
    count: int
    data: bytes


Block = ChunkBlock | RawBlock | RollupBlock


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of history: series with ids in ``(after_series, last_series]``, points with
    ``ts > since``. ``next_after_series`` is None on the last page, else where the next page
    starts. ``now``: the node's clock when it read the page."""

    node_id: str
    now: int
    since: int
    after_series: int
    next_after_series: int | None
    blocks: Sequence[Block] = field(default_factory=tuple)

    def header(self) -> dict[str, Any]:
        return {
            "node": self.node_id,
            "now": self.now,
            "since": self.since,
            "after_series": self.after_series,
            "next_after_series": self.next_after_series,
        }


def encode(page: HistoryPage) -> bytes:
    header = json.dumps(page.header(), separators=(",", ":")).encode()
    out = bytearray(MAGIC)
    out.append(VERSION)
    out += uvarint(len(header)) + header
    for block in page.blocks:
        out += _encode_block(block)
    out.append(END)
    out += uvarint(len(page.blocks))
    return bytes(out)


def _encode_block(block: Block) -> bytes:
    if isinstance(block, ChunkBlock):
        fields = [block.start_ts, block.end_ts, block.count, block.codec]
        return _framed(CHUNK, block.series_id, fields, block.data)
    if isinstance(block, RawBlock):
        return _framed(RAW, block.series_id, [block.codec], block.data)
    fields = [block.resolution, block.start_ts, block.end_ts, block.count]
    return _framed(ROLLUP, block.series_id, fields, block.data)


def _framed(kind: int, series_id: int, fields: list[int], data: bytes) -> bytes:
    if series_id < 0:
        raise ValueError(f"a series id is not negative: {series_id}")
    if len(data) > MAX_BLOB:
        raise ValueError(f"a block of {len(data)} bytes is over {MAX_BLOB}")
    parts = [bytes([kind]), uvarint(series_id), *map(svarint, fields), uvarint(len(data))]
    return b"".join(parts) + bytes(data)


def decode(body: bytes) -> HistoryPage:
    reader = ByteReader(bytes(body), SyncFormatError, "history page")
    if reader.take(len(MAGIC)) != MAGIC:
        raise SyncFormatError("not a VPS Health history page (bad magic)")
    version = reader.byte()
    if version != VERSION:
        raise SyncFormatError(f"history page format {version} is not supported (expected 1)")
    size = reader.uvarint()
    if size > MAX_HEADER:
        raise SyncFormatError(f"history page header of {size} bytes is too long")
    header = _header(reader.take(size))
    blocks: list[Block] = []
    while (kind := reader.byte()) != END:
        blocks.append(_decode_block(reader, kind))
    if reader.uvarint() != len(blocks):
        raise SyncFormatError("history page block count does not match")
    if not reader.at_end():
        raise SyncFormatError("history page has trailing bytes")
    next_after = header.get("next_after_series")
    return HistoryPage(
        node_id=_typed(header, "node", str),
        now=_typed(header, "now", int),
        since=_typed(header, "since", int),
        after_series=_typed(header, "after_series", int),
        next_after_series=None if next_after is None else _typed(header, "next_after_series", int),
        blocks=tuple(blocks),
    )


def _header(raw: bytes) -> dict[str, Any]:
    try:
        header = json.loads(raw.decode())
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SyncFormatError(f"history page header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise SyncFormatError("history page header is not a JSON object")
    return header


def _typed(header: dict[str, Any], key: str, kind: type) -> Any:
    value = header.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise SyncFormatError(f"history page header: {key} is not a {kind.__name__}")
    return value


def _decode_block(reader: ByteReader, kind: int) -> Block:
    series_id = reader.uvarint()
    if kind == CHUNK:
        start, end, count, codec = (reader.svarint() for _ in range(4))
        return ChunkBlock(series_id, start, end, count, codec, _blob(reader))
    if kind == RAW:
        return RawBlock(series_id, reader.svarint(), _blob(reader))
    if kind == ROLLUP:
        resolution, start, end, count = (reader.svarint() for _ in range(4))
        return RollupBlock(series_id, resolution, start, end, count, _blob(reader))
    raise SyncFormatError(f"unknown block kind {kind}")


def _blob(reader: ByteReader) -> bytes:
    size = reader.uvarint()
    if size > MAX_BLOB:
        raise SyncFormatError(f"a block of {size} bytes is too large")
    return reader.take(size)
