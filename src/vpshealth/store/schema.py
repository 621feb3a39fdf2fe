"""Tables. Timestamps are integer seconds since the Unix epoch, UTC.

Metric samples are stored per series (one host, one metric such as ``cpu.percent`` or
``disk.percent:/``): ``samples`` is a narrow ``WITHOUT ROWID`` table keyed by
(series_id, ts) so a chart query is one index range scan. ``sample_chunks`` is the compact
form that rows older than the current hour are folded into (one compressed blob per series
and hour); readers take the union of both. ``sample_chunks`` keeps its rowid on purpose: in a
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
    sqlite_autoincrement=True,
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
)

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
