"""The load test: many readers and one writer against a live ``sinlod serve``, for a while.

``make loadtest`` runs it long (50 readers, 60 s, ``--workers 2``) and prints a summary;
``tests/e2e/test_load.py`` runs it for a few seconds in ``make test``. Loopback only: the server
is started here, on a free port of 127.0.0.1, on a fresh store with the shipped data published.

Readers loop over what a public endpoint is mostly asked (a lookup query, a count query, a
resource page, an IRI that redirects), each on its own keep-alive connection; not ``/void``,
which is recomputed after every release (seconds each time here: a cost of its own). The writer
adds one triple a second with the update token (each write is a release, so the workers switch
releases under load), and at the end every acknowledged write must be in the store. Any reader
error, any failed write and any lost write make the run fail.

    python -m tests.e2e.load --clients 50 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sinlod.config import Settings
from sinlod.publish import publish
from sinlod.store import Store
from tests.e2e.serving import sinlod_serve, wait_idle

ORG = "https://w3id.org/sinlod/id/organisation/drift"
NOTES = "https://w3id.org/sinlod/graph/loadtest/notes"
COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"

#: (what, path, query parameters, headers, expected status), each a GET
READS: list[tuple[str, str, dict[str, str], dict[str, str], int]] = [
    (
        "lookup",
        "/sparql",
        {"query": f"CONSTRUCT {{ <{ORG}> ?p ?o }} WHERE {{ <{ORG}> ?p ?o }}"},
        {"Accept": "text/turtle"},
        200,
    ),
    (
        "count",
        "/sparql",
        {"query": "SELECT ?type (COUNT(*) AS ?n) { ?s a ?type } GROUP BY ?type"},
        {"Accept": "application/sparql-results+json"},
        200,
    ),
    ("page", "/doc/organisation/drift", {}, {"Accept": "text/html"}, 200),
    ("redirect", "/id/organisation/drift", {}, {"Accept": "text/turtle"}, 303),
]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]

    def line(self, name: str, seconds: float) -> str:
        return (
            f"{name}: {len(self.latencies)} requests ({len(self.latencies) / seconds:.0f}/s),"
            f" {len(self.errors)} errors, p50 {self.percentile(0.5) * 1000:.1f} ms,"
            f" p99 {self.percentile(0.99) * 1000:.1f} ms,"
            f" max {max(self.latencies, default=0) * 1000:.1f} ms"
        )


async def _reader(
    base: str, first: int, until: float, tally: Tally, kinds: dict[str, Tally]
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        i = first
        while time.monotonic() < until:
            name, path, params, headers, status = READS[i % len(READS)]
            i += 1
            started = time.perf_counter()
            try:
                r = await client.get(path, params=params, headers=headers)
                if r.status_code != status:
                    tally.errors.append(f"{name}: {r.status_code} {r.text[:200]}")
            except httpx.HTTPError as exc:
                tally.errors.append(f"{name}: {exc!r}")
            tally.latencies.append(time.perf_counter() - started)
            kinds[name].latencies.append(tally.latencies[-1])


async def _writer(base: str, token: str, until: float, tally: Tally) -> list[str]:
    """One INSERT DATA a second; the notes whose write was acknowledged."""
    acknowledged = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        n = 0
        while time.monotonic() < until:
            note = f"load test note {n}"
            n += 1
            update = f'INSERT DATA {{ GRAPH <{NOTES}> {{ <{ORG}> <{COMMENT}> "{note}" }} }}'
            started = time.perf_counter()
            try:
                r = await client.post("/sparql", data={"update": update}, headers=headers)
                if r.is_success:
                    acknowledged.append(note)
                else:
                    tally.errors.append(f"write: {r.status_code} {r.text[:200]}")
            except httpx.HTTPError as exc:
                tally.errors.append(f"write: {exc!r}")
            tally.latencies.append(time.perf_counter() - started)
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))
    return acknowledged


async def _run(
    base: str, token: str, clients: int, duration: float
) -> tuple[Tally, dict[str, Tally], Tally, int]:
    until = time.monotonic() + duration
    reads, writes = Tally(), Tally()
    kinds = {read[0]: Tally() for read in READS}
    tasks = [_reader(base, i, until, reads, kinds) for i in range(clients)]
    writer = asyncio.ensure_future(_writer(base, token, until, writes))
    await asyncio.gather(*tasks)
    acknowledged = await writer
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        query = f"SELECT ?note {{ GRAPH <{NOTES}> {{ <{ORG}> <{COMMENT}> ?note }} }}"
        r = await client.get(
            "/sparql",
            params={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        )
        r.raise_for_status()
        stored = {b["note"]["value"] for b in r.json()["results"]["bindings"]}
    lost = len(set(acknowledged) - stored)
    if lost:
        writes.errors.append(f"{lost} acknowledged writes are not in the store")
    return reads, kinds, writes, len(acknowledged)


@dataclass
class Summary:
    reads: Tally
    kinds: dict[str, Tally]
    writes: Tally
    acknowledged: int
    duration: float
    workers: int
    clients: int

    @property
    def ok(self) -> bool:
        return not self.reads.errors and not self.writes.errors

    def text(self) -> str:
        lines = [
            f"{self.clients} readers and 1 writer for {self.duration:g} s against"
            f" sinlod serve --workers {self.workers}",
            self.reads.line("reads", self.duration),
            *(f"  {tally.line(name, self.duration)}" for name, tally in self.kinds.items()),
            self.writes.line("writes", self.duration) + f", {self.acknowledged} acknowledged",
        ]
        lines += [f"  error: {e}" for e in (self.reads.errors + self.writes.errors)[:20]]
        return "\n".join(lines)


def load_test(work: Path, *, clients: int, duration: float, workers: int = 2) -> Summary:
    """Publish the shipped data into ``work``, serve it and run the load; the summary."""
    token = secrets.token_urlsafe(16)
    path = work / "store"
    settings = Settings.load(env={}, store_path=path)
    with Store.open(path) as store:
        publish([settings.data_dir / "records"], settings, store, agent="load test")
    env = {"SINLOD_UPDATE_TOKEN": token}
    with sinlod_serve(settings, workers=workers, env=env) as (url, proc):
        wait_idle(proc.pid)
        reads, kinds, writes, acknowledged = asyncio.run(
            _run(f"http://{url}", token, clients, duration)
        )
    return Summary(reads, kinds, writes, acknowledged, duration, workers, clients)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sinlod-load-") as work:
        summary = load_test(
            Path(work), clients=args.clients, duration=args.duration, workers=args.workers
        )
    print(summary.text())
    sys.exit(0 if summary.ok else 1)


if __name__ == "__main__":
    main()
