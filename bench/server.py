"""SPARQL endpoint under load: `sinlod serve` against native `oxigraph serve` and rdflib-endpoint.

Usage (from the project root, after `make setup`; see bench/README.md):

    apt-get install -y wrk                                   # the load generator
    .venv/bin/pip install oxigraph rdflib-endpoint           # the peers, for this run only
    .venv/bin/python bench/server.py --triples 300000 --duration 5

Every server reads the same generated data: sinlod from a store made by `sinlod publish
--skip-validation` (named graphs, queried as their union, as `sinlod serve` always does), the
native server from `oxigraph load` of the same N-Triples into its default graph, rdflib-endpoint
from the same file in an in-memory rdflib Dataset. Each server runs in its own process on
127.0.0.1 and is stopped after its runs. Before loading a server, each query is asked once and
its answer checked against the native server's (same number of rows or triples), so no server is
timed on a failing or different answer.

A sinlod server is measured once it says (``/healthz``, every worker) that its memory copy of
the release is complete: the steady state, not the seconds of copying after a start.

Load: `wrk` (one thread, `--latency`), `GET ?query=` with the query's Accept header, for
`--duration` seconds at each concurrency; a request longer than `--timeout` counts as a timeout.
Every run is bounded in time and stops by itself. Results: a Markdown table per query and
concurrency (requests/s, p50, p99, ratios to native), and `--json FILE` for the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
QUERIES = Path(__file__).resolve().parent / "server_queries"
SELECT_JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"


@dataclass(frozen=True)
class Server:
    """One server set-up to measure: how to start it and where its endpoint is."""

    name: str
    command: list[str]
    path: str
    env: dict[str, str] = field(default_factory=dict)
    startup: float = 120.0  # rdflib-endpoint parses the whole file before it listens
    load: Path | None = None  # N-Triples to POST into the default graph once it answers


@dataclass
class Result:
    server: str
    query: str
    connections: int
    requests: int = 0
    rps: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int = 0
    timeouts: int = 0
    cpu_us: float | None = None  # server CPU (all its processes) per request: load-independent
    note: str = ""


# -- data ------------------------------------------------------------------------------------


def prepare(work: Path, triples: int) -> tuple[Path, Path, Path]:
    """Generated records → N-Triples → a sinlod store and a native Oxigraph store (kept in
    ``work`` and reused when already there)."""
    nt, store, native = work / "data.nt", work / "store", work / "native"
    if not nt.exists():
        records = work / "records"
        gen = [sys.executable, str(ROOT / "bench" / "generate.py"), str(records)]
        _run([*gen, "--triples", str(triples), "--seed", "1"])
        _run([str(BIN / "sinlod"), "convert", str(records), "-o", str(nt)])
    if not store.exists():
        _run([str(BIN / "sinlod"), "publish", str(nt), "--store", str(store), "--skip-validation"])
    if not native.exists():
        _run([str(BIN / "oxigraph"), "load", "--location", str(native), "--file", str(nt)])
    return nt, store, native


def _run(cmd: Sequence[str]) -> None:
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def load_queries(names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Query name → (text, Accept header)."""
    out = {}
    for name in names:
        text = (QUERIES / f"{name}.rq").read_text(encoding="utf-8")
        body = "\n".join(x for x in text.splitlines() if not x.lstrip().startswith("#"))
        accept = NTRIPLES if "CONSTRUCT" in body.upper() else SELECT_JSON
        out[name] = (body.strip() + "\n", accept)
    return out


# -- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def servers(
    store: Path, native: Path, nt: Path, port: int, which: Sequence[str], tree: Path | None = None
) -> list[Server]:
    """The set-ups by name: native, native-memory, sinlod-w{1,2}-cache-{off,on}, sinlod-w1-disk
    (no memory copy), rdflib. Every sinlod runs without the access log (the native server writes none).
    ``tree``: a copy of
    the ``sinlod`` package's parent directory to serve instead (a before/after comparison)."""
    bind = f"127.0.0.1:{port}"
    sinlod = [str(BIN / "sinlod"), "serve", "--store", str(store), "--port", str(port)]
    quiet = {"SINLOD_CONFIG": os.devnull}
    if tree is not None:
        quiet["PYTHONPATH"] = str(tree)  # before the editable install on sys.path
    table = {
        "native": Server(
            "native", [str(BIN / "oxigraph"), "serve", "-l", str(native), "-b", bind], "/query"
        ),
        # The native server on its in-memory storage (no -l), loaded over HTTP: the peer of
        # sinlod's memory copy, for the engine comparison (the peer is the disk store).
        "native-memory": Server(
            "native-memory",
            [str(BIN / "oxigraph"), "serve", "-b", bind],
            "/query",
            load=nt,
        ),
        "rdflib": Server(
            "rdflib",
            [
                str(BIN / "rdflib-endpoint"),
                "serve",
                str(nt),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            "/",
            startup=300,
        ),
    }
    for workers in (1, 2):
        for cache, entries in (("off", "0"), ("on", "256")):
            name = f"sinlod-w{workers}-cache-{cache}"
            env = {**quiet, "SINLOD_QUERY_CACHE_ENTRIES": entries, "SINLOD_ACCESS_LOG": "false"}
            table[name] = Server(name, [*sinlod, "--workers", str(workers)], "/sparql", env)
    # Without the memory copy: queries read the RocksDB snapshot on disk, as the native server.
    disk = {**quiet, "SINLOD_QUERY_CACHE_ENTRIES": "0", "SINLOD_ACCESS_LOG": "false"}
    table["sinlod-w1-disk"] = Server(
        "sinlod-w1-disk",
        [*sinlod, "--workers", "1"],
        "/sparql",
        {**disk, "SINLOD_MEMORY_COPY_MAX_QUADS": "0"},
    )
    return [table[w] for w in which]


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by every live process of group ``pgid``."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ... utime stime
            total += int(fields[11]) + int(fields[12])
    return total / ticks


@contextmanager
def running(server: Server, port: int) -> Iterator[tuple[str, int]]:
    """Start ``server``, wait until it answers, yield its endpoint URL and process group, stop
    it."""
    env = {**os.environ, **server.env}
    proc = subprocess.Popen(
        server.command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}{server.path}"
    try:
        _wait_ready(url, proc, server.startup)
        if server.load is not None:
            _post_default_graph(f"http://127.0.0.1:{port}/store?default", server.load)
        yield url, proc.pid
    finally:
        os.killpg(proc.pid, 15)  # the whole group: uvicorn's worker processes too
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def _post_default_graph(url: str, data: Path) -> None:
    """Graph Store Protocol POST of the N-Triples (the in-memory native server starts empty)."""
    request = urllib.request.Request(
        url, data=data.read_bytes(), headers={"Content-Type": NTRIPLES}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 (loopback)
        response.read()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
        try:
            ask(url, "ASK { ?s ?p ?o }", SELECT_JSON, timeout=5)
        except (OSError, urllib.error.URLError):
            time.sleep(0.3)
            continue
        if not url.endswith("/sparql") or _copies_ready(url, deadline):
            return
    raise RuntimeError(f"{url}: not answering after {limit:g} s")


def _copies_ready(url: str, deadline: float) -> bool:
    """sinlod: wait until every worker has its memory copy of the release (``/healthz``), so
    that the steady state is measured, not the seconds of copying after a start. Workers share
    the port, so a run of consecutive answers on new connections must all say so."""
    health = url.removesuffix("/sparql") + "/healthz"
    streak = 0
    while time.monotonic() < deadline and streak < 20:
        with urllib.request.urlopen(health, timeout=5) as response:  # noqa: S310 (loopback)
            state = json.loads(response.read())["memory_copy"]
        streak = streak + 1 if state != "copying" else 0
        if streak == 0:
            time.sleep(0.3)
    return streak >= 20


def query_url(url: str, query: str) -> str:
    return url + "?" + urllib.parse.urlencode({"query": query})


def ask(url: str, query: str, accept: str, timeout: float) -> bytes:
    request = urllib.request.Request(query_url(url, query), headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback)
        body: bytes = response.read()
        return body


def size_of(body: bytes, accept: str) -> int:
    """Rows of a JSON result or triples of N-Triples: what must agree between servers."""
    if accept == NTRIPLES:
        return sum(1 for line in body.splitlines() if line.strip())
    return len(json.loads(body)["results"]["bindings"])


# -- load ------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if m is None:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(url: str, accept: str, connections: int, duration: float, timeout: float) -> Result:
    """One bounded wrk run; its summary parsed into a ``Result`` (server and query unset)."""
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={max(1, round(timeout))}s",
        "--latency",
        "-H",
        f"Accept: {accept}",
        url,
    ]
    out = subprocess.run(
        cmd, check=True, capture_output=True, text=True, timeout=duration + timeout + 30
    ).stdout
    result = Result("", "", connections)
    m = re.search(r"(\d+) requests in", out)
    result.requests = int(m.group(1)) if m else 0
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result.rps = float(m.group(1)) if m else 0.0
    for pct, attr in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M)
        if m and result.requests:
            setattr(result, attr, _ms(m.group(1)))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result.errors = int(m.group(1)) if m else 0
    m = re.search(r"timeout (\d+)", out)
    result.timeouts = int(m.group(1)) if m else 0
    return result


def measure(
    server: Server,
    port: int,
    queries: dict[str, tuple[str, str]],
    expected: dict[str, int],
    args: argparse.Namespace,
) -> list[Result]:
    results = []
    with running(server, port) as (url, pgid):
        for qname, (text, accept) in queries.items():
            try:
                got = size_of(ask(url, text, accept, timeout=args.timeout), accept)
            except (OSError, urllib.error.URLError, ValueError, KeyError) as exc:
                results += [
                    Result(server.name, qname, c, note=f"failed: {exc}") for c in args.connections
                ]
                continue
            expected.setdefault(qname, got)
            note = "" if got == expected[qname] else f"{got} rows, native {expected[qname]}"
            for c in args.connections:
                cpu = group_cpu(pgid)
                r = wrk(query_url(url, text), accept, c, args.duration, args.timeout)
                if r.requests:
                    r.cpu_us = (group_cpu(pgid) - cpu) / r.requests * 1e6
                r.server, r.query, r.note = server.name, qname, note
                print(
                    f"{server.name:22} {qname:10} c={c:<3} {r.rps:9.1f} req/s"
                    f" p50 {r.p50_ms} p99 {r.p99_ms} cpu/req {r.cpu_us}"
                    f" err {r.errors} to {r.timeouts} {note}",
                    file=sys.stderr,
                )
                results.append(r)
    return results


# -- report ----------------------------------------------------------------------------------


def _fmt_ms(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:.2f}" if v < 10 else f"{v:.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "–"
    return f"{a / b:.2f}"


def table(results: list[Result]) -> str:
    """Markdown: one block per query and concurrency, ratios to the native server."""
    lines = []
    keys = sorted({(r.query, r.connections) for r in results}, key=lambda k: (k[0], k[1]))
    for query, conns in keys:
        rows = [r for r in results if r.query == query and r.connections == conns]
        base = next((r for r in rows if r.server == "native"), None)
        lines += [
            f"\n**{query}**, {conns} connections\n",
            "| server | req/s | p50 ms | p99 ms | req/s ÷ native | p50 ÷ native |"
            " p99 ÷ native | CPU µs/req | CPU ÷ native | non-2xx | timeouts |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(
                f"| {r.server}{' (' + r.note + ')' if r.note else ''} | {r.rps:,.1f}"
                f" | {_fmt_ms(r.p50_ms)} | {_fmt_ms(r.p99_ms)}"
                f" | {_ratio(r.rps, base.rps if base else None)}"
                f" | {_ratio(r.p50_ms, base.p50_ms if base else None)}"
                f" | {_ratio(r.p99_ms, base.p99_ms if base else None)}"
                f" | {_fmt_ms(r.cpu_us)} | {_ratio(r.cpu_us, base.cpu_us if base else None)}"
                f" | {r.errors} | {r.timeouts} |"
            )
    return "\n".join(lines) + "\n"


ALL = [
    "native",
    "native-memory",
    "sinlod-w1-cache-off",
    "sinlod-w2-cache-off",
    "sinlod-w1-cache-on",
    "sinlod-w2-cache-on",
    "sinlod-w1-disk",
    "rdflib",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=int, default=300_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/sinlod-bench-server"))
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--connections", type=int, nargs="+", default=[2, 16])
    parser.add_argument("--queries", nargs="+", default=["lookup", "regex", "aggregate", "join"])
    parser.add_argument("--servers", nargs="+", default=ALL, choices=ALL)
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument(
        "--sinlod-tree",
        type=Path,
        help="directory holding another sinlod/ package to serve (e.g. an older commit's)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    args.work.mkdir(parents=True, exist_ok=True)
    nt, store, native = prepare(args.work, args.triples)
    queries = load_queries(args.queries)
    port = free_port()
    expected: dict[str, int] = {}
    results: list[Result] = []
    for server in servers(store, native, nt, port, args.servers, args.sinlod_tree):
        results += measure(server, port, queries, expected, args)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1))
    print(f"load average before/after: {os.getloadavg()}")
    print(table(results))


if __name__ == "__main__":
    main()
