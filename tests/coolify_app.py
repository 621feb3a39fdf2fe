"""One Coolify application as Coolify labels its containers (``defaultLabels`` in
bootstrap/helpers/docker.php, coolify v4, plus the labels of the `docker compose --project-name
{uuid}` that starts it), and the names its deploys get (``{uuid}-{Hisu}``)."""

from __future__ import annotations

from vpshealth.domain.containers import Container, ContainerMetrics, ContainerState, ContainerView
from vpshealth.read_model.container_series import with_identity

UUID = "tgw4s0kc0w88kso8g0gc8c0o"
IDENTITY = f"coolify/{UUID}"
FIRST_DEPLOY = f"{UUID}-101010000001"
SECOND_DEPLOY = f"{UUID}-202020000002"


def app_labels(container_name: str, pull_request: int = 0) -> dict[str, str]:
    return {
        "coolify.managed": "true",
        "coolify.version": "4.0.0-beta.474",
        "coolify.applicationId": "3",
        "coolify.type": "application",
        "coolify.name": "web",
        "coolify.resourceName": "web",
        "coolify.projectName": "shop",
        "coolify.serviceName": "web",
        "coolify.environmentName": "production",
        "coolify.pullRequestId": str(pull_request),
        "com.docker.compose.project": UUID,
        "com.docker.compose.service": container_name,
    }


def app_container(
    name: str, *, started: int, cpu: float = 1.0, memory: int = 1_000_000
) -> ContainerView:
    """A running container of one deploy, its group filled from its labels as the collector
    fills it."""
    container = Container(
        id=f"id-{name}",
        name=name,
        image="web:latest",
        created=started - 1,
        state=ContainerState.RUNNING,
        started_at=started,
        labels=tuple(sorted(app_labels(name).items())),
    )
    return ContainerView(with_identity(container), ContainerMetrics(cpu, memory, None))
