"""A TCP listener that accepts connections and never sends a byte (handshake timeouts)."""

from __future__ import annotations

import socket
import threading


class HungListener:
    """Accepts on 127.0.0.1:<free port> in a thread and holds every connection silently."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(64)
        self._sock.settimeout(0.05)  # lets the thread notice close() promptly
        self.port: int = self._sock.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hung-listener", daemon=True)
        self._thread.start()

    @property
    def accepted(self) -> int:
        """How many connections were accepted so far."""
        with self._lock:
            return len(self._conns)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            for conn in self._conns:
                conn.close()
        self._sock.close()
