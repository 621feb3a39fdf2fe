"""Draws docs/screenshots/channel-form.png: the Add-a-channel form (ntfy) over the Settings'
channel list, from the real widgets over a throw-away database (nothing is contacted). Run it
like scripts/screenshots: `xvfb-run -a uv run python -m tests.gui.channel_form_screenshot`."""

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
from vpshealth.gui.channel_form import ChannelForm
from vpshealth.gui.channel_urls import ChannelKind
from vpshealth.gui.context import GuiContext
from vpshealth.gui.tasks import TaskRunner
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
            form = ChannelForm(ctx)
            form.name.setText("phone")
            form.select_kind(ChannelKind.NTFY)
            form.topic.setText("vps-alerts-7f3a9c")
            form.ntfy_token.setText("tk_0123456789abcdef")
            form.resize(520, form.sizeHint().height())
            form.show()
            await asyncio.sleep(0.3)
            grab(form, out / "channel-form.png")
            form.close()
            await ctx.tasks.cancel_all()

        with loop:
            loop.run_until_complete(shoot())
        core.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
