"""`vpshealth node connect | status | disconnect`: this computer's link to a VPS Health node."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vpshealth.cli import output, prompts
from vpshealth.cli.context import CliContext
from vpshealth.cli.host_keys import confirm_host_key, key_from_options
from vpshealth.collectors.ssh_keys import fingerprint_of_line
from vpshealth.domain.notifications import Notification
from vpshealth.errors import EXIT_NOT_OK, EXIT_OK, InputError
from vpshealth.operations.errors import NOTHING_SAVED, FieldError
from vpshealth.operations.node_link import NodeConnected, NodeStatus
from vpshealth.sync.edit_sender import SendReport
from vpshealth.sync.node_address import DEFAULT_API_PORT, NodeAddress
from vpshealth.sync.node_link import NodeLink
from vpshealth.sync.node_watch import reason

CONNECT_EPILOG = """\
Examples:
  vpshealth api token create laptop              # on the node: prints a token once
  printf '%s\\n' "$TOKEN" | vpshealth node connect ssh://root@node.example.com \\
      --key-file ~/.ssh/id_ed25519 --trust-host-key --token-stdin
  printf '%s\\n' "$TOKEN" | vpshealth node connect https://node.example.com --token-stdin
"""


def register(commands: argparse._SubParsersAction[Any]) -> None:
    node = commands.add_parser(
        "node",
        help="connect this computer to a VPS Health node that runs the checks",
        description="A node is `vpshealth service --api` on an always-on machine. This "
        "computer reaches it through SSH (the API stays on the node's loopback; nothing is "
        "opened there) or over https. The token and the SSH key go into the OS keyring.",
    )
    sub = node.add_subparsers(dest="node_command", metavar="ACTION", required=True)

    connect = sub.add_parser(
        "connect",
        help="check a node and its token, then remember it",
        description="Check that the node answers and accepts the token (GET /api/v1/health "
        "and one authenticated read), then save the link. On any error nothing is saved.",
        epilog=CONNECT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    connect.add_argument(
        "address",
        metavar="ADDRESS",
        help="ssh://USER@HOST[:PORT] (IPv6 in brackets) or https://HOST[:PORT][/PREFIX]",
    )
    connect.add_argument(
        "--token-stdin",
        action="store_true",
        required=True,
        help="read the API token (from `vpshealth api token create` on the node) from the "
        "first line of stdin, so that it stays out of the shell history",
    )
    keys = connect.add_mutually_exclusive_group()
    keys.add_argument(
        "--key-file",
        metavar="PATH",
        help="ssh://: log in with this private key (kept in the OS keyring)",
    )
    keys.add_argument(
        "--generate-key",
        action="store_true",
        help="ssh://: create a new ed25519 key and print the line for the node's authorized_keys",
    )
    keys.add_argument(
        "--agent", action="store_true", help="ssh://: log in with the running ssh-agent"
    )
    connect.add_argument(
        "--api-port",
        type=_port,
        metavar="N",
        help=f"ssh://: the API's port on the node's loopback (default {DEFAULT_API_PORT})",
    )
    trust = connect.add_mutually_exclusive_group()
    trust.add_argument(
        "--trust-host-key",
        action="store_true",
        help="ssh://: accept the node's SSH host key without asking (trust on first use)",
    )
    trust.add_argument(
        "--host-key-fingerprint",
        metavar="SHA256:...",
        help="ssh://: the host key fingerprint you expect; any other key is refused",
    )
    connect.add_argument(
        "--ca-file", metavar="FILE", help="https://: also trust this CA certificate (PEM)"
    )
    connect.add_argument("--json", action="store_true", help="print JSON")
    connect.set_defaults(handler=connect_node)

    status = sub.add_parser(
        "status",
        help="connected or not, whether the node answers now, last sync and lag",
        description="Exit 0 when a node is connected and answers with the token; 1 otherwise.",
    )
    asked = status.add_mutually_exclusive_group()
    asked.add_argument(
        "--check",
        dest="check",
        action="store_true",
        default=True,
        help="ask the node now, with a short timeout (the default)",
    )
    asked.add_argument(
        "--no-check", dest="check", action="store_false", help="do not ask the node now"
    )
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=node_status)

    sync = sub.add_parser(
        "sync",
        help="catch the local copy up with the node now",
        description="Bring this computer's copy of what the node records (node-copy.sqlite3 "
        "in the data folder) up to date, from where the last sync stopped: a cut-off sync "
        "goes on from there. Exit 0 when done, 1 when the node cannot be reached or refuses.",
    )
    sync.add_argument("--json", action="store_true", help="print JSON")
    sync.set_defaults(handler=sync_node)

    follow = sub.add_parser(
        "follow",
        help="keep the local copy in sync until Ctrl-C",
        description="Catch up, then follow the node's live stream and catch up after each "
        "change. A lost node is tried again with a growing pause, up to 30 s. The node's "
        "notifications are printed on stderr, each once (one summary after a long absence); "
        "a node silent longer than VPSHEALTH_NODE_SILENCE_ALARM_SECONDS (default 180) gets "
        "one notification, and one more when it is back.",
    )
    follow.set_defaults(handler=follow_node, console_info=True)

    take_over = sub.add_parser(
        "take-over",
        help="let this computer take over the checks while the node is silent (off by default)",
        description="on: while the node is silent past the alarm "
        "(VPSHEALTH_NODE_SILENCE_ALARM_SECONDS), `vpshealth node follow` and the desktop app "
        "check the servers this computer can log in to (ssh-agent, or a key in this "
        "computer's keyring), alerting with this computer's own e-mail and channels; when the "
        "node is back they hand the checks back and tell it what they sent, so that nothing "
        "is e-mailed twice. Without ON|OFF: say whether it is on.",
    )
    take_over.add_argument("state", nargs="?", choices=("on", "off"), metavar="ON|OFF")
    take_over.add_argument("--json", action="store_true", help="print JSON")
    take_over.set_defaults(handler=take_over_node)

    disconnect = sub.add_parser(
        "disconnect",
        help="forget the node and delete its token and key from the keyring",
        description="The local copy of what the node recorded stays on this computer.",
    )
    disconnect.add_argument("--json", action="store_true", help="print JSON")
    disconnect.set_defaults(handler=disconnect_node)


def connect_node(ctx: CliContext, args: argparse.Namespace) -> int:
    nodes = ctx.core.operations.node
    address = nodes.address(args.address, args.api_port)
    _check_options(address, args)
    nodes.check_key_store()
    token = _read_token()
    key = None
    host_key = None
    if address.is_ssh:
        key = key_from_options(
            args.key_file, args.generate_key, args.agent, "node", ctx.settings.key_passphrase
        )
        host_key = confirm_host_key(
            nodes,
            f"the node {address.text}",
            address.host,
            address.port,
            trust=args.trust_host_key,
            expected_fingerprint_text=args.host_key_fingerprint,
            pinned=nodes.pinned_host_key(address),
        )
    ca_file = str(Path(args.ca_file).expanduser().absolute()) if args.ca_file else None
    try:
        connected = asyncio.run(
            nodes.connect(address, token, key=key, host_key=host_key, ca_file=ca_file)
        )
    except FieldError as exc:
        raise InputError(
            exc.worded("--token-stdin" if exc.field == "token" else exc.field)
        ) from None
    if args.json:
        output.print_json(
            _connected_json(connected, key.public_line if key and key.generated else None)
        )
        return EXIT_OK
    link = connected.link
    if connected.health is None:
        user = address.user or "root"
        home = "/root" if user == "root" else f"~{user}"
        print(
            f"Saved {link.name}. A new ed25519 key was created and stored in "
            f"{ctx.core.secrets.where}. "
            f"Append this line to {home}/.ssh/authorized_keys on {address.host}:\n\n"
            f"{key.public_line if key else ''}\n\nThen run `vpshealth node status`."
        )
        return EXIT_OK
    health = connected.health
    print(
        f"Connected to {link.name} ({_how(link)}): it answers, checks are {health.status}, "
        f"{_hosts(health.hosts)}. The token is in {ctx.core.secrets.where}."
    )
    return EXIT_OK


def _check_options(address: NodeAddress, args: argparse.Namespace) -> None:
    ssh_only = [
        option
        for option, given in (
            ("--key-file", args.key_file),
            ("--generate-key", args.generate_key),
            ("--agent", args.agent),
            ("--trust-host-key", args.trust_host_key),
            ("--host-key-fingerprint", args.host_key_fingerprint),
        )
        if given
    ]
    if not address.is_ssh and ssh_only:
        raise InputError(
            f"{' and '.join(ssh_only)}: only for ssh:// addresses; an https:// node needs only "
            f"--token-stdin (and --ca-file for a private CA). {NOTHING_SAVED}"
        )
    if address.is_ssh and args.ca_file:
        raise InputError(
            f"--ca-file is for https:// addresses; through SSH the node is checked by its host "
            f"key. {NOTHING_SAVED}"
        )
    if address.is_ssh and not (args.key_file or args.generate_key or args.agent):
        raise InputError(
            f"{address.text}: say how to log in: --key-file PATH, --generate-key or --agent. "
            f"{NOTHING_SAVED}"
        )


def _read_token() -> str:
    if sys.stdin.isatty():
        return prompts.ask_secret("API token of the node: ")
    line = sys.stdin.readline().strip()
    if not line:
        raise InputError(
            "--token-stdin: no token on standard input; make one on the node with `vpshealth "
            f"api token create NAME` and pipe it in. {NOTHING_SAVED}"
        )
    return line


def node_status(ctx: CliContext, args: argparse.Namespace) -> int:
    status = asyncio.run(ctx.core.operations.node.status(check=args.check))
    code = EXIT_OK if status.connected and (status.answers or not status.checked) else EXIT_NOT_OK
    if args.json:
        output.print_json(_status_json(status))
        return code
    link = status.link
    if link is None:
        print("Not connected to a node: the checks run on this computer.")
        print(f"Last sync:  {_last_sync(status)}")
        return EXIT_NOT_OK
    print(f"Node:       {link.address.text} ({_how(link)})")
    if link.host_key:
        print(f"Host key:   {fingerprint_of_line(link.host_key)}")
    if not status.checked:
        print("Answers:    not asked (--no-check)")
    elif status.health is not None:
        health = status.health
        print(f"Answers:    yes; checks {health.status}, {_hosts(health.hosts)}")
    else:
        print(f"Answers:    no: {status.message}")
    print(f"Last sync:  {_last_sync(status)}")
    sync = status.sync
    if sync.silent_since is not None:
        why = f" ({reason(sync.problem)})" if sync.problem else ""
        print(f"Silent:     since {output.iso_time(int(sync.silent_since))}{why}")
    lag = _lag(status)
    behind = sync.lag_messages
    messages = "" if not behind else f", {behind} live message{'s' if behind != 1 else ''}"
    print(f"Lag:        {output.duration(lag) if lag is not None else '-'}{messages}")
    print(f"Take over:  {_take_over(status.take_over)}")
    _print_edits(status)
    return code


def _print_edits(status: NodeStatus) -> None:
    queued = status.sync.queued
    if queued:
        print(f"Queued:     {len(queued)} edit(s) wait for the node: {'; '.join(queued)}")
    for line in status.sync.not_applied:
        print(line)


def sync_node(ctx: CliContext, args: argparse.Namespace) -> int:
    sent: list[SendReport] = []
    report = asyncio.run(ctx.core.operations.node.sync_now(sent.append))
    edits = sent[0] if sent else SendReport()
    if not args.json:
        if edits.applied:
            print(f"Sent {edits.applied} queued edit(s) to the node.")
        for line in (*edits.refused, *edits.kept):
            print(line, file=sys.stderr)
    if args.json:
        output.print_json(
            {
                "node_id": report.node_id,
                "seconds": round(report.seconds, 3),
                "bytes_received": report.bytes_received,
                "state_pages": report.state_pages,
                "history_pages": report.history_pages,
                "live_seq": report.live_seq,
                "started_over": report.started_over,
                "edits_applied": edits.applied,
                "edits_not_applied": [*edits.refused, *edits.kept],
            }
        )
        return EXIT_OK
    if report.started_over:
        print("The node is not the one this copy came from: the copy was started anew.")
    print(
        f"Caught up with the node in {report.seconds:.1f} s: "
        f"{output.human_bytes(report.bytes_received)} received in "
        f"{report.state_pages + report.history_pages} pages."
    )
    return EXIT_OK


class PrintedNotifier:
    """The node's notifications, one line each on stderr, as `node follow` shows them."""

    def notify(self, notifications: Sequence[Notification]) -> None:
        for n in notifications:
            print(f"Notification: {n.summary}", file=sys.stderr, flush=True)


def follow_node(ctx: CliContext, args: argparse.Namespace) -> int:
    print("Following the node; Ctrl-C stops.", flush=True)
    asyncio.run(ctx.core.operations.node.follow(notifiers=[PrintedNotifier()]))
    return EXIT_OK


def take_over_node(ctx: CliContext, args: argparse.Namespace) -> int:
    node = ctx.core.operations.node
    if args.state is not None:
        node.set_take_over(args.state == "on")
    on = node.take_over()
    if args.json:
        output.print_json({"take_over": on})
    else:
        print(f"Take over: {_take_over(on)}")
    return EXIT_OK


def _take_over(on: bool) -> str:
    if on:
        return "on: this computer checks the servers it can log in to while the node is silent"
    return "off: while the node is silent nothing is checked (`vpshealth node take-over on`)"


def disconnect_node(ctx: CliContext, args: argparse.Namespace) -> int:
    link = ctx.core.operations.node.disconnect()
    copy = ctx.paths.node_copy_file
    if args.json:
        output.print_json(
            {
                "disconnected": link.address.text if link else None,
                "copy_kept": str(copy) if copy.exists() else None,
            }
        )
        return EXIT_OK
    if link is None:
        print("Not connected to a node; nothing to forget.")
        return EXIT_OK
    kept = f" The local copy stays in {copy}." if copy.exists() else ""
    print(
        f"Forgot {link.name}; "
        f"{'its token and SSH key were' if link.key_ref else 'its token was'} deleted from "
        f"{ctx.core.secrets.where}."
        f"{kept}"
    )
    return EXIT_OK


def _hosts(count: int) -> str:
    return f"{count} host{'s' if count != 1 else ''}"


def _how(link: NodeLink) -> str:
    a = link.address
    if a.is_ssh:
        return f"SSH tunnel to its port {a.api_port}"
    return a.how


def _last_sync(status: NodeStatus) -> str:
    at = status.sync.last_synced_at
    return "never synced" if at is None else f"{output.iso_time(at)} ({output.ago(at)})"


def _lag(status: NodeStatus) -> float | None:
    """How far behind the node the local copy may be: the time since its last sync."""
    at = status.sync.last_synced_at
    return None if at is None else max(0.0, time.time() - at)


def _link_json(link: NodeLink) -> dict[str, Any]:
    a = link.address
    return {
        "address": a.text,
        "how": a.how,
        "api_port": a.api_port if a.is_ssh else None,
        "host_key_fingerprint": fingerprint_of_line(link.host_key) if link.host_key else None,
        "auth": link.auth.value if a.is_ssh else None,
        "ca_file": link.ca_file,
        "connected_at": output.iso_time(link.connected_at),
    }


def _connected_json(connected: NodeConnected, public_key: str | None) -> dict[str, Any]:
    health = connected.health
    return {
        "node": _link_json(connected.link),
        "checks": health.status if health else None,
        "hosts": health.hosts if health else None,
        "public_key": public_key,
    }


def _status_json(status: NodeStatus) -> dict[str, Any]:
    health = status.health
    at = status.sync.last_synced_at
    lag = _lag(status)
    return {
        "connected": status.connected,
        "node": _link_json(status.link) if status.link else None,
        "answers": (status.answers if status.checked else None) if status.connected else None,
        "problem": status.problem.value if status.problem else None,
        "message": status.message,
        "checks": health.status if health else None,
        "last_synced_at": output.iso_time(at) if at is not None else None,
        "lag_seconds": round(lag, 1) if lag is not None else None,
        "lag_messages": status.sync.lag_messages,
        "live_seq": status.sync.live_seq,
        "silent_since": output.iso_time(int(silent))
        if (silent := status.sync.silent_since)
        else None,
        "silent_problem": status.sync.problem.value if status.sync.problem else None,
        "take_over": status.take_over,
        "queued": list(status.sync.queued),
        "not_applied": list(status.sync.not_applied),
    }


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"--api-port takes a port from 1 to 65535, not {text!r}")
    return int(text)
