"""Alert channels through the operations and the CLI: nothing saved on bad input (neither row
nor secret), the URL only in the secret store, masked everywhere it is shown; and delivery:
each channel its own outbox messages, a failing one retried without the others sending again,
the workers following the table while the service runs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.email_helpers import T0, add_host, insert_notification, make_notification
from tests.unit.fake_clock import FakeClock
from tests.unit.operations_support import MemoryKeyring, make_core
from vpshealth.alerts.apprise_channel import AppriseChannel
from vpshealth.alerts.channel import DeliveryError
from vpshealth.alerts.channel_supervisor import ChannelSupervisor
from vpshealth.alerts.delivery_worker import DeliveryWorker
from vpshealth.app import Core
from vpshealth.cli.main import main
from vpshealth.domain.channels import ChannelRecord
from vpshealth.domain.containers import Severity
from vpshealth.errors import KeyringUnavailableError
from vpshealth.operations.channels import ChannelOperations, ChannelSendError
from vpshealth.operations.errors import ConflictError, FieldError
from vpshealth.store.channel_repository import ChannelRepository
from vpshealth.store.outbox_repository import OutboxRepository, OutboxStatus

SECRET = "tk_Sup3rSecretT0kenValue"
URL = f"ntfys://{SECRET}@ntfy.sh/alerts"


class Sent:
    """A send function that records what it was given, and fails while ``down``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str | None]] = []
        self.down = False

    def __call__(self, url: str, title: str, body: str, level: str | None) -> None:
        self.calls.append((url, title, body, level))
        if self.down:
            raise DeliveryError("connection refused")


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def core(tmp_path: Path, keyring: MemoryKeyring) -> Core:
    return make_core(tmp_path, keyring)


def operations(core: Core, send: Sent | None = None) -> ChannelOperations:
    return ChannelOperations(
        ChannelRepository(core.engine), core.secrets, FakeClock(T0), send=send or Sent()
    )


def test_a_channel_keeps_its_url_in_the_secret_store_only(
    core: Core, keyring: MemoryKeyring
) -> None:
    record = operations(core).add("phone", URL, min_severity="CRITICAL")
    assert (record.name, record.service, record.masked_url) == (
        "phone",
        "ntfy",
        "ntfys://…@ntfy.sh/alerts",
    )
    assert record.min_severity is Severity.CRITICAL
    assert keyring.secrets == {("vpshealth", record.secret_ref): URL}
    assert record.delivery_key == f"apprise:{record.id}"
    database = (core.paths.data_dir / "vpshealth.sqlite3").read_bytes()
    assert SECRET.encode() not in database


@pytest.mark.parametrize(
    ("name", "url", "changes", "field"),
    [
        ("phone", "bogus://x", {}, "url"),
        ("phone", "ntfy://", {}, "url"),
        ("phone", "", {}, "url"),
        ("two words", URL, {}, "name"),
        ("phone", URL, {"min_severity": "loud"}, "min_severity"),
        ("phone", URL, {"batch_seconds": "-1"}, "batch_seconds"),
        ("phone", URL, {"max_per_host_per_hour": 0}, "max_per_host_per_hour"),
    ],
)
def test_bad_input_saves_nothing(
    core: Core, keyring: MemoryKeyring, name: str, url: str, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(FieldError) as caught:
        operations(core).add(name, url, **changes)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert str(caught.value).endswith("Nothing was saved.")
    if field != "name":
        assert str(caught.value).startswith(f"channel {name}: invalid {field}")
    assert keyring.secrets == {}
    assert ChannelRepository(core.engine).list() == []


def test_a_name_taken_saves_no_second_secret(core: Core, keyring: MemoryKeyring) -> None:
    ops = operations(core)
    ops.add("phone", URL)
    with pytest.raises(ConflictError, match="channel phone: a channel of that name exists"):
        ops.add("phone", "json://127.0.0.1/hook")
    assert list(keyring.secrets.values()) == [URL]


def test_a_keyring_that_fails_leaves_no_row(core: Core, keyring: MemoryKeyring) -> None:
    def refuse(service: str, username: str, password: str) -> None:
        raise RuntimeError("locked")

    keyring.set_password = refuse  # type: ignore[method-assign]
    with pytest.raises(KeyringUnavailableError):
        operations(core).add("phone", URL)
    assert ChannelRepository(core.engine).list() == []


def test_change_remove_and_no_rename(core: Core, keyring: MemoryKeyring) -> None:
    ops = operations(core)
    ops.add("phone", URL)
    changed = ops.change("phone", {"url": "ntfy://127.0.0.1:8080/other", "enabled": False})
    assert (changed.masked_url, changed.enabled) == ("ntfy://127.0.0.1:8080/other", False)
    assert list(keyring.secrets.values()) == ["ntfy://127.0.0.1:8080/other"]
    with pytest.raises(FieldError, match="cannot be renamed") as caught:
        ops.change("phone", {"name": "tablet"})
    assert caught.value.field == "name"
    ops.remove("phone")
    assert keyring.secrets == {}
    assert ops.list() == []


def test_a_test_message_goes_out_at_once_and_a_failure_names_the_channel(core: Core) -> None:
    send = Sent()
    ops = operations(core, send)
    ops.add("phone", URL)
    sent = ops.test("phone")
    assert send.calls[0][0] == URL
    assert send.calls[0][3] == "test"
    assert "test message for channel phone" in sent.title
    send.down = True
    with pytest.raises(ChannelSendError, match="channel phone: the test was not sent: connection"):
        ops.test("phone")


async def test_each_channel_delivers_once_and_a_failing_one_retries_alone(core: Core) -> None:
    clock = FakeClock(T0)
    ops = operations(core)
    repo = ChannelRepository(core.engine)
    phone = ops.add("phone", URL, batch_seconds=0)
    hook = ops.add("hook", "json://127.0.0.1:9/hook", batch_seconds=0)
    host = add_host(core.engine, "web-1")
    insert_notification(core.engine, make_notification(at=T0), host_id=host)
    sends = {phone.id: Sent(), hook.id: Sent()}
    sends[hook.id].down = True
    workers = [
        DeliveryWorker(
            core.engine,
            AppriseChannel(repo, record, core.secrets, send=sends[record.id]),
            clock,
            since=T0 - 10,
        )
        for record in (phone, hook)
    ]
    for _ in range(3):
        for worker in workers:
            await worker.step()
        clock.t += 31
    assert len(sends[phone.id].calls) == 1
    assert len(sends[hook.id].calls) == 2
    url, title, body, level = sends[phone.id].calls[0]
    assert (url, level) == (URL, "critical")
    assert title == "CRITICAL web-1: restart loop of shop / production / web"
    assert "App: shop / production / web" in body
    sends[hook.id].down = False
    clock.t += 3600
    for worker in workers:
        await worker.step()
    assert [len(s.calls) for s in sends.values()] == [1, 3]
    messages = OutboxRepository(core.engine).list()
    assert sorted((m.channel, m.status, m.level) for m in messages) == [
        (f"apprise:{phone.id}", OutboxStatus.SENT, "critical"),
        (f"apprise:{hook.id}", OutboxStatus.SENT, "critical"),
    ]
    assert all(
        m.recipients[0] in ("ntfys://…@ntfy.sh/alerts", "json://127.0.0.1:9/hook") for m in messages
    )


async def test_a_switched_off_channel_skips_and_a_removed_one_fails_its_queue(core: Core) -> None:
    clock = FakeClock(T0)
    ops = operations(core)
    repo = ChannelRepository(core.engine)
    record = ops.add("phone", URL, batch_seconds=0, enabled=False)
    send = Sent()
    worker = DeliveryWorker(
        core.engine, AppriseChannel(repo, record, core.secrets, send=send), clock, since=T0 - 10
    )
    host = add_host(core.engine, "web-1")
    insert_notification(core.engine, make_notification(at=T0), host_id=host)
    await worker.step()
    assert send.calls == []
    ops.set_enabled("phone", True)
    send.down = True
    insert_notification(core.engine, make_notification(at=T0 + 1), host_id=host)
    clock.t += 2
    await worker.step()
    assert len(send.calls) == 1
    ops.remove("phone")
    [message] = OutboxRepository(core.engine).list()
    assert (message.status, message.last_error) == (
        OutboxStatus.FAILED,
        "the channel phone was removed",
    )


async def test_the_supervisor_follows_channels_added_and_removed(core: Core) -> None:
    started: list[str] = []

    class Idle:
        def __init__(self, record: ChannelRecord) -> None:
            started.append(record.name)

        async def run(self) -> None:
            await asyncio.sleep(3600)

    supervisor = ChannelSupervisor(
        core.engine,
        core.secrets,
        FakeClock(T0),
        make_worker=Idle,  # type: ignore[arg-type]
    )
    ops = operations(core)
    await supervisor.follow()
    assert supervisor.running == frozenset()
    phone = ops.add("phone", URL)
    ops.add("hook", "json://127.0.0.1:9/hook", enabled=False)
    await supervisor.follow()
    assert started == ["hook", "phone"]
    assert len(supervisor.running) == 2
    ops.remove("hook")
    await supervisor.follow()
    await supervisor.follow()
    assert supervisor.running == {phone.id}
    assert started == ["hook", "phone"]
    await supervisor.stop_all()
    assert supervisor.running == frozenset()


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(cli_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    passphrase = cli_home / "passphrase"
    passphrase.write_text("a-long-enough-test-passphrase\n")
    monkeypatch.setenv("VPSHEALTH_SECRET_STORE", "file")
    monkeypatch.setenv("VPSHEALTH_SECRETS_PASSPHRASE_FILE", str(passphrase))

    def _run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            import io  # noqa: PLC0415

            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def test_cli_add_from_stdin_list_show_and_bad_input(run: Run, cli_home: Path) -> None:
    code, out, err = run("notify", "channel", "add", "phone", "--url-stdin", stdin=URL + "\n")
    assert code == 0, err
    assert "Added channel phone: ntfy at ntfys://…@ntfy.sh/alerts, warning and worse." in out
    code, out, err = run("notify", "channel", "add", "hook", "bogus://example.com")
    assert (code, out) == (2, "")
    assert err.startswith("vpshealth: channel hook: invalid URL: bogus:// is not a service")
    assert err.count("\n") == 1
    code, out, _ = run("notify", "channel", "add", "x", URL, "--min-severity", "loud")
    assert code == 2
    code, out, _ = run("notify", "channel", "list", "--json")
    assert [c["name"] for c in json.loads(out)["channels"]] == ["phone"]
    assert json.loads(out)["channels"][0]["url"] == "ntfys://…@ntfy.sh/alerts"
    code, out, _ = run("notify", "channel", "disable", "phone")
    code, out, _ = run("notify", "show")
    assert "ntfys://…@ntfy.sh/alerts  warning       off" in out
    for path in cli_home.rglob("*"):
        if path.is_file() and path.name != "passphrase":
            assert SECRET.encode() not in path.read_bytes(), path
    assert run("notify", "channel", "remove", "phone")[0] == 0
    code, out, _ = run("notify", "channel", "list")
    assert out.startswith("No channels.")


def test_a_channel_added_again_under_its_old_name_has_a_new_delivery_key(core: Core) -> None:
    ops = operations(core)
    first = ops.add("phone", URL)
    ops.remove("phone")
    again = ops.add("phone", URL)
    assert again.delivery_key != first.delivery_key
