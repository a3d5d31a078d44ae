"""sinlod in front of a remote store: the four queries of bench/server.py, through sinlod and
straight to the store, in the same run.

Usage (from the project root, after `make setup` and `make virtuoso`):

    .venv/bin/python bench/remote.py --triples 100000 --runs 30

For each backend (Oxigraph's own server, ``oxigraph serve``; Virtuoso 7, ``virtuoso-t``) the
generated data (bench/generate.py, then ``sinlod convert``) is published into a fresh remote store
by ``RemoteStore.replace_graphs``, then ``sinlod serve`` runs with ``backend = "remote"`` (one
worker, no query cache, so every request reaches the store). Each query of bench/server_queries is
then asked, one at a time, ``--runs`` times (after ``--warmup`` unmeasured runs):

- **sinlod**: ``GET /sparql?query=`` on sinlod (what a client sees: parsing and the endpoint's
  checks, scoping to the release, the HTTP call to the store, reading and re-serialising);
- **direct**: the same request sinlod makes, sent to the store's endpoint straight (the scoped
  text and the release's graphs as ``default-graph-uri``/``named-graph-uri``,
  ``RemoteStore.prepared``): what the store itself needs for the query.

The ratio sinlod/direct of the medians is sinlod's overhead; on a busy machine the ratio of the
fastest runs (``min``) is the steadier estimate of it, since both sides wait for the CPU alike.
Each answer is checked once to have the same number of rows (or triples) both ways. Prints a
Markdown table; ``--json FILE`` keeps the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import free_port, load_queries  # noqa: E402
from sinlod.config import Settings  # noqa: E402
from sinlod.store import ReleaseInfo  # noqa: E402
from sinlod.store.remote import RemoteStore  # noqa: E402
from tests.remote.servers import Endpoint, _stop, _wait, oxigraph, virtuoso  # noqa: E402

BIN = Path(sys.executable).parent
GRAPH = "https://w3id.org/sinlod/graph/bench/data"
QUERY_NAMES = ("lookup", "regex", "aggregate", "join")


@dataclass
class Row:
    backend: str
    query: str
    sinlod_ms: float
    direct_ms: float
    sinlod_p90_ms: float
    direct_p90_ms: float
    answers: int
    sinlod_min_ms: float = 0.0
    direct_min_ms: float = 0.0

    @property
    def ratio(self) -> float:
        return self.sinlod_ms / self.direct_ms


@contextmanager
def oxigraph_server(work: Path) -> Iterator[Endpoint]:
    with oxigraph(work / "oxigraph") as endpoint:
        yield endpoint


@contextmanager
def virtuoso_server(work: Path) -> Iterator[Endpoint]:
    if shutil.which("virtuoso-t") is None:
        raise SystemExit("virtuoso-t not found: run `make virtuoso`")
    directory = work / "virtuoso"
    directory.mkdir(parents=True, exist_ok=True)
    with virtuoso(directory, buffers=100_000) as endpoint:
        yield endpoint


@contextmanager
def sinlod_server(settings: Settings) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ)
    for name, value in {
        "backend": "remote",
        "remote_query_url": settings.remote_query_url,
        "remote_update_url": settings.remote_update_url,
        "remote_graph_store_url": settings.remote_graph_store_url,
        "remote_user": settings.remote_user,
        "remote_password": settings.remote_password,
        "remote_auth": settings.remote_auth,
        "remote_namespace": settings.remote_namespace,
        "query_cache_entries": "0",
        "access_log": "false",
        "query_timeout": "120",
    }.items():
        if value is not None:
            env[f"SINLOD_{name.upper()}"] = str(value)
    process = subprocess.Popen(
        [str(BIN / "sinlod"), "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/healthz", process, "sinlod serve", 60)
        yield url
    finally:
        _stop(process)


def prepare(work: Path, triples: int) -> Path:
    nt = work / "data.nt"
    if not nt.exists():
        records = work / "records"
        gen = [sys.executable, str(ROOT / "bench" / "generate.py"), str(records)]
        subprocess.run([*gen, "--triples", str(triples), "--seed", "1"], check=True, cwd=ROOT)
        subprocess.run(
            [str(BIN / "sinlod"), "convert", str(records), "-o", str(nt)], check=True, cwd=ROOT
        )
    return nt


def timed(client: httpx.Client, method: str, url: str, **kwargs: object) -> tuple[float, bytes]:
    start = time.perf_counter()
    response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed * 1000, response.content


def count_answers(body: bytes, accept: str) -> int:
    if accept.startswith("application/sparql-results+json"):
        return len(json.loads(body)["results"]["bindings"])
    return sum(1 for line in body.splitlines() if line.strip())


def measure(endpoint: Endpoint, nt: Path, runs: int, warmup: int, work: Path) -> list[Row]:
    settings = endpoint.settings(work, remote_namespace=f"urn:sinlod-bench:{uuid.uuid4().hex}:")
    store = RemoteStore.from_settings(settings)
    started = time.perf_counter()
    store.replace_graphs({GRAPH: nt}, release=ReleaseInfo(agent="bench"))
    print(f"{endpoint.engine}: published in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    rows = []
    queries = load_queries(QUERY_NAMES)
    with sinlod_server(settings) as url, httpx.Client(timeout=300) as client:
        for name, (text, accept) in queries.items():
            query_text, dataset, _hidden = store.prepared(text)
            form = [("query", query_text)] + [(k, v) for k, vs in dataset.items() for v in vs]
            sinlod = (
                "GET",
                f"{url}/sparql",
                {"params": {"query": text}, "headers": {"Accept": accept}},
            )
            direct = (
                "POST",
                endpoint.query_url,
                {
                    "content": urlencode(form).encode(),
                    "headers": {
                        "Accept": accept,
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                },
            )
            answers = {}
            for label, (method, target, kwargs) in (("sinlod", sinlod), ("direct", direct)):
                _, body = timed(client, method, target, **kwargs)
                answers[label] = count_answers(body, accept)
            if answers["sinlod"] != answers["direct"]:
                raise SystemExit(f"{endpoint.engine} {name}: answers differ {answers}")
            times: dict[str, list[float]] = {"sinlod": [], "direct": []}
            for i in range(warmup + runs):
                for label, (method, target, kwargs) in (("sinlod", sinlod), ("direct", direct)):
                    elapsed, _ = timed(client, method, target, **kwargs)
                    if i >= warmup:
                        times[label].append(elapsed)
            row = Row(
                endpoint.engine,
                name,
                statistics.median(times["sinlod"]),
                statistics.median(times["direct"]),
                statistics.quantiles(times["sinlod"], n=10)[-1],
                statistics.quantiles(times["direct"], n=10)[-1],
                answers["direct"],
                min(times["sinlod"]),
                min(times["direct"]),
            )
            print(
                f"{row.backend} {row.query}: sinlod {row.sinlod_ms:.1f} ms, direct"
                f" {row.direct_ms:.1f} ms, x{row.ratio:.2f}",
                file=sys.stderr,
            )
            rows.append(row)
    store.close()
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| backend | query | answers | direct p50 ms | sinlod p50 ms | sinlod/direct"
        " | direct min ms | sinlod min ms | min ratio | direct p90 ms | sinlod p90 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.query} | {r.answers} | {r.direct_ms:.1f} | {r.sinlod_ms:.1f}"
            f" | {r.ratio:.2f} | {r.direct_min_ms:.1f} | {r.sinlod_min_ms:.1f}"
            f" | {r.sinlod_min_ms / r.direct_min_ms:.2f}"
            f" | {r.direct_p90_ms:.1f} | {r.sinlod_p90_ms:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--backends", default="oxigraph,virtuoso")
    parser.add_argument("--work", type=Path, default=None, help="keep generated data here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="sinlod-bench-remote-"))
    work.mkdir(parents=True, exist_ok=True)
    nt = prepare(work, args.triples)
    rows: list[Row] = []
    for backend in args.backends.split(","):
        server = {"oxigraph": oxigraph_server, "virtuoso": virtuoso_server}[backend]
        with tempfile.TemporaryDirectory(dir=work) as scratch, server(Path(scratch)) as endpoint:
            rows += measure(endpoint, nt, args.runs, args.warmup, Path(scratch))
    print(table(rows))
    if args.json:
        args.json.write_text(
            json.dumps([asdict(r) | {"ratio": r.ratio} for r in rows], indent=2), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
