"""Tables. Timestamps are integer seconds since the Unix epoch, UTC.

Metric samples are stored per series (one host, one metric such as ``cpu.percent`` or
``disk.percent:/``): ``samples`` is a narrow ``WITHOUT ROWID`` table keyed by
(series_id, ts) so a chart query is one index range scan. New samples reach it through
``staged_samples``, keyed by time so that a batch of polls is written to a few pages (see
``staged_samples.py``). ``sample_chunks`` is the compact form that rows older than the current
hour are folded into (one compressed blob per series and hour); readers take the union of all
three. ``sample_chunks`` keeps its rowid on purpose: in a
``WITHOUT ROWID`` table a row over ~1 KB spills into an overflow page of its own.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

hosts = Table(
    "hosts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("kind", String, nullable=False),
    Column("address", String, nullable=False),
    Column("port", Integer, nullable=False),
    Column("user", String, nullable=False),
    Column("auth", String, nullable=False),
    Column("key_ref", String),
    Column("interval_seconds", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("tags", Text, nullable=False, default="[]"),
    Column("host_key", Text),
    Column("remote_hostname", String),
    Column("kernel", String),
    Column("os_name", String),
    Column("docker_socket", String, nullable=False, server_default="/var/run/docker.sock"),
    Column("created_at", Integer, nullable=False),
    Column("updated_at", Integer, nullable=False),
    Column("hetzner_project", String),
    Column("hetzner_server_id", Integer),
    Index("ix_hosts_hetzner_server", "hetzner_project", "hetzner_server_id", unique=True),
    sqlite_autoincrement=True,
)

hetzner_projects = Table(
    "hetzner_projects",
    metadata,
    Column("name", String, primary_key=True),
    Column("token_ref", String, nullable=False),
    Column("api_endpoint", String),
    Column("created_at", Integer, nullable=False),
)

host_status = Table(
    "host_status",
    metadata,
    Column("host_id", Integer, ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True),
    Column("state", String, nullable=False),
    Column("problem", String),
    Column("message", Text, nullable=False),
    Column("since", Integer, nullable=False),
    Column("checked_at", Integer, nullable=False),
    Column("metrics_json", Text),
)

checks = Table(
    "checks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("host_id", Integer, ForeignKey("hosts.id", ondelete="CASCADE"), nullable=False),
    Column("checked_at", Integer, nullable=False),
    Column("state", String, nullable=False),
    Column("problem", String),
    Column("message", Text, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Index("ix_checks_host_time", "host_id", "checked_at"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("host_id", Integer, ForeignKey("hosts.id", ondelete="CASCADE"), nullable=False),
    Column("at", Integer, nullable=False),
    Column("kind", String, nullable=False),
    Column("old_state", String),
    Column("new_state", String),
    Column("problem", String),
    Column("message", Text, nullable=False),
    Index("ix_events_host_time", "host_id", "at"),
    sqlite_autoincrement=True,
)
"""``id`` is never reused (AUTOINCREMENT), even after the newest events go with their host:
it is the cursor of ``GET /api/v1/events?after=``."""

series = Table(
    "series",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("host_id", Integer, ForeignKey("hosts.id", ondelete="CASCADE"), nullable=False),
    Column("metric", String, nullable=False),
    UniqueConstraint("host_id", "metric", name="uq_series_host_metric"),
    sqlite_autoincrement=True,
)

samples = Table(
    "samples",
    metadata,
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), primary_key=True),
    Column("ts", Integer, primary_key=True),
    Column("value", Float, nullable=False),
    sqlite_with_rowid=False,
)

staged_samples = Table(
    "staged_samples",
    metadata,
    Column("ts", Integer, primary_key=True),
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), primary_key=True),
    Column("value", Float, nullable=False),
    sqlite_with_rowid=False,
)

sample_chunks = Table(
    "sample_chunks",
    metadata,
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), primary_key=True),
    Column("start_ts", Integer, primary_key=True),
    Column("end_ts", Integer, nullable=False),
    Column("count", Integer, nullable=False),
    Column("codec", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

containers = Table(
    "containers",
    metadata,
    Column("host_id", Integer, ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True),
    Column("container_id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("image", String, nullable=False),
    Column("created", Integer, nullable=False),
    Column("state", String, nullable=False),
    Column("health", String, nullable=False),
    Column("failing_streak", Integer, nullable=False),
    Column("restart_count", Integer, nullable=False),
    Column("exit_code", Integer),
    Column("oom_killed", Boolean, nullable=False),
    Column("started_at", Integer),
    Column("finished_at", Integer),
    Column("group_kind", String, nullable=False),
    Column("project", String),
    Column("environment", String),
    Column("resource", String),
    Column("service", String),
    Column("infrastructure", Boolean, nullable=False),
    Column("ports", Text, nullable=False),
    Column("labels", Text, nullable=False),
    Column("cpu_percent", Float),
    Column("memory_bytes", Integer),
    Column("memory_limit_bytes", Integer),
    Column("seen_at", Integer, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("host_id", Integer, ForeignKey("hosts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String, nullable=False),
    Column("subject", String, nullable=False),
    Column("container_id", String, nullable=False),
    Column("container_name", String, nullable=False),
    Column("app", String),
    Column("severity", String, nullable=False),
    Column("opened_at", Integer, nullable=False),
    Column("resolved_at", Integer),
    Column("message", Text, nullable=False),
    Column("resolution", Text),
    Column("value", Float),
    Column("threshold", Float),
    Column("acknowledged_at", Integer),
    Column("last_notified_at", Integer),
    Column("reminders_sent", Integer, nullable=False, server_default="0"),
    Column("flapping", Boolean, nullable=False, server_default="0"),
    Column("log_lines", Text),
    Index(
        "uq_incidents_open",
        "host_id",
        "kind",
        "subject",
        unique=True,
        sqlite_where=text("resolved_at IS NULL"),
    ),
    Index("ix_incidents_host_opened", "host_id", "opened_at"),
    sqlite_autoincrement=True,
)

settings = Table(
    "settings",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", Integer, nullable=False),
)
"""Application settings as JSON values, e.g. ``email.smtp_host``. Never secrets: those live in
the OS keyring."""

rules = Table(
    "rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("host_id", Integer, ForeignKey("hosts.id", ondelete="CASCADE")),
    Column("rule", String, nullable=False),
    Column("value", Text, nullable=False),
    Column("updated_at", Integer, nullable=False),
    Index("uq_rules_default", "rule", unique=True, sqlite_where=text("host_id IS NULL")),
    Index(
        "uq_rules_host", "host_id", "rule", unique=True, sqlite_where=text("host_id IS NOT NULL")
    ),
)
"""Alert rule settings: ``host_id`` NULL holds the defaults, a host's rows override them."""

silences = Table(
    "silences",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("host_id", Integer, ForeignKey("hosts.id", ondelete="CASCADE")),
    Column("kind", String, nullable=False),
    Column("starts_at", Integer),
    Column("ends_at", Integer),
    Column("weekly_start_minute", Integer),
    Column("weekly_minutes", Integer),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", Integer, nullable=False),
    Index("ix_silences_host", "host_id"),
    sqlite_autoincrement=True,
)
"""Snoozes and maintenance windows. ``host_id`` NULL applies to every host. One-off: from
``starts_at`` to ``ends_at``. Weekly: ``weekly_start_minute`` (minutes after Monday 00:00 UTC)
for ``weekly_minutes``."""

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String, nullable=False),
    Column("created_at", Integer, nullable=False),
    Column("message_id", String, nullable=False, unique=True),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text),
    Column("recipients", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Integer, nullable=False),
    Column("sent_at", Integer),
    Column("last_error", Text),
    Column("status", String, nullable=False),
    Column("level", String),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    sqlite_autoincrement=True,
)
"""Messages to deliver, each for one channel. A row is written before any attempt and keeps its
Message-ID across retries, so a retry after an ambiguous failure can be recognised. ``level``:
a chat message's severity (``warning``, ``critical``, ``resolved``, ``test``); NULL for
e-mail."""

channels = Table(
    "channels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("service", String, nullable=False),
    Column("masked_url", String, nullable=False),
    Column("secret_ref", String, nullable=False),
    Column("min_severity", String, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("batch_seconds", Integer, nullable=False),
    Column("max_per_host_per_hour", Integer, nullable=False),
    Column("created_at", Integer, nullable=False),
    sqlite_autoincrement=True,
)
"""Alert channels: named Apprise URLs. The URL is in the secret store under ``secret_ref``;
the row keeps only its masked form. Ids are never reused: a channel's outbox key is
``apprise:<id>``."""

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="SET NULL")),
    Column("host_id", Integer, ForeignKey("hosts.id", ondelete="CASCADE")),
    Column("kind", String, nullable=False),
    Column("severity", String, nullable=False),
    Column("created_at", Integer, nullable=False),
    Column("payload", Text, nullable=False),
    Index("ix_notifications_host_time", "host_id", "created_at"),
    sqlite_autoincrement=True,
)
"""Every notification the alerting raised, as a JSON payload (see
``domain.notifications.Notification``). Ids only grow: a channel takes on the notifications
newer than the last one it has a delivery for."""

notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("channel", String, primary_key=True),
    Column(
        "notification_id",
        Integer,
        ForeignKey("notifications.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("state", String, nullable=False),
    Column("outbox_id", Integer, ForeignKey("outbox.id", ondelete="SET NULL")),
    Index("ix_notification_deliveries_state", "channel", "state"),
    Index("ix_notification_deliveries_notification", "notification_id"),
)
"""Per notification and durable channel: ``pending`` until the batcher puts it into an outbox
message of that channel (``queued``, with ``outbox_id``), or ``skipped`` (below the channel's
minimum severity, or the channel not configured) or ``rate_limited``."""

rollups = Table(
    "rollups",
    metadata,
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), primary_key=True),
    Column("resolution", Integer, primary_key=True),
    Column("start_ts", Integer, primary_key=True),
    Column("end_ts", Integer, nullable=False),
    Column("count", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)
"""Min/avg/max buckets of ``resolution`` seconds (60 or 3600), one compressed blob
(``chunk_codec.encode_rollup``) per series and block: 6 hours of 1-minute buckets or 10 days
of 1-hour buckets (UTC, from the epoch), starting at ``start_ts``. ``end_ts`` is the start of
the last bucket and ``count`` the number of buckets. A rowid table for the same reason as
``sample_chunks``."""

rollup_progress = Table(
    "rollup_progress",
    metadata,
    Column("resolution", Integer, primary_key=True, autoincrement=False),
    Column("done_until", Integer, nullable=False),
)
"""Per resolution, the time before which every bucket has been computed: the next run starts
there."""

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("token_hash", String, nullable=False, unique=True),
    Column("read_only", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float),
)
"""Bearer tokens of the node's API: only a SHA-256 hash of each token is kept."""

live_log = Table(
    "live_log",
    metadata,
    Column("seq", Integer, primary_key=True),
    Column("at", Float, nullable=False),
    Column("kind", String, nullable=False),
    Column("host_id", Integer),
    Column("payload", Text, nullable=False),
    Index("ix_live_log_kind_at", "kind", "at"),
    sqlite_autoincrement=True,
)
"""Every message of the API's live stream, in the order recorded (``seq`` only grows: check
results, state changes, incidents, notifications), so that a client resuming ``after`` a
sequence number is sent what it missed. Pruned by age."""

pending_edits = Table(
    "pending_edits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("made_at", Float, nullable=False),
    Column("summary", String, nullable=False),
    Column("method", String, nullable=False),
    Column("path", String, nullable=False),
    Column("body", Text),
    Column("outcome", Text),
    Column("done_at", Float),
    sqlite_autoincrement=True,
)
"""A desktop's copy only: the edits made while its node did not answer, as the API requests
that apply them, sent in ``id`` order. ``outcome`` None: still waiting; else what the node
said (refused, or fields it kept), shown by `vpshealth node status` and kept a while. The
catch-up never touches the table."""
