"""The live server the W3C suites run against, and the per-suite table printed at the end.

By default the suites run over real HTTP against sinlod's own app, served by uvicorn on a free
port in a thread, on a scratch store with the SHACL gate off (the W3C data is not sinlod data).
``SINLOD_W3C_URL`` (with ``SINLOD_W3C_ENDPOINTS=sinlod|oxigraph`` and ``SINLOD_W3C_TOKEN``)
points the same runner at another live server instead, e.g. Oxigraph's native one.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conformance.targets import OXIGRAPH, SINLOD, HttpTarget

TOKEN = "w3c-conformance"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def sinlod_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """sinlod's app on a scratch store, served by a real uvicorn; yields its base URL."""
    import uvicorn

    from sinlod.config import Settings
    from sinlod.server.app import create_app
    from sinlod.store import Store

    store_path = tmp_path_factory.mktemp("w3c") / "store"
    settings = Settings.load(env={}, store_path=store_path, update_token=TOKEN, shacl_gate=False)
    port = free_port()
    # A scratch store in memory: the suites write hundreds of times, and each write to the disk
    # store publishes a snapshot (~0.3 s), which is what the store is for, not what is tested here.
    app = create_app(settings, store=Store.in_memory())
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="w3c-uvicorn", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server, thread)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _wait_until_up(url: str, server: object, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("uvicorn stopped while starting")
        if getattr(server, "started", False):
            try:
                httpx.get(url + "/healthz", timeout=2)
                return
            except httpx.TransportError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"the server at {url} did not answer within 20 s")


@pytest.fixture(scope="session")
def w3c_target(request: pytest.FixtureRequest) -> Iterator[HttpTarget]:
    """The system under test: sinlod's live server, or the one ``SINLOD_W3C_URL`` names."""
    url = os.environ.get("SINLOD_W3C_URL")
    if url:
        endpoints = OXIGRAPH if os.environ.get("SINLOD_W3C_ENDPOINTS") == "oxigraph" else SINLOD
        target = HttpTarget(url, endpoints, os.environ.get("SINLOD_W3C_TOKEN"), name=url)
    else:
        url = request.getfixturevalue("sinlod_server")
        target = HttpTarget(url, SINLOD, TOKEN, name="sinlod")
    try:
        yield target
    finally:
        target.close()


# --------------------------------------------------------------------------- per-suite table

_HERE = Path(__file__).parent.resolve()
_COLUMNS = ("passed", "failed", "xfailed", "skipped")
_outcomes: dict[str, Counter[str]] = defaultdict(Counter)


def _suite(nodeid: str) -> str | None:
    if not re.search(r"conformance/test_(w3c_sparql|http_rdf_update)\.py", nodeid):
        return None
    match = re.search(r"\[([^/\]]+)/", nodeid)
    return match.group(1) if match else None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    suite = _suite(report.nodeid)
    if suite is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "failed"  # strict xpass fails
        else:
            outcome = report.outcome
        _outcomes[suite][outcome] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _outcomes:
        return
    write = terminalreporter.write_line
    terminalreporter.section("W3C SPARQL 1.1 conformance")
    header = ("suite",) + ("passed", "failed", "expected failures", "skipped")
    write(f"{header[0]:<24}" + "".join(f"{h:>19}" for h in header[1:]))
    totals: Counter[str] = Counter()
    for suite in sorted(_outcomes):
        counts = _outcomes[suite]
        totals.update(counts)
        write(f"{suite:<24}" + "".join(f"{counts[c]:>19}" for c in _COLUMNS))
    write(f"{'total':<24}" + "".join(f"{totals[c]:>19}" for c in _COLUMNS))
