"""The node-backed operations of a linked computer: what each edit sends (a host edit with its
base, a key to the node only), the queue when the node does not answer, and the one line per
field the node kept."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine

from tests.unit.fake_clock import FakeClock
from vpshealth.domain.hosts import DEFAULT_INTERVAL_SECONDS, AuthMethod, Host
from vpshealth.errors import EXIT_OK
from vpshealth.operations.errors import FieldError, NotFoundError
from vpshealth.operations.login_keys import NewKey
from vpshealth.operations.node_edits import (
    EXIT_APPLIED_IN_PART,
    AppliedInPart,
    EditQueued,
    NodeEdits,
    NodeHostOperations,
)
from vpshealth.operations.node_link import NodeLinkOperations
from vpshealth.secrets import SecretStore
from vpshealth.store.database import open_database
from vpshealth.store.host_repository import HostRepository
from vpshealth.sync.edit_queue import Edit, EditQueue
from vpshealth.sync.node_session import NodeError, NodeProblem

from .operations_support import MemoryKeyring

PINNED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBGG3lx0XbS7n0zsFr8MRTnQOsRcJ3ok1Fq0EPYX0vAs"


@pytest.fixture
def copy(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "node-copy.sqlite3")
    yield engine
    engine.dispose()


class SilentNode:
    """A link whose node does not answer (or refuses, with ``problem``)."""

    def __init__(self, copy: Engine, problem: NodeProblem = NodeProblem.UNREACHABLE) -> None:
        self._copy = copy
        self._problem = problem

    @contextmanager
    def local_copy(self) -> Iterator[Engine]:
        yield self._copy

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        raise NodeError(self._problem, "cannot reach node.example.com: connection refused.")
        yield  # pragma: no cover


def _edits(node: SilentNode) -> NodeEdits:
    return NodeEdits(cast(NodeLinkOperations, node), FakeClock(100.0))


def test_an_edit_the_node_does_not_answer_is_queued_and_the_user_told(copy: Engine) -> None:
    edit = Edit("host edit web1", "PATCH", "/api/v1/hosts/web1", {"port": 2200})
    with pytest.raises(EditQueued) as queued:
        _edits(SilentNode(copy)).apply(edit)
    assert queued.value.exit_code == EXIT_OK
    assert str(queued.value).startswith(
        "host edit web1: the node is not answering: the change is queued and is applied when it "
        "answers (vpshealth node status shows the queue)."
    )
    assert [q.edit for q in EditQueue(copy).waiting()] == [edit]


def test_a_refused_token_is_said_and_nothing_is_queued(copy: Engine) -> None:
    edit = Edit("host edit web1", "PATCH", "/api/v1/hosts/web1", {"port": 2200})
    with pytest.raises(NodeError) as raised:
        _edits(SilentNode(copy, NodeProblem.TOKEN_REFUSED)).apply(edit)
    assert not isinstance(raised.value, EditQueued)
    assert EditQueue(copy).waiting() == []


def test_an_edit_with_a_key_is_not_queued(copy: Engine) -> None:
    edit = Edit("host add web1", "POST", "/api/v1/hosts", {"private_key": "..."})
    with pytest.raises(NodeError, match="was not queued: it carries a login key"):
        _edits(SilentNode(copy)).apply(edit, may_queue=False)
    assert EditQueue(copy).waiting() == []


class RecordingEdits(NodeEdits):
    def __init__(self, answer: Any = None) -> None:
        self.sent: list[tuple[Edit, bool]] = []
        self._answer = answer

    def apply(self, edit: Edit, *, may_queue: bool = True) -> Any:
        self.sent.append((edit, may_queue))
        return self._answer


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


def _hosts(copy: Engine, keyring: MemoryKeyring, edits: NodeEdits) -> NodeHostOperations:
    repo = HostRepository(copy)
    repo.add(Host(name="web1", address="192.0.2.1", key_ref="node-ref", host_key=PINNED))
    return NodeHostOperations(repo, SecretStore(keyring), edits, 5)


def test_a_host_edit_carries_the_values_it_was_made_from(
    copy: Engine, keyring: MemoryKeyring
) -> None:
    edits = RecordingEdits({"kept": []})
    hosts = _hosts(copy, keyring, edits)
    hosts.edit("web1", {"interval_seconds": 90, "tags": ("prod",)})
    ((edit, may_queue),) = edits.sent
    assert (edit.method, edit.path, may_queue) == ("PATCH", "/api/v1/hosts/web1", True)
    assert edit.body == {
        "interval_seconds": 90,
        "tags": ["prod"],
        "expected": {"interval_seconds": DEFAULT_INTERVAL_SECONDS, "tags": []},
    }


def test_a_field_the_node_kept_is_told_in_one_line(copy: Engine, keyring: MemoryKeyring) -> None:
    kept = [{"field": "interval_seconds", "kept": 75, "lost": 120}]
    hosts = _hosts(copy, keyring, RecordingEdits({"kept": kept}))
    with pytest.raises(AppliedInPart) as told:
        hosts.edit("web1", {"interval_seconds": 120})
    assert told.value.exit_code == EXIT_APPLIED_IN_PART
    assert str(told.value) == (
        "web1: interval_seconds was changed on the node meanwhile; it keeps 75, your 120 was "
        "not applied."
    )


def test_a_new_key_goes_to_the_node_and_not_to_this_computer(
    copy: Engine, keyring: MemoryKeyring
) -> None:
    edits = RecordingEdits({"authorized_keys_line": "ssh-ed25519 AAAA vpshealth@web2"})
    hosts = _hosts(copy, keyring, edits)
    with pytest.raises(NotFoundError):  # a stand-in node: the copy does not catch up
        hosts.add({"name": "web2", "address": "192.0.2.2"}, NewKey(AuthMethod.KEY, "PRIVATE"), None)
    generated = NewKey(AuthMethod.KEY, "LOCAL", public_line="ssh-ed25519 BBBB", generated=True)
    with pytest.raises(NotFoundError):
        hosts.add({"name": "web3", "address": "192.0.2.3"}, generated, None)
    (by_file, queue_file), (made, queue_made) = edits.sent
    assert by_file.body["private_key"] == "PRIVATE"
    assert made.body["generate_key"] is True
    assert "private_key" not in made.body
    assert (queue_file, queue_made) == (False, False)
    assert keyring.secrets == {}
    assert hosts.public_line_for("web3", generated) == "ssh-ed25519 AAAA vpshealth@web2"


def test_the_agent_is_refused_by_name(copy: Engine, keyring: MemoryKeyring) -> None:
    hosts = _hosts(copy, keyring, RecordingEdits())
    with pytest.raises(FieldError) as refused:
        hosts.add({"name": "web2", "address": "192.0.2.2"}, NewKey(AuthMethod.AGENT), None)
    assert refused.value.field == "auth"
