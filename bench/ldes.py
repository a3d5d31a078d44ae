"""What the change feed costs a write, and what a page costs to serve (issue 11).

Every write records what it did to each thing (``sinlod/store/versions.py``): it compares the
graphs it replaced quad by quad and reads the state of every thing that differs. This times,
on a store on disk with THINGS things in one data graph (eight triples each; with
``--blank-every K`` one thing in K has its address as a blank node with two triples):

1. the first publish of the graph (every thing created: the most a write records);
2. republishing the graph with one thing changed (the usual case: the whole graph is compared);
3. a SPARQL update that changes one thing (any graph may have changed: every data graph is
   compared);

each with the recording on and, for comparison, the same write with it off (the hook replaced
by one that records nothing); and then ``feed_page`` for a full page (``PAGE_SIZE`` members)
and the stream document.

    .venv/bin/python bench/ldes.py [--things 10000] [--blank-every 1]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sinlod.ldes import FeedUrls, feed_page, pages, stream_triples  # noqa: E402
from sinlod.store import ReleaseInfo, Store  # noqa: E402
from sinlod.store import core as store_core  # noqa: E402

BASE = "https://w3id.org/sinlod/"
GRAPH = BASE + "graph/sinlod/things"
P = [ox.NamedNode(f"{BASE}def/p{i}") for i in range(8)]


BLANK_EVERY = 1


def things(n: int, changed: int | None = None) -> Iterator[ox.Triple]:
    for i in range(n):
        s = ox.NamedNode(f"{BASE}id/thing/{i}")
        for k, p in enumerate(P[:7]):
            value = f"value {i}.{k}" + (" (changed)" if i == changed and k == 0 else "")
            yield ox.Triple(s, p, ox.Literal(value))
        if i % BLANK_EVERY:
            yield ox.Triple(s, P[7], ox.Literal(f"street {i}, town {i % 50}"))
            continue
        address = ox.BlankNode()
        yield ox.Triple(s, P[7], address)
        yield ox.Triple(address, P[0], ox.Literal(f"street {i}"))
        yield ox.Triple(address, P[1], ox.Literal(f"town {i % 50}"))


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(label: str, action: Callable[[], object]) -> float:
    """Prints wall and CPU seconds (the machine may be shared: CPU is the steadier figure);
    returns CPU seconds."""
    start, spent = time.perf_counter(), cpu()
    action()
    took, used = time.perf_counter() - start, cpu() - spent
    print(f"  {label:<52} {took:7.2f} s wall {used:7.2f} s CPU")
    return used


def writes(path: Path, n: int) -> dict[str, float]:
    with Store.open(path) as store:
        info = ReleaseInfo(agent="bench")
        return {
            "first publish": timed(
                f"first publish ({n} things)",
                lambda: store.replace_graphs({GRAPH: list(things(n))}, release=info),
            ),
            "republish": timed(
                "republish, one thing changed",
                lambda: store.replace_graphs({GRAPH: list(things(n, changed=1))}, release=info),
            ),
            "update": timed(
                "SPARQL update of one thing",
                lambda: store.update(
                    f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{BASE}id/thing/2> <{P[0].value}> "x" }} }}',  # noqa: E501
                    release=info,
                ),
            ),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--things", type=int, default=10_000)
    parser.add_argument(
        "--blank-every", type=int, default=1, help="one thing in K has a blank-node address"
    )
    args = parser.parse_args()
    n = args.things
    global BLANK_EVERY
    BLANK_EVERY = args.blank_every
    with tempfile.TemporaryDirectory() as tmp:
        blank = n // args.blank_every
        print(f"With the change feed recording ({n} things, {blank} with a blank node):")
        with_feed = writes(Path(tmp) / "with", n)
        print("Without (the recording hook replaced by a no-op):")
        original = store_core.Store._recording

        def nothing(self, change, before, last, info):  # type: ignore[no-untyped-def]
            return change, []

        store_core.Store._recording = nothing  # type: ignore[method-assign]
        try:
            without = writes(Path(tmp) / "without", n)
        finally:
            store_core.Store._recording = original  # type: ignore[method-assign]
        print("Recording costs:")
        for key in with_feed:
            print(f"  {key:<52} {with_feed[key] - without[key]:+7.2f} s CPU")
        size = sum(f.stat().st_size for f in (Path(tmp) / "with" / "versions").rglob("*.nq"))
        print(f"  versions on disk: {size / 1e6:.1f} MB")
        with Store.open(Path(tmp) / "with", read_only=True) as store:
            urls = FeedUrls("http://127.0.0.1:8000/", BASE)
            refs = list(pages(store))
            print(f"Serving ({len(refs)} pages):")
            full = refs[len(refs) // 2].id
            timed(
                f"feed_page of a full page ({full}), first time",
                lambda: feed_page(store, urls, full),
            )
            timed("the same page again", lambda: feed_page(store, urls, full))
            timed("the newest page", lambda: feed_page(store, urls, refs[-1].id))
            timed("the stream document", lambda: stream_triples(store, urls))
            triples = list(feed_page(store, urls, full).triples)
            timed(
                f"Turtle of that page ({len(triples)} triples)",
                lambda: ox.serialize(triples, format=ox.RdfFormat.TURTLE),
            )


if __name__ == "__main__":
    main()
