"""What a steward's history commands cost: diff, rollback and restore on a published store.

Publishes the shipped data (and ``--extra`` synthetic triples in a graph of their own) into a
temporary store, then a second release that changes one value of each, and times:

- ``diff``: the summary of the two releases (every quad of both compared, per graph and thing),
  and rendering it as an RDF Patch;
- ``rollback`` to the first release (the old snapshot's quads copied into a new one);
- ``restore`` of a dump of the first release into the published store (recorded, graphs
  compared) and into an empty one (exact, as before issue 11).

    .venv/bin/python bench/history.py [--extra 500000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from sinlod.config import Settings  # noqa: E402
from sinlod.history import diff_releases, render_patch, restore, rollback  # noqa: E402
from sinlod.publish import publish  # noqa: E402
from sinlod.store import ReleaseInfo, Store  # noqa: E402

T = TypeVar("T")
EXTRA = "https://w3id.org/sinlod/graph/bench/extra"
P = ox.NamedNode("https://example.org/p")


def extra(n: int, changed: int) -> list[ox.Triple]:
    """``n`` triples; the value of subject ``changed`` differs between the two releases."""
    return [
        ox.Triple(
            ox.NamedNode(f"https://example.org/s/{i}"), P, ox.Literal(str(i + changed * (i == 0)))
        )
        for i in range(n)
    ]


def timed(label: str, work: Callable[[], T]) -> T:
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, spent = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label:60s} {wall:6.2f} s wall {spent:6.2f} s CPU")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extra", type=int, default=0, help="synthetic triples besides the data")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(env={}, store_path=Path(tmp) / "store")
        store = Store.open(settings.store_path, base_iri=settings.base_iri)
        publish([ROOT / "data" / "records"], settings, store, agent="bench")
        if args.extra:
            store.replace_graphs({EXTRA: extra(args.extra, 0)}, release=ReleaseInfo("bench"))
        first = store.release_id
        assert first is not None
        quads = len(store.oxigraph)
        label = "<https://w3id.org/sinlod/id/place/belgium> <http://www.w3.org/2004/02/skos/core#prefLabel>"
        store.update(f'DELETE WHERE {{ GRAPH ?g {{ {label} "Belgium"@en }} }}')
        if args.extra:
            store.replace_graphs({EXTRA: extra(args.extra, 1)}, release=ReleaseInfo("bench"))
        print(
            f"{quads} quads per release; the second release changes {1 + bool(args.extra)} values"
        )
        diff = timed(
            "diff (summary: every quad of both releases)", lambda: diff_releases(store, first)
        )
        timed("render the diff as an RDF Patch", lambda: render_patch(diff, settings.base_iri))
        timed("rollback to the first release", lambda: rollback(store, first, agent="bench"))
        dump = Path(tmp) / "first.nq"
        with store.at_release(first) as view:
            view.dump(dump)
        store.update(f"INSERT DATA {{ GRAPH <{EXTRA}> {{ <https://e/x> <https://e/p> 1 }} }}")
        timed(
            "restore the first release's dump into the store (recorded)",
            lambda: restore(store, dump),
        )
        empty = Store.open(Path(tmp) / "empty")
        timed("restore it into an empty store (exact)", lambda: restore(empty, dump))
        store.close()
        empty.close()


if __name__ == "__main__":
    main()
