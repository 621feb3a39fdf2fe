"""`vpshealth node connect | status | disconnect`, in-process against a private VPSHEALTH_HOME,
the sealed secrets file and a small HTTP node on loopback."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.node_stub import TOKEN, StubNode, stub_node
from vpshealth.cli.main import main
from vpshealth.config import Paths, Settings
from vpshealth.store.settings_repository import put_settings
from vpshealth.sync.replica import Replica, open_copy

Run = tuple[int, str, str]


@pytest.fixture
def node() -> Iterator[StubNode]:
    with stub_node() as stub:
        yield stub


@pytest.fixture(autouse=True)
def sealed_secrets(cli_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = cli_home / "passphrase"
    path.write_text("the desktop's own passphrase\n")
    monkeypatch.setenv("VPSHEALTH_SECRET_STORE", "file")
    monkeypatch.setenv("VPSHEALTH_SECRETS_PASSPHRASE_FILE", str(path))


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = ""
) -> Run:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_connect_status_and_disconnect(
    node: StubNode, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(
        capsys, monkeypatch, "node", "connect", node.url, "--token-stdin", stdin=TOKEN + "\n"
    )
    assert (code, err) == (0, "")
    assert out.startswith(f"Connected to the node {node.url} (http): it answers, checks are ok")
    code, out, _ = run(capsys, monkeypatch, "node", "status")
    assert code == 0
    assert f"Node:       {node.url} (http)" in out
    assert "Last sync:  never synced" in out
    code, out, _ = run(capsys, monkeypatch, "node", "status", "--json")
    shown = json.loads(out)
    assert (code, shown["connected"], shown["answers"], shown["node"]["how"]) == (
        0,
        True,
        True,
        "http",
    )
    assert shown["last_synced_at"] is None
    code, out, _ = run(capsys, monkeypatch, "node", "disconnect", "--json")
    assert (code, json.loads(out)) == (0, {"disconnected": node.url, "copy_kept": None})
    code, out, _ = run(capsys, monkeypatch, "node", "status")
    assert code == 1
    assert out.startswith("Not connected to a node")


def test_a_wrong_token_exits_1_with_one_line_and_saves_nothing(
    node: StubNode, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(
        capsys, monkeypatch, "node", "connect", node.url, "--token-stdin", stdin="vph_wrong\n"
    )
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert f"vpshealth: the node {node.url} refused the token (HTTP 401)" in err
    assert err.strip().endswith("Nothing was saved.")
    code, _, _ = run(capsys, monkeypatch, "node", "status", "--json")
    assert code == 1


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["http://node.example.com"], "in clear"),
        (["https://node.example.com", "--key-file", "k"], "--key-file: only for ssh://"),
        (["ssh://root@node.example.com"], "--key-file PATH, --generate-key or --agent"),
        (
            ["ssh://root@node.example.com", "--agent", "--ca-file", "ca.pem"],
            "--ca-file is for https://",
        ),
        (["https://node.example.com", "--api-port", "9000"], "--api-port"),
    ],
)
def test_bad_input_exits_2_before_anything_is_asked(
    argv: list[str],
    words: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = run(
        capsys, monkeypatch, "node", "connect", *argv, "--token-stdin", stdin="t\n"
    )
    assert (code, out) == (2, "")
    assert words in err
    assert "Nothing was saved." in err


def test_an_empty_token_on_stdin_exits_2(
    node: StubNode, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, monkeypatch, "node", "connect", node.url, "--token-stdin")
    assert code == 2
    assert "--token-stdin: no token on standard input" in err
    assert node.seen == []


def test_status_says_the_follower_found_the_node_silent_and_the_lag_in_messages(
    node: StubNode,
    cli_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(capsys, monkeypatch, "node", "connect", node.url, "--token-stdin", stdin=TOKEN + "\n")
    copy = open_copy(Paths.from_settings(Settings(home=cli_home)))
    with copy.begin() as conn:
        put_settings(conn, {"sync.synced_at": 1_800_000_000, "sync.live_seq": 40}, 0)
    Replica(copy).record_watch(
        {"silent_since": 1_800_000_100, "problem": "api_not_answering", "last_seq_seen": 43}, 0
    )
    copy.dispose()

    code, out, _ = run(capsys, monkeypatch, "node", "status", "--no-check")
    _, shown, _ = run(capsys, monkeypatch, "node", "status", "--no-check", "--json")

    assert code == 0
    assert "Silent:     since 2027-01-15T08:01:40Z" in out
    assert "(down: its API does not answer)" in out
    assert ", 3 live messages" in out
    assert json.loads(shown)["lag_messages"] == 3
    assert json.loads(shown)["silent_problem"] == "api_not_answering"


def test_take_over_is_off_until_switched_on_and_status_shows_it(
    node: StubNode, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, "node", "take-over")
    assert (code, out) == (
        0,
        "Take over: off: while the node is silent nothing is checked (`vpshealth node "
        "take-over on`)\n",
    )
    code, out, _ = run(capsys, monkeypatch, "node", "take-over", "on", "--json")
    assert (code, json.loads(out)) == (0, {"take_over": True})
    run(capsys, monkeypatch, "node", "connect", node.url, "--token-stdin", stdin=TOKEN + "\n")
    code, out, _ = run(capsys, monkeypatch, "node", "status", "--no-check")
    assert "Take over:  on: this computer checks the servers it can log in to" in out
    code, out, _ = run(capsys, monkeypatch, "node", "status", "--no-check", "--json")
    assert json.loads(out)["take_over"] is True
    code, out, _ = run(capsys, monkeypatch, "node", "take-over", "off")
    assert out.startswith("Take over: off: ")
    with pytest.raises(SystemExit) as refused:
        run(capsys, monkeypatch, "node", "take-over", "maybe")
    assert refused.value.code == 2
    assert "invalid choice: 'maybe'" in capsys.readouterr().err
