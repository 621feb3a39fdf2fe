"""Encoding one chunk of a metric series (timestamps and values) into a small blob.

Pure functions, no I/O. ``encode`` picks the codec stored in ``sample_chunks.codec``:

* ``CODEC_SCALED_INT``: every value is a multiple of 0.01 (what the collectors store: rounded
  percentages and loads, integer byte counts), within a relative error of 1e-9 and with
  ``v * 100`` inside int64. Values are kept as integers ``round(v * 100)`` and decode to
  ``round(v, 2)`` (``-0.0`` comes back as ``0.0``).
* ``CODEC_FLOAT``: anything else (or scaled values whose differences overflow int64);
  values decode bit-exact.

Blob layout (version 1)::

    version u8 | count uvarint | zlib(timestamp column | value column)

An integer column stores the ``order``-th differences of a sequence (order 1 = deltas,
2 = delta-of-delta) divided by their greatest common divisor ``step`` (a KiB count scaled by
100 has a step of 102400; regular timestamps have every difference equal)::

    u8 flags: order << 2 | width code (0-3: 1, 2, 4, 8 bytes) | 0x10 if all differences
        are equal, to ``step``, and no body follows
    zigzag varints: first value, [first delta if order 2], step
    body: (count - order) signed little-endian ints of the width, split into byte planes
    (all lowest bytes, then all second bytes, ...); each plane is compressed in a deflate
    block of its own so that it gets its own Huffman table

Fixed-width arrays rather than per-sample varints so that decoding runs in C (``array``,
``itertools.accumulate``, ``map``) instead of a Python loop per byte.

A float column starts with a kind byte: ``FLOAT_RAW`` (float64 little-endian bytes, best
when values repeat) or ``FLOAT_BITS`` (an integer column over the float64 bit patterns read
as signed int64, best for slowly changing values). The encoder tries each candidate layout
and keeps the smallest blob.
"""

from __future__ import annotations

import math
import sys
import zlib
from array import array
from collections.abc import Iterable, Sequence
from itertools import accumulate, compress, repeat
from operator import add, lt, mul, ne, sub, truediv

from vpshealth.store.varints import ByteReader, svarint, uvarint

CODEC_SCALED_INT = 1
CODEC_FLOAT = 2

FORMAT_VERSION = 1
# An hour at one sample per second is 3600. The cap also bounds what decoding a forged blob
# can allocate: a constant column needs no body, so the payload size cannot bound the count.
MAX_SAMPLES = 1 << 16
ZLIB_LEVEL = 6

SCALE = 100
REL_TOLERANCE = 1e-9

# Integer column flag: every difference equals ``step`` and the column has no body.
_CONSTANT = 0x10

FLOAT_RAW = 0
FLOAT_BITS = 1

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
# Timestamps within +-2**62 (seconds or milliseconds alike) have deltas that fit an int64.
_TIMESTAMP_LIMIT = 1 << 62
_WIDTHS = (1, 2, 4, 8)
_SIGNED_CODES = {
    width: next(code for code in "bhilq" if array(code).itemsize == width) for width in _WIDTHS
}
_BIG_ENDIAN = sys.byteorder == "big"
# Upper bound of a payload's size per sample (8 bytes in each column) plus the column headers.
_MAX_PAYLOAD_PER_SAMPLE = 16
_MAX_PAYLOAD_OVERHEAD = 128


# The parts of an encoded column; each is compressed in a deflate block of its own.
_Column = list[bytes]


# ---------------------------------------------------------------- public API


def encode(timestamps: Sequence[int], values: Sequence[float]) -> tuple[int, bytes]:
    """Encode one chunk; returns (codec id, blob).

    Raises ValueError for empty or mismatched input, timestamps that are not strictly
    increasing or not within +-2**62, non-finite values, or more than ``MAX_SAMPLES``
    samples. Timestamps must be ints (TypeError otherwise).
    """
    ts = _checked_timestamps(timestamps)
    floats = _checked_values(values)
    if len(ts) != len(floats):
        raise ValueError(f"{len(ts)} timestamps but {len(floats)} values")
    ts_columns = _int_columns(ts)
    scaled = _scaled(floats)
    value_columns = _int_columns(scaled) if scaled is not None else []
    codec = CODEC_SCALED_INT
    if not value_columns:
        codec = CODEC_FLOAT
        value_columns = _float_columns(floats)
    payload = _deflate(_smallest(ts_columns) + _smallest(value_columns))
    return codec, bytes([FORMAT_VERSION]) + uvarint(len(ts)) + payload


def decode(codec: int, blob: bytes) -> tuple[list[int], list[float]]:
    """Inverse of ``encode``. Raises ValueError (only) for an unknown codec or a bad blob."""
    if codec not in (CODEC_SCALED_INT, CODEC_FLOAT):
        raise ValueError(f"unknown chunk codec {codec}")
    reader = ByteReader(bytes(blob), ValueError, "corrupt chunk")
    version = reader.byte()
    if version != FORMAT_VERSION:
        raise ValueError(f"unsupported chunk format version {version}")
    count = reader.uvarint()
    if not 1 <= count <= MAX_SAMPLES:
        raise ValueError(f"bad sample count {count}")
    payload = ByteReader(_decompress(reader.rest(), count), ValueError, "corrupt chunk")
    timestamps = _read_int_column(payload, count, increasing=True)
    if codec == CODEC_SCALED_INT:
        values = list(map(truediv, _read_int_column(payload, count), repeat(SCALE)))
    else:
        values = _read_float_column(payload, count)
    if not payload.at_end():
        raise ValueError("corrupt chunk: trailing bytes")
    return timestamps, values


# ---------------------------------------------------------------- input checks


def _checked_timestamps(timestamps: Sequence[int]) -> list[int]:
    if not timestamps:
        raise ValueError("empty chunk")
    if len(timestamps) > MAX_SAMPLES:
        raise ValueError(f"more than {MAX_SAMPLES} samples in one chunk")
    try:
        ts = array(_SIGNED_CODES[8], timestamps).tolist()
    except OverflowError as exc:
        raise ValueError("timestamp outside the int64 range") from exc
    if min(ts) <= -_TIMESTAMP_LIMIT or max(ts) >= _TIMESTAMP_LIMIT:
        raise ValueError("timestamp outside +-2**62")
    if not all(map(lt, ts, ts[1:])):
        raise ValueError("timestamps are not strictly increasing")
    return ts


def _checked_values(values: Sequence[float]) -> list[float]:
    try:
        floats = array("d", values).tolist()
    except OverflowError as exc:
        raise ValueError("value outside the float range") from exc
    if not all(map(math.isfinite, floats)):
        raise ValueError("values must be finite (no NaN or infinity)")
    return floats


def _scaled(values: list[float]) -> list[int] | None:
    """The values as integers n with n / 100 == round(v, 2), or None if any value is not
    (within REL_TOLERANCE) a multiple of 0.01 or its n falls outside int64."""
    try:
        ints: list[int] = list(map(round, map(mul, values, repeat(float(SCALE)))))
    except OverflowError:  # v * 100 overflowed to infinity
        return None
    inexact = compress(range(len(values)), map(ne, map(truediv, ints, repeat(SCALE)), values))
    for i in inexact:
        exact = _scaled_slow(values[i])
        if exact is None:
            return None
        ints[i] = exact
    if min(ints) < _INT64_MIN or max(ints) > _INT64_MAX:
        return None
    return ints


def _scaled_slow(value: float) -> int | None:
    # v * 100 may be inexact for large or inexact decimal values: work from round(v, 2) and
    # split off the integer part (the subtraction is exact) before scaling.
    rounded = round(value, 2)
    if abs(rounded - value) > REL_TOLERANCE * abs(value):
        return None
    whole = int(rounded)
    n = whole * SCALE + round((rounded - whole) * SCALE)
    return n if n / SCALE == rounded else None


# ---------------------------------------------------------------- columns: encoding


def _deflate(parts: _Column) -> bytes:
    # Each part gets its own deflate block and so its own Huffman table: a byte plane of
    # small numbers is not coded with the long codes that a plane of random bytes needs.
    compressor = zlib.compressobj(ZLIB_LEVEL)
    blocks = [compressor.compress(part) + compressor.flush(zlib.Z_BLOCK) for part in parts]
    return b"".join(blocks) + compressor.flush()


def _int_columns(xs: list[int]) -> list[_Column]:
    """Candidate encodings of an integer column (deltas and delta-of-delta)."""
    first = _int_column(xs, 1)
    if len(xs) < 2 or (first is not None and len(first) == 1):
        return [] if first is None else [first]  # a constant column has no body to beat
    return [col for col in (first, _int_column(xs, 2)) if col is not None]


def _int_column(xs: list[int], order: int) -> _Column | None:
    anchors: list[int] = []
    diffs = xs
    for _ in range(order):
        anchors.append(diffs[0])
        diffs = list(map(sub, diffs[1:], diffs[:-1]))
    if min(diffs, default=0) == max(diffs, default=0):
        # Regular timestamps, a constant gauge, a steady counter: headers only.
        step = diffs[0] if diffs else 0
        return [bytes([order << 2 | _CONSTANT]) + _svarints([*anchors, step])]
    step = math.gcd(*diffs)
    if step != 1:
        diffs = [d // step for d in diffs]
    width = _width_for(min(diffs), max(diffs))
    if width is None:
        return None
    body = array(_SIGNED_CODES[width], diffs)
    if _BIG_ENDIAN:
        body.byteswap()
    header = bytes([order << 2 | _WIDTHS.index(width)]) + _svarints([*anchors, step])
    return [header, *_byte_planes(body.tobytes(), width)]


def _float_columns(values: list[float]) -> list[_Column]:
    raw = array("d", values)
    if _BIG_ENDIAN:
        raw.byteswap()
    columns = [[bytes([FLOAT_RAW]), raw.tobytes()]]
    for head, *planes in _int_columns(_float_bits(values)):
        columns.append([bytes([FLOAT_BITS]) + head, *planes])
    return columns


def _float_bits(values: list[float]) -> list[int]:
    bits = array(_SIGNED_CODES[8])
    bits.frombytes(array("d", values).tobytes())
    return bits.tolist()


def _width_for(smallest: int, largest: int) -> int | None:
    for width in _WIDTHS:
        limit = 1 << (8 * width - 1)
        if -limit <= smallest and largest < limit:
            return width
    return None


def _byte_planes(data: bytes, width: int) -> list[bytes]:
    """Split little-endian ints into planes: all lowest bytes, then all second bytes, ..."""
    return [data[i::width] for i in range(width)]


def _svarints(numbers: list[int]) -> bytes:
    return b"".join(map(svarint, numbers))


# ---------------------------------------------------------------- columns: decoding


def _decompress(data: bytes, count: int) -> bytes:
    limit = count * _MAX_PAYLOAD_PER_SAMPLE + _MAX_PAYLOAD_OVERHEAD
    inflater = zlib.decompressobj()
    try:
        payload = inflater.decompress(data, limit)
    except zlib.error as exc:
        raise ValueError(f"corrupt chunk: {exc}") from exc
    if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
        raise ValueError("corrupt chunk: truncated or oversized compressed data")
    return payload


def _read_int_column(reader: ByteReader, count: int, *, increasing: bool = False) -> list[int]:
    """Read one integer column; with ``increasing``, reject it unless strictly increasing."""
    flags = reader.byte()
    order, width = (flags >> 2) & 3, _WIDTHS[flags & 3]
    if flags & ~(_CONSTANT | 0xF) or order not in (1, 2) or count < order:
        raise ValueError(f"corrupt chunk: bad column flags {flags:#x}")
    first = reader.svarint()
    first_delta = reader.svarint() if order == 2 else 0
    step = reader.svarint()
    diffs: Iterable[int]
    if flags & _CONSTANT:
        if order == 1 or step == 0:
            # An arithmetic sequence (regular timestamps, a constant gauge): no per-sample work.
            delta = step if order == 1 else first_delta
            _check_increasing(increasing and count > 1 and delta <= 0)
            return _arithmetic(first, delta, count)
        diffs = repeat(step, count - order)
    else:
        quotients = _unshuffle(reader.take((count - order) * width), width)
        if increasing and order == 1 and quotients:
            # The deltas are quotient * step: all positive if these are. Checked here, the
            # pass over the result below is not needed.
            _check_increasing(step <= 0 or min(quotients) <= 0)
            increasing = False
        diffs = map(mul, quotients, repeat(step)) if step != 1 else quotients
    if order == 2:
        diffs = accumulate(diffs, initial=first_delta)
    xs = list(accumulate(diffs, initial=first))
    _check_increasing(increasing and not all(map(lt, xs, xs[1:])))
    return xs


def _check_increasing(failed: bool) -> None:
    if failed:
        raise ValueError("corrupt chunk: timestamps not increasing")


def _arithmetic(first: int, delta: int, count: int) -> list[int]:
    if delta == 0:
        return [first] * count
    return list(range(first, first + delta * count, delta))


def _read_float_column(reader: ByteReader, count: int) -> list[float]:
    kind = reader.byte()
    floats = array("d")
    if kind == FLOAT_RAW:
        floats.frombytes(reader.take(count * 8))
        if _BIG_ENDIAN:
            floats.byteswap()
    elif kind == FLOAT_BITS:
        try:
            bits = array(_SIGNED_CODES[8], _read_int_column(reader, count))
        except OverflowError as exc:
            raise ValueError("corrupt chunk: float bit pattern out of range") from exc
        floats.frombytes(bits.tobytes())
    else:
        raise ValueError(f"corrupt chunk: unknown float column kind {kind}")
    return floats.tolist()


def _unshuffle(data: bytes, width: int) -> array[int]:
    if width > 1:
        n = len(data) // width
        interleaved = bytearray(len(data))
        for i in range(width):
            interleaved[i::width] = data[i * n : (i + 1) * n]
        data = bytes(interleaved)
    values = array(_SIGNED_CODES[width])
    values.frombytes(data)
    if _BIG_ENDIAN:
        values.byteswap()
    return values


# ---------------------------------------------------------------- rollup blobs
#
# One blob holds consecutive min/avg/max buckets of one series (6 hours of 1-minute buckets
# or 10 days of 1-hour buckets)::
#
#     version u8 | count uvarint | kind u8 | zlib(ts | samples | min | max - min | avg)
#
# ``kind`` is ``ROLLUP_SCALED_INT`` when every min and max is a multiple of 0.01 (see
# ``CODEC_SCALED_INT``), else ``ROLLUP_FLOAT`` (min and max as float columns). The width
# max - min is 0 for a flat series and small for most others. The average is stored as its
# place between min and max in 255 steps (one byte): ``avg = min + step / 255 * (max - min)``,
# off by at most 1/510 of the bucket's range, which no chart shows; a flat bucket is exact.
#
# Each integer column (min, width, and the sample counts) starts with a mode byte:
# ``_DIRECT`` is an integer column as in a sample chunk (differences of order 1 or 2);
# ``_SUMMED`` stores the running sum instead, so that its first differences are the values
# themselves. That suits noisy values around a level (the width of a noisy series), where
# differences would double the spread.

ROLLUP_SCALED_INT = 1
ROLLUP_FLOAT = 2
AVERAGE_STEPS = 255

_DIRECT = 0
_SUMMED = 1


def encode_rollup(
    timestamps: Sequence[int],
    counts: Sequence[int],
    minimum: Sequence[float],
    average: Sequence[float],
    maximum: Sequence[float],
) -> bytes:
    """Encode buckets (start time, samples in the bucket, min, avg, max). Raises ValueError
    like ``encode`` and for columns of different lengths, counts below 1, or a min above
    its max."""
    ts = _checked_timestamps(timestamps)
    n = len(ts)
    lows, means, highs = (_checked_values(c) for c in (minimum, average, maximum))
    if not len(counts) == len(lows) == len(means) == len(highs) == n:
        raise ValueError("rollup columns differ in length")
    sizes = [int(c) for c in counts]
    if min(sizes) < 1:
        raise ValueError("a bucket holds at least one sample")
    if any(map(lt, highs, lows)):
        raise ValueError("a bucket's minimum is above its maximum")
    places = bytes(
        0 if hi <= lo else min(AVERAGE_STEPS, max(0, round((m - lo) / (hi - lo) * AVERAGE_STEPS)))
        for lo, m, hi in zip(lows, means, highs, strict=True)
    )
    scaled_low, scaled_high = _scaled(lows), _scaled(highs)
    columns: list[list[_Column]] | None = None
    kind = ROLLUP_FLOAT
    if scaled_low is not None and scaled_high is not None:
        widths = list(map(sub, scaled_high, scaled_low))
        columns = _all_or_none([_rollup_int_columns(scaled_low), _rollup_int_columns(widths)])
        kind = ROLLUP_SCALED_INT
    if columns is None:
        kind = ROLLUP_FLOAT
        columns = [_float_columns(lows), _float_columns(highs)]
    head = _all_or_none([_int_columns(ts), _rollup_int_columns(sizes)])
    if head is None:
        raise ValueError("rollup column out of range")
    parts = [part for candidates in head + columns for part in _smallest(candidates)]
    payload = _deflate([*parts, places])
    return bytes([FORMAT_VERSION]) + uvarint(n) + bytes([kind]) + payload


def decode_rollup(
    blob: bytes,
) -> tuple[list[int], list[int], list[float], list[float], list[float]]:
    """Inverse of ``encode_rollup``: (timestamps, counts, min, avg, max). Raises ValueError
    (only) for a bad blob."""
    reader = ByteReader(bytes(blob), ValueError, "corrupt chunk")
    version = reader.byte()
    if version != FORMAT_VERSION:
        raise ValueError(f"unsupported rollup format version {version}")
    count = reader.uvarint()
    if not 1 <= count <= MAX_SAMPLES:
        raise ValueError(f"bad bucket count {count}")
    kind = reader.byte()
    if kind not in (ROLLUP_SCALED_INT, ROLLUP_FLOAT):
        raise ValueError(f"unknown rollup kind {kind}")
    payload = ByteReader(_decompress(reader.rest(), count * 4), ValueError, "corrupt chunk")
    timestamps = _read_int_column(payload, count, increasing=True)
    sizes = _read_rollup_int_column(payload, count)
    if kind == ROLLUP_SCALED_INT:
        low = _read_rollup_int_column(payload, count)
        high = list(map(add, low, _read_rollup_int_column(payload, count)))
        lows, highs = (list(map(truediv, c, repeat(SCALE))) for c in (low, high))
    else:
        lows, highs = _read_float_column(payload, count), _read_float_column(payload, count)
    places = payload.take(count)
    if not payload.at_end():
        raise ValueError("corrupt rollup: trailing bytes")
    if any(map(lt, highs, lows)) or max(places) > AVERAGE_STEPS:
        raise ValueError("corrupt rollup: minimum above maximum or a bad average")
    means = [
        lo if place == 0 else lo + (hi - lo) * place / AVERAGE_STEPS
        for lo, hi, place in zip(lows, highs, places, strict=True)
    ]
    return timestamps, sizes, lows, means, highs


def _rollup_int_columns(xs: list[int]) -> list[_Column]:
    direct = [[bytes([_DIRECT]) + head, *planes] for head, *planes in _int_columns(xs)]
    sums = list(accumulate(xs, initial=0))
    summed = _int_column(sums, 1) if len(sums) > 1 else None
    if summed is not None:
        direct.append([bytes([_SUMMED]) + summed[0], *summed[1:]])
    return direct


def _read_rollup_int_column(reader: ByteReader, count: int) -> list[int]:
    mode = reader.byte()
    if mode == _DIRECT:
        return _read_int_column(reader, count)
    if mode == _SUMMED:
        sums = _read_int_column(reader, count + 1)
        return list(map(sub, sums[1:], sums[:-1]))
    raise ValueError(f"corrupt rollup: unknown column mode {mode}")


def _all_or_none(columns: list[list[_Column]]) -> list[list[_Column]] | None:
    return columns if all(columns) else None


def _smallest(candidates: list[_Column]) -> _Column:
    if len(candidates) == 1:
        return candidates[0]
    return min(candidates, key=_quick_size)


def _quick_size(column: _Column) -> int:
    compressor = zlib.compressobj(1)
    return sum(len(compressor.compress(part)) for part in column) + len(compressor.flush())
