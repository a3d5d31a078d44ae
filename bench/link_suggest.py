"""Precision and recall of `sinlod link suggest` on a labelled set (issue 12).

`bench/linking/labelled.csv`: places, countries and EU bodies written as stewards write them
("Lodz", "Muenchen", "Den Haag", "Czech Republic"), with the true code (NUTS 2021 level 3 for
places, the authority-table code for countries and bodies) and, for some places, a postcode.
The top suggestion counts when its status is ``match`` (score at least the threshold and no
other code within the margin); an ``ambiguous`` or ``none`` answer is no prediction.
Precision = correct / predicted, recall = correct / all.

    python bench/link_suggest.py [--threshold 90] [--margin 5] [--misses]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from sinlod.linking.check import AUTHORITY
from sinlod.linking.suggest import MARGIN, THRESHOLD, Matcher, Query, table_named
from sinlod.linking.tables import load_tables

ROOT = Path(__file__).resolve().parent.parent
TARGET = {"place": "nuts", "country": "country", "organisation": "corporate-body"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--margin", type=float, default=MARGIN)
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args()
    tables = load_tables(ROOT / "data" / "reference")
    start = time.perf_counter()
    matchers = {kind: Matcher(tables, table_named(key)) for kind, key in TARGET.items()}
    built = time.perf_counter() - start
    rows = list(csv.DictReader((ROOT / "bench" / "linking" / "labelled.csv").open()))
    stats: dict[str, dict[str, int]] = {}
    misses = []
    start = time.perf_counter()
    for row in rows:
        kind = row["kind"]
        country = AUTHORITY + "country/" + row["country"] if row["country"] else None
        query = Query(
            row["text"],
            (row["text"],),
            country=country,
            postcode=row["postcode"] or None,
            level=3 if kind == "place" else None,
        )
        got = matchers[kind].suggest(query, args.threshold, args.margin)
        s = stats.setdefault(kind, {"n": 0, "match": 0, "correct": 0, "ambiguous": 0, "none": 0})
        s["n"] += 1
        s[got.status if got.status != "match" else "match"] += 1
        code = got.target_iri.rsplit("/", 1)[1] if got.target_iri else None
        if got.status == "match" and code == row["expected"]:
            s["correct"] += 1
        else:
            shown = [f"{c.code} {c.score:.0f}" for c in got.candidates]
            misses.append(f"{kind} {row['text']!r} ({row['expected']}): {got.status} {shown}")
    elapsed = time.perf_counter() - start
    print(f"threshold {args.threshold}, margin {args.margin}; {len(rows)} items")
    print("| kind | items | predicted | correct | wrong | ambiguous | none | precision | recall |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind, s in stats.items():
        wrong = s["match"] - s["correct"]
        precision = s["correct"] / s["match"] if s["match"] else 0.0
        recall = s["correct"] / s["n"]
        print(
            f"| {kind} | {s['n']} | {s['match']} | {s['correct']} | {wrong} | {s['ambiguous']} "
            f"| {s['none']} | {precision:.3f} | {recall:.3f} |"
        )
    print(f"matchers built in {built:.2f} s; {len(rows)} suggestions in {elapsed:.2f} s")
    if args.misses:
        print("\n".join(misses))


if __name__ == "__main__":
    main()
