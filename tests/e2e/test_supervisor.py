"""`sinlod serve` supervises its workers, with one worker too (issue 13, item 2): a worker that
crashes is replaced by the warm spare at once, and the other workers' clients never notice; a
worker that is recycled after a runaway query closes its keep-alive connections without an error
reaching the client."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest

from sinlod.config import Settings
from tests.e2e.serving import sinlod_serve, wait_idle, workers_of

pytestmark = pytest.mark.slow

LOOKUP = (
    "CONSTRUCT { <https://w3id.org/sinlod/id/organisation/drift> ?p ?o }"
    " WHERE { <https://w3id.org/sinlod/id/organisation/drift> ?p ?o }"
)
RUNAWAY = "SELECT (COUNT(*) AS ?n) {?a ?b ?c . ?d ?e ?f . ?g ?h ?i}"


def _worker(client: httpx.Client) -> int:
    """The pid of the worker behind the client's (keep-alive) connection."""
    r = client.get("/healthz")
    assert r.status_code == 200
    pid = r.json()["worker"]
    assert isinstance(pid, int)
    return pid


def _replaced(pid: int, count: int, victim: int, timeout: float = 60.0) -> set[int]:
    """Wait until the supervisor has ``count`` workers again, ``victim`` not among them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = workers_of(pid)
        if len(now) == count and victim not in now:
            return now
        time.sleep(0.1)
    pytest.fail(f"worker {victim} was not replaced: {workers_of(pid)}")


def test_one_worker_that_segfaults_is_replaced_at_once(shipped_settings: Settings) -> None:
    with sinlod_serve(shipped_settings, workers=1) as (url, proc):
        wait_idle(proc.pid)
        assert len(workers_of(proc.pid)) == 2  # the worker and its warm spare
        with httpx.Client(base_url=f"http://{url}", timeout=10) as client:
            victim = _worker(client)
        os.kill(victim, signal.SIGSEGV)
        started = time.monotonic()
        while True:  # new connections: refused or unanswered until a worker serves them
            try:
                with httpx.Client(base_url=f"http://{url}", timeout=10) as client:
                    successor = _worker(client)
                    break
            except httpx.TransportError:
                assert time.monotonic() - started < 5, "nothing answers after the crash"
        answered_after = time.monotonic() - started
        assert successor != victim
        # The spare took over (no start-up to wait for), and a new spare is started.
        assert answered_after < 1.0, answered_after
        _replaced(proc.pid, 2, victim)
        with httpx.Client(base_url=f"http://{url}", timeout=10) as client:
            r = client.get("/sparql", params={"query": LOOKUP}, headers={"Accept": "text/turtle"})
            assert r.status_code == 200
            assert b"drift" in r.content
        assert proc.poll() is None


def test_the_other_workers_clients_do_not_notice_a_crash(shipped_settings: Settings) -> None:
    with sinlod_serve(shipped_settings, workers=2) as (url, proc):
        wait_idle(proc.pid)
        failures: list[str] = []
        answered = 0
        with (
            httpx.Client(base_url=f"http://{url}", timeout=10) as first,
            httpx.Client(base_url=f"http://{url}", timeout=10) as second,
        ):
            mine, other = _worker(first), _worker(second)
            assert mine != other  # dealt in turn
            os.kill(other, signal.SIGSEGV)
            until = time.monotonic() + 2.0
            while time.monotonic() < until:
                r = first.get(
                    "/sparql", params={"query": LOOKUP}, headers={"Accept": "text/turtle"}
                )
                if r.status_code != 200:
                    failures.append(f"{r.status_code}: {r.text[:200]}")
                answered += 1
            assert _worker(first) == mine  # the same connection, the same worker, all along
        assert failures == []
        assert answered > 20
        _replaced(proc.pid, 3, other)
        # Every new connection is answered, whichever worker it is dealt to.
        for _ in range(4):
            with httpx.Client(base_url=f"http://{url}", timeout=10) as client:
                assert _worker(client) != other


def test_a_keep_alive_client_follows_its_worker_into_retirement(
    shipped_settings: Settings,
) -> None:
    """One worker; a client on a keep-alive connection keeps asking while another client's
    runaway query makes that worker retire. Its connection is closed between two answers and
    the client's next request goes, on a new connection, to the spare: no error."""
    env = {"SINLOD_QUERY_TIMEOUT": "1", "SINLOD_QUERY_CACHE_ENTRIES": "0"}
    with sinlod_serve(shipped_settings, workers=1, env=env) as (url, proc):
        wait_idle(proc.pid)
        failures: list[str] = []
        stop = threading.Event()
        seen: set[int] = set()

        def ask() -> None:
            with httpx.Client(base_url=f"http://{url}", timeout=10) as client:
                while not stop.is_set():
                    try:
                        seen.add(_worker(client))
                        r = client.get(
                            "/sparql", params={"query": LOOKUP}, headers={"Accept": "text/turtle"}
                        )
                        if r.status_code != 200:
                            failures.append(f"{r.status_code}: {r.text[:200]}")
                    except (httpx.HTTPError, AssertionError) as exc:
                        failures.append(repr(exc))

        thread = threading.Thread(target=ask, daemon=True)
        thread.start()
        try:
            time.sleep(0.3)
            r = httpx.get(f"http://{url}/sparql", params={"query": RUNAWAY}, timeout=30)
            assert r.status_code == 503
            assert r.json()["code"] == "query-timeout"
            time.sleep(1.5)
        finally:
            stop.set()
            thread.join(timeout=15)
        assert failures == []
        assert len(seen) == 2  # the retired worker, then the spare that replaced it
