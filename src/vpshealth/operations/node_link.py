"""Connecting this computer to a VPS Health node, saying how the link is, and forgetting it.
The node's token and SSH login key go to the secret store; the database keeps references."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from vpshealth.clock import Clock
from vpshealth.collectors.ssh_keys import ClientCredentials
from vpshealth.config import Paths
from vpshealth.domain.hosts import AuthMethod
from vpshealth.domain.notifications import Notifier
from vpshealth.domain.takeover import HandedBack
from vpshealth.errors import InputError
from vpshealth.operations.errors import NOTHING_SAVED, FieldError
from vpshealth.operations.host_keys import trusted_key_line
from vpshealth.operations.login_keys import NewKey, delete_key, store_key
from vpshealth.operations.takeover import HANDBACK_PATH, TakeoverChecks, TakeoverSupervisor
from vpshealth.secrets import SecretStore
from vpshealth.store.database import open_reader
from vpshealth.store.maintenance import Retention
from vpshealth.store.settings_repository import SettingsRepository
from vpshealth.sync.catch_up import CatchUpReport, catch_up
from vpshealth.sync.copy_pruning import CopyPruning
from vpshealth.sync.desk_notices import DeskNotices
from vpshealth.sync.edit_queue import EditQueue, QueuedEdit
from vpshealth.sync.edit_sender import SendReport, send_queued
from vpshealth.sync.follower import Follower, FollowerStatus
from vpshealth.sync.node_address import NodeAddress, parse_node_address
from vpshealth.sync.node_link import NodeLink, NodeLinkStore, new_token_ref
from vpshealth.sync.node_session import NodeError, NodeHealth, NodeProblem, NodeSession
from vpshealth.sync.node_watch import SILENCE_ALARM_SECONDS, NodeWatch, SilenceAlarm
from vpshealth.sync.replica import Replica, open_copy
from vpshealth.sync.tunnel import SessionOptions, open_node_session

COPY_KEPT = "The local copy is kept."
STATUS_TIMEOUT = 5.0
"""How long `node status` waits for the node to answer."""
RECORD_SECONDS = 5.0
"""How often a follower stores its view of the node in the copy, for `node status`."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncState:
    """What the local copy says of its last sync (written by the sync engine)."""

    last_synced_at: float | None = None
    live_seq: int | None = None
    queued: tuple[str, ...] = ()
    """The edits waiting for the node, oldest first (what the user did: ``host edit web1``)."""
    not_applied: tuple[str, ...] = ()
    """What became of queued edits the node refused or applied in part, oldest first."""
    last_seq_seen: int | None = None
    """The last live number the follower saw (None: no follower said)."""
    silent_since: float | None = None
    """The follower's silence alarm went off: the node has not answered since."""
    problem: NodeProblem | None = None

    @property
    def lag_messages(self) -> int | None:
        if self.last_seq_seen is None or self.live_seq is None:
            return None
        return max(0, self.last_seq_seen - self.live_seq)


@dataclass(frozen=True, slots=True)
class NodeConnected:
    link: NodeLink
    health: NodeHealth | None
    """None when the login was not tried (a key generated just now)."""


@dataclass(frozen=True, slots=True)
class NodeStatus:
    link: NodeLink | None
    sync: SyncState
    checked: bool
    health: NodeHealth | None = None
    problem: NodeProblem | None = None
    message: str | None = None
    take_over: bool = False
    """This computer takes over the checks while the node is silent."""

    @property
    def connected(self) -> bool:
        return self.link is not None

    @property
    def answers(self) -> bool:
        return self.health is not None


class NodeLinkOperations:
    """``connect`` and ``status`` talk to the node; the secret store and the database are
    used from worker threads."""

    def __init__(
        self,
        store: NodeLinkStore,
        secrets: SecretStore,
        clock: Clock,
        paths: Paths,
        options: SessionOptions,
        *,
        silence_alarm: float = SILENCE_ALARM_SECONDS,
        retention: Retention | None = None,
        takeover: Callable[[Sequence[Notifier]], TakeoverChecks] | None = None,
    ) -> None:
        """``takeover`` builds this computer's check service for taking over (none: it
        cannot)."""
        self._store = store
        self._secrets = secrets
        self._clock = clock
        self._paths = paths
        self._copy_file = paths.node_copy_file
        self._options = options
        self._silence_alarm = silence_alarm
        self._retention = retention or Retention()
        self._takeover = takeover

    @staticmethod
    def address(text: str, api_port: int | None = None) -> NodeAddress:
        """Raises NodeAddressError (an InputError) naming the part at fault."""
        return parse_node_address(text, api_port)

    def current(self) -> NodeLink | None:
        """Blocking (the database)."""
        return self._store.load()

    def check_key_store(self) -> None:
        """Raises ConfigurationError when no secret store is usable (the token goes there)."""
        self._secrets.require_usable()

    def host_key_for(
        self,
        name: str,
        address: str,
        port: int,
        expected_fingerprint: str | None = None,
        pinned: str | None = None,
    ) -> str:
        """Blocking: read the node's SSH host key and return the line to pin. Raises
        HostKeyUnconfirmed, HostKeyRejected, HostUnreachable or FieldError, as for servers."""
        return trusted_key_line(
            name,
            address,
            port,
            timeout=self._options.connect_timeout,
            expected=expected_fingerprint,
            pinned=pinned,
        )

    def pinned_host_key(self, address: NodeAddress) -> str | None:
        """The host key trusted so far for this node, if it is the one linked now."""
        link = self._store.load()
        if link is None or not address.is_ssh or not link.address.is_ssh:
            return None
        same = (link.address.host, link.address.port) == (address.host, address.port)
        return link.host_key if same else None

    async def connect(
        self,
        address: NodeAddress,
        token: str,
        *,
        key: NewKey | None = None,
        host_key: str | None = None,
        ca_file: str | None = None,
    ) -> NodeConnected:
        """Check the node and the token (health, then one authenticated read), then save the
        link, replacing any earlier one. On any error nothing is saved. A key generated just
        now is saved without a login (its line must first go into authorized_keys)."""
        token = _checked_token(token)
        link = NodeLink(
            address=address,
            token_ref=new_token_ref(),
            connected_at=int(self._clock.now()),
            host_key=host_key if address.is_ssh else None,
            auth=(key.auth if key is not None else AuthMethod.NONE)
            if address.is_ssh
            else AuthMethod.NONE,
            ca_file=None if address.is_ssh else ca_file,
        )
        _check_link_fields(link)
        health = None
        if key is None or not key.generated:
            try:
                health = await self._check_with(link, token, key)
            except NodeError as exc:
                raise NodeError(exc.problem, f"{exc} {NOTHING_SAVED}") from None
        return NodeConnected(await asyncio.to_thread(self._save, link, token, key), health)

    async def _check_with(self, link: NodeLink, token: str, key: NewKey | None) -> NodeHealth:
        credentials = None
        if key is not None and key.private_key is not None:
            credentials = ClientCredentials(private_key=key.private_key, passphrase=key.passphrase)
        async with open_node_session(
            link, self._secrets, self._options, token=token, credentials=credentials
        ) as session:
            return await session.check()

    def _save(self, link: NodeLink, token: str, key: NewKey | None) -> NodeLink:
        earlier = self._store.load()
        self._secrets.put(link.token_ref, token)
        key_ref = None
        try:
            key_ref = store_key(self._secrets, key) if key is not None else None
            saved = _with_key_ref(link, key_ref)
            self._store.save(saved)
        except Exception:
            self._secrets.delete(link.token_ref)
            delete_key(self._secrets, key_ref)
            raise
        if earlier is not None:
            self._delete_secrets(earlier)
        return saved

    async def status(self, *, check: bool = True, timeout: float = STATUS_TIMEOUT) -> NodeStatus:
        """The link, what the local copy says of the last sync, and (with ``check``) whether
        the node answers and accepts the token now."""
        link, sync, take_over = await asyncio.to_thread(
            lambda: (self._store.load(), self.sync_state(), self._store.take_over())
        )
        if link is None or not check:
            return NodeStatus(link, sync, checked=False, take_over=take_over)
        options = SessionOptions(
            connect_timeout=min(timeout, self._options.connect_timeout),
            request_timeout=timeout,
            keepalive_interval=self._options.keepalive_interval,
        )
        try:
            async with open_node_session(link, self._secrets, options) as session:
                health = await session.check(timeout=timeout)
        except NodeError as exc:
            message = f"{exc} {COPY_KEPT}"
            return NodeStatus(
                link, sync, True, problem=exc.problem, message=message, take_over=take_over
            )
        return NodeStatus(link, sync, True, health=health, take_over=take_over)

    def take_over(self) -> bool:
        """Blocking: whether this computer takes over the checks while the node is silent."""
        return self._store.take_over()

    def set_take_over(self, on: bool) -> None:
        """Blocking: switch taking over on or off (a running follower sees it at the next
        silence)."""
        self._store.set_take_over(on, int(self._clock.now()))

    def sync_state(self) -> SyncState:
        """Blocking: ``sync.*`` of the local copy; empty when it does not exist (yet)."""
        if not self._copy_file.exists():
            return SyncState()
        engine = open_reader(self._copy_file)
        try:
            values = SettingsRepository(engine).with_prefix("sync.")
            queued, reports = _queue_of(engine)
        except SQLAlchemyError:
            return SyncState()
        finally:
            engine.dispose()
        problem = values.get("problem")
        return SyncState(
            last_synced_at=_number(values.get("last_synced_at", values.get("synced_at"))),
            live_seq=_whole(values.get("live_seq")),
            queued=tuple(q.edit.summary for q in queued),
            not_applied=tuple(r.outcome or "" for r in reports),
            last_seq_seen=_whole(values.get("last_seq_seen")),
            silent_since=_number(values.get("silent_since")),
            problem=NodeProblem(problem) if problem in set(NodeProblem) else None,
        )

    async def sync_now(self, sent: Callable[[SendReport], None] | None = None) -> CatchUpReport:
        """Send the edits queued while the node did not answer (``sent`` gets what became of
        them), then catch the local copy up with the linked node, once. Raises NotConnected
        without a link, NodeError when the node cannot be reached, NodeSyncError when it
        refuses."""
        with self.local_copy() as copy:
            async with self.session() as session:
                report = await send_queued(session.client, EditQueue(copy), self._clock)
                if sent is not None:
                    sent(report)
                return await catch_up(session.client, copy, self._clock)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[NodeSession]:
        """A session with the linked node. Raises NotConnected, NodeError."""
        link = await asyncio.to_thread(self._linked)
        async with open_node_session(link, self._secrets, self._options) as session:
            yield session

    @contextmanager
    def local_copy(self) -> Iterator[Engine]:
        """Blocking: the local copy of the node, open (created when missing)."""
        copy = open_copy(self._paths)
        try:
            yield copy
        finally:
            copy.dispose()

    async def follow(
        self,
        started: Callable[[Follower], None] | None = None,
        notifiers: Sequence[Notifier] = (),
    ) -> None:
        """Keep the local copy in sync until cancelled: catch up, then follow the node's live
        stream; a lost node is tried again with a growing pause (``Follower.status`` says
        what failed). ``started`` gets the follower, for its status. ``notifiers`` show the
        node's notifications, each once (a summary after a long absence), and the silence
        alarm's; after each catch-up the copy is also pruned to this computer's retention."""
        link = await asyncio.to_thread(self._linked)
        copy = await asyncio.to_thread(open_copy, self._paths)
        notices = DeskNotices(copy, notifiers)
        pruning = CopyPruning(copy, self._retention, self._clock)

        async def after_sync(report: CatchUpReport) -> None:
            now = self._clock.now()
            shown, last = await asyncio.to_thread(notices.waiting, now)
            notices.show(shown)  # on the loop: a desktop's notifier is not thread-safe
            if last is not None:
                await asyncio.to_thread(notices.mark_shown, last, now)
            await pruning.after_sync(report)

        @asynccontextmanager
        async def client() -> AsyncIterator[httpx.AsyncClient]:
            async with open_node_session(link, self._secrets, self._options) as session:
                yield session.client

        async def send_edits(client: httpx.AsyncClient) -> None:
            await send_queued(client, EditQueue(copy), self._clock)

        watch = NodeWatch(SilenceAlarm(link.address.text, self._silence_alarm), notifiers)
        follower = Follower(
            client, copy, self._clock, after_sync=after_sync, watch=watch, before_sync=send_edits
        )
        if started is not None:
            started(follower)
        recording = asyncio.ensure_future(self._record(Replica(copy), follower.status))
        supervising = None
        if self._takeover is not None:
            supervising = asyncio.ensure_future(
                self._supervisor(link, copy, notifiers).run(follower.status)
            )
        try:
            await follower.run()
        finally:
            for task in (recording, supervising):
                if task is None:
                    continue
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            with contextlib.suppress(Exception):
                await asyncio.to_thread(Replica(copy).record_watch, _watched(None), 0)
            copy.dispose()

    def _supervisor(
        self, link: NodeLink, copy: Engine, notifiers: Sequence[Notifier]
    ) -> TakeoverSupervisor:
        assert self._takeover is not None
        make = self._takeover

        async def hand_back(incidents: list[HandedBack]) -> None:
            body = {"incidents": [i.to_json() for i in incidents]}
            async with open_node_session(link, self._secrets, self._options) as session:
                answer = await session.client.post(HANDBACK_PATH, json=body)
                answer.raise_for_status()

        return TakeoverSupervisor(
            node=link.address.text,
            copy=copy,
            checks=lambda: make(notifiers),
            enabled=self._store.take_over,
            hand_back=hand_back,
            clock=self._clock,
            notifiers=notifiers,
        )

    async def _record(self, replica: Replica, status: FollowerStatus) -> None:
        """Store the follower's view of the node in the copy when it changes."""
        recorded: dict[str, object] | None = None
        while True:
            values = _watched(status)
            if values != recorded:
                try:
                    await asyncio.to_thread(replica.record_watch, values, self._clock.now())
                    recorded = values
                except SQLAlchemyError as exc:
                    log.warning("Sync: could not note the node's state in the copy: %s", exc)
            await self._clock.sleep(RECORD_SECONDS)

    def _linked(self) -> NodeLink:
        link = self._store.load()
        if link is None:
            raise NotConnected(
                "This computer is not connected to a node; connect it with `vpshealth node "
                "connect ADDRESS --token-stdin` first."
            )
        return link

    def disconnect(self) -> NodeLink | None:
        """Blocking: forget the link and delete its token and login key from the secret
        store. The local copy stays. Returns what was forgotten (None: no link)."""
        link = self._store.load()
        if link is None:
            return None
        self._delete_secrets(link)
        self._store.forget(int(self._clock.now()))
        return link

    def _delete_secrets(self, link: NodeLink) -> None:
        self._secrets.delete(link.token_ref)
        delete_key(self._secrets, link.key_ref)


def _watched(status: FollowerStatus | None) -> dict[str, object]:
    if status is None:
        return {"silent_since": None, "problem": None, "last_seq_seen": None}
    problem = status.problem.value if status.problem and status.silent_since else None
    return {
        "silent_since": status.silent_since,
        "problem": problem,
        "last_seq_seen": status.last_seq_seen,
    }


class NotConnected(InputError):
    """No node is linked to this computer."""


def _checked_token(token: str) -> str:
    token = token.strip()
    if not token:
        raise FieldError(
            "token",
            "it is empty; make one on the node with `vpshealth api token create NAME` and "
            "pipe it in",
            note=NOTHING_SAVED,
        )
    if any(c.isspace() or not c.isprintable() for c in token) or len(token) > 512:
        raise FieldError(
            "token",
            "a token is one word of printable characters, as `vpshealth api token create` "
            "prints it",
        )
    return token


def _check_link_fields(link: NodeLink) -> None:
    if link.address.is_ssh and link.auth is AuthMethod.NONE:
        raise FieldError(
            "auth", "an ssh:// node needs a login: --key-file, --generate-key or --agent"
        )
    if link.address.is_ssh and not link.host_key:
        raise FieldError("host_key", "the node's SSH host key must be confirmed first")


def _with_key_ref(link: NodeLink, key_ref: str | None) -> NodeLink:
    return NodeLink(
        address=link.address,
        token_ref=link.token_ref,
        connected_at=link.connected_at,
        host_key=link.host_key,
        auth=link.auth,
        key_ref=key_ref,
        ca_file=link.ca_file,
    )


def _queue_of(copy: Engine) -> tuple[list[QueuedEdit], list[QueuedEdit]]:
    """The edits waiting, and the reports; none in a copy from before the queue."""
    queue = EditQueue(copy)
    try:
        return queue.waiting(), queue.reports()
    except SQLAlchemyError:
        return [], []


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
