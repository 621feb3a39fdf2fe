"""The poll shell's answer framing: whatever way the bytes are cut into SSH packets, the
answer is exactly what came before the done line of the pending request."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpshealth.collectors.poll_shell import ShellEnded, TooMuchOutput, _ShellSession
from vpshealth.collectors.ssh import OUTPUT_LIMIT

END = b"@@vpshealth:done 0123456789abcdef\n"


def feed(session: _ShellSession, data: bytes, cuts: list[int]) -> None:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for start, stop in itertools.pairwise(points):
        session.data_received(data[start:stop], None)


@given(output=st.binary(max_size=3000), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_the_answer_is_what_came_before_the_done_line(output: bytes, cuts: list[int]) -> None:
    async def scenario() -> bytes:
        session = _ShellSession()
        session.data_received(b"left over from before\n", None)  # dropped: nothing pending
        answer = session.expect(END)
        session.data_received(b"an error message\n", 1)  # standard error is ignored
        feed(session, output + END, cuts)
        return await answer

    assert asyncio.run(scenario()) == output


@given(garbage=st.binary(max_size=2000))
def test_an_answer_without_its_done_line_is_still_pending(garbage: bytes) -> None:
    async def scenario() -> bool:
        session = _ShellSession()
        answer = session.expect(END)
        session.data_received(garbage + END[:-1], None)
        return answer.done()

    assert asyncio.run(scenario()) is False


def test_an_endless_answer_is_cut_off() -> None:
    async def scenario() -> None:
        session = _ShellSession()
        answer = session.expect(END)
        chunk = b"x" * 65536
        for _ in range(OUTPUT_LIMIT // len(chunk) + 1):
            session.data_received(chunk, None)
        await answer

    with pytest.raises(TooMuchOutput):
        asyncio.run(scenario())


def test_a_shell_that_ends_fails_the_pending_answer_and_refuses_new_ones() -> None:
    async def scenario() -> None:
        session = _ShellSession()
        answer = session.expect(END)
        session.connection_lost(None)
        with pytest.raises(ShellEnded):
            await answer
        with pytest.raises(ShellEnded):
            session.expect(END)

    asyncio.run(scenario())
