"""Alert channels, as `vpshealth notify channel ...` lists and changes them. The URL goes into
the node's secret store; answers carry only its masked form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from vpshealth.api.auth import Context, Reader, Writer
from vpshealth.api.channel_models import (
    ChannelChanges,
    ChannelList,
    ChannelOut,
    ChannelTestSent,
    NewChannel,
)
from vpshealth.api.context import ApiContext
from vpshealth.api.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND, WRITE_RESPONSES, Problem
from vpshealth.api.lookup import available
from vpshealth.domain.channels import ChannelRecord
from vpshealth.operations.channels import ChannelOperations

router = APIRouter(prefix="/api/v1/channels", tags=["channels"], responses=ERROR_RESPONSES)

ChannelName = Annotated[str, Path(max_length=63, description="the channel's name")]
NOT_SENT: dict[int | str, dict[str, Any]] = {
    400: {
        "model": Problem,
        "description": "the service did not take the test message; see `detail`",
    },
}


def _channels(context: ApiContext) -> ChannelOperations:
    return available(context.operations, "operations").channels


def channel_out(record: ChannelRecord) -> ChannelOut:
    return ChannelOut(
        name=record.name,
        service=record.service,
        url=record.masked_url,
        min_severity=record.min_severity.value,
        enabled=record.enabled,
        batch_seconds=record.batch_seconds,
        max_per_host_per_hour=record.max_per_host_per_hour,
        created_at=datetime.fromtimestamp(record.created_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


@router.get("", response_model=ChannelList)
def list_channels(context: Context, _token: Reader) -> ChannelList:
    """Every channel, its URL masked."""
    return ChannelList(channels=[channel_out(r) for r in _channels(context).list()])


@router.post(
    "",
    status_code=201,
    response_model=ChannelOut,
    responses={**WRITE_RESPONSES, **CONFLICT},
)
def add_channel(body: NewChannel, context: Context, _token: Writer) -> ChannelOut:
    """Add a channel. Apprise checks the URL without sending anything; a malformed URL or an
    unknown service is a 422 naming `url`, and then nothing is saved."""
    record = _channels(context).add(
        body.name,
        body.url,
        min_severity=body.min_severity,
        enabled=body.enabled,
        batch_seconds=body.batch_seconds,
        max_per_host_per_hour=body.max_per_host_per_hour,
    )
    return channel_out(record)


@router.patch("/{name}", response_model=ChannelOut, responses={**WRITE_RESPONSES, **NOT_FOUND})
def change_channel(
    name: ChannelName, body: ChannelChanges, context: Context, _token: Writer
) -> ChannelOut:
    """Change the URL, minimum severity, switch, batching or rate limit; every value is checked
    first. A channel cannot be renamed: remove it and add it under the new name."""
    changes = body.model_dump(include=body.model_fields_set, exclude_none=True)
    return channel_out(_channels(context).change(name, changes))


@router.delete(
    "/{name}",
    status_code=204,
    response_class=Response,
    responses={**WRITE_RESPONSES, **NOT_FOUND},
)
def remove_channel(name: ChannelName, context: Context, _token: Writer) -> Response:
    """Remove the channel and its URL; its messages not sent yet are given up."""
    _channels(context).remove(name)
    return Response(status_code=204)


@router.post(
    "/{name}/test",
    response_model=ChannelTestSent,
    responses={**WRITE_RESPONSES, **NOT_FOUND, **NOT_SENT},
)
def send_test_message(name: ChannelName, context: Context, _token: Writer) -> ChannelTestSent:
    """Send a test message now (not through the outbox), also to a channel switched off. When
    the service does not take it, the answer is a 400 with the service's reason."""
    sent = _channels(context).test(name)
    return ChannelTestSent(channel=channel_out(sent.channel), title=sent.title)
