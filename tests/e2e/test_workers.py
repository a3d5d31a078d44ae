"""`sinlod serve --workers 2` as a user runs it: connections dealt to both workers, a dead worker
replaced, a clean stop on SIGTERM."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sinlod.config import Settings
from sinlod.server.run import bind_socket
from tests.e2e.conftest import wait_until_responds

COUNT = re.compile(
    r'sinlod_http_requests_total\{route="/healthz",method="GET",status="200"\} (\d+)'
)


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _workers(pid: int) -> set[int]:
    """The worker processes (spawned children that are not multiprocessing's helpers)."""
    out = set()
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            out.add(child)
    return out


@pytest.fixture
def two_workers(shipped_settings: Settings) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    with bind_socket("127.0.0.1", 0) as probe:
        port = probe.getsockname()[1]
    env = {**os.environ, "SINLOD_CONFIG": os.devnull, "SINLOD_ACCESS_LOG": "false"}
    command = [
        sys.executable,
        "-m",
        "sinlod.cli",
        "serve",
        "--store",
        str(shipped_settings.store_path),
    ]
    proc = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"127.0.0.1:{port}"
    try:
        wait_until_responds(f"http://{url}/healthz", timeout=60)
        yield url, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.stderr is not None
        proc.stderr.close()


def _get(conn: http.client.HTTPConnection, path: str) -> str:
    conn.request("GET", path)
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
            _get(first, "/healthz")
        for _ in range(7):
            _get(second, "/healthz")
        after = (_count(first), _count(second))
    finally:
        first.close()
        second.close()
    # Each worker counts only its own requests: one process behind both connections would
    # show 12 new requests on each.
    assert (after[0] - before[0], after[1] - before[1]) == (5, 7)
    assert len(_workers(proc.pid)) == 2


def test_a_dead_worker_is_replaced_and_sigterm_stops_all(
    two_workers: tuple[str, subprocess.Popen[bytes]],
) -> None:
    url, proc = two_workers
    host, port = url.split(":")
    before = _workers(proc.pid)
    assert len(before) == 2
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = _workers(proc.pid)
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"worker {victim} was not replaced: {_workers(proc.pid)}")
    # Every connection is answered, whichever worker it is dealt to (the new one too).
    for _ in range(4):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("GET", "/healthz")
        assert conn.getresponse().status == 200
        conn.close()
    workers = _workers(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=40) == 0
    for pid in workers:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        )
