"""The channel form builds the right Apprise URL for each service, refuses a field that is
wrong on the spot, and the Settings list adds, switches, tests and removes channels, with
only the masked URL shown."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.gui.conftest import Loop
from tests.gui.memory_keyring import MemoryKeyring
from tests.gui.palettes import dark_palette
from vpshealth.gui.channel_form import ChannelForm, ChannelsBox
from vpshealth.gui.channel_urls import ChannelFields, ChannelKind, FormError, build_url
from vpshealth.gui.colours import TEXT_TONES, Scheme, Tone
from vpshealth.gui.context import GuiContext
from vpshealth.secrets import SERVICE


@pytest.mark.parametrize(
    ("kind", "fields", "url"),
    [
        (ChannelKind.NTFY, ChannelFields(topic="vps-7f3a"), "ntfys://ntfy.sh/vps-7f3a"),
        (ChannelKind.NTFY,
         ChannelFields(server="http://10.0.0.5:8080/", topic="ops", token="tk_abc"),
         "ntfy://tk_abc@10.0.0.5:8080/ops"),
        (ChannelKind.TELEGRAM, ChannelFields(token="123456:ABC-def", chat_id="-100200"),
         "tgram://123456:ABC-def/-100200"),
        (ChannelKind.DISCORD,
         ChannelFields(webhook="https://discord.com/api/webhooks/1234/abc-DEF_9"),
         "discord://1234/abc-DEF_9"),
        (ChannelKind.SLACK,
         ChannelFields(webhook="https://hooks.slack.com/services/T01/B02/XyZ123"),
         "slack://T01/B02/XyZ123"),
        (ChannelKind.WEBHOOK, ChannelFields(webhook="https://example.com/alerts?x=1"),
         "jsons://example.com/alerts?x=1"),
        (ChannelKind.WEBHOOK, ChannelFields(webhook="http://127.0.0.1:9000/in"),
         "json://127.0.0.1:9000/in"),
        (ChannelKind.APPRISE, ChannelFields(url=" pover://user@token "), "pover://user@token"),
    ],
)  # fmt: skip
def test_each_short_form_builds_its_apprise_url(
    kind: ChannelKind, fields: ChannelFields, url: str
) -> None:
    assert build_url(kind, fields) == url


@pytest.mark.parametrize(
    ("kind", "fields", "field"),
    [
        (ChannelKind.NTFY, ChannelFields(topic="two words"), "topic"),
        (ChannelKind.NTFY, ChannelFields(server="ntfy.sh", topic="t"), "server"),
        (ChannelKind.TELEGRAM, ChannelFields(token="nope", chat_id="1"), "token"),
        (ChannelKind.TELEGRAM, ChannelFields(token="1:a", chat_id="x y"), "chat_id"),
        (ChannelKind.DISCORD, ChannelFields(webhook="https://example.com/x"), "webhook"),
        (ChannelKind.SLACK, ChannelFields(webhook="slack://a/b/c"), "webhook"),
        (ChannelKind.WEBHOOK, ChannelFields(webhook="ftp://example.com"), "webhook"),
        (ChannelKind.APPRISE, ChannelFields(url="nothing"), "url"),
    ],
)
def test_a_wrong_field_is_named(kind: ChannelKind, fields: ChannelFields, field: str) -> None:
    with pytest.raises(FormError) as caught:
        build_url(kind, fields)
    assert caught.value.field == field


def test_the_form_adds_a_telegram_channel_with_its_url_in_the_keyring(
    ctx: GuiContext, loop: Loop, qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    form = ChannelForm(ctx)
    qtbot.addWidget(form)
    form.name.setText("team")
    form.select_kind(ChannelKind.TELEGRAM)
    form.bot_token.setText("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
    form.chat_id.setText("x y")
    assert loop.run(form.add()) is None
    assert form.errors["telegram.chat_id"].isVisibleTo(form)
    form.chat_id.setText("-100200300")
    record = loop.run(form.add())
    assert record is not None
    assert (record.name, record.service, record.masked_url) == (
        "team",
        "Telegram",
        "tgram://1…w/-100200300",
    )
    assert memory_keyring.get_password(SERVICE, record.secret_ref) == (
        "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100200300"
    )


def test_a_url_apprise_refuses_is_shown_and_nothing_saved(
    ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    form = ChannelForm(ctx)
    qtbot.addWidget(form)
    form.name.setText("odd")
    form.select_kind(ChannelKind.APPRISE)
    form.apprise_url.setText("bogus://example.com")
    assert loop.run(form.add()) is None
    assert "channel odd: invalid URL: bogus:// is not a service" in form.message.text()
    assert ctx.core.operations.channels.list() == []


def test_the_settings_list_switches_tests_and_removes(
    ctx: GuiContext, loop: Loop, qtbot: QtBot
) -> None:
    ctx.core.operations.channels.add("hook", "json://127.0.0.1:9/hook")
    box = ChannelsBox(ctx)
    qtbot.addWidget(box)
    loop.run(box.load())
    assert box.list.count() == 1
    assert box.list.item(0).text() == "hook — JSON: json://127.0.0.1:9/hook, warning and worse"
    box.list.setCurrentRow(0)
    loop.run(box.switch(False))
    assert box.list.item(0).text().endswith("(off)")
    assert not ctx.core.operations.channels.get("hook").enabled
    assert not loop.run(box.test())
    assert box.status.text().startswith("channel hook: the test was not sent")
    loop.run(box.remove())
    assert box.list.count() == 0
    assert ctx.core.operations.channels.list() == []


def test_its_errors_are_readable_on_a_dark_palette(ctx: GuiContext, qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = QPalette(app.palette())
    app.setPalette(dark_palette())
    try:
        form = ChannelForm(ctx)
        qtbot.addWidget(form)
        assert TEXT_TONES[Scheme.DARK][Tone.CRITICAL] in form.message.styleSheet()
    finally:
        app.setPalette(before)
    light = ChannelForm(ctx)
    qtbot.addWidget(light)
    assert TEXT_TONES[Scheme.LIGHT][Tone.CRITICAL] in light.message.styleSheet()
