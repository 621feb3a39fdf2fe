"""The logs endpoint's answers, recorded from a real dockerd, made into lines (docker_logs)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vpshealth.collectors.docker_logs import (
    LOG_BYTES,
    LOG_LINES,
    demultiplex,
    log_request,
    parse_logs,
    run_start,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "docker"
ID = "a" * 64


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def test_multiplexed_body_keeps_the_engines_order_of_stdout_and_stderr() -> None:
    assert parse_logs(fixture("logs_vh-logs.bin")) == (
        "starting web\nconfig: port=8080\nünïcødé red\nerror: database unreachable\n"
        "fatal: giving up"
    )


def test_tty_body_is_raw_text_told_apart_without_being_told() -> None:
    body = fixture("logs_vh-logs-tty.bin")
    expected = "starting web\nerror: database unreachable\nfatal: giving up"
    assert demultiplex(body) is None
    assert parse_logs(body) == expected
    assert parse_logs(body, tty=True) == expected


def test_a_multiplexed_body_read_as_tty_output_keeps_no_frame_headers() -> None:
    assert "\x01" not in parse_logs(fixture("logs_vh-logs.bin"), tty=True)


def test_restart_loop_caught_restarting_shows_only_the_run_that_ended() -> None:
    inspect = fixture("logs_inspect_vh-loop_restarting.json")
    request = log_request(ID, inspect, at=0)
    assert "&since=" in request.path
    assert request.tty is False
    assert parse_logs(fixture("logs_vh-loop_restarting.bin")) == "run started\nrun ends"


def test_restart_loop_caught_running_again_stops_before_the_new_run() -> None:
    request = log_request(ID, fixture("logs_inspect_vh-loop_running.json"), at=0)
    assert "&until=" in request.path
    text = parse_logs(fixture("logs_vh-loop_running.bin"))
    assert text.endswith("run started\nrun ends")
    assert parse_logs(fixture("logs_vh-loop_tail.bin")).endswith("run started")


def test_a_container_running_since_before_the_incident_gives_its_tail() -> None:
    request = log_request(ID, fixture("logs_inspect_vh-loop_running.json"), at=2**40)
    assert request.path == (
        f"/containers/{ID}/logs?stdout=1&stderr=1&tail={LOG_LINES}&timestamps=0"
    )


def test_the_edge_is_fifty_milliseconds_before_the_start() -> None:
    body = b'{"State": {"Status": "exited", "StartedAt": "2026-12-06T23:01:13.02Z"}}'
    assert log_request(ID, body, at=0).path.endswith("&since=1796598072.970000000")


def test_without_inspect_data_or_a_start_time_the_tail_is_asked() -> None:
    tail = f"/containers/{ID}/logs?stdout=1&stderr=1&tail={LOG_LINES}&timestamps=0"
    zero = b'{"State": {"Status": "exited", "StartedAt": "0001-01-01T00:00:00Z"}}'
    for body in (None, b"not json", b"[]", b"{}", zero):
        assert log_request(ID, body, at=0).path == tail


def test_run_start_reads_nanoseconds_and_offsets() -> None:
    assert run_start("2026-12-06T23:01:13.47320861Z") == 1796598073_473208610
    assert run_start("2026-12-07T00:01:13+01:00") == 1796598073_000000000
    assert run_start("0001-01-01T00:00:00Z") is None
    assert run_start("yesterday") is None


def test_control_characters_go_tab_stays_and_bad_utf8_is_replaced() -> None:
    body = frame(1, b"a\tb\x07c\x1b[1;32mgreen\x1b[0m\xff\r\n") + frame(2, b"\x00\x08x\n")
    assert parse_logs(body) == "a\tbcgreen\ufffd\nx"


def test_only_the_last_lines_within_the_byte_bound_are_kept() -> None:
    body = frame(1, b"".join(b"line %d\n" % i for i in range(100)))
    assert parse_logs(body).split("\n") == [f"line {i}" for i in range(70, 100)]
    assert parse_logs(body, lines=3, max_bytes=13) == "line 99"


def test_one_huge_line_keeps_its_end() -> None:
    text = parse_logs(frame(2, b"x" * 20000 + b"END\n"))
    assert len(text.encode()) == LOG_BYTES
    assert text.endswith("END")


def test_an_empty_answer_is_no_lines() -> None:
    assert parse_logs(b"") == ""
    assert parse_logs(frame(1, b"\n\n")) == ""


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=4096),
        st.lists(st.tuples(st.sampled_from([0, 1, 2]), st.binary(max_size=600)), max_size=40).map(
            lambda frames: b"".join(frame(s, p) for s, p in frames)
        ),
    ),
    st.sampled_from([None, True, False]),
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=0, max_value=9000),
)
def test_never_raises_and_never_exceeds_the_bounds(
    body: bytes, tty: bool | None, lines: int, max_bytes: int
) -> None:
    text = parse_logs(body, tty, lines=lines, max_bytes=max_bytes)
    assert len(text.encode()) <= max_bytes
    assert len(text.split("\n")) <= max(lines, 1)
    assert not any(c < " " and c not in "\t\n" for c in text)
    default = parse_logs(body, tty)
    assert len(default.encode()) <= LOG_BYTES
    assert len(default.split("\n")) <= LOG_LINES


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048), st.integers(min_value=-(2**40), max_value=2**40))
def test_log_request_never_raises(body: bytes, at: int) -> None:
    assert log_request(ID, body, at).path.startswith(f"/containers/{ID}/logs?")
