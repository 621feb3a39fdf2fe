"""LEB128 varints (zigzag for signed ones) and a reader of byte strings that holds them: the
building blocks of the chunk codec and of the sync routes' history pages. Pure, no I/O."""

from __future__ import annotations

MAX_VARINT_BYTES = 10
"""An int64 needs at most 10 bytes of 7 bits."""


def uvarint(n: int) -> bytes:
    if n < 0:
        raise ValueError(f"cannot encode {n} as an unsigned varint")
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def svarint(n: int) -> bytes:
    return uvarint(2 * n if n >= 0 else -2 * n - 1)


class ByteReader:
    """Sequential reads from a byte string. Running past its end or a varint longer than
    ``MAX_VARINT_BYTES`` raises ``error`` with ``what`` in front of the message."""

    def __init__(self, data: bytes, error: type[ValueError], what: str) -> None:
        self._data = data
        self._pos = 0
        self._error = error
        self._what = what

    def byte(self) -> int:
        return self.take(1)[0]

    def take(self, size: int) -> bytes:
        end = self._pos + size
        if end > len(self._data):
            raise self._error(f"{self._what}: truncated")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def rest(self) -> bytes:
        return self.take(len(self._data) - self._pos)

    def uvarint(self) -> int:
        result = 0
        for shift in range(0, 7 * MAX_VARINT_BYTES, 7):
            b = self.byte()
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
        raise self._error(f"{self._what}: varint too long")

    def svarint(self) -> int:
        z = self.uvarint()
        return z >> 1 if z % 2 == 0 else -(z >> 1) - 1

    def at_end(self) -> bool:
        return self._pos == len(self._data)
