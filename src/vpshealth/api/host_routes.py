"""Hosts: the list, one host, its containers, its stored metrics and their history, its rules,
and a check now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from vpshealth.api import models
from vpshealth.api.auth import Context, Reader, Writer
from vpshealth.api.errors import ERROR_RESPONSES, NOT_FOUND, WRITE_RESPONSES, invalid_field
from vpshealth.api.fleet_answer import fleet_answer
from vpshealth.api.json_bytes import json_bytes
from vpshealth.api.lookup import available, host_named
from vpshealth.api.rule_routes import rules_answer
from vpshealth.api.time_query import TIME_HELP, parse_time
from vpshealth.domain.series import resolve_metric
from vpshealth.read_model import container_groups, container_series, json_shapes
from vpshealth.store.history import CHART_MAX_POINTS

router = APIRouter(prefix="/api/v1", tags=["hosts"], responses=ERROR_RESPONSES)

HostName = Annotated[
    str, Path(description="the host's name, as GET /api/v1/hosts lists it", examples=["localhost"])
]
DEFAULT_SPAN = 3600


@router.get("/hosts", response_model=models.HostList)
def list_hosts(request: Request, context: Context, _token: Reader) -> Response:
    """Every host with its latest state and metrics (a copy at most a few seconds old)."""

    def render() -> bytes:
        records = context.read_model.hosts.list()
        return json_bytes({"hosts": [json_shapes.host_json(r) for r in records]})

    return fleet_answer(request, context.fleet_answers, "hosts", render, "application/json")


@router.get("/hosts/{name}", response_model=models.HostOut, responses=NOT_FOUND)
def show_host(name: HostName, context: Context, _token: Reader) -> models.HostOut:
    return models.HostOut.model_validate(json_shapes.host_json(host_named(context, name)))


@router.get("/hosts/{name}/containers", response_model=models.HostContainers, responses=NOT_FOUND)
def host_containers(
    name: HostName,
    context: Context,
    _token: Reader,
    all: Annotated[bool, Query(description="also the stopped containers")] = False,
) -> models.HostContainers:
    """As of the last check: running, restarting and paused containers and any with an open
    incident (`all=true` adds the stopped ones), and the apps they belong to."""
    record = host_named(context, name)
    docker = context.read_model.docker
    stored = docker.containers_of(record.id)
    troubled = {i.container_id for _, i in docker.open_incidents(record.id)}
    shown = container_groups.shown(stored, troubled, show_all=all)
    apps = container_groups.by_app([s.view for s in shown])
    return models.HostContainers.model_validate(
        {
            "host": record.host.name,
            "seen_at": json_shapes.iso_time(max((s.seen_at for s in stored), default=None)),
            "containers": [json_shapes.container_json(s.view) for s in shown],
            "apps": [
                {"title": title, "containers": [v.container.id for v in views]}
                for title, views in apps
            ],
        }
    )


@router.get("/hosts/{name}/metrics", response_model=models.MetricList, responses=NOT_FOUND)
def host_metrics(name: HostName, context: Context, _token: Reader) -> models.MetricList:
    """The series stored for the host: the names `history` takes as `metric`."""
    record = host_named(context, name)
    known = available(context.history, "history").metrics_of(record.id)
    return models.MetricList(host=record.host.name, metrics=known)


@router.get(
    "/hosts/{name}/history",
    response_model=models.Series,
    response_model_exclude_unset=True,
    responses=NOT_FOUND,
)
def host_history(  # noqa: PLR0917 (FastAPI passes the query by keyword)
    name: HostName,
    context: Context,
    _token: Reader,
    metric: Annotated[
        str,
        Query(
            description="a series name (cpu.percent, disk.percent:/) or a short name (cpu, "
            "memory, load, disk:/, net.rx:eth0); GET .../metrics lists the host's series",
            max_length=200,
        ),
    ],
    since: Annotated[str | None, Query(description=f"{TIME_HELP}; default an hour ago")] = None,
    until: Annotated[str | None, Query(description=f"{TIME_HELP}; default now")] = None,
    max_points: Annotated[int, Query(ge=2, le=10_000)] = CHART_MAX_POINTS,
    container: Annotated[
        str | None,
        Query(
            description="an app's or container's history across its deploys, as `vpshealth "
            "history --container` takes it (shop/production/web, a container name or the "
            "identity); then `metric` is cpu or memory",
            max_length=300,
        ),
    ] = None,
) -> models.Series:
    """Raw samples for short ranges, then 1-minute or 1-hour minimum, average and maximum,
    as the charts pick them, so that at most `max_points` points come back."""
    record = host_named(context, name)
    history = available(context.history, "history")
    now = int(context.clock.now())
    end = now if until is None else parse_time("until", until)
    start = end - DEFAULT_SPAN if since is None else parse_time("since", since)
    if start > end:
        raise invalid_field("query", "since", "must not be after until")
    known = history.metrics_of(record.id)
    if container is None:
        series = resolve_metric(metric)
    else:
        stored = context.read_model.docker.containers_of(record.id)
        found = container_series.look_up(stored, known, metric, container)
        series = _container_series(found, record.host.name, container)
    if series not in known:
        raise invalid_field(
            "query",
            "metric",
            f"{record.host.name} has no stored metric '{metric}'; "
            f"GET /api/v1/hosts/{record.host.name}/metrics lists its series",
        )
    data = history.series(record.id, series, start, end, max_points, now=now)
    return models.Series.model_validate(json_shapes.series_json(record.host.name, series, data))


def _container_series(found: container_series.ContainerLookup, host: str, container: str) -> str:
    if found.key is None:
        raise invalid_field("query", "metric", "a container's metric is cpu or memory")
    if found.series is None:
        raise invalid_field(
            "query",
            "container",
            f"{host} has no container history for '{container}'; "
            f"stored: {found.listing or 'none yet'}",
        )
    return found.series


@router.get("/hosts/{name}/rules", response_model=models.Rules, responses=NOT_FOUND)
def host_rules(name: HostName, context: Context, _token: Reader) -> models.Rules:
    """The rules in force for the host, and which of them are set for it alone."""
    record = host_named(context, name)
    return rules_answer(context, record.id, record.host.name)


@router.post(
    "/hosts/{name}/check",
    response_model=models.CheckResultOut,
    responses={**NOT_FOUND, **WRITE_RESPONSES},
)
async def check_host(name: HostName, context: Context, _token: Writer) -> models.CheckResultOut:
    """Checks the host now, even a disabled one, and answers with the result (stored like
    any check; alerts follow from it as usual)."""
    record = await run_in_threadpool(host_named, context, name)
    result = await available(context.check_host, "checks")(record.host.name)
    shape = json_shapes.check_result_json(result, record.host.display_address)
    return models.CheckResultOut.model_validate(shape)
