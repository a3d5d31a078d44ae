"""What a worker does about a query it cannot stop: it answers, then gets itself replaced.

pyoxigraph 0.5 cannot cancel a query. An ORDER BY, an aggregate or a join computes without
writing a row for as long as its input lasts (a three-way cartesian product of 3,654 triples:
4.9e10 rows), in a thread that nothing in Python can end, holding memory that grows by hundreds
of MB a second. So the decision (issue 13) is **worker recycling** rather than evaluation in
killable processes: a process per query would cost every query a hop to another process and a
copy of its results, and the endpoint's memory copy of the release would have to be shared or
duplicated; recycling costs normal queries nothing, and an overrun costs one worker start in the
background.

The pieces:

* ``execute.run_query`` answers a query that passes ``query_timeout`` (503 ``query-timeout``) or
  makes the worker's resident memory pass ``worker_memory_limit`` (503 ``memory-limit``) itself,
  and then calls ``retire``. That is all that happens in-process (the app under httpx in tests, or
  embedded in another server without the supervisor): the error is still answered, and the
  abandoned evaluation runs on in its thread until Oxigraph returns, because only ending the
  process ends it.
* Under the supervisor (``sinlod serve``, ``balancer.py``), each worker installs a ``Watchdog``.
  ``retire`` tells the supervisor, which stops dealing connections to the worker at once and puts
  its warm spare in its place (or starts a replacement); the worker stops taking connections,
  lets the requests it is answering finish for ``RETIRE_GRACE`` seconds (uvicorn's graceful
  shutdown: idle keep-alive connections are closed, answers in progress end with
  ``Connection: close``), and then ends with ``os._exit``, which ends the runaway thread and
  gives its memory back. The supervisor kills it outright if it is still there ``KILL_AFTER``
  seconds later.
* A thread checks the worker's RSS every ``CHECK_EVERY`` seconds and retires the worker past the
  limit, whatever is using the memory (a query in a thread of its own, a page, a write).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path

log = logging.getLogger("uvicorn.error")

#: Seconds a retiring worker lets its other requests finish before it exits.
RETIRE_GRACE = 1.0
#: Seconds after the retirement notice at which the supervisor kills a worker still running.
KILL_AFTER = RETIRE_GRACE + 1.5
#: Seconds between two looks at the worker's resident memory.
CHECK_EVERY = 0.1

#: Messages on the channel between a worker and the supervisor (besides connections).
READY = b"ready"
RETIRE = b"retire"

_PAGE = os.sysconf("SC_PAGE_SIZE")
_STATM = Path("/proc/self/statm")


def rss() -> int:
    """This process's resident memory in bytes (one small read of ``/proc/self/statm``)."""
    try:
        return int(_STATM.read_bytes().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):  # no /proc (not Linux): no ceiling
        return 0


class Watchdog:
    """The worker side of recycling: tells the supervisor once, then ends the process."""

    def __init__(self, channel: socket.socket, memory_limit: int) -> None:
        self.channel = channel
        self.memory_limit = memory_limit
        self.retiring = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        if self.memory_limit > 0:
            threading.Thread(target=self._watch_memory, name="sinlod-watchdog", daemon=True).start()

    def _watch_memory(self) -> None:
        while not self.retiring.wait(CHECK_EVERY):
            used = rss()
            if used > self.memory_limit:
                self.retire(f"resident memory {used // 1_000_000} MB is over the limit")

    def retire(self, reason: str) -> None:
        """Ask to be replaced and exit ``RETIRE_GRACE`` seconds later at the latest. Idempotent
        and safe from any thread. (The supervisor's answer, ``retired``, makes the server stop
        taking connections: see ``balancer._HandedServer``.)"""
        with self._lock:
            if self.retiring.is_set():
                return
            self.retiring.set()
        log.warning("worker [%s] retiring: %s", os.getpid(), reason)
        try:
            self.channel.send(RETIRE)
        except OSError:  # the supervisor has gone; the exit below still happens
            pass
        timer = threading.Timer(RETIRE_GRACE, exit_now)
        timer.daemon = True
        timer.start()


def exit_now() -> None:
    """End the process without waiting for anything: the runaway thread cannot be joined."""
    logging.shutdown()
    os._exit(0)


_current: Watchdog | None = None


def install(watchdog: Watchdog) -> None:
    """Make ``watchdog`` the one ``retire`` reports to (called once in each supervised worker)."""
    global _current
    _current = watchdog
    watchdog.start()


def retire(reason: str) -> bool:
    """Retire this worker if it runs under the supervisor; False (nothing done) in-process."""
    if _current is None:
        return False
    _current.retire(reason)
    return True
