"""Several worker processes, with the connections dealt out to them in turn.

Why not uvicorn's own ``--workers``: its workers share one listening socket, and the worker that
wakes first accepts every connection waiting, so a client with a few keep-alive connections (a
reverse proxy's small pool, a benchmark's two) often has all of them on one worker while the
others idle; measured here, two workers then answer no faster than one. Instead, the parent
process accepts, sets ``TCP_NODELAY`` (uvicorn issue #3149, see ``run.py``) and hands each
connection to the next worker over a Unix socket (``SCM_RIGHTS``); each worker runs a uvicorn
server on the connections it is handed, with its own app from ``create_app``. A worker that dies
is replaced. SIGINT or SIGTERM stops the workers gracefully (uvicorn finishes what is running).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import selectors
import signal
import socket
import sys
import threading
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger("uvicorn.error")

#: uvicorn's exit status when the app's startup fails.
STARTUP_FAILURE = 3
#: Seconds a stopping worker gets to finish before it is killed.
STOP_GRACE = 30.0


class _HandedServer(uvicorn.Server):
    """A uvicorn server that listens on nothing: it serves the connections sent to ``channel``."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket) -> None:
        super().__init__(config)
        self.channel = channel
        self._pending: set[asyncio.Task[Any]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)
        config = self.config

        def create_protocol(_loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Protocol:
            protocol: asyncio.Protocol = config.http_protocol_class(  # type: ignore[call-arg]
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=_loop,
            )
            return protocol

        loop = asyncio.get_running_loop()
        self.servers = []
        self.channel.setblocking(False)

        def receive() -> None:
            while True:
                try:
                    data, fds, _, _ = socket.recv_fds(self.channel, 16, 16)
                except BlockingIOError:
                    return
                if not data and not fds:  # the parent has gone: stop as on a signal
                    loop.remove_reader(self.channel.fileno())
                    self.should_exit = True
                    return
                for fd in fds:
                    conn = socket.socket(fileno=fd)
                    task = loop.create_task(loop.connect_accepted_socket(create_protocol, conn))
                    self._pending.add(task)
                    task.add_done_callback(self._pending.discard)

        loop.add_reader(self.channel.fileno(), receive)
        self.started = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(self.channel.fileno())
        await super().shutdown(sockets)


def _work(config: uvicorn.Config, channel: socket.socket) -> None:
    """A worker process's life (the target of a spawned process)."""
    _HandedServer(config, channel).run()


class Balancer:
    """Accepts on ``sock`` and deals the connections to ``workers`` processes in turn."""

    def __init__(self, config: uvicorn.Config, sock: socket.socket, workers: int) -> None:
        self.config = config
        self.sock = sock
        self.size = workers
        self.workers: list[tuple[SpawnProcess, socket.socket]] = []
        self.stop = threading.Event()
        self.next = 0

    def _spawn(self) -> tuple[SpawnProcess, socket.socket]:
        # Datagrams in order: one connection per message, never two merged into one read.
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = multiprocessing.get_context("spawn").Process(
            target=_work, args=(self.config, theirs), name="sinlod-worker"
        )
        process.start()
        theirs.close()
        log.info("Started worker process [%s]", process.pid)
        return process, ours

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop.set()

    def run(self) -> None:
        self.sock.listen(self.config.backlog)
        self.sock.setblocking(False)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        self.workers = [self._spawn() for _ in range(self.size)]
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_READ)
            try:
                while not self.stop.is_set():
                    if selector.select(timeout=0.5):
                        self._accept_waiting()
                    self._replace_dead()
            finally:
                self._stop_workers()

    def _accept_waiting(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return
            except OSError as exc:  # out of file descriptors, a reset before accept, ...
                log.warning("accept failed: %s", exc)
                return
            with conn:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._hand(conn)

    def _hand(self, conn: socket.socket) -> None:
        """To the next worker; past a dead one (replaced) to the one after."""
        for _ in range(self.size):
            index = self.next
            self.next = (self.next + 1) % self.size
            process, channel = self.workers[index]
            try:
                socket.send_fds(channel, [b"c"], [conn.fileno()])
                return
            except OSError:
                self._replace(index)
        log.error("no worker took the connection: closed")

    def _replace_dead(self) -> None:
        for index, (process, _) in enumerate(self.workers):
            if not process.is_alive() and not self.stop.is_set():
                self._replace(index)

    def _replace(self, index: int) -> None:
        process, channel = self.workers[index]
        log.warning("worker [%s] ended (exit code %s): replaced", process.pid, process.exitcode)
        channel.close()
        process.join(timeout=1)
        self.workers[index] = self._spawn()

    def _stop_workers(self) -> None:
        for process, channel in self.workers:
            channel.close()  # an idle worker stops when its channel closes
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        for process, _ in self.workers:
            process.join(timeout=STOP_GRACE)
            if process.is_alive():
                process.kill()
                process.join()
