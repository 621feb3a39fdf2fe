"""The Windows application ID is set through shell32 on Windows and nowhere else. Windows's
shell32 cannot be had here: a stand-in records the call and answers with the HRESULTs that
SetCurrentProcessExplicitAppUserModelID documents (0 for S_OK, E_INVALIDARG otherwise)."""

from __future__ import annotations

import ctypes
import types

import pytest

from vpshealth import APP_ID
from vpshealth.gui.windows_app_id import claim_windows_app_id

E_INVALIDARG = 0x80070057


class Shell32:
    def __init__(self, answer: int) -> None:
        self.answer = answer
        self.calls: list[str] = []

    def SetCurrentProcessExplicitAppUserModelID(self, app_id: str) -> int:
        self.calls.append(app_id)
        return self.answer


def test_elsewhere_nothing_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    shell32 = Shell32(0)
    monkeypatch.setattr(ctypes, "windll", types.SimpleNamespace(shell32=shell32), raising=False)
    assert claim_windows_app_id(APP_ID, platform="linux") is False
    assert claim_windows_app_id(APP_ID, platform="darwin") is False
    assert shell32.calls == []


def test_on_windows_the_app_id_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    shell32 = Shell32(0)
    monkeypatch.setattr(ctypes, "windll", types.SimpleNamespace(shell32=shell32), raising=False)
    assert claim_windows_app_id(APP_ID, platform="win32") is True
    assert shell32.calls == ["io.vpshealth.VPSHealth"]


def test_a_refusal_is_logged_and_the_app_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shell32 = Shell32(E_INVALIDARG)
    monkeypatch.setattr(ctypes, "windll", types.SimpleNamespace(shell32=shell32), raising=False)
    assert claim_windows_app_id(APP_ID, platform="win32") is False
    assert "HRESULT 0x80070057" in caplog.text


def test_without_windll_it_is_logged_and_the_app_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delattr(ctypes, "windll", raising=False)
    assert claim_windows_app_id(APP_ID, platform="win32") is False
    assert "Could not set the Windows application ID" in caplog.text
