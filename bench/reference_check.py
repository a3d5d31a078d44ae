"""What the complete reference tables cost `sinlod validate` (issue 12).

Runs `sinlod validate RECORDS` as its own process, interleaved, for each checkout given (a
checkout before the complete tables, e.g. a `git worktree` at an older commit, and this one),
plus this checkout with `index.json` removed (the Turtle tables parsed on every run), and prints
the median and minimum wall and CPU time (user + system) of each. Then, in this process, the
steps the code check adds: loading the code index, parsing the tables without it, checking the
links of the shipped data.

    python bench/reference_check.py --runs 9 --before /tmp/before-checkout
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(checkout: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one `sinlod validate data/records` in ``checkout``."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sinlod", "validate", str(checkout / "data" / "records")],
        cwd=checkout,  # python -m puts the working directory first: this checkout's sinlod
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        check=True,
    )
    wall = time.perf_counter() - start
    after = os.times()
    return wall, (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--before", type=Path, help="a checkout before the complete tables")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(ROOT / "data", data)
        (data / "reference" / "index.json").unlink()
        setups: dict[str, tuple[Path, dict[str, str]]] = {}
        if args.before:
            setups["before"] = (args.before, {})
        setups["after"] = (ROOT, {})
        setups["after, no index"] = (
            ROOT,
            {"SINLOD_DATA_DIR": str(data), "SINLOD_MAPPINGS_DIR": str(data / "mappings")},
        )
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in setups}
        for _ in range(args.runs):
            for name, (checkout, env) in setups.items():
                times[name].append(run(checkout, env))
        print(
            f"| setup | wall median s | wall min s | CPU median s | CPU min s |  ({args.runs} runs)"
        )
        for name, samples in times.items():
            walls, cpus = [w for w, _ in samples], [c for _, c in samples]
            print(
                f"| {name} | {statistics.median(walls):.3f} | {min(walls):.3f} "
                f"| {statistics.median(cpus):.3f} | {min(cpus):.3f} |"
            )
        steps(data / "reference")


def steps(unindexed: Path) -> None:
    from sinlod.config import Settings
    from sinlod.inputs import read_inputs
    from sinlod.linking.check import check_codes
    from sinlod.linking.tables import _read_index, _read_turtle, load_tables

    reference = ROOT / "data" / "reference"
    files = tuple(sorted(reference.glob("*.ttl")))
    for label, load in (
        ("index.json (hash check + sets)", lambda: _read_index(reference, files)),
        ("parse the Turtle tables", lambda: _read_turtle(unindexed, files)),
    ):
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            load()
            samples.append(time.perf_counter() - start)
        print(f"{label}: median {statistics.median(samples) * 1000:.1f} ms")
    quads, _ = read_inputs([ROOT / "data" / "records"], Settings.load(env={}))
    tables = load_tables(reference)
    start = time.perf_counter()
    problems = check_codes(quads, tables)
    elapsed = time.perf_counter() - start
    print(f"check {len(quads)} quads: {elapsed * 1000:.1f} ms, {len(problems)} problems")


if __name__ == "__main__":
    main()
