"""Bulk publish throughput: `sinlod publish` against the native `oxigraph load`, in the same run.

Usage (from the project root, after `make setup`):

    .venv/bin/pip install oxigraph          # the native CLI, for the comparison only
    .venv/bin/python bench/publish.py --triples 1000000 --runs 3

Both load the same generated N-Triples file into a fresh on-disk store; runs alternate so that
machine load hits both alike. sinlod publishes with `--skip-validation` (the file is "already
converted and validated") and with its atomicity: a new snapshot, then one rename. Reported: wall
and CPU seconds, triples per second, peak memory (max RSS of the child), and the ratio of
throughputs. Results go to stdout as a Markdown table; copy them into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
GRAPH = "https://w3id.org/sinlod/graph/bench"


def generate(path: Path, triples: int, seed: int = 7) -> None:
    """Deterministic sinlod-like N-Triples: typed resources with labels, dates and links."""
    rng = random.Random(seed)
    base, d = "https://w3id.org/sinlod/id/", "https://w3id.org/sinlod/def/"
    label = "<http://www.w3.org/2004/02/skos/core#prefLabel>"
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    with path.open("w", encoding="utf-8") as out:
        n = 0
        i = 0
        while n < triples:
            s = f"<{base}project/p{i}>"
            org = f"<{base}organisation/o{rng.randrange(max(1, triples // 50))}>"
            year = 2000 + rng.randrange(25)
            lines = (
                f"{s} {rdf_type} <{d}Project> .",
                f'{s} {label} "Project {i}"@en .',
                f'{s} <{d}startDate> "{year}-0{rng.randrange(1, 10)}"^^'
                "<http://www.w3.org/2001/XMLSchema#gYearMonth> .",
                f"{s} <{d}coordinator> {org} .",
                f"{s} <http://purl.org/dc/terms/source> <{base}document/seed-00{i % 5}> .",
            )
            out.write("\n".join(lines[: triples - n]) + "\n")
            n += len(lines)
            i += 1


@dataclass
class Run:
    wall: float
    cpu: float
    max_rss_mb: float


def isolated(cmd: list[str]) -> Run:
    """Measure ``cmd`` from a fresh Python process, so peak RSS is not shared between tools."""
    code = (
        "import json,resource,subprocess,sys,time;"
        "t=time.perf_counter();subprocess.run(sys.argv[1:],check=True,stdout=subprocess.DEVNULL);"
        "w=time.perf_counter()-t;r=resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print(json.dumps([w,r.ru_utime+r.ru_stime,r.ru_maxrss/1024]))"
    )
    out = subprocess.run([sys.executable, "-c", code, *cmd], check=True, capture_output=True)
    wall, cpu, rss = json.loads(out.stdout)
    return Run(wall, cpu, rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    native = shutil.which("oxigraph", path=str(BIN)) or shutil.which("oxigraph")
    if native is None:
        sys.exit("the native `oxigraph` CLI is missing: .venv/bin/pip install oxigraph")
    with tempfile.TemporaryDirectory(prefix="sinlod-bench-") as tmp:
        work = Path(tmp)
        data = work / "data.nt"
        generate(data, args.triples)
        results: dict[str, list[Run]] = {"oxigraph load": [], "sinlod publish": []}
        for _ in range(args.runs):
            for name in results:
                target = work / name.replace(" ", "-")
                shutil.rmtree(target, ignore_errors=True)
                if name == "oxigraph load":
                    cmd = [native, "load", "--location", str(target), "--file", str(data)]
                    cmd += ["--graph", GRAPH]
                else:
                    cmd = [str(BIN / "sinlod"), "publish", str(data), "--store", str(target)]
                    cmd += ["--skip-validation", "--no-ontology", "-q"]
                results[name].append(isolated(cmd))
        print(f"{args.triples:,} triples, {args.runs} alternating runs, {os.cpu_count()} cores\n")
        print("| tool | best wall s | mean CPU s | triples/s (best wall) | peak RSS MB |")
        print("|---|---|---|---|---|")
        best = {}
        for name, runs in results.items():
            wall = min(r.wall for r in runs)
            cpu = sum(r.cpu for r in runs) / len(runs)
            best[name] = wall
            rss = max(r.max_rss_mb for r in runs)
            print(f"| {name} | {wall:.2f} | {cpu:.2f} | {args.triples / wall:,.0f} | {rss:.0f} |")
        ratio = best["oxigraph load"] / best["sinlod publish"]
        print(f"\nsinlod publish throughput = {ratio:.2f} x oxigraph load (target >= 0.8)")


if __name__ == "__main__":
    main()
