"""`vpshealth notify email | show | test` and `vpshealth outbox`: setting up e-mail alerts
and seeing what was sent."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from vpshealth.alerts.email_settings import (
    ENV_OVERRIDES,
    OPTIONS,
    EmailConfig,
    load_email_config,
    smtp_password,
)
from vpshealth.alerts.outgoing_mail import SmtpError, tls_context
from vpshealth.alerts.sample_email import sample_email
from vpshealth.cli import channel_commands, output, prompts
from vpshealth.cli.context import CliContext
from vpshealth.errors import EXIT_NOT_OK, EXIT_OK, ConfigurationError, InputError, VpsHealthError
from vpshealth.operations.errors import NothingToChangeError
from vpshealth.store.outbox_repository import OutboxMessage, OutboxRepository, OutboxStatus

NOTHING_SAVED = "Nothing was saved."


class SendFailedError(VpsHealthError):
    exit_code = EXIT_NOT_OK


def register(commands: argparse._SubParsersAction[Any]) -> None:
    notify = commands.add_parser(
        "notify",
        help="set up and test alerts: e-mail, and channels such as ntfy or Telegram",
        description="E-mail alerts: where to send them and how. The SMTP password is kept in "
        "the OS keyring only. VPSHEALTH_SMTP_* environment variables override the stored "
        "settings.",
    )
    sub = notify.add_subparsers(dest="notify_command", metavar="ACTION", required=True)

    email = sub.add_parser(
        "email",
        help="store the e-mail settings (only the options given are changed)",
        description="Store e-mail settings. Every value is checked first; on an error nothing "
        "is saved (exit 2).",
    )
    email.add_argument("--smtp-host", metavar="HOST", help="the SMTP server")
    email.add_argument(
        "--smtp-port", metavar="PORT", help="default 587 (starttls), 465 (tls), 25 (none)"
    )
    email.add_argument(
        "--security",
        metavar="MODE",
        help="starttls (default), tls, or none (only for a server on this computer)",
    )
    email.add_argument("--user", metavar="USER", help="log in as this user")
    email.add_argument("--from", dest="sender", metavar="ADDRESS", help="the sender address")
    email.add_argument(
        "--to",
        action="append",
        metavar="ADDRESS",
        help="a recipient; repeat for several (replaces the stored list)",
    )
    email.add_argument("--min-severity", metavar="LEVEL", help="warning (default) or critical")
    email.add_argument(
        "--batch-seconds",
        metavar="N",
        help="collect notifications for N seconds into one e-mail (default 60, 0-3600)",
    )
    email.add_argument(
        "--max-per-host-per-hour",
        metavar="N",
        help="at most N notifications about one server an hour (default 10)",
    )
    email.add_argument(
        "--ca-file",
        metavar="PEM",
        help="also trust this CA certificate for the server (a private or test CA)",
    )
    password = email.add_mutually_exclusive_group()
    password.add_argument(
        "--password-prompt", action="store_true", help="ask for the SMTP password"
    )
    password.add_argument(
        "--password-stdin", action="store_true", help="read the SMTP password from stdin"
    )
    state = email.add_mutually_exclusive_group()
    state.add_argument("--enable", dest="enabled", action="store_const", const=True)
    state.add_argument("--disable", dest="enabled", action="store_const", const=False)
    email.set_defaults(handler=set_email)
    channel_commands.register(sub)

    show = sub.add_parser(
        "show", help="show the e-mail settings, where each comes from, and the alert channels"
    )
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_email)

    test = sub.add_parser(
        "test",
        help="send a test e-mail now and print the server's answer",
        description="Send a test e-mail right away (not through the outbox). Exit 0 when the "
        "server accepted it, 1 when sending failed, 2 when e-mail is not set up.",
    )
    test.add_argument("--json", action="store_true", help="print JSON")
    test.set_defaults(handler=send_test)

    outbox = commands.add_parser(
        "outbox",
        help="e-mails queued, sent and failed, with attempts and the last error",
    )
    outbox.add_argument("--json", action="store_true", help="print JSON")
    outbox.add_argument(
        "--limit", type=int, default=50, metavar="N", help="the newest N messages (default 50)"
    )
    outbox.set_defaults(handler=list_outbox)


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    given = {
        "smtp_host": args.smtp_host,
        "smtp_port": args.smtp_port,
        "security": args.security,
        "user": args.user,
        "from": args.sender,
        "to": args.to,
        "min_severity": args.min_severity,
        "batch_seconds": args.batch_seconds,
        "max_per_host_per_hour": args.max_per_host_per_hour,
        "ca_file": args.ca_file,
        "enabled": args.enabled,
    }
    return {key: value for key, value in given.items() if value is not None}


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    elif args.password_prompt:
        if not prompts.is_interactive():
            raise InputError(
                f"--password-prompt needs a terminal; pipe the password into --password-stdin "
                f"instead. {NOTHING_SAVED}"
            )
        secret = prompts.ask_secret("SMTP password: ")
    else:
        return None
    if not secret:
        raise InputError(f"invalid password: it is empty. {NOTHING_SAVED}")
    return secret


def set_email(ctx: CliContext, args: argparse.Namespace) -> int:
    changes = _changes(args)
    secret = _read_password(args)
    try:
        saved = ctx.core.operations.email.change(changes, secret, option_names=True)
    except NothingToChangeError:
        raise InputError(
            "nothing to change: give at least one option (see `vpshealth notify email --help`)"
        ) from None
    config = saved.config
    print("Saved the e-mail settings." + (" The password is in the OS keyring." if secret else ""))
    for key in sorted(saved.changed & config.from_env):
        print(f"Note: {ENV_OVERRIDES[key]} is set and overrides the stored {OPTIONS[key]}.")
    if secret is not None and ctx.settings.smtp_password is not None:
        print("Note: VPSHEALTH_SMTP_PASSWORD is set and overrides the stored password.")
    if config.problem:
        print(f"Not sending yet: {config.problem}.")
    else:
        print(
            f"Alerts go to {', '.join(config.recipients)} via {config.server} "
            f"({config.security.value}). Try it: vpshealth notify test"
        )
    return EXIT_OK


def show_email(ctx: CliContext, args: argparse.Namespace) -> int:
    view = ctx.core.operations.email.show()
    channels = ctx.core.operations.channels.list()
    if args.json:
        output.print_json(
            {
                "configured": view.configured,
                "problem": view.problem,
                "settings": [
                    {"setting": r.setting, "value": r.value, "source": r.source}
                    for r in view.settings
                ],
                "password": view.password,
                "channels": [channel_commands.channel_json(r) for r in channels],
            }
        )
        return EXIT_OK
    table = [
        [
            r.setting,
            ", ".join(r.value) if isinstance(r.value, list) else _text(r.value),
            r.source,
        ]
        for r in view.settings
    ]
    table.append(["password", view.password, ""])
    print(output.table(["SETTING", "VALUE", "SOURCE"], table))
    print()
    print(f"Not sending: {view.problem}." if view.problem else "E-mail alerts are set up.")
    print()
    if channels:
        print(channel_commands.channel_rows(channels))
    else:
        print("No alert channels (ntfy, Telegram ...): `vpshealth notify channel add NAME URL`.")
    return EXIT_OK


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def _usable_config(ctx: CliContext) -> EmailConfig:
    config = load_email_config(ctx.core.engine, ctx.settings)
    if config.problem:
        raise ConfigurationError(f"{config.problem}.")
    return config


def send_test(ctx: CliContext, args: argparse.Namespace) -> int:
    # The SMTP client only here: every command, the service too, loads this module.
    from vpshealth.alerts.smtp_sender import deliver  # noqa: PLC0415

    config = _usable_config(ctx)
    now = int(ctx.core.clock.now())
    outgoing = sample_email(config, now)
    password = smtp_password(config, ctx.settings, ctx.core.secrets)
    try:
        context = tls_context(config)
        answer = asyncio.run(deliver(config, password, context, outgoing))
    except SmtpError as exc:
        raise SendFailedError(str(exc)) from None
    if args.json:
        output.print_json(
            {
                "sent": True,
                "recipients": list(config.recipients),
                "server": config.server,
                "security": config.security.value,
                "answer": answer,
            }
        )
        return EXIT_OK
    print(
        f"Sent a test e-mail to {', '.join(config.recipients)} via {config.server} "
        f"({config.security.value}). The server answered: {answer}"
    )
    return EXIT_OK


def _message_json(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "status": message.status.value,
        "created_at": output.iso_time(message.created_at),
        "subject": message.subject,
        "recipients": list(message.recipients),
        "message_id": message.message_id,
        "attempts": message.attempts,
        "next_attempt_at": (
            output.iso_time(message.next_attempt_at)
            if message.status is OutboxStatus.PENDING
            else None
        ),
        "sent_at": output.iso_time(message.sent_at),
        "last_error": message.last_error,
    }


def list_outbox(ctx: CliContext, args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 10_000:
        raise InputError("invalid --limit: use a number from 1 to 10000")
    messages = OutboxRepository(ctx.core.engine).list(limit=args.limit)
    if args.json:
        output.print_json({"messages": [_message_json(m) for m in messages]})
        return EXIT_OK
    if not messages:
        print("No e-mails yet.")
        return EXIT_OK
    now = ctx.core.clock.now()
    rows = []
    for m in messages:
        if m.status is OutboxStatus.SENT:
            when = f"sent {output.ago(m.sent_at, now)}"
        elif m.status is OutboxStatus.PENDING:
            when = (
                "next try now"
                if m.next_attempt_at <= now
                else (f"next try in {int(m.next_attempt_at - now)} s")
            )
        else:
            when = "gave up"
        rows.append(
            [
                str(m.id),
                m.status.value,
                output.ago(m.created_at, now),
                str(m.attempts),
                when,
                m.subject,
                m.last_error or "",
            ]
        )
    print(
        output.table(["ID", "STATUS", "QUEUED", "ATTEMPTS", "WHEN", "SUBJECT", "LAST ERROR"], rows)
    )
    return EXIT_OK
