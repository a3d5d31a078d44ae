"""Hardening fixtures: the server fixtures (a published store, an app, an httpx client) and a
listening socket that counts the connections made to it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from tests.server.conftest import (  # noqa: F401 - fixtures used by the tests of this folder
    AUTH,
    anyio_backend,
    app,
    client,
    published_store,
    server_settings,
    ungated_client,
)


class Listener:
    """A TCP socket on 127.0.0.1 that accepts and counts connections, closing each at once (a
    remote call made to it fails fast instead of waiting)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port: int = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self._stop:
                conn.close()
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        try:  # wake the accept
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            pass
        self.sock.close()
        self._thread.join(timeout=5)


@pytest.fixture
def listener() -> Iterator[Listener]:
    one = Listener()
    try:
        yield one
    finally:
        one.close()
