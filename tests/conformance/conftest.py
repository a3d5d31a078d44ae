"""The live servers the W3C suites run against, and the per-suite tables printed at the end.

By default the suites run over real HTTP against sinlod's own app, served by uvicorn on a free
port in a thread, on a scratch store with the SHACL gate off (the W3C data is not sinlod data):
once with the union default graph (``test_w3c_sparql.py``), once with
``union_default_graph=false`` beside Oxigraph's own server, ``oxigraph serve`` from the PyPI
package ``oxigraph`` (``test_w3c_strict.py``). ``SINLOD_W3C_URL`` (with
``SINLOD_W3C_ENDPOINTS=sinlod|oxigraph`` and ``SINLOD_W3C_TOKEN``) points the union-mode runner
at another live server instead, e.g. Oxigraph's native one.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conformance.targets import OXIGRAPH, SINLOD, SINLOD_STRICT, HttpTarget

TOKEN = "w3c-conformance"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def sinlod_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """sinlod's app on a scratch store, served by a real uvicorn; yields its base URL."""
    yield from _sinlod_server(tmp_path_factory, union_default_graph=True)


@pytest.fixture(scope="session")
def strict_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpTarget]:
    """sinlod with ``union_default_graph=false``: the store's own default graph."""
    for url in _sinlod_server(tmp_path_factory, union_default_graph=False):
        target = HttpTarget(url, SINLOD_STRICT, TOKEN, name="sinlod-strict")
        try:
            yield target
        finally:
            target.close()


@pytest.fixture(scope="session")
def native_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpTarget]:
    """Oxigraph's own server (``oxigraph serve``, the test extra's ``oxigraph`` package, the
    version of sinlod's pyoxigraph) on a scratch store: what a plain SPARQL 1.1 server on the
    same engine answers."""
    program = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which(
        "oxigraph"
    )
    assert program, "oxigraph not found: `make setup` installs it (pyproject's test extra)"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    location = tmp_path_factory.mktemp("native") / "store"
    process = subprocess.Popen(
        [program, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    target = None
    try:
        _wait_until_answers(url + "/query?query=ASK%7B%7D", process)
        target = HttpTarget(url, OXIGRAPH, None, name="oxigraph-native")
        yield target
    finally:
        if target is not None:
            target.close()
        process.terminate()
        process.wait(timeout=10)


def _wait_until_answers(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oxigraph serve exited with status {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"oxigraph serve did not answer at {url} within 20 s")


def _sinlod_server(
    tmp_path_factory: pytest.TempPathFactory, *, union_default_graph: bool
) -> Iterator[str]:
    import uvicorn

    from sinlod.config import Settings
    from sinlod.server.app import create_app
    from sinlod.store import Store

    store_path = tmp_path_factory.mktemp("w3c") / "store"
    settings = Settings.load(
        env={},
        store_path=store_path,
        update_token=TOKEN,
        shacl_gate=False,
        union_default_graph=union_default_graph,
    )
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
_outcomes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)


def _suite(nodeid: str) -> tuple[str, str] | None:
    """(default-graph mode, suite) of a W3C case, from its node id."""
    module = re.search(r"conformance/test_(w3c_sparql|http_rdf_update|w3c_strict)\.py", nodeid)
    suite = re.search(r"\[([^/\]]+)/", nodeid)
    if module is None or suite is None:
        return None
    mode = "union_default_graph=false" if module.group(1) == "w3c_strict" else "union (default)"
    return mode, suite.group(1)


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
    for mode in sorted({m for m, _ in _outcomes}):
        terminalreporter.section(f"W3C SPARQL 1.1 conformance, {mode}")
        header = ("suite",) + ("passed", "failed", "expected failures", "skipped")
        write(f"{header[0]:<24}" + "".join(f"{h:>19}" for h in header[1:]))
        totals: Counter[str] = Counter()
        for key in sorted(k for k in _outcomes if k[0] == mode):
            counts = _outcomes[key]
            totals.update(counts)
            write(f"{key[1]:<24}" + "".join(f"{counts[c]:>19}" for c in _COLUMNS))
        write(f"{'total':<24}" + "".join(f"{totals[c]:>19}" for c in _COLUMNS))
