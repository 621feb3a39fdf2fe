"""One app per user and data folder: a second start asks the first to show its window."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

RAISE = b"raise\n"
CONNECT_MS = 1000


def server_name(data_dir: Path) -> str:
    """Per user and data folder. Windows has no user IDs, but there the data folder lies in
    the user's profile, so it alone tells users apart."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    getuid = getattr(os, "getuid", None)
    return f"vpshealth-{getuid()}-{digest}" if getuid is not None else f"vpshealth-{digest}"


def ask_running_instance(name: str) -> bool:
    """True when another instance listens under ``name`` and was asked to show its window."""
    socket = QLocalSocket()
    try:
        socket.connectToServer(name)
        if not socket.waitForConnected(CONNECT_MS):
            return False
        socket.write(RAISE)
        socket.waitForBytesWritten(CONNECT_MS)
        socket.disconnectFromServer()
        if socket.state() is not QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(CONNECT_MS)
        return True
    finally:
        socket.abort()


class SingleInstance(QObject):
    raise_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._clients: list[QLocalSocket] = []

    def listen(self) -> bool:
        if self._server.listen(self._name):
            return True
        # A server left behind by a crashed instance: nobody answered, so take it over.
        QLocalServer.removeServer(self._name)
        return self._server.listen(self._name)

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.setParent(self)
            self._clients.append(socket)
            socket.readyRead.connect(self._read_all)

    def _read_all(self) -> None:
        for socket in list(self._clients):
            if socket.bytesAvailable() and bytes(socket.readAll().data()).startswith(RAISE.strip()):
                self.raise_requested.emit()
            if socket.state() is QLocalSocket.LocalSocketState.UnconnectedState:
                self._clients.remove(socket)
                socket.deleteLater()
