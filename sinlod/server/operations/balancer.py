"""The supervisor: worker processes, connections dealt to them in turn, dead or retiring ones
replaced. ``sinlod serve`` always runs this, with one worker too.

Why a supervisor even for one worker: a worker can die (a segfault inside pyoxigraph took the
whole server down, issue 13) or have to be recycled (a query that cannot be cancelled,
``watchdog.py``), and the listening socket must outlive it.

Why not uvicorn's own ``--workers``: its workers share one listening socket, and the worker that
wakes first accepts every connection waiting, so a client with a few keep-alive connections (a
reverse proxy's small pool, a benchmark's two) often has all of them on one worker while the
others idle; measured here, two workers then answer no faster than one. Instead, the parent
process accepts, sets ``TCP_NODELAY`` (uvicorn issue #3149, see ``run.py``) and hands each
connection to the next worker over a Unix socket (``SCM_RIGHTS``); each worker runs a uvicorn
server on the connections it is handed, with its own app from ``create_app``.

The channel to a worker carries, besides connections: ``ready`` (worker → parent: the app has
started), ``retire`` (worker → parent: replace me) and ``retired`` (parent → worker: no more
connections will come; everything before it in the channel is still served). With
``warm_spare`` one started, idle worker waits to take the place of a worker that retires or
dies, so the switch costs no start-up (about a second, most of it imports) even with one
worker; the spare is then replaced in the background. A worker that dies is replaced; one
that retired and is still there ``watchdog.KILL_AFTER`` seconds later is killed. SIGINT or
SIGTERM stops the workers gracefully (uvicorn finishes what is running).

With ``drain`` seconds (the ``drain_seconds`` setting), the first SIGTERM or SIGINT does not stop
at once: the parent sends ``drain`` to every worker, which from then on answers ``/healthz`` with
503 and every response with ``Connection: close``, and keeps accepting and serving; when the time
is up it stops as above. A load balancer's health check thus takes the server out while it still
answers everything sent to it, and no request reaches a closed port (``docs/deploy.md``). A second
signal stops at once.
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
import time
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import Any

import uvicorn

from sinlod.server.operations import watchdog

log = logging.getLogger("uvicorn.error")

#: uvicorn's exit status when the app's startup fails.
STARTUP_FAILURE = 3
#: Seconds a stopping worker gets to finish before it is killed.
STOP_GRACE = 30.0
#: Parent → worker: the worker's retirement is noted, no more connections will follow.
RETIRED = b"retired"
#: Parent → worker: the server is stopping after a drain period; fail the health check.
DRAIN = b"drain"
#: Seconds a retired worker leaves its idle keep-alive connections open, so that a client asking
#: again gets its answer with ``Connection: close`` instead of a connection closed under its next
#: request (the race every HTTP/1.1 client can lose when a server closes an idle connection).
IDLE_GRACE = 0.5


class _CloseWhenRetired:
    """ASGI layer: once the worker is retired (or the server drains), every answer says
    ``Connection: close`` (uvicorn then closes the connection after it), so keep-alive clients
    move to the other workers (or, through a load balancer, to the other servers)."""

    def __init__(self, app: Any, server: _HandedServer) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not (self.server.retired or self.server.draining):
            await self.app(scope, receive, send)
            return

        async def closing(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"connection", b"close")]
            await send(message)

        await self.app(scope, receive, closing)


class _HandedServer(uvicorn.Server):
    """A uvicorn server that listens on nothing: it serves the connections sent to ``channel``."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket) -> None:
        super().__init__(config)
        self.channel = channel
        self._pending: set[asyncio.Task[Any]] = set()
        self.retired = False
        self.draining = False

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)
        config = self.config
        config.loaded_app = _CloseWhenRetired(config.loaded_app, self)

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
                for fd in fds:
                    conn = socket.socket(fileno=fd)
                    task = loop.create_task(loop.connect_accepted_socket(create_protocol, conn))
                    self._pending.add(task)
                    task.add_done_callback(self._pending.discard)
                if data == RETIRED:
                    self.retired = True
                if data == DRAIN:
                    # Each request's ``request.state`` is a copy of this: /healthz reads it.
                    self.draining = self.lifespan.state["draining"] = True
                if data == RETIRED or (not data and not fds):
                    # Retired, or the parent has gone: stop as on a signal.
                    loop.remove_reader(self.channel.fileno())
                    self.should_exit = True
                    return

        loop.add_reader(self.channel.fileno(), receive)
        self.started = True
        try:
            self.channel.send(watchdog.READY)
        except OSError:
            self.should_exit = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(self.channel.fileno())
        if not self.retired:
            await super().shutdown(sockets)
            return
        # Retired: finish the answers in progress, then end at once. Not the app's shutdown: the
        # thread of the abandoned query still uses the store, and only the process's end stops
        # it. Connections are not cut at once: for IDLE_GRACE, a client that asks again gets its
        # answer with ``Connection: close``; then idle connections are closed, busy ones close
        # after their answer.
        deadline = loop.time() + IDLE_GRACE
        while self.server_state.connections and loop.time() < deadline:
            await asyncio.sleep(0.02)
        for connection in list(self.server_state.connections):
            connection.shutdown()
        await asyncio.sleep(0.05)
        while self.server_state.connections:  # bounded by the watchdog's exit timer
            await asyncio.sleep(0.05)
        watchdog.exit_now()


def _work(config: uvicorn.Config, channel: socket.socket, memory_limit: int) -> None:
    """A worker process's life (the target of a spawned process)."""
    server = _HandedServer(config, channel)
    watchdog.install(watchdog.Watchdog(channel, memory_limit))
    server.run()
    if server.retired:
        watchdog.exit_now()


@dataclass(eq=False)
class _Worker:
    process: SpawnProcess
    channel: socket.socket
    spawned: float
    ready: bool = False
    retired_at: float | None = None


class Balancer:
    """Accepts on ``sock`` and deals the connections to ``workers`` processes in turn."""

    def __init__(
        self,
        config: uvicorn.Config,
        sock: socket.socket,
        workers: int,
        *,
        memory_limit: int = 0,
        warm_spare: bool = True,
        drain: float = 0.0,
    ) -> None:
        self.config = config
        self.sock = sock
        self.size = workers
        self.memory_limit = memory_limit
        self.warm_spare = warm_spare
        self.serving: list[_Worker] = []
        self.spare: _Worker | None = None
        self.retiring: list[_Worker] = []
        self.stop = threading.Event()
        self.drain = drain
        #: When the drain period ends (monotonic); None: not draining.
        self.draining_until: float | None = None
        self.drain_sent: set[_Worker] = set()
        self.next = 0
        self.failed = False
        self.selector = selectors.DefaultSelector()

    def _spawn(self) -> _Worker:
        # Datagrams in order: one connection per message, never two merged into one read.
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = multiprocessing.get_context("spawn").Process(
            target=_work, args=(self.config, theirs, self.memory_limit), name="sinlod-worker"
        )
        process.start()
        theirs.close()
        ours.setblocking(False)
        worker = _Worker(process, ours, time.monotonic())
        self.selector.register(ours, selectors.EVENT_READ, worker)
        log.info("Started worker process [%s]", process.pid)
        return worker

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.drain > 0 and self.draining_until is None:
            self.draining_until = time.monotonic() + self.drain
        else:
            self.stop.set()

    def _keep_draining(self) -> None:
        """Tell every worker (one that started meanwhile too) to drain; stop when time is up."""
        if self.draining_until is None:
            return
        if not self.drain_sent:
            log.info("Draining for %.1f s: /healthz answers 503, then stopping", self.drain)
        for worker in [*self.serving, *([self.spare] if self.spare else [])]:
            if worker.ready and worker not in self.drain_sent:
                try:
                    worker.channel.send(DRAIN)
                    self.drain_sent.add(worker)
                except OSError:
                    pass  # gone: replaced, and the new one is told when ready
        if time.monotonic() >= self.draining_until:
            self.stop.set()

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM. Raises ``SystemExit(3)`` when a worker cannot start."""
        self.sock.listen(self.config.backlog)
        self.sock.setblocking(False)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        self.serving = [self._spawn() for _ in range(self.size)]
        if self.warm_spare:
            self.spare = self._spawn()
        self.selector.register(self.sock, selectors.EVENT_READ)
        try:
            while not self.stop.is_set():
                for key, _ in self.selector.select(timeout=0.1):
                    if key.fileobj is self.sock:
                        self._accept_waiting()
                    else:
                        self._from_worker(key.data)
                self._look_after()
                self._keep_draining()
        finally:
            self._stop_workers()
            self.selector.close()
        if self.failed:
            raise SystemExit(STARTUP_FAILURE)

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
        """To the next serving worker; past a dead one (replaced) to the one after."""
        for _ in range(self.size):
            index = self.next % self.size
            self.next = index + 1
            worker = self.serving[index]
            try:
                socket.send_fds(worker.channel, [b"c"], [conn.fileno()])
                return
            except BlockingIOError:  # its backlog is full (a busy worker): the next one
                continue
            except OSError:
                self._lost(worker)
        log.error("no worker took the connection: closed")

    def _from_worker(self, worker: _Worker) -> None:
        while True:
            try:
                data = worker.channel.recv(64)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:  # the worker has gone
                self._lost(worker)
                return
            if data == watchdog.READY:
                worker.ready = True
                log.info(
                    "Worker [%s] ready in %.2f s",
                    worker.process.pid,
                    time.monotonic() - worker.spawned,
                )
            elif data == watchdog.RETIRE:
                self._retire(worker)

    def _take_place(self, worker: _Worker) -> None:
        """Put the spare (or a new worker) in ``worker``'s place among the serving ones."""
        if worker not in self.serving:
            if worker is self.spare:
                self.spare = None
            return
        index = self.serving.index(worker)
        if self.spare is not None and self.spare.process.is_alive():
            self.serving[index], self.spare = self.spare, None
        else:
            self.serving[index] = self._spawn()

    def _retire(self, worker: _Worker) -> None:
        if worker.retired_at is not None:
            return
        self._take_place(worker)
        worker.retired_at = time.monotonic()
        self.retiring.append(worker)
        log.warning("worker [%s] retires: replaced", worker.process.pid)
        try:
            worker.channel.send(RETIRED)
        except OSError:
            pass

    def _lost(self, worker: _Worker) -> None:
        """A worker whose process or channel has ended: replaced, and its remains collected."""
        try:
            self.selector.unregister(worker.channel)
        except (KeyError, ValueError):
            return  # already handled
        worker.channel.close()
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)
        if worker in self.retiring:
            self.retiring.remove(worker)
            return
        code = worker.process.exitcode
        if code == STARTUP_FAILURE and not worker.ready:
            log.error("worker [%s] could not start the app: stopping", worker.process.pid)
            self.failed = True
            self.stop.set()
            return
        log.warning("worker [%s] ended (exit code %s): replaced", worker.process.pid, code)
        if self.stop.is_set():
            return
        self._take_place(worker)

    def _look_after(self) -> None:
        """Dead workers replaced, overdue retirees killed, the spare kept."""
        if self.stop.is_set():
            return
        for worker in [*self.serving, *([self.spare] if self.spare else [])]:
            if not worker.process.is_alive():
                self._lost(worker)
        now = time.monotonic()
        for worker in list(self.retiring):
            if not worker.process.is_alive():
                self._lost(worker)
            elif worker.retired_at is not None and now - worker.retired_at > watchdog.KILL_AFTER:
                log.warning("worker [%s] did not end after retiring: killed", worker.process.pid)
                self._lost(worker)
        if self.warm_spare and self.spare is None and not self.stop.is_set():
            self.spare = self._spawn()

    def _stop_workers(self) -> None:
        everyone = [*self.serving, *self.retiring, *([self.spare] if self.spare else [])]
        for worker in everyone:
            worker.channel.close()  # an idle worker stops when its channel closes
            if worker.process.is_alive():
                worker.process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        deadline = time.monotonic() + STOP_GRACE
        for worker in everyone:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
