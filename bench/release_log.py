"""Write cost as the release log grows: does a write stay cheap after thousands of releases?

The release log is kept beside the data (``sinlod/store/layout.py``); each write appends its
release to the previous log instead of copying and re-reading it. This times small SPARQL
updates (the data stays the same size; only the log grows) in batches, on disk and in memory,
and prints the time per write of each batch: flat is good, growing with the log is the defect
this guards against.

    .venv/bin/python bench/release_log.py [--writes 2000] [--batch 500]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sinlod.store import ReleaseInfo, Store  # noqa: E402


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(store: Store, label: str, writes: int, batch: int) -> None:
    print(f"{label}: seconds per write (wall / CPU), by batch of {batch}")
    wall, spent = time.perf_counter(), cpu()
    for i in range(writes):
        # The data stays at most 350 triples (one value replaced per write): only the log grows.
        g, s = f"<https://e/g{i % 7}>", f"<https://e/s{i % 50}>"
        update = (
            f"DELETE WHERE {{ GRAPH {g} {{ {s} <https://e/p> ?o }} }};"
            f" INSERT DATA {{ GRAPH {g} {{ {s} <https://e/p> {i} }} }}"
        )
        store.update(update, release=ReleaseInfo("bench", comment=f"write {i}"))
        if (i + 1) % batch == 0:
            now, used = time.perf_counter(), cpu()
            log = len(store.release_log())  # parses the log: not part of the writes' time
            print(
                f"  writes {i + 2 - batch:>5}-{i + 1:<5} {1000 * (now - wall) / batch:7.2f} ms"
                f" / {1000 * (used - spent) / batch:7.2f} ms   log: {log} quads"
            )
            wall, spent = time.perf_counter(), cpu()
    started = time.perf_counter()
    count = len(Store.open(store.path, read_only=True).releases()) if store.path else None
    if count is not None:
        print(f"  a new reader parses {count} releases in {time.perf_counter() - started:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    run(Store.in_memory(), "memory", args.writes, args.batch)
    with tempfile.TemporaryDirectory() as tmp:
        run(Store.open(Path(tmp) / "store"), "disk", args.writes, args.batch)


if __name__ == "__main__":
    main()
