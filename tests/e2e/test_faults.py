"""Faults survived, each repeated (issue 13, "keep what holds, and prove it"):

* ``kill -9`` of the whole server (supervisor and workers) while a client writes: after each
  restart every acknowledged write is there, and the server answers;
* ``kill -9`` of ``sinlod publish`` and of ``sinlod restore`` in the middle of their bulk load,
  three times each: the store is exactly as before every time, and the next run completes.

(``tests/test_store.py`` kills a publish through the library once; these go through the CLI, as an
operator runs it.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from sinlod.config import Settings
from sinlod.publish import publish
from sinlod.store import Store
from tests.e2e.serving import sinlod_serve

pytestmark = pytest.mark.slow

ORG = "https://w3id.org/sinlod/id/organisation/drift"
NOTES = "https://w3id.org/sinlod/graph/faults/notes"
COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
TOKEN = "fault-test-token"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "store"
    settings = Settings.load(env={}, store_path=path)
    with Store.open(path) as store:
        publish([settings.data_dir / "records"], settings, store, agent="tests")
    return settings


def _stored_notes(url: str) -> set[str]:
    query = f"SELECT ?note {{ GRAPH <{NOTES}> {{ <{ORG}> <{COMMENT}> ?note }} }}"
    r = httpx.get(
        f"http://{url}/sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert r.status_code == 200
    return {b["note"]["value"] for b in r.json()["results"]["bindings"]}


def test_sigkill_of_the_server_loses_no_acknowledged_write(settings: Settings) -> None:
    acknowledged: set[str] = set()
    env = {"SINLOD_UPDATE_TOKEN": TOKEN}
    for round_ in range(3):
        with sinlod_serve(settings, workers=2, env=env) as (url, proc):
            assert acknowledged <= _stored_notes(url), f"round {round_}: writes lost"
            stop = threading.Event()

            def write(round_: int = round_, url: str = url, stop: threading.Event = stop) -> None:
                n = 0
                with httpx.Client(base_url=f"http://{url}", timeout=30) as client:
                    while not stop.is_set():
                        note = f"round {round_} note {n}"
                        n += 1
                        update = (
                            f'INSERT DATA {{ GRAPH <{NOTES}> {{ <{ORG}> <{COMMENT}> "{note}" }} }}'
                        )
                        try:
                            r = client.post(
                                "/sparql",
                                data={"update": update},
                                headers={"Authorization": f"Bearer {TOKEN}"},
                            )
                        except httpx.HTTPError:
                            return  # the server is gone: this write was never acknowledged
                        if r.is_success:
                            acknowledged.add(note)

            thread = threading.Thread(target=write, daemon=True)
            thread.start()
            deadline = time.monotonic() + 30
            while not any(a.startswith(f"round {round_} ") for a in acknowledged):
                assert time.monotonic() < deadline, "no write was acknowledged"
                time.sleep(0.05)
            time.sleep(0.5)  # writes in flight now
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            stop.set()
            thread.join(timeout=30)
    with sinlod_serve(settings, workers=1, env=env) as (url, _):
        stored = _stored_notes(url)
    assert acknowledged <= stored
    assert len(acknowledged) >= 3


def _big_file(path: Path, count: int) -> Path:
    """N-Triples (``.nt``: for publish) or N-Quads (``.nq``: a dump, for restore)."""
    graph = " <https://example.org/graph/big>" if path.suffix == ".nq" else ""
    with path.open("w") as f:
        for i in range(count):
            f.write(f'<https://example.org/big/{i}> <https://example.org/p> "value {i}"{graph} .\n')
    return path


def _state(path: Path) -> tuple[str | None, int, list[str]]:
    with Store.open(path, read_only=True) as store:
        result = store.query("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(result, ox.QuerySolutions)
        n = int(next(iter(result))["n"].value)
        return store.release_id, n, sorted(store.graph_names())


@pytest.mark.parametrize("command", ["publish", "restore"])
def test_a_killed_publish_or_restore_changes_nothing_each_time(
    settings: Settings, tmp_path: Path, command: str
) -> None:
    big = _big_file(tmp_path / ("big.nt" if command == "publish" else "big.nq"), 300_000)
    path = settings.store_path
    before = _state(path)
    building = path / "snapshots"
    cli = [sys.executable, "-m", "sinlod.cli", command, str(big), "--store", str(path)]
    if command == "publish":
        cli.append("--skip-validation")
    env = {**os.environ, "SINLOD_CONFIG": os.devnull}
    for delay in (0.1, 0.3, 0.6):
        proc = subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not any(p.name.startswith("building-") for p in building.iterdir()):
            assert proc.poll() is None, f"{command} ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(delay)  # into the bulk load of 300,000 quads
        assert proc.poll() is None, f"{command} finished before it could be killed"
        proc.kill()
        assert proc.wait() == -signal.SIGKILL
        assert _state(path) == before
    done = subprocess.run(cli, env=env, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    release, quads, graphs = _state(path)
    assert quads >= 300_000
    assert "https://example.org/graph/big" in graphs or command == "publish"
    assert not any(p.name.startswith("building-") for p in building.iterdir())
