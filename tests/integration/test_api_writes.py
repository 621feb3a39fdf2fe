"""The API's write routes on the real node (`vpshealth service --api`) against the real sshd:
trust on first use in two steps with a private key in the body and with a key from the
secrets folder, the host's first metrics, a new host key trusted after a rebuild, a removal."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.support.api import api_node
from tests.integration.support.sshd import SshServer

pytestmark = pytest.mark.integration


def _wait_for_metrics(api: httpx.Client, name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        answer = api.get(f"/api/v1/hosts/{name}")
        last = host = answer.json()
        if answer.status_code == 200 and host["metrics"] and host["state"] == "ok":
            return dict(host)
        time.sleep(0.5)
    raise AssertionError(f"no metrics for {name} within {timeout} s (last: {last})")


def _body(ssh_server: SshServer, **login: Any) -> dict[str, Any]:
    return {
        "name": "web1",
        "address": ssh_server.host,
        "port": ssh_server.port,
        "user": ssh_server.user,
        "interval_seconds": 5,
        "docker_socket": "/nonexistent/docker.sock",
        **login,
    }


def _add_in_two_steps(api: httpx.Client, body: dict[str, Any], ssh_server: SshServer) -> Any:
    first = api.post("/api/v1/hosts", json=body)
    assert first.status_code == 409, first.text
    assert first.json()["host_key_fingerprint"] == ssh_server.host_key_fingerprint
    assert api.get("/api/v1/hosts/web1").status_code == 404
    saved = api.post(
        "/api/v1/hosts", json={**body, "host_key_fingerprint": ssh_server.host_key_fingerprint}
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["host_key_fingerprint"] == ssh_server.host_key_fingerprint
    return saved


@pytest.mark.usefixtures("load_out_of_reach")
def test_a_host_added_with_its_private_key_is_checked_edited_retrusted_and_removed(
    cli_env: dict[str, str], ssh_server: SshServer
) -> None:
    body = _body(ssh_server, private_key=ssh_server.client_key_path.read_text())
    with api_node(cli_env) as node, node.client() as api:
        _add_in_two_steps(api, body, ssh_server)
        checked = _wait_for_metrics(api, "web1")
        assert checked["system"]["hostname"]

        edited = api.patch("/api/v1/hosts/web1", json={"tags": ["prod"], "interval_seconds": 6})
        assert edited.status_code == 200, edited.text
        assert (edited.json()["tags"], edited.json()["interval_seconds"]) == (["prod"], 6)

        ssh_server.restart_with_new_host_key()
        retrust = {"host_key_fingerprint": ssh_server.host_key_fingerprint}
        trusted = api.patch("/api/v1/hosts/web1", json=retrust)
        assert trusted.status_code == 200, trusted.text
        assert trusted.json()["host_key_fingerprint"] == ssh_server.host_key_fingerprint
        before = trusted.json()["checked_at"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            host = api.get("/api/v1/hosts/web1").json()
            if host["checked_at"] != before and host["state"] == "ok":
                break
            time.sleep(0.5)
        assert host["state"] == "ok", host

        assert api.delete("/api/v1/hosts/web1").status_code == 204
        assert api.get("/api/v1/hosts/web1").status_code == 404
    assert "Traceback" not in node.log


@pytest.mark.usefixtures("load_out_of_reach")
def test_a_host_added_with_a_key_from_the_secrets_folder_gets_metrics(
    cli_env: dict[str, str], ssh_server: SshServer, tmp_path: Path
) -> None:
    secrets = tmp_path / "node-secrets"
    secrets.mkdir()
    (secrets / "web1_key").write_bytes(ssh_server.client_key_path.read_bytes())
    env = {**cli_env, "VPSHEALTH_SECRETS_DIR": str(secrets)}
    with api_node(env) as node, node.client() as api:
        missing = api.post("/api/v1/hosts", json=_body(ssh_server, key_secret="web2_key"))
        assert missing.status_code == 422, missing.text
        assert missing.json()["errors"][0]["field"] == "key_secret"
        assert str(secrets) in missing.json()["detail"]

        _add_in_two_steps(api, _body(ssh_server, key_secret="web1_key"), ssh_server)
        _wait_for_metrics(api, "web1")
