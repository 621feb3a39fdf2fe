"""One-off commands over a real OpenSSH sshd: standard output only, input handed over on
standard input, output bounded, and nothing left for the cycle collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tests.integration.support.ssh_connection import CountingConnection
from vpshealth.collectors.errors import CollectionError
from vpshealth.domain.health import Problem


@pytest.fixture
def collector_paused() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def test_a_command_returns_its_standard_output_only(conn: CountingConnection) -> None:
    output = await conn.run("printf 'héllo\\n'; echo oops >&2; exit 3")
    assert output == "héllo\n"


async def test_input_text_reaches_the_command_on_standard_input(
    conn: CountingConnection,
) -> None:
    assert await conn.run("tr a-z A-Z", input_text="/var/run/docker.sock\n") == (
        "/VAR/RUN/DOCKER.SOCK\n"
    )


async def test_too_much_output_is_refused_and_the_connection_stays_usable(
    conn: CountingConnection,
) -> None:
    with pytest.raises(CollectionError) as caught:
        await conn.run("exec cat /dev/zero")  # endless: stopped at the limit
    assert caught.value.problem is Problem.PARSE_ERROR
    assert "web1" in str(caught.value)
    generation = conn.generation
    assert await conn.run("echo still here") == "still here\n"
    assert conn.generation == generation


async def test_commands_leave_no_reference_cycles_behind(
    conn: CountingConnection, collector_paused: None
) -> None:
    await conn.run("true")  # the connection's own objects, made once
    gc.collect()
    for _ in range(20):
        assert await conn.run("echo 1") == "1\n"
    assert gc.collect() < 20
