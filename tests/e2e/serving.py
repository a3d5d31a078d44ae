"""`sinlod serve` as a user runs it (the real CLI in a subprocess), and what /proc says about it.

Shared by the tests of the supervisor, the workers and the query limits: they start the server,
find its worker processes (spawned children of the supervisor) and read their CPU time and RSS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sinlod.config import Settings
from sinlod.server.operations.run import bind_socket
from tests.e2e.conftest import wait_until_responds

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@contextmanager
def sinlod_serve(
    settings: Settings, *, workers: int = 1, env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``sinlod serve --workers N`` on a free port; yields ``host:port`` and the process, and
    kills its whole process group at the end."""
    with bind_socket("127.0.0.1", 0) as probe:
        port = probe.getsockname()[1]
    full_env = {
        **os.environ,
        "SINLOD_CONFIG": os.devnull,
        "SINLOD_ACCESS_LOG": "false",
        **(env or {}),
    }
    command = [sys.executable, "-m", "sinlod.cli", "serve", "--store", str(settings.store_path)]
    proc = subprocess.Popen(
        [*command, "--port", str(port), "--workers", str(workers)],
        env=full_env,
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


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def workers_of(pid: int) -> set[int]:
    """The worker processes (spawned children that are not multiprocessing's helpers), zombies
    excluded."""
    out = set()
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            state = Path(f"/proc/{child}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if b"spawn_main" in cmdline and state != "Z":
            out.add(child)
    return out


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (0 once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except OSError:
        return 0


def wait_idle(pid: int, timeout: float = 60.0) -> None:
    """Wait until every worker has started and finished its start-up work (the memory copy of
    the release is made in the background after the app starts): all of them together under a
    tenth of a core for half a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = workers_of(pid)
        before = {w: cpu_seconds(w) for w in workers}
        time.sleep(0.5)
        if workers and sum(cpu_seconds(w) - before[w] for w in workers) < 0.05:
            return
    raise TimeoutError(f"the workers of {pid} are still busy after {timeout:g} s")
