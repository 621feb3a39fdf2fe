"""Draws docs/screenshots/who-runs-the-checks.png: Settings → Who runs the checks with a node
filled in and its error under the token, from the real widget over a throw-away database
(nothing is contacted). Run it like scripts/screenshots:
`xvfb-run -a uv run python -m tests.gui.who_runs_checks_screenshot`."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from tests.gui.demo_screenshots import grab
from tests.gui.memory_keyring import MemoryKeyring
from vpshealth.app import build_core
from vpshealth.config import Settings
from vpshealth.gui.context import GuiContext
from vpshealth.gui.tasks import TaskRunner
from vpshealth.gui.who_runs_checks import WhoRunsTheChecks
from vpshealth.secrets import SecretStore


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory() as home:
        core = build_core(Settings(home=Path(home)), secrets=SecretStore(MemoryKeyring()))
        ctx = GuiContext(core, TaskRunner())
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)

        async def shoot() -> None:
            page = WhoRunsTheChecks(ctx)
            await page.load()
            page.node.setChecked(True)
            page.address.setText("root@node.example.com")
            page.key_file.setText("~/.ssh/id_ed25519")
            await page.connect_node()  # no token: its line shows under the field
            page.setFixedWidth(620)
            page.adjustSize()
            page.show()
            await asyncio.sleep(0.3)
            grab(page, out / "who-runs-the-checks.png")
            page.close()
            await ctx.tasks.cancel_all()

        with loop:
            loop.run_until_complete(shoot())
        core.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
