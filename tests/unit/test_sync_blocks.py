"""The framed history format of ``/api/v1/sync/history``: round trips, and any other bytes
give a ``SyncFormatError``, never another exception."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpshealth.store import sync_blocks
from vpshealth.store.sync_blocks import (
    ChunkBlock,
    HistoryPage,
    RawBlock,
    RollupBlock,
    SyncFormatError,
)

ids = st.integers(0, 1 << 40)
times = st.integers(-(1 << 62), 1 << 62)
blobs = st.binary(max_size=300)
blocks = st.one_of(
    st.builds(ChunkBlock, ids, times, times, st.integers(0, 1 << 16), st.integers(0, 9), blobs),
    st.builds(RawBlock, ids, st.integers(0, 9), blobs),
    st.builds(
        RollupBlock, ids, st.sampled_from([60, 3600]), times, times, st.integers(0, 9999), blobs
    ),
)
pages = st.builds(
    HistoryPage,
    node_id=st.text(max_size=40),
    now=times,
    since=times,
    after_series=ids,
    next_after_series=st.none() | ids,
    blocks=st.lists(blocks, max_size=20).map(tuple),
)


@given(pages)
def test_a_page_comes_back_as_it_was_sent(page: HistoryPage) -> None:
    assert sync_blocks.decode(sync_blocks.encode(page)) == page


@given(st.binary(max_size=2000))
def test_garbage_gives_a_format_error(body: bytes) -> None:
    with contextlib.suppress(SyncFormatError):
        sync_blocks.decode(body)


@given(pages, st.data())
def test_a_cut_or_damaged_page_gives_a_format_error_or_another_valid_page(
    page: HistoryPage, data: st.DataObject
) -> None:
    body = bytearray(sync_blocks.encode(page))
    cut = data.draw(st.integers(0, len(body) - 1))
    with pytest.raises(SyncFormatError):
        sync_blocks.decode(bytes(body[:cut]))
    where = data.draw(st.integers(0, len(body) - 1))
    body[where] ^= data.draw(st.integers(1, 255))
    with contextlib.suppress(SyncFormatError):
        sync_blocks.decode(bytes(body))


def test_each_kind_of_damage_is_named() -> None:
    page = HistoryPage("n", 10, 0, 0, None, (RawBlock(1, 1, b"xyz"),))
    body = sync_blocks.encode(page)
    with pytest.raises(SyncFormatError, match="bad magic"):
        sync_blocks.decode(b"HTTP" + body[4:])
    with pytest.raises(SyncFormatError, match="format 9"):
        sync_blocks.decode(body[:4] + b"\x09" + body[5:])
    with pytest.raises(SyncFormatError, match="trailing"):
        sync_blocks.decode(body + b"\x00")
    with pytest.raises(SyncFormatError, match="truncated"):
        sync_blocks.decode(body[:-3])


def test_a_header_of_the_wrong_shape_is_refused() -> None:
    body = sync_blocks.encode(HistoryPage("n", 10, 0, 0, None))
    header = b'{"node":1}'
    forged = sync_blocks.MAGIC + b"\x01" + bytes([len(header)]) + header + b"\x00\x00"
    with pytest.raises(SyncFormatError, match="node is not a str"):
        sync_blocks.decode(forged)
    assert sync_blocks.decode(body).blocks == ()
