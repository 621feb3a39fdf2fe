"""Settings → Who runs the checks: connecting to a node checks it first and saves nothing on
an error (one line under the field); going back to this computer forgets the link after a
confirmation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from tests.unit.node_stub import TOKEN, StubNode, stub_node
from vpshealth.app import Core
from vpshealth.gui.context import GuiContext
from vpshealth.gui.who_runs_checks import WhoRunsTheChecks
from vpshealth.sync.node_link import NodeLink


@pytest.fixture
def node() -> Iterator[StubNode]:
    with stub_node() as stub:
        yield stub


def _page(ctx: GuiContext, loop: Loop, qtbot: QtBot, answers: list[bool]) -> WhoRunsTheChecks:
    page = WhoRunsTheChecks(
        ctx,
        confirm_host_key=lambda *_: pytest.fail("no host key to confirm for http"),
        confirm_disconnect=lambda _parent, _link: answers.pop(0),
    )
    qtbot.addWidget(page)
    loop.run(page.load())
    return page


def _shown_errors(page: WhoRunsTheChecks) -> dict[str, str]:
    return {key: label.text() for key, label in page.errors.items() if not label.isHidden()}


def _saved(core: Core) -> NodeLink | None:
    return core.operations.node.current()


def test_this_computer_is_chosen_without_a_link(ctx: GuiContext, loop: Loop, qtbot: QtBot) -> None:
    page = _page(ctx, loop, qtbot, [])
    assert page.this_computer.isChecked()
    assert page.node_fields.isHidden()
    page.node.setChecked(True)
    assert not page.node_fields.isHidden()


def test_a_bad_address_is_one_line_under_the_field_and_nothing_is_saved(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    page = _page(ctx, loop, qtbot, [])
    page.node.setChecked(True)
    page.address.setText("root@node.example.com:99999")
    page.token.setText(TOKEN)
    with qtbot.assertNotEmitted(page.changed):
        assert not loop.run(page.connect_node())
    shown = _shown_errors(page)
    assert list(shown) == ["address"]
    assert "99999" in shown["address"]
    assert "\n" not in shown["address"]
    assert _saved(core) is None


def test_an_empty_token_is_named_under_its_field(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot, node: StubNode
) -> None:
    page = _page(ctx, loop, qtbot, [])
    page.address.setText(node.url)
    assert not loop.run(page.connect_node())
    assert list(_shown_errors(page)) == ["token"]
    assert node.seen == []  # nothing was asked of the node
    assert _saved(core) is None


def test_a_refused_token_is_shown_and_nothing_is_saved(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot, node: StubNode
) -> None:
    page = _page(ctx, loop, qtbot, [])
    page.address.setText(node.url)
    page.token.setText("vph_wrong")
    assert not loop.run(page.connect_node())
    shown = _shown_errors(page)
    assert list(shown) == ["address"]
    assert "refused the token" in shown["address"]
    assert shown["address"].endswith("Nothing was saved.")
    assert _saved(core) is None


def test_connect_then_back_to_this_computer(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot, node: StubNode
) -> None:
    page = _page(ctx, loop, qtbot, [False, True])
    page.node.setChecked(True)
    page.address.setText(node.url)
    page.token.setText(TOKEN)
    with qtbot.waitSignal(page.changed):
        assert loop.run(page.connect_node())
    link = _saved(core)
    assert link is not None
    assert link.address.text == node.url
    assert page.outcome.text() == f"Connected to the node {node.url}, 2 hosts."
    assert page.token.text() == ""
    assert f"The checks run on the node {node.url}" in page.status.text()

    page.this_computer.setChecked(True)  # "no" to the confirmation: the link stays
    loop.run(ctx.tasks.wait_idle())
    assert page.node.isChecked()
    assert _saved(core) is not None

    with qtbot.waitSignal(page.changed):
        page.this_computer.setChecked(True)
        loop.run(ctx.tasks.wait_idle())
    assert _saved(core) is None
    assert page.outcome.text() == f"Forgot the node {node.url}. The local copy is kept."
    assert page.node_fields.isHidden()


def test_taking_over_is_off_by_default_and_the_box_switches_it(
    core: Core, ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    page = _page(ctx, loop, qtbot, [])
    assert not page.take_over.isChecked()
    page.node.setChecked(True)
    page.take_over.setChecked(True)
    loop.run(asyncio.sleep(0.2))
    assert core.operations.node.take_over()
    again = _page(ctx, loop, qtbot, [])
    assert again.take_over.isChecked()
    again.take_over.setChecked(False)
    loop.run(asyncio.sleep(0.2))
    assert not core.operations.node.take_over()
