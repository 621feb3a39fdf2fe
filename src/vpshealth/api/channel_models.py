"""The alert channels' bodies and answers. A URL goes in; only its masked form comes out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

URL_HELP = (
    "an Apprise URL (https://github.com/caronc/apprise/wiki), e.g. ntfys://TOKEN@ntfy.sh/topic; "
    "kept in the node's secret store and never answered"
)


class ChannelChanges(BaseModel):
    """Only what is given changes. A channel cannot be renamed."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description=URL_HELP,
        examples=["ntfy://127.0.0.1:8080/alerts"],
    )
    min_severity: str | None = Field(default=None, max_length=20, description="warning or critical")
    enabled: bool | None = None
    batch_seconds: int | None = Field(
        default=None, description="collect notifications this long into one message (0-3600)"
    )
    max_per_host_per_hour: int | None = Field(
        default=None, description="at most this many notifications about one server an hour"
    )


class NewChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=63, description="like a host name", examples=["phone"])
    url: str = Field(
        min_length=1,
        max_length=4096,
        description=URL_HELP,
        examples=["ntfy://127.0.0.1:8080/alerts"],
    )
    min_severity: str = Field(default="warning", max_length=20, description="warning or critical")
    enabled: bool = True
    batch_seconds: int = Field(default=60, description="0-3600")
    max_per_host_per_hour: int = Field(default=10, description="1-10000")


class ChannelOut(BaseModel):
    """As `vpshealth notify channel list --json`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    service: str = Field(description="Apprise's name of the service", examples=["ntfy"])
    url: str = Field(description="the URL masked", examples=["ntfys://…@ntfy.sh/alerts"])
    min_severity: str
    enabled: bool
    batch_seconds: int
    max_per_host_per_hour: int
    created_at: str


class ChannelList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[ChannelOut]


class ChannelTestSent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: ChannelOut
    title: str = Field(description="the title of the test message sent")
