"""Running the app under uvicorn: what ``sinlod serve`` calls.

Always under the supervisor (``balancer.Balancer``), with one worker too: it binds the listening
socket, deals the connections to the worker processes and replaces a worker that dies (a crash
inside pyoxigraph) or retires (a query past its limits, ``watchdog.py``). The socket is bound with
protocol ``IPPROTO_TCP``: uvicorn's own ``Config.bind_socket`` leaves it at 0, and accepted
connections then never get ``TCP_NODELAY``, so every keep-alive request after the first waits
~40 ms for a delayed ACK on Linux, uvicorn issue #3149. Each worker builds its own app from the
same settings (``create_app`` is the factory).
"""

from __future__ import annotations

import functools
import socket

import uvicorn

from sinlod.config import Settings
from sinlod.server.app import create_app, open_store
from sinlod.server.operations.balancer import Balancer


def check_store(settings: Settings) -> None:
    """Open and close the store once, so a broken store is reported before uvicorn starts.

    Raises ``StoreError`` naming the path and the problem.
    """
    open_store(settings).close()


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket whose accepted connections get ``TCP_NODELAY`` (see above)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, *, workers: int = 1, log_level: str = "info") -> None:
    """Serve ``settings.store_path`` on ``settings.host``:``settings.port`` until interrupted."""
    config = uvicorn.Config(
        functools.partial(create_app, settings),
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=log_level,
        access_log=settings.access_log,
        proxy_headers=True,
        server_header=False,  # no need to tell the world which server version answers
    )
    sock = bind_socket(settings.host, settings.port)
    try:
        Balancer(
            config,
            sock,
            workers,
            memory_limit=settings.worker_memory_limit * 1_000_000,
            warm_spare=settings.warm_spare,
            drain=settings.drain_seconds,
        ).run()
    finally:
        sock.close()
