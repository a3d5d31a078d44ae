"""The largest store this machine holds: build time, disk, memory, query times, replication.

Usage (from the project root, after `make setup`):

    .venv/bin/python bench/large_store.py --triples 20000000 --work /tmp/large --json out.json

Steps, each in a child process of its own measured by ``os.wait4`` (wall, CPU = user + system,
peak resident memory): generate records (``generate.py``), ``sinlod convert``, ``sinlod publish
--skip-validation`` into a fresh store; the store's size on disk; the four queries of
``bench/server_queries`` on the published snapshot from disk (a fresh reading process; first run
cold, then the median of the next runs); ``sinlod serve --workers 1`` start-up (until ``/healthz``
answers) and its resident memory; ``sinlod replicate`` to an empty directory (the first copy of a
replica), then a small publish (one 10-triple graph) and ``sinlod replicate`` again (what a
replica receives per release: only the files RocksDB wrote anew). Results as Markdown on stdout;
copy them into bench/RESULTS.md. ``--work`` keeps the files for a second run (steps already done
are measured again only with ``--again``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
QUERIES = ROOT / "bench" / "server_queries"


@dataclass
class Step:
    name: str
    wall: float
    cpu: float
    peak_mb: float


def measured(name: str, cmd: list[str], output: Path | None = None) -> Step:
    """Run ``cmd`` to its end; wall, CPU and peak RSS of that process (and what it waited for).
    Its standard output goes to ``output`` (else nowhere)."""
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    start = time.perf_counter()
    sink = output.open("wb") if output is not None else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=sink)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{name} failed: {cmd}")
    proc.returncode = 0
    if output is not None:
        sink.close()  # type: ignore[union-attr]
    return Step(name, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def disk_mb(path: Path) -> float:
    """Bytes on disk (hard links counted once), as du does."""
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) / 1024


QUERY_CHILD = """
import json, statistics, sys, time
from pathlib import Path
from sinlod.store import Store
store = Store.open(Path(sys.argv[1]), read_only=True)
out = {}
for path in sys.argv[3:]:
    text = Path(path).read_text()
    times = []
    for _ in range(int(sys.argv[2])):
        t = time.perf_counter()
        result = store.query(text)
        rows = sum(1 for _ in result)
        times.append(time.perf_counter() - t)
    out[Path(path).stem] = {"cold": times[0], "warm": statistics.median(times[1:]), "rows": rows}
print(json.dumps(out))
"""


def queries(store: Path, runs: int) -> dict[str, dict[str, float]]:
    files = [str(p) for p in sorted(QUERIES.glob("*.rq"))]
    cmd = [sys.executable, "-c", QUERY_CHILD, str(store), str(runs), *files]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    result: dict[str, dict[str, float]] = json.loads(out.stdout)
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_startup(store: Path) -> tuple[float, float]:
    """Seconds until ``/healthz`` answers, and the resident MB of the server's processes then."""
    port = free_port()
    cmd = [str(BIN / "sinlod"), "serve", "--store", str(store), "--port", str(port)]
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    r.read()
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - start > 300:
                    raise SystemExit("sinlod serve did not start") from None
                time.sleep(0.1)
        ready = time.perf_counter() - start
        time.sleep(1)
        pids = subprocess.run(
            ["pgrep", "-g", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
        rss = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
            except OSError:
                pass
        return ready, rss / 1024
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=20_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/sinlod-large"))
    parser.add_argument("--runs", type=int, default=4, help="Runs per query (first one cold).")
    parser.add_argument("--again", action="store_true", help="Build the store again.")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    records, nt, store = work / "records", work / "data.nt", work / "store"
    replica = work / "replica"
    steps: list[Step] = []
    if args.again or not nt.exists():
        shutil.rmtree(records, ignore_errors=True)
        gen = [sys.executable, str(ROOT / "bench" / "generate.py"), str(records)]
        steps.append(measured("generate records", [*gen, "--triples", str(args.triples)]))
        sinlod = str(BIN / "sinlod")
        steps.append(measured("sinlod convert", [sinlod, "convert", str(records), "-o", str(nt)]))
    lines = sum(1 for _ in nt.open("rb"))
    if args.again or not store.exists():
        shutil.rmtree(store, ignore_errors=True)
        cmd = [str(BIN / "sinlod"), "publish", str(nt), "--store", str(store)]
        steps.append(measured("sinlod publish --skip-validation", [*cmd, "--skip-validation"]))
    sizes = {"N-Triples file": nt.stat().st_size / 2**20, "store": disk_mb(store)}
    found = queries(store, args.runs)
    ready, rss = serve_startup(store)
    shutil.rmtree(replica, ignore_errors=True)
    sinlod = str(BIN / "sinlod")
    rep = [sinlod, "replicate", "--from", str(store), "--to", str(replica)]
    steps.append(measured("sinlod replicate (first copy)", rep))
    small = work / "small.nt"
    stamp = time.time_ns()
    small.write_text(
        "".join(
            f'<https://example.org/s{i}> <https://example.org/p> "{stamp}" .\n' for i in range(10)
        )
    )
    publish_small = [sinlod, "publish", str(small), "--store", str(store), "--skip-validation"]
    steps.append(measured("sinlod publish (10 triples)", publish_small))
    said = work / "replicate.out"
    steps.append(measured("sinlod replicate (after it)", rep, said))
    sizes["store after the small publish (2 snapshots)"] = disk_mb(store)
    sizes["replica (2 snapshots, shared files linked)"] = disk_mb(replica)
    result = {
        "triples": lines,
        "steps": [asdict(s) for s in steps],
        "sizes_mb": sizes,
        "queries": found,
        "serve": {"ready_s": ready, "rss_mb": rss},
        "incremental_replicate": said.read_text().strip(),
        "load": os.getloadavg(),
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(f"\n{lines:,} triples; load average at the end {os.getloadavg()[0]:.1f}\n")
    print("| step | wall s | CPU s | peak MB |\n|---|---:|---:|---:|")
    for s in steps:
        print(f"| {s.name} | {s.wall:.1f} | {s.cpu:.1f} | {s.peak_mb:.0f} |")
    print("\n| on disk | MB |\n|---|---:|")
    for k, v in sizes.items():
        print(f"| {k} | {v:,.0f} |")
    print("\n| query (from disk) | cold s | warm s (median) | rows |\n|---|---:|---:|---:|")
    for query, t in found.items():
        print(f"| {query} | {t['cold']:.3f} | {t['warm']:.3f} | {t['rows']:.0f} |")
    print(f"\nsinlod serve --workers 1: /healthz after {ready:.1f} s, {rss:.0f} MB resident")
    print(f"incremental replicate: {said.read_text().strip()}")


if __name__ == "__main__":
    main()
