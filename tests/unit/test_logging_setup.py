"""Logging: a file per kind of process, a file several writers share, journal priorities."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vpshealth import logging_setup
from vpshealth.cli.main import build_parser
from vpshealth.config import Paths
from vpshealth.logging_setup import (
    JournalFormatter,
    SharedRotatingFileHandler,
    configure_logging,
    stderr_is_journal,
)


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield root
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)


def record(message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("vpshealth.test", level, __file__, 1, message, None, None)


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        (["service"], "service"),
        (["service", "--once"], "service"),
        (["service", "status"], "cli"),
        (["service", "install"], "cli"),
        (["check"], "cli"),
    ],
)
def test_each_kind_of_process_logs_to_its_own_file(argv: list[str], kind: str) -> None:
    args = build_parser().parse_args(argv)
    assert getattr(args, "log_kind", "cli") == kind
    paths = Paths(Path("/c"), Path("/d"), Path("/l"))
    assert paths.log_file(kind) == Path(f"/l/{kind}.log")  # type: ignore[arg-type]


def test_a_writer_follows_a_rotation_made_by_another(tmp_path: Path) -> None:
    path = tmp_path / "cli.log"
    first = SharedRotatingFileHandler(path, maxBytes=200, backupCount=2, encoding="utf-8")
    second = SharedRotatingFileHandler(path, maxBytes=200, backupCount=2, encoding="utf-8")
    try:
        second.emit(record("second, before"))
        for n in range(10):
            first.emit(record(f"first {n} " + "x" * 30))
        assert (tmp_path / "cli.log.1").exists()
        second.emit(record("second, after"))
        assert "second, after" in path.read_text()
        rotated = "".join(p.read_text() for p in tmp_path.glob("cli.log.*"))
        assert "second, before" in rotated
        assert "second, after" not in rotated
    finally:
        first.close()
        second.close()


def test_a_refused_rotation_keeps_logging_and_is_tried_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "app.log"
    handler = SharedRotatingFileHandler(path, maxBytes=100, backupCount=2, encoding="utf-8")
    refusals = []

    def refuse(source: str, dest: str) -> None:
        refusals.append(source)
        raise PermissionError(13, "The process cannot access the file", source)

    monkeypatch.setattr(handler, "rotate", refuse)
    clock = [1000.0]
    monkeypatch.setattr(logging_setup.time, "monotonic", lambda: clock[0])
    try:
        for n in range(10):
            handler.emit(record(f"line {n} " + "y" * 30))
        assert len(refusals) == 1  # not again for every record
        assert "line 9" in path.read_text()
        assert not (tmp_path / "app.log.1").exists()

        monkeypatch.undo()
        clock[0] += logging_setup.ROTATION_RETRY_SECONDS + 1
        monkeypatch.setattr(logging_setup.time, "monotonic", lambda: clock[0])
        handler.emit(record("after the other process let go " + "z" * 60))
        assert (tmp_path / "app.log.1").exists()
    finally:
        handler.close()
    assert "Logging error" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("level", "prefix"),
    [
        (logging.DEBUG, "<7>"),
        (logging.INFO, "<6>"),
        (logging.WARNING, "<4>"),
        (logging.ERROR, "<3>"),
        (logging.CRITICAL, "<2>"),
        (logging.INFO + 5, "<6>"),
    ],
)
def test_journal_lines_carry_the_priority(level: int, prefix: str) -> None:
    text = JournalFormatter("%(levelname)s: %(message)s").format(record("first\nsecond", level))
    first, second = text.split("\n")
    assert first.startswith(prefix)
    assert first.endswith(": first")
    assert second == f"{prefix}second"


def test_stderr_is_the_journal_only_when_the_stream_matches(tmp_path: Path) -> None:
    with open(tmp_path / "stream", "w") as stream, open(tmp_path / "other", "w") as other:
        held = os.fstat(stream.fileno())
        environ = {"JOURNAL_STREAM": f"{held.st_dev}:{held.st_ino}"}
        assert stderr_is_journal(environ, stream)
        assert not stderr_is_journal(environ, other)  # redirected by a parent
        assert not stderr_is_journal({}, stream)
        assert not stderr_is_journal({"JOURNAL_STREAM": "garbage"}, stream)
        assert not stderr_is_journal(environ, None)


def test_configure_logging_prefixes_priorities_under_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root_logging: logging.Logger
) -> None:
    with open(tmp_path / "journal", "w") as journal:
        held = os.fstat(journal.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{held.st_dev}:{held.st_ino}")
        monkeypatch.setattr(sys, "stderr", journal)
        configure_logging(tmp_path / "service.log", verbose=False, console_info=True)
        logging.getLogger("vpshealth.test").warning("disk nearly full")
        logging.getLogger("vpshealth.test").info("Service started")
        for handler in root_logging.handlers:
            handler.flush()
    lines = (tmp_path / "journal").read_text().splitlines()
    assert lines == ["<4>WARNING: disk nearly full", "<6>INFO: Service started"]
    assert "WARNING vpshealth.test: disk nearly full" in (tmp_path / "service.log").read_text()


def test_configure_logging_without_the_journal_has_no_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root_logging: logging.Logger
) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    with open(tmp_path / "terminal", "w") as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        configure_logging(tmp_path / "cli.log", verbose=False)
        logging.getLogger("vpshealth.test").warning("disk nearly full")
        for handler in root_logging.handlers:
            handler.flush()
    assert (tmp_path / "terminal").read_text() == "WARNING: disk nearly full\n"
