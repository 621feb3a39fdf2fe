from __future__ import annotations

import gzip
import threading
import time

from vpshealth.api.fleet_answer import fleet_answer
from vpshealth.api.render_cache import RenderCache


def test_without_seconds_every_request_renders() -> None:
    cache = RenderCache()
    calls = iter(range(10))
    assert [cache.get("k", lambda: str(next(calls)).encode()) for _ in range(3)] == [
        b"0",
        b"1",
        b"2",
    ]


def test_an_answer_is_reused_for_its_seconds_then_rendered_again() -> None:
    cache = RenderCache(seconds=0.2)
    calls = iter(range(10))
    first = [cache.get("k", lambda: str(next(calls)).encode()) for _ in range(3)]
    assert first == [b"0", b"0", b"0"]
    assert cache.get("other", lambda: b"x") == b"x"
    time.sleep(0.25)
    assert cache.get("k", lambda: str(next(calls)).encode()) == b"1"
    cache.clear()
    assert cache.get("k", lambda: str(next(calls)).encode()) == b"2"


def test_concurrent_requests_wait_for_one_rendering() -> None:
    cache = RenderCache(seconds=10)
    renders = []
    gate = threading.Event()

    def render() -> bytes:
        renders.append(1)
        gate.wait(5)
        return b"body"

    answers: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: answers.append(cache.get("k", render))) for _ in range(5)
    ]
    for t in threads:
        t.start()
    time.sleep(0.1)
    gate.set()
    for t in threads:
        t.join(5)
    assert answers == [b"body"] * 5
    assert len(renders) == 1


def test_while_an_old_answer_is_rendered_again_the_others_get_it_meanwhile() -> None:
    cache = RenderCache(seconds=0.05)
    assert cache.get("k", lambda: b"old") == b"old"
    time.sleep(0.06)
    gate = threading.Event()

    def slow() -> bytes:
        gate.wait(5)
        return b"new"

    renderer = threading.Thread(target=lambda: cache.get("k", slow))
    renderer.start()
    time.sleep(0.05)
    assert cache.get("k", lambda: b"never") == b"old"
    gate.set()
    renderer.join(5)
    assert cache.get("k", lambda: b"never") == b"new"


def test_after_each_rendering_the_hook_runs() -> None:
    runs: list[int] = []
    cache = RenderCache(seconds=10, after_render=lambda: runs.append(1))
    cache.get("a", lambda: b"1")
    cache.get("a", lambda: b"1")
    cache.get("b", lambda: b"2")
    assert len(runs) == 2


def test_fleet_answers_are_sent_compressed_to_clients_that_take_gzip() -> None:
    class Connection:
        def __init__(self, accept: str) -> None:
            self.headers = {"accept-encoding": accept}

    cache = RenderCache(seconds=60)
    body = b"x" * 100_000
    packed = fleet_answer(Connection("gzip, deflate"), cache, "k", lambda: body, "text/plain")  # type: ignore[arg-type]
    assert packed.headers["content-encoding"] == "gzip"
    assert len(packed.body) < 1000
    assert gzip.decompress(packed.body) == body
    plain = fleet_answer(Connection(""), cache, "k", lambda: b"not rendered again", "text/plain")  # type: ignore[arg-type]
    assert "content-encoding" not in plain.headers
    assert plain.body == body
