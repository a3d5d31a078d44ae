"""`sinlod serve --workers 2` as a user runs it: connections dealt to both workers (the warm spare
gets none), a dead worker replaced, a clean stop on SIGTERM."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sinlod.config import Settings
from tests.e2e.serving import sinlod_serve, workers_of

# HEAD, which only this test sends: the start-up probe's GETs of /healthz may still be counted
# late (a probe that timed out on a busy machine is answered after all).
COUNT = re.compile(
    r'sinlod_http_requests_total\{route="/healthz",method="HEAD",status="200"\} (\d+)'
)


@pytest.fixture
def two_workers(shipped_settings: Settings) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    with sinlod_serve(shipped_settings, workers=2) as served:
        yield served


def _get(conn: http.client.HTTPConnection, path: str, method: str = "GET") -> str:
    conn.request(method, path)
    response = conn.getresponse()
    assert response.status == 200
    return response.read().decode()


def _count(conn: http.client.HTTPConnection) -> int:
    """How many ``/healthz`` requests the worker behind this connection has answered."""
    found = COUNT.search(_get(conn, "/metrics"))
    return int(found.group(1)) if found else 0


def test_two_connections_go_to_two_workers(
    two_workers: tuple[str, subprocess.Popen[bytes]],
) -> None:
    url, proc = two_workers
    host, port = url.split(":")
    first = http.client.HTTPConnection(host, int(port), timeout=30)
    second = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        before = (_count(first), _count(second))  # both workers are up and answering now
        for _ in range(5):
            _get(first, "/healthz", "HEAD")
        for _ in range(7):
            _get(second, "/healthz", "HEAD")
        after = (_count(first), _count(second))
    finally:
        first.close()
        second.close()
    # Each worker counts only its own requests: one process behind both connections would
    # show 12 new requests on each.
    assert (after[0] - before[0], after[1] - before[1]) == (5, 7)
    assert len(workers_of(proc.pid)) == 3  # two serving, one warm spare


def test_a_dead_worker_is_replaced_and_sigterm_stops_all(
    two_workers: tuple[str, subprocess.Popen[bytes]],
) -> None:
    url, proc = two_workers
    host, port = url.split(":")
    before = workers_of(proc.pid)
    assert len(before) == 3  # two serving, one warm spare
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = workers_of(proc.pid)
        if len(now) == 3 and victim not in now:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"worker {victim} was not replaced: {workers_of(proc.pid)}")
    # Every connection is answered, whichever worker it is dealt to (the new one too).
    for _ in range(4):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("GET", "/healthz")
        assert conn.getresponse().status == 200
        conn.close()
    workers = workers_of(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=40) == 0
    for pid in workers:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        )
