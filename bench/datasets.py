"""What datasets cost a publish (issue 11): overlaps, contradictions and the dry-run summary.

Usage (from the project root, after `make setup`):

    .venv/bin/python bench/datasets.py --things 20000 --runs 3

A store holds the shipped data (dataset `sinlod`) and a generated dataset `other` describing
THINGS places (a type, an English label, a country: 3 triples each). The batch is a second
generated dataset describing the same THINGS places again (the worst case: every thing shared,
every label compared), with a label per place in Dutch (no contradiction) so the publish is
accepted. Timed, each the best of RUNS: `overlaps`, `contradictions`, `summarise_contents` (the
dry run's summary) on the batch, and the whole `publish(..., dry_run=True)` of the shipped data
into its own store for scale. Results go to stdout as a Markdown table; copy them into
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from sinlod.change_summary import summarise_contents
from sinlod.config import PROJECT_ROOT, Settings
from sinlod.datasets import contradictions, overlaps
from sinlod.publish import publish
from sinlod.store import ReleaseInfo, Store

BASE = "https://w3id.org/sinlod/"
LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
COUNTRY = ox.NamedNode(BASE + "def/country")
PLACE = ox.NamedNode(BASE + "def/Place")
NLD = ox.NamedNode("http://publications.europa.eu/resource/authority/country/NLD")


def places(n: int, lang: str) -> list[ox.Triple]:
    out = []
    for i in range(n):
        s = ox.NamedNode(f"{BASE}id/place/p{i}")
        out += [
            ox.Triple(s, TYPE, PLACE),
            ox.Triple(s, LABEL, ox.Literal(f"Place {i}", language=lang)),
            ox.Triple(s, COUNTRY, NLD),
        ]
    return out


def best(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds, each the best of ``runs``: CPU time is what to compare on a busy
    machine (the wall time waits for other processes too)."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--things", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(env={}, store_path=Path(tmp) / "store")
        with Store.open(settings.store_path) as store:
            start = time.perf_counter()
            publish([PROJECT_ROOT / "data" / "records"], settings, store, agent="bench")
            shipped = time.perf_counter() - start
            store.replace_graphs(
                {BASE + "graph/other/places": places(args.things, "en")},
                release=ReleaseInfo(agent="bench"),
            )
            batch = {BASE + "graph/batch/places": places(args.things, "nl")}
            snapshot = store.oxigraph
            rows = [
                ("overlaps", best(args.runs, lambda: overlaps(snapshot, batch, BASE))),
                (
                    "contradictions",
                    best(args.runs, lambda: contradictions(snapshot, batch, settings)),
                ),
                (
                    "summarise_contents",
                    best(args.runs, lambda: summarise_contents(snapshot, batch)),
                ),
                (
                    "publish --dry-run of the shipped data (nothing changed: all skipped)",
                    best(
                        args.runs,
                        lambda: publish(
                            [PROJECT_ROOT / "data" / "records"], settings, store, dry_run=True
                        ),
                    ),
                ),
                (
                    "publish --dry-run --all of the shipped data (every source compared)",
                    best(
                        args.runs,
                        lambda: publish(
                            [PROJECT_ROOT / "data" / "records"],
                            settings,
                            store,
                            dry_run=True,
                            skip_unchanged=False,
                        ),
                    ),
                ),
            ]
            found = len(overlaps(snapshot, batch, BASE))
    print(f"{args.things:,} shared things ({3 * args.things:,} triples), {found:,} overlaps;")
    print(f"first publish of the shipped data: {shipped:.2f} s\n")
    print(f"| step | wall s | CPU s (best of {args.runs}) |")
    print("|---|---|---|")
    for name, (wall, cpu) in rows:
        print(f"| {name} | {wall:.3f} | {cpu:.3f} |")


if __name__ == "__main__":
    main()
