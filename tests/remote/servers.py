"""Remote SPARQL servers for the remote-backend tests and bench/remote.py: Oxigraph's own
server and Virtuoso.

``conftest.py`` starts each once per session on loopback free ports, in a temporary directory,
and stops it at the end. Tests share a server but not a store: each gets its own
``remote_namespace`` (the prefix of the graph names sinlod keeps there), which is how several
sinlod stores share one server.

- ``oxigraph serve`` (the test extra's ``oxigraph`` package, the engine of sinlod's pyoxigraph):
  ``/query``, ``/update``, ``/store`` (Graph Store Protocol), no authentication.
- Virtuoso Open Source 7 (``make virtuoso`` installs Debian's ``virtuoso-opensource-7-bin``):
  ``virtuoso-t`` on a fresh database from the ``virtuoso.ini`` below. Reads go to ``/sparql``
  (anonymous); writes to ``/sparql-auth`` and ``/sparql-graph-crud-auth`` with HTTP digest
  authentication as ``dba`` (a fresh database's administrator, password ``dba``): the documented
  way to write over HTTP without granting ``SPARQL_UPDATE`` to the anonymous ``SPARQL`` user.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sinlod.config import Settings

VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso.tdb
TransactionFile = {dir}/virtuoso.ttr
FileExtend = 200

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
CheckpointInterval = 60
DirsAllowed = {dir}
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 8
ServerThreads = 8

[SPARQL]
; more than sinlod's max_results, so an answer is never cut short (sinlod refuses a cut one)
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""


@dataclass(frozen=True)
class Endpoint:
    """Where a remote server answers, and how sinlod signs in to write."""

    engine: str
    query_url: str
    update_url: str
    graph_store_url: str | None
    user: str | None = None
    password: str | None = None
    auth: str = "basic"

    def settings(self, tmp_path: Path, **overrides: Any) -> Settings:
        """Settings for a fresh sinlod store on this server (a namespace of its own)."""
        values: dict[str, Any] = {
            "backend": "remote",
            "store_path": tmp_path / "unused-store",
            "remote_query_url": self.query_url,
            "remote_update_url": self.update_url,
            "remote_graph_store_url": self.graph_store_url,
            "remote_user": self.user,
            "remote_password": self.password,
            "remote_auth": self.auth,
            "remote_namespace": f"urn:sinlod-test:{uuid.uuid4().hex}:",
            "remote_refresh_interval": 0,
        }
        values.update(overrides)
        return Settings.load(env={}, **values)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(url: str, process: subprocess.Popen[bytes], name: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer at {url} within {seconds:g} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def oxigraph(location: Path) -> Iterator[Endpoint]:
    """``oxigraph serve`` on a free loopback port with its store at ``location``, stopped after."""
    program = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which(
        "oxigraph"
    )
    assert program, "oxigraph not found: `make setup` installs it (pyproject's test extra)"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [program, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(url + "/query?query=ASK%7B%7D", process, "oxigraph serve", 20)
        yield Endpoint("oxigraph", url + "/query", url + "/update", url + "/store")
    finally:
        _stop(process)


@contextmanager
def virtuoso(
    directory: Path, buffers: int = 10_000, max_rows: int = 1_000_000
) -> Iterator[Endpoint]:
    """``virtuoso-t`` on a fresh database in ``directory`` (its ``virtuoso.ini`` written there),
    on free loopback ports; stopped after. ``buffers``: 8 KB pages of cache; ``max_rows``: its
    ``ResultSetMaxRows``."""
    program = shutil.which("virtuoso-t")
    assert program, "virtuoso-t not found: `make virtuoso` installs it from Debian's packages"
    http_port, sql_port = free_port(), free_port()
    directory.mkdir(parents=True, exist_ok=True)
    ini = directory / "virtuoso.ini"
    text = VIRTUOSO_INI.format(dir=directory, http_port=http_port, sql_port=sql_port)
    text = text.replace("NumberOfBuffers = 10000", f"NumberOfBuffers = {buffers}")
    text = text.replace("ResultSetMaxRows = 1000000", f"ResultSetMaxRows = {max_rows}")
    ini.write_text(text, encoding="utf-8")
    process = subprocess.Popen(
        [program, "-f", "-c", str(ini)],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{http_port}"
    try:
        _wait(url + "/sparql?query=ASK%7B%7D", process, "virtuoso-t", 120)
        yield Endpoint(
            "virtuoso",
            url + "/sparql",
            url + "/sparql-auth",
            url + "/sparql-graph-crud-auth",
            user="dba",
            password="dba",
            auth="digest",
        )
    finally:
        _stop(process)
