"""What ``/reconcile`` costs (issue 12): building the reconciler, batches, suggest.

Publishes the shipped records (or ``bench/generate.py`` records of ``--triples`` size) into a
temporary store, then times through httpx against the ASGI app:

* the first request of a release (the reconciler is built: two queries and, once per process,
  the table matchers);
* POST batches of 10 and ``MAX_BATCH`` (50) queries, typed (one table or one class of the data)
  and untyped (every table and the data), as OpenRefine sends them;
* entity suggest (auto-completion) for short prefixes.

    python bench/reconcile.py [--triples 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from sinlod.config import Settings
from sinlod.linking.reconcile import MAX_BATCH
from sinlod.publish import publish
from sinlod.server import create_app
from sinlod.store import Store

ROOT = Path(__file__).resolve().parent.parent
NAMES = [
    "Lodz", "Frankfurt", "Essen", "Denmark", "Social Innovation Community", "Bruxelles",
    "Muenchen", "Sevilla", "Kobenhavn", "Nesta", "Young Foundation", "Wien", "Porto",
    "Czech Republic", "European Commission", "Drift", "SIX", "Gdansk", "Thessaloniki", "Cork",
]  # fmt: skip
TYPES = {
    "untyped": None,
    "NUTS 2021": "http://data.europa.eu/nuts/scheme/2021",
    "country": "http://publications.europa.eu/resource/authority/country",
    "Organisation (data)": "https://w3id.org/sinlod/def/Organisation",
}


def batch(n: int, type_id: str | None) -> str:
    queries = {}
    for i in range(n):
        q: dict[str, object] = {"query": NAMES[i % len(NAMES)]}
        if type_id:
            q["type"] = type_id
        queries[f"q{i}"] = q
    return json.dumps(queries)


async def run(store: Path, repeat: int) -> None:
    app = create_app(Settings.load(env={}, store_path=store))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            start = time.perf_counter()
            r = await client.get("/reconcile")
            r.raise_for_status()
            entities = len(app.state.reconciler[1].entities)
            built = time.perf_counter() - start
            print(f"{entities} things of the data; first request (build) {built:.2f} s")
            print("| queries | type | median s | min s | per query ms |")
            print("|---:|---|---:|---:|---:|")
            for n in (10, MAX_BATCH):
                for name, type_id in TYPES.items():
                    body = {"queries": batch(n, type_id)}
                    times = []
                    for _ in range(repeat):
                        start = time.perf_counter()
                        r = await client.post("/reconcile", data=body)
                        times.append(time.perf_counter() - start)
                        r.raise_for_status()
                    med = statistics.median(times)
                    print(f"| {n} | {name} | {med:.3f} | {min(times):.3f} | {1000 * med / n:.1f} |")
            times = []
            for prefix in ("lo", "soc", "fra", "den", "e", "kob"):
                start = time.perf_counter()
                r = await client.get("/reconcile/suggest/entity", params={"prefix": prefix})
                times.append(time.perf_counter() - start)
                r.raise_for_status()
            med, top = 1000 * statistics.median(times), 1000 * max(times)
            print(f"entity suggest: median {med:.1f} ms, max {top:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--triples", type=int, default=0, help="generated records (0: shipped)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        records = ROOT / "data" / "records"
        if args.triples:
            records = Path(tmp) / "records"
            subprocess.run(
                [sys.executable, str(ROOT / "bench" / "generate.py"), str(records),
                 "--triples", str(args.triples), "--seed", "1"],
                check=True,
            )  # fmt: skip
        store = Path(tmp) / "store"
        settings = Settings.load(env={}, store_path=store)
        start = time.perf_counter()
        with Store.open(store) as s:
            publish([records], settings, s, agent="bench")
        print(f"published {records} in {time.perf_counter() - start:.1f} s")
        asyncio.run(run(store, args.repeat))


if __name__ == "__main__":
    main()
