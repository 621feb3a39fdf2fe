"""The node as a user deploys it: the image built by scripts/build-image on a Debian base made
with debootstrap, started with docker-compose from deploy/compose.yaml on the real dockerd,
a host added through the API against the real sshd, and its history kept across
`docker-compose down` and `up`.

One module-scoped stack: building the image and starting the node is the slow part (~1 min,
the first debootstrap on a machine ~40 s more); the tests run in order on it.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.support.base_image import DEBOOTSTRAP, SUITE, import_base_image
from tests.integration.support.compose_stack import (
    DOCKER_COMPOSE,
    NODE_UID,
    ROOT,
    ComposeStack,
)
from tests.integration.support.dockerd import DOCKER, DockerEngine
from tests.integration.support.procs import free_port, require_binary, require_root
from tests.integration.support.sshd import SSH_KEYGEN, SSHD, SshServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

BASE_IMAGE = f"vpshealth-test-base:{SUITE}"
HOST = "web1"
METRIC = "cpu.percent"


@pytest.fixture(scope="module")
def node_ssh_server() -> Iterator[SshServer]:
    require_root("the compose node test (useradd, sshd, dockerd)")
    require_binary(SSHD, package="openssh-server")
    require_binary(SSH_KEYGEN, package="openssh-client")
    server = SshServer.create()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def stack(
    docker_engine: DockerEngine,
    node_ssh_server: SshServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ComposeStack]:
    """The node's stack, up and answering on /api/v1/health."""
    require_binary(DEBOOTSTRAP, package="debootstrap")
    require_binary(DOCKER_COMPOSE, package="docker-compose")
    require_binary(DOCKER, package="docker.io")
    import_base_image(docker_engine.host, BASE_IMAGE)
    node = ComposeStack(
        engine=docker_engine,
        image="",
        port=free_port(),
        workdir=tmp_path_factory.mktemp("compose-node"),
    )
    node.image = f"vpshealth:{node.project}"
    try:
        build_image = [str(ROOT / "scripts" / "build-image"), "--base-image", BASE_IMAGE]
        build = subprocess.run(
            [*build_image, "--tag", node.image],
            capture_output=True,
            text=True,
            env=node.docker_env(),
            timeout=600,
            check=False,
        )
        assert build.returncode == 0, f"scripts/build-image failed:\n{build.stdout}\n{build.stderr}"
        secret_files = {
            "vpshealth_secrets_passphrase": node.write_secret(
                "vpshealth_secrets_passphrase", b"correct horse battery staple for the test\n"
            ),
            "web1_key": node.write_secret("web1_key", node_ssh_server.client_key_path.read_bytes()),
        }
        node.write_override(
            {
                # Out of reach: a busy test machine must not change the host's state.
                "VPSHEALTH_WARNING_PERCENT": "1000",
                "VPSHEALTH_CRITICAL_PERCENT": "1000",
                "VPSHEALTH_CONNECT_TIMEOUT": "5",
            },
            secret_files,
        )
        node.compose("up", "-d", "--no-build")
        node.wait_healthy_api()
        yield node
    finally:
        node.tear_down()
        docker_engine.docker("image", "rm", "-f", BASE_IMAGE, check=False)


def test_the_node_answers_its_health_check_as_a_non_root_user(stack: ComposeStack) -> None:
    answer = stack.wait_healthy_api()
    assert answer.json()["status"] == "ok"
    stack.wait_docker_health("healthy")
    container = stack.container()
    assert container["Config"]["User"] == f"{NODE_UID}:{NODE_UID}"
    assert container["HostConfig"]["NetworkMode"] == "host"
    assert container["HostConfig"]["Init"] is True
    assert stack.exec("id", "-u").stdout.strip() == str(NODE_UID)
    # The node never imports Qt, and the image does not carry it.
    assert stack.exec("python3", "-c", "import PySide6", check=False).returncode != 0


def test_a_host_added_through_the_api_keeps_its_history_across_down_and_up(
    stack: ComposeStack, node_ssh_server: SshServer
) -> None:
    token = stack.exec("vpshealth", "api", "token", "create", "ci").stdout.split()[-1]
    with _client(stack, token) as api:
        before, checked = _add_host_and_wait_for_history(api, stack, node_ssh_server)

    stack.compose("down", "--timeout", "20")
    assert stack.engine.docker("volume", "inspect", stack.volume).returncode == 0
    stack.compose("up", "-d", "--no-build")
    stack.wait_healthy_api()

    with _client(stack, token) as api:
        host = api.get(f"/hosts/{HOST}")
        assert host.status_code == 200, host.text
        after = _history(api)
        assert before[0] in after, f"history lost across down/up: {before!r} -> {after!r}"
        assert _wait_for_metrics(api, stack, newer_than=checked["checked_at"])


def _client(stack: ComposeStack, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{stack.base_url}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def _add_host_and_wait_for_history(
    api: httpx.Client, stack: ComposeStack, node_ssh_server: SshServer
) -> tuple[list[Any], dict[str, Any]]:
    """The two steps of trust on first use, then the first metrics and history."""
    body: dict[str, Any] = {
        "name": HOST,
        "address": node_ssh_server.host,
        "port": node_ssh_server.port,
        "user": node_ssh_server.user,
        "key_secret": "web1_key",
    }
    first = api.post("/hosts", json=body)
    assert first.status_code == 409, first.text
    assert first.json()["host_key_fingerprint"] == node_ssh_server.host_key_fingerprint
    assert api.get(f"/hosts/{HOST}").status_code == 404

    saved = api.post(
        "/hosts", json={**body, "host_key_fingerprint": first.json()["host_key_fingerprint"]}
    )
    assert saved.status_code in (200, 201), saved.text
    checked = _wait_for_metrics(api, stack)

    # CPU percent comes from the difference of two polls: the second one stores the first point.
    deadline = time.monotonic() + 60
    while not (before := _history(api, missing_ok=True)) and time.monotonic() < deadline:
        time.sleep(1)
    assert before, f"no {METRIC} history within 60 s\n{stack.logs()}"
    return before, checked


def _wait_for_metrics(
    api: httpx.Client, stack: ComposeStack, newer_than: object = None, timeout: float = 90
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        answer = api.get(f"/hosts/{HOST}")
        if answer.status_code == 200:
            host: dict[str, Any] = answer.json()
            last = host
            if host.get("metrics") and (newer_than is None or host.get("checked_at") != newer_than):
                return host
        else:
            last = f"{answer.status_code} {answer.text[:300]}"
        time.sleep(1)
    raise AssertionError(f"no metrics for {HOST} within {timeout}s (last: {last})\n{stack.logs()}")


def _history(api: httpx.Client, *, missing_ok: bool = False) -> list[Any]:
    answer = api.get(f"/hosts/{HOST}/history", params={"metric": METRIC})
    if missing_ok and answer.status_code == 422:  # no such series stored yet
        return []
    assert answer.status_code == 200, answer.text
    points = answer.json()["points"]
    assert isinstance(points, list), answer.text
    return points
