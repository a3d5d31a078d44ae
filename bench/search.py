"""Search at scale (issue 14): the release's search index, its build time and search latency.

Usage (from the project root, after `make setup`; `wrk` from Debian):

    .venv/bin/python bench/search.py --triples 300000 1000000 10000000 --duration 20

For each size: records from `bench/generate.py` (the shipped tables copied over, multilingual
names and acronyms included), converted once to N-Quads (`sinlod convert`, cached in
`--work`), then written into a fresh store by the store's own write path (`Store.restore` into
an empty store: bulk load into a new snapshot, release log, search index, `CURRENT` renamed;
timed, wall seconds). That is the floor under any publish, so the index's share of it is the
conservative figure; `--publish` also times `sinlod publish FILE --skip-validation
--no-ontology`, which adds reading the file with source positions and the change feed's
versions (too much memory at 10M on this machine, 2026-12-08). The index build is then timed
alone on the written snapshot (the same function the write ran,
`sinlod.store.search_index.write`, in a fresh process) and reported as a share of the write.
`--cpus 1` pins both to one core (a shared machine).

Search: `sinlod serve` on a free port (never 8000) with `--workers 2`, loaded with `wrk` (one
thread, 16 connections, `--latency`) for `--duration` seconds over a rotating list of landing-
page searches (`/?q=...`, a full HTML page): whole names, starts of names (3 to 6 letters),
words inside names, acronyms and transliterated forms ("lodz"), drawn from the data with a fixed
seed. Reported: requests/s, p50, p99 and non-2xx answers; also the worker's resident memory
after the run (`/proc/PID/status` VmRSS of each worker), for the per-worker cost.

One worker alone (`create_app` in one process, searches one after the other over httpx's ASGI
transport, no load): its resident memory after 30 searches, its first search and the median of
the others; with `--tree`, the old per-worker label dictionary's cost shows here.

`--tree DIR`: serve the `sinlod` package found in DIR instead (an older commit's, unpacked with
`git archive`), for a before/after comparison on the same store.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BASE = "https://w3id.org/sinlod/"


def prepare(work: Path, triples: int) -> Path:
    """The generated records of this size, converted to N-Quads once (cached)."""
    nq = work / f"{triples}.nq"
    if not nq.is_file():
        records = work / str(triples)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "generate.py"),
                str(records),
                "--triples",
                str(triples),
            ],
            check=True,
        )
        tmp = nq.with_suffix(".tmp.nq")
        subprocess.run([str(BIN / "sinlod"), "convert", str(records), "-o", str(tmp)], check=True)
        tmp.rename(nq)
    return nq


#: ``taskset -c CPUS`` before the publish and the index build (``--cpus``), or nothing.
PIN: list[str] = []


def publish(nq: Path, store: Path) -> tuple[float, float]:
    """(Wall, CPU) seconds of ``sinlod publish`` of the file into a new store (index
    included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [
            *PIN,
            str(BIN / "sinlod"),
            "publish",
            str(nq),
            "--store",
            str(store),
            "--skip-validation",
            "--no-ontology",
            "--quiet",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


WRITE = """
import resource, sys, time
from pathlib import Path
from sinlod.store import Store
start = time.perf_counter()
with Store.open(Path(sys.argv[2])) as store:
    store.restore(Path(sys.argv[1]))
use = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - start, use.ru_utime + use.ru_stime)
"""


def write_store(nq: Path, store: Path) -> tuple[float, float]:
    """Wall seconds of the store's own write of the file into a new store: ``Store.restore``
    into an empty store (bulk load into a new snapshot, release log, search index, ``CURRENT``
    renamed), the floor under any publish of the same data, without conversion, validation,
    source positions or the change feed's versions. (wall, CPU) seconds."""
    result = subprocess.run(
        [*PIN, sys.executable, "-c", WRITE, str(nq), str(store)],
        check=True,
        capture_output=True,
        text=True,
    )
    wall, cpu = result.stdout.split()
    return float(wall), float(cpu)


INDEX_ALONE = """
import resource, sys, time
from pathlib import Path
import pyoxigraph as ox
from sinlod.store.search_index import write
snapshot = ox.Store.read_only(sys.argv[1])
start = time.perf_counter()
before = resource.getrusage(resource.RUSAGE_SELF)
write(snapshot, sys.argv[2], Path(sys.argv[3]))
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
print(time.perf_counter() - start, cpu)
"""


def index_alone(store: Path) -> tuple[float, float, int]:
    """(Wall, CPU) seconds to build the index of the published snapshot again, alone; its size
    in bytes."""
    current = (store / "CURRENT").read_text().strip()
    snapshot = store / "snapshots" / current
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "index.sqlite"
        result = subprocess.run(
            [*PIN, sys.executable, "-c", INDEX_ALONE, str(snapshot), BASE, str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
        wall, cpu = result.stdout.split()
        return float(wall), float(cpu), out.stat().st_size


def search_terms(store: Path, count: int, seed: int = 5) -> list[str]:
    """Realistic searches drawn from the index's own names: whole names, starts, inner words,
    acronyms, plus fixed transliterated ones."""
    import sqlite3

    current = (store / "CURRENT").read_text().strip()
    db = sqlite3.connect(
        f"file:{store / 'snapshots' / current / 'sinlod-search.sqlite'}?mode=ro", uri=True
    )
    n = db.execute("SELECT max(rowid) FROM names").fetchone()[0]
    rng = random.Random(seed)
    terms = ["lodz", "koln", "rott", "sic", "simra", "bruss", "innovation", "social innov"]
    while len(terms) < count:
        (name,) = db.execute(
            "SELECT name FROM names WHERE rowid = ?", (rng.randint(1, n),)
        ).fetchone()
        words = [w for w in re.split(r"\W+", name) if len(w) >= 3]
        kind = rng.randrange(4)
        if kind == 0:
            terms.append(name)
        elif kind == 1:
            terms.append(name[: rng.randint(3, 6)])
        elif words:
            terms.append(rng.choice(words))
    db.close()
    return terms


ONE_WORKER = """
import asyncio, json, statistics, sys, time
from pathlib import Path
import httpx
from sinlod.config import Settings
from sinlod.server import create_app

# no memory copy of the data: what is measured is what search and browse cost a worker
app = create_app(
    Settings.load(env={}, store_path=Path(sys.argv[1]), memory_copy_max_quads=0)
)
terms = json.loads(sys.argv[2])


async def main():
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            start = time.perf_counter()
            assert (await c.get("/", params={"q": terms[0]})).status_code == 200
            first = time.perf_counter() - start
            times = []
            for term in terms[1:]:
                start = time.perf_counter()
                assert (await c.get("/", params={"q": term})).status_code == 200
                times.append(time.perf_counter() - start)
    status = Path("/proc/self/status").read_text()
    rss = int(status.split("VmRSS:")[1].split()[0]) / 1024
    package = str(Path(__import__("sinlod").__file__).parent)
    print(json.dumps([rss, first, statistics.median(times), package]))


asyncio.run(main())
"""


def one_worker(store: Path, terms: list[str], tree: Path | None) -> tuple[float, float, float, str]:
    """One app in one process (the work of one server worker), searching ``terms`` one after
    the other: its resident memory after them (MB), the first search (s: with the old code it
    built the label dictionary), the median of the others (s) and the package that ran."""
    env = {**os.environ, "SINLOD_CONFIG": os.devnull}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    out = subprocess.run(
        [sys.executable, "-c", ONE_WORKER, str(store), json.dumps(terms)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),  # not the checkout: ``-c`` puts the working directory first
    ).stdout
    rss, first, median, package = json.loads(out)
    return rss, first, median, package


SEARCH_ALONE = """
import json, sys, threading, time
from pathlib import Path
from sinlod.store import Store

terms = json.loads(sys.argv[2])
store = Store.open(Path(sys.argv[1]), read_only=True)
index = store.search_index()
walls, cpus = [], []
lock = threading.Lock()


def run(k):
    for i in range(k, len(terms) * 3, 16):
        term = terms[i % len(terms)]
        w, c = time.perf_counter(), time.thread_time()
        index.search(term, "en")
        c, w = time.thread_time() - c, time.perf_counter() - w
        with lock:
            walls.append(w)
            cpus.append(c)


threads = [threading.Thread(target=run, args=(k,)) for k in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]
print(json.dumps([len(walls), q(walls, .5), q(walls, .99), q(cpus, .5), q(cpus, .99)]))
"""


def search_alone(store: Path, terms: list[str]) -> list[float]:
    """The library's search, 16 threads in one process over the terms three times: (count,
    wall p50, wall p99, CPU p50, CPU p99) per search, seconds. The CPU time of the searching
    thread does not grow with the machine's load, the wall time does."""
    out = subprocess.run(
        [sys.executable, "-c", SEARCH_ALONE, str(store), json.dumps(terms)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: list[float] = json.loads(out)
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(store: Path, port: int, tree: Path | None) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "SINLOD_CONFIG": os.devnull}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    proc = subprocess.Popen(
        [
            str(BIN / "sinlod"),
            "serve",
            "--store",
            str(store),
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    r.read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield proc
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


LUA = """
paths = {%s}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    assert m is not None, text
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1000.0}[m.group(2)]


def load(port: int, terms: list[str], connections: int, duration: int) -> Load:
    paths = ", ".join(json.dumps("/?" + urllib.parse.urlencode({"q": t})) for t in terms)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % paths)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "--timeout=10s",
                "--latency",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=duration + 60,
        ).stdout
    finally:
        os.unlink(script.name)
    get = lambda pattern: re.search(pattern, out, re.M)  # noqa: E731
    non2xx = get(r"Non-2xx or 3xx responses: (\d+)")
    return Load(
        rps=float(get(r"Requests/sec:\s+([\d.]+)").group(1)),
        p50_ms=_ms(get(r"^\s+50%\s+(\S+)").group(1)),
        p99_ms=_ms(get(r"^\s+99%\s+(\S+)").group(1)),
        requests=int(get(r"(\d+) requests in").group(1)),
        errors=int(non2xx.group(1)) if non2xx else 0,
    )


def worker_rss_mb(pid: int) -> list[float]:
    """VmRSS of each process in the server's group but the supervisor... all of them."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            stat = (status.parent / "stat").read_text().rpartition(")")[2].split()
            if int(stat[2]) != pid:
                continue
            m = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
        except OSError:
            continue
        if m:
            out.append(int(m.group(1)) / 1024)
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, nargs="+", default=[300_000])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "sinlod-search")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--terms", type=int, default=400)
    parser.add_argument("--tree", type=Path, help="serve the sinlod package in this directory")
    parser.add_argument("--keep", action="store_true", help="keep the published stores")
    parser.add_argument("--no-load", action="store_true", help="skip the wrk run")
    parser.add_argument("--publish", action="store_true", help="time `sinlod publish` too")
    parser.add_argument("--cpus", help="pin the publish and the index build (taskset -c CPUS)")
    args = parser.parse_args()
    if args.cpus:
        PIN[:] = ["taskset", "-c", args.cpus]
    args.work.mkdir(parents=True, exist_ok=True)
    for triples in args.triples:
        nq = prepare(args.work, triples)
        store = args.work / f"store-{triples}"
        if not (store / "CURRENT").is_file():
            subprocess.run(["rm", "-rf", str(store)], check=True)
            wall, cpu = write_store(nq, store)
            (args.work / f"store-{triples}.write").write_text(f"{wall} {cpu}\n")
        recorded = (args.work / f"store-{triples}.write").read_text().split()
        wall, cpu = float(recorded[0]), float(recorded[-1]) if len(recorded) > 1 else float("nan")
        cached = args.work / f"store-{triples}.index"
        if not cached.is_file():
            cached.write_text("{} {} {}\n".format(*index_alone(store)))
        alone, alone_cpu, size = map(float, cached.read_text().split())
        print(
            f"{triples:>10} triples: store write {wall:.1f} s ({cpu:.1f} s CPU), index alone"
            f" {alone:.1f} s ({alone_cpu:.1f} s CPU): {100 * alone / wall:.0f}% of the write"
            f" ({100 * alone_cpu / cpu:.0f}% by CPU); index file {size / 1e6:.0f} MB",
            flush=True,
        )
        if args.publish:
            with tempfile.TemporaryDirectory(dir=args.work) as tmp:
                full, full_cpu = publish(nq, Path(tmp) / "store")
            print(
                f"{'':>10} sinlod publish {full:.1f} s ({full_cpu:.1f} s CPU): the index is"
                f" {100 * alone / full:.0f}% ({100 * alone_cpu / full_cpu:.0f}% by CPU)",
                flush=True,
            )
        terms = search_terms(store, args.terms)
        rss, first, median, package = one_worker(store, terms[:30], args.tree)
        print(
            f"{'':>10} one worker: {rss:.0f} MB resident after 30 searches; first search"
            f" {first:.2f} s, then median {1000 * median:.1f} ms ({package})",
            flush=True,
        )
        n, wall50, wall99, cpu50, cpu99 = search_alone(store, terms)
        print(
            f"{'':>10} library search, 16 threads, {n:.0f} searches: wall p50"
            f" {1000 * wall50:.1f} ms, p99 {1000 * wall99:.1f} ms; CPU p50 {1000 * cpu50:.1f} ms,"
            f" p99 {1000 * cpu99:.1f} ms",
            flush=True,
        )
        if args.no_load:
            continue
        port = free_port()
        with serving(store, port, args.tree) as proc:
            load(port, terms[:20], 2, 2)  # warm up: workers open the index, the caches fill
            result = load(port, terms, args.connections, args.duration)
            rss = worker_rss_mb(proc.pid)
        print(
            f"{'':>10} search: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms,"
            f" p99 {result.p99_ms:.1f} ms, {result.requests} requests, {result.errors} non-2xx;"
            f" RSS MB per process {', '.join(f'{r:.0f}' for r in rss)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
