"""Settings → Who runs the checks against a real node reached through the real sshd: the
node's host key is shown and confirmed on first use, the login key file is used, and the
link is saved only once the node answered with the token."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop, core, ctx, loop, memory_keyring  # noqa: F401 (fixtures)
from tests.integration.support.api import api_node
from tests.integration.support.sshd import SshServer
from tests.integration.test_node_link import api_port
from vpshealth.app import Core
from vpshealth.gui.context import GuiContext
from vpshealth.gui.who_runs_checks import WhoRunsTheChecks
from vpshealth.operations.host_keys import PresentedKey

pytestmark = pytest.mark.integration


def test_connect_through_sshd_with_the_host_key_confirmed(
    ssh_server: SshServer,
    cli_env: dict[str, str],
    core: Core,  # noqa: F811 (the fixture imported above)
    ctx: GuiContext,  # noqa: F811
    loop: Loop,  # noqa: F811
    qtbot: QtBot,
) -> None:
    shown: list[tuple[PresentedKey, str | None]] = []
    answers = [False, True]

    def confirm(_parent: object, _name: str, key: PresentedKey, pinned: str | None) -> bool:
        shown.append((key, pinned))
        return answers.pop(0)

    page = WhoRunsTheChecks(ctx, confirm_host_key=confirm)
    qtbot.addWidget(page)
    loop.run(page.load())
    with api_node(cli_env) as node:
        page.node.setChecked(True)
        page.address.setText(f"{ssh_server.user}@127.0.0.1:{ssh_server.port}")
        page.api_port.setText(str(api_port(node.url)))
        page.token.setText(node.token)
        page.key_file.setText(str(ssh_server.client_key_path))

        assert not loop.run(page.connect_node())  # the host key not trusted: nothing saved
        assert page.outcome.text() == "The host key was not trusted. Nothing was saved."
        assert core.operations.node.current() is None

        assert loop.run(page.connect_node()), page.outcome.text()
        address = f"ssh://{ssh_server.user}@127.0.0.1:{ssh_server.port}"
        assert page.outcome.text() == f"Connected to the node {address}, 1 host."
    assert [(k.fingerprint, pinned) for k, pinned in shown] == [
        (ssh_server.host_key_fingerprint, None)
    ] * 2
    link = core.operations.node.current()
    assert link is not None
    assert link.address.api_port == api_port(node.url)
    assert link.host_key is not None
    assert link.host_key.split()[:2] == ssh_server.host_public_key.split()[:2]
    assert "Trusted host key: " in page.host_key.text()
